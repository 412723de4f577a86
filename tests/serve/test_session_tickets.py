"""The session and the ticket stub, with a fake transport, a fake clock and threads run when the test says:
nothing acts on the call before its stub is durable, a slow store never holds the call, every routed call ends
with its closing stub, emergency numbers get none."""

from __future__ import annotations

import logging

import pytest
from twisted.internet.defer import Deferred

from ivr.agi.simulator import AsteriskSimulator, QueueBehaviour, SimulatedCall
from ivr.serve.limits import STORE_SECONDS
from ivr.serve.service import AgiService
from ivr.tickets.book import TicketBook
from ivr.tickets.store import Query
from ivr.tickets.stub import StubOutcome
from ivr.tickets.writer import CLOSINGS_WAIT, TicketWriter
from tests.serve.test_session import NOW, connect, finish, pump

FIRST = "12345-20211120-e1-000001"


class Threads:
    """The writer's jobs, run when the test says so, as the reactor's thread pool would run them."""

    def __init__(self) -> None:
        self.jobs: list[tuple[object, tuple[object, ...], Deferred]] = []

    def __call__(self, function, *args):
        done = Deferred()
        self.jobs.append((function, args, done))
        return done

    def run(self) -> None:
        while self.jobs:
            function, args, done = self.jobs.pop(0)
            done.callback(function(*args))


@pytest.fixture
def threads():
    return Threads()


@pytest.fixture
def book(tmp_path):
    opened = TicketBook.open(f"sqlite:///{tmp_path / 'tickets.db'}", tmp_path / "spool", "e1")
    yield opened
    opened.close()


@pytest.fixture
def service(holder, clock, book, threads):
    writer = TicketWriter(book, clock, run=threads)
    return AgiService(holder, clock, now=lambda rules: NOW, tickets=writer)


def start_call(service, simulated):
    """Up to the moment the stub is due: environment in, the linkedid read and answered."""
    session, transport = connect(service)
    simulator = AsteriskSimulator(simulated)
    session.dataReceived(simulator.open())
    assert transport.take() == b"GET VARIABLE CHANNEL(linkedid)\n"
    session.dataReceived(simulator.receive(b"GET VARIABLE CHANNEL(linkedid)\n"))
    return session, transport, simulator


def test_nothing_acts_on_the_call_before_its_stub_is_durable(service, book, threads, clock):
    session, transport, simulator = start_call(service, SimulatedCall("12396"))
    assert transport.value() == b"", "no ANSWER, no SET: the engine waits for the store"
    assert [job[0] for job in threads.jobs] and book.spool.pending is False
    with pytest.raises(Exception, match="no ticket store there"):
        book.store.find(Query())
    threads.run()
    [opening] = book.store.find(Query())
    assert (opening.id, opening.revision, opening.outcome) == (FIRST, 0, StubOutcome.IN_PROGRESS)
    assert transport.value() == f"SET VARIABLE __TICKET_ID {FIRST}\n".encode(), "committed, then set"
    pump(session, transport, simulator)
    assert simulator.variables["__TICKET_ID"] == FIRST and simulator.variables["IVR_STAGE"] == "done"
    write_closings(clock, threads)
    [closing] = book.store.find(Query())
    assert (closing.id, closing.revision, closing.outcome) == (FIRST, 1, StubOutcome.ANSWERED)
    assert closing.linkedid == "1795849801.4" and closing.uniqueid == "1795849801.5"


def test_a_store_slower_than_its_limit_does_not_hold_the_call(service, book, threads, clock, caplog):
    session, transport, simulator = start_call(service, SimulatedCall("12345"))
    with caplog.at_level(logging.ERROR, logger="ivr.serve"):
        clock.advance(STORE_SECONDS)
    assert transport.take() == b"ANSWER\n", "routed without TICKET_ID"
    assert any("ALARM" in r.getMessage() and "without TICKET_ID" in r.getMessage() for r in caplog.records)
    session.dataReceived(simulator.receive(b"ANSWER\n"))
    pump(session, transport, simulator)
    assert "__TICKET_ID" not in simulator.variables
    threads.run()  # the late write lands after all, then the closing stub takes its id
    write_closings(clock, threads)
    [stub] = book.store.find(Query())
    assert (stub.id, stub.revision) == (FIRST, 1)


def test_caller_hanging_up_while_the_stub_is_written(service, book, threads, clock):
    session, transport, simulator = start_call(service, SimulatedCall("12345"))
    session.dataReceived(b"HANGUP\n")
    simulator.dead = True
    threads.run()
    pump(session, transport, simulator)
    assert not [line for d, line in simulator.wire if d == ">>" and line == "ANSWER"]
    write_closings(clock, threads)
    [stub] = book.store.find(Query())
    assert stub.outcome is StubOutcome.HUNG_UP_IN_PROMPT and stub.revision == 1


def test_session_lost_while_the_stub_is_written_still_closes_it(service, book, threads, clock):
    session, transport, _ = start_call(
        service, SimulatedCall("12345", queues={"hotline-12345": QueueBehaviour.TIMEOUT})
    )
    finish(session, transport)
    threads.run()
    write_closings(clock, threads)
    [stub] = book.store.find(Query())
    assert (stub.id, stub.outcome, stub.revision) == (FIRST, StubOutcome.UNFINISHED, 1)


def test_session_lost_before_the_stub_was_due_still_leaves_one(service, book, threads, clock):
    session, transport = connect(service)
    session.dataReceived(AsteriskSimulator(SimulatedCall("12345")).open())
    finish(session, transport)
    write_closings(clock, threads)
    [stub] = book.store.find(Query())
    assert (stub.id, stub.outcome, stub.linkedid) == (FIRST, StubOutcome.UNFINISHED, "")


def test_emergency_numbers_get_no_stub(service, book, threads):
    session, transport = connect(service)
    session.dataReceived(AsteriskSimulator(SimulatedCall("110")).open())
    assert transport.write_closed and transport.value() == b""
    finish(session, transport)
    assert threads.jobs == []


def test_stop_waits_for_writes_in_flight(service, threads):
    session, transport, _ = start_call(service, SimulatedCall("12345"))
    finish(session, transport)
    stopped = service.tickets.stop()
    assert not stopped.called
    threads.run()
    assert stopped.called


def test_a_burst_of_calls_shares_commits(service, book, threads, monkeypatch):
    """Group commit: the opening stubs of calls that arrive while one is being written go in one batch."""
    batches = []
    record = book.record
    monkeypatch.setattr(book, "record", lambda stubs: batches.append(len(stubs)) or record(stubs))
    calls = [start_call(service, SimulatedCall("12345", uniqueid=f"17958498{n:02d}.5")) for n in range(1, 5)]
    threads.run()
    assert batches == [1, 3], "the first alone, the three that came while it was written together"
    ids = [ticket_set(transport) for _, transport, _ in calls]
    assert len(set(ids)) == 4 and all(ids), "each call its own TICKET_ID"
    assert len(book.store.find(Query())) == 4


def test_opening_stubs_go_before_closing_stubs_and_calls_ending_together_share_a_commit(
    service, book, threads, clock, monkeypatch
):
    """A call that ends does not hold the next call's opening stub back: its closing stub waits while an opening
    stub is due, and the closing stubs of calls ending within CLOSINGS_WAIT go in one commit."""
    batches = []
    record = book.record
    monkeypatch.setattr(book, "record", lambda stubs: batches.append([s.revision for s in stubs]) or record(stubs))
    ended = [start_call(service, SimulatedCall("12345", uniqueid=f"17958498{n:02d}.5")) for n in range(1, 3)]
    threads.run()
    for session, transport, _ in ended:
        finish(session, transport)
    threads.run()
    assert batches == [[0], [0]], "the closing stubs wait"
    session, transport, _ = start_call(service, SimulatedCall("12345", uniqueid="1795849803.5"))
    clock.advance(CLOSINGS_WAIT)
    threads.run()
    assert batches[2:] == [[0], [1, 1]], "the new call's opening stub first, then both closing stubs in one commit"
    assert ticket_set(transport) and book.store.get(ticket_set(transport)) is not None


def test_closing_stubs_after_a_batch_that_went_before_its_timer_still_get_written(service, book, threads, clock):
    """The reactor may take a due batch on another event before the batch's timer runs: the next closing stub
    still has a timer that brings it back, with no other call to wake the writer."""
    first, _, _ = start_call(service, SimulatedCall("12345", uniqueid="1795849801.5"))
    second, transport, _ = start_call(service, SimulatedCall("12345", uniqueid="1795849802.5"))
    threads.run()
    finish(first, first.transport)
    clock.rightNow += CLOSINGS_WAIT  # due, but the timer has not run yet
    finish(second, transport)  # another event takes the due batch with it
    threads.run()
    assert [stub.revision for stub in book.store.find(Query())] == [1, 1]
    third, transport, _ = start_call(service, SimulatedCall("12345", uniqueid="1795849803.5"))
    threads.run()
    finish(third, transport)
    clock.advance(0)  # the first batch's timer runs now, before the third closing stub is due
    write_closings(clock, threads)
    assert [stub.revision for stub in book.store.find(Query())] == [1, 1, 1]


def write_closings(clock, threads) -> None:
    """The closing stubs are due once CLOSINGS_WAIT has passed: the writer's timer hands them to the thread."""
    clock.advance(CLOSINGS_WAIT)
    threads.run()


def ticket_set(transport) -> str:
    return transport.value().decode().removeprefix("SET VARIABLE __TICKET_ID ").strip()


def test_the_doctors_test_call_gets_the_engines_clock_and_no_stub(service, book, threads):
    """`ivr doctor` calls the ivr-doctor context, whose AGI asks for the `doctor` script: the engine tells its clock
    in IVR_DOCTOR, routes nothing (no ANSWER, no stage) and writes no stub, opening or closing."""
    simulator = AsteriskSimulator(SimulatedCall("s", number_as_argument=False))
    environment = simulator.open().replace(b"agi_network_script: route", b"agi_network_script: doctor")
    session, transport = connect(service)
    session.dataReceived(environment)
    reply = f'SET VARIABLE IVR_DOCTOR "{NOW.timestamp():.3f} local"\n'.encode()  # Asterisk on loopback: `local`
    assert transport.take() == reply
    session.dataReceived(simulator.receive(reply))
    assert transport.write_closed and transport.value() == b""
    finish(session, transport)
    assert threads.jobs == [] and not book.spool.pending
    with pytest.raises(Exception, match="no ticket store there"):
        book.store.find(Query())
