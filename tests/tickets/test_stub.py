"""A call's stub from the executor: every field the plan's ticket asks for, each way a call can end, and JSON."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest

from ivr.agi.executor import CLOSE, RECORD, PlanExecutor
from ivr.agi.protocol import AgiParser
from ivr.agi.simulator import AsteriskSimulator, DialBehaviour, QueueBehaviour
from ivr.calendar.deadlines import DeadlineClock, case_deadlines
from ivr.hosts import LOCAL
from ivr.router.decide import Presentation
from ivr.tickets.fromcall import closing_stub, opening_stub
from ivr.tickets.stub import Stub, StubOutcome
from tests.tickets.calls import NOW, RULES, call, numbered, stubs_of

Q, D = QueueBehaviour, DialBehaviour


def test_opening_stub_holds_what_is_known_once_the_call_is_routed():
    opening, _ = stubs_of(call(1, "96301", caller="13912345678"))
    assert opening.id == "" and opening.revision == 0
    assert opening.received == NOW and opening.received.tzinfo.key == "Asia/Shanghai"
    assert (opening.uniqueid, opening.linkedid) == ("1795849802.5", "1795849802.4"), "read, not assumed"
    assert opening.channel == "Local/96301@from-pstn-00000002;2"
    assert (opening.caller, opening.presentation, opening.dialed) == ("13912345678", Presentation.ALLOWED, "96301")
    assert (opening.line, opening.line_name, opening.mode) == ("96301", "云南省旅游投诉电话", "absorbed")
    assert (opening.department, opening.department_name) == ("culture-tourism", "文化和旅游局")
    assert opening.data_link == "tourism-complaint-and-returns"
    assert opening.outcome is StubOutcome.IN_PROGRESS and opening.category == ""
    assert opening.engine == "e1"
    expected = case_deadlines(NOW, RULES).deadlines
    assert [(d.step, d.due) for d in opening.deadlines] == [(d.step, d.due) for d in expected]
    assert [d.step for d in opening.deadlines] == ["dispatch", "sign-for", "return"], "no category yet: no close"


def test_redirected_and_withheld_calls():
    opening, _ = stubs_of(call(2, "12345", rdnis="12348", callingpres=0x23))
    assert (opening.dialed, opening.redirecting, opening.line) == ("12345", "12348", "12348")
    assert opening.presentation is Presentation.WITHHELD
    assert opening.data_link == "12348-system"
    assert opening.flags == ("via-redirecting-number", "caller-withheld")
    assert opening.masked().caller == "withheld"
    unknown, _ = stubs_of(call(3, "12345", caller="unknown", callingpres=0x43))
    assert (unknown.caller, unknown.presentation) == ("", Presentation.UNKNOWN)


SEAT = RULES.seats["seat-12333"].dial


@pytest.mark.parametrize(
    ("simulated", "outcome", "answered_by", "wait", "stage"),
    [
        (call(1, "12345"), StubOutcome.ANSWERED, "Local/agent1@agents", 0, "done"),
        (call(2, "12333"), StubOutcome.TRANSFERRED, SEAT, None, "done"),
        (call(3, "12333", seats={SEAT: D.BUSY}), StubOutcome.ANSWERED, "Local/agent1@agents", 0, "done"),
        (
            call(4, "12345", queues={"hotline-12345": Q.CALLER_HANGUP}),
            StubOutcome.ABANDONED,
            "",
            None,
            "queue:hotline-12345",
        ),
        (call(5, "12396", hangup_in_prompt="stopped-12396"), StubOutcome.HUNG_UP_IN_PROMPT, "", None, "prompt"),
        (call(6, "12345", queues={"hotline-12345": Q.TIMEOUT}), StubOutcome.INSTRUCTED, "", None, "done"),
    ],
    ids=["answered", "transferred", "seat-busy-then-agent", "abandoned", "hung-up-in-prompt", "instructed"],
)
def test_closing_stub_says_how_the_call_ended(simulated, outcome, answered_by, wait, stage):
    opening, closing = stubs_of(simulated)
    assert closing.revision == 1 and closing.ended == NOW + timedelta(seconds=42)
    assert (closing.outcome, closing.answered_by, closing.queue_wait, closing.stage) == (
        outcome,
        answered_by,
        wait,
        stage,
    )
    assert closing.received == opening.received and closing.deadlines == opening.deadlines


def test_route_has_the_time_of_each_step_from_the_reads():
    """The executor has no clock: each step carries the time of the read the driver passed with it."""
    simulator = AsteriskSimulator(call(7, "12333", seats={SEAT: D.NOANSWER}))
    parser = AgiParser()
    executor = PlanExecutor(parser.feed(simulator.open())[0], RULES, NOW, ticketing=True)
    action = executor.start()
    for second in itertools.count(1):
        if action is CLOSE:
            break
        if action is RECORD:
            opening = opening_stub(executor, "e1", DeadlineClock(RULES), LOCAL)
            action = executor.ticket_recorded("12345-20261126-e1-000001")
            continue
        action = executor.feed(parser.feed(simulator.receive(action.encode())), NOW + timedelta(seconds=second))
    closing = closing_stub(opening, executor, NOW + timedelta(minutes=5))
    times = [step.at for step in closing.route]
    assert times == sorted(times) and times[0] > NOW, "every step later than receipt, in order"
    whats = [step.what for step in closing.route]
    assert whats[0] == "ticket" and closing.route[0].detail == "12345-20261126-e1-000001"
    assert "dial:seat-12333 seat-failed" in whats
    assert whats[-3:] == ["stage", "not-rated", "played"], "done, then the rating nobody gave, then thanks"
    failed = next(step for step in closing.route if step.what == "dial:seat-12333 seat-failed")
    assert failed.detail == "DIALSTATUS=NOANSWER"


def test_a_session_that_ended_mid_call_is_unfinished():
    simulator = AsteriskSimulator(call(8, "12345"))
    executor = PlanExecutor(AgiParser().feed(simulator.open())[0], RULES, NOW)
    executor.start()  # routed, then the link to Asterisk was lost
    opening = opening_stub(executor, "e1", DeadlineClock(RULES), LOCAL)
    assert closing_stub(opening, executor, NOW).outcome is StubOutcome.UNFINISHED


def test_emergency_numbers_never_get_a_stub():
    executor = PlanExecutor(AgiParser().feed(AsteriskSimulator(call(9, "110")).open())[0], RULES, NOW)
    executor.start()
    with pytest.raises(ValueError, match="emergency"):
        opening_stub(executor, "e1", DeadlineClock(RULES), LOCAL)


@pytest.mark.parametrize("simulated", [call(1, "96301"), call(2, "12333", seats={SEAT: D.BUSY})])
def test_json_round_trip_keeps_every_field_and_zone(simulated):
    for stub in stubs_of(simulated):
        stub = numbered(stub, 1)
        again = Stub.from_json(stub.as_json())
        assert again == stub
        assert again.received.tzinfo.key == "Asia/Shanghai"


def test_masked_stub_hides_the_caller_only():
    _, closing = stubs_of(call(1, "12345", caller="+8613912345678", rdnis="13512345678"))
    masked = closing.masked()
    assert (masked.caller, masked.redirecting) == ("+86139****5678", "135****5678")
    assert closing.caller == "+8613912345678", "masking makes a copy"
    assert masked.as_json() | {"caller": "", "redirecting": ""} == closing.as_json() | {"caller": "", "redirecting": ""}


def test_a_copy_with_changes_is_the_stub_replace_would_make():
    """Stub.evolve skips dataclasses.replace's __init__ for speed: the copy must still be that same stub, its JSON
    the same, and a name that is not a field refused."""
    opening, closing = stubs_of(call(1, "12345"))
    changes = {"id": "12345-20211120-e1-000009", "outcome": StubOutcome.ABANDONED, "route": closing.route}
    copy = opening.evolve(**changes)
    assert copy == replace(opening, **changes)
    assert copy.as_json() == replace(opening, **changes).as_json()
    assert opening.id == "" and opening.outcome is StubOutcome.IN_PROGRESS, "the original is left as it was"
    with pytest.raises(TypeError, match="no field outcom"):
        opening.evolve(outcom=StubOutcome.ABANDONED)


def test_deadlines_counted_once_per_part_of_day_are_those_of_each_moment():
    """One clock serves many calls: each gets exactly the deadlines its own moment of receipt gives, around
    opening and closing time, on a working day, a weekend and a holiday, also when the times come out of order."""
    clock = DeadlineClock(RULES)
    hours = RULES.calendar
    moments = []
    for day in (NOW.date(), NOW.date() + timedelta(days=1), NOW.date().replace(month=10, day=1)):
        for at in (hours.opens, hours.closes):
            base = NOW.replace(year=day.year, month=day.month, day=day.day, hour=at.hour, minute=at.minute, second=0)
            moments += [base - timedelta(seconds=1), base, base + timedelta(seconds=1)]
    moments += [m.replace(hour=3) for m in moments[:1]] + [m.replace(hour=23) for m in moments[:1]]
    environment = AgiParser().feed(AsteriskSimulator(call(1, "12345")).open())[0]
    for received in [*moments, *reversed(moments)]:
        executor = PlanExecutor(environment, RULES, received)  # routed, as the engine has it for the stub
        executor.start()
        opening = opening_stub(executor, "e1", clock, LOCAL)
        expected = case_deadlines(received, RULES).deadlines
        assert [(d.step, d.due) for d in opening.deadlines] == [(d.step, d.due) for d in expected], received
