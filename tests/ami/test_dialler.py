"""Automatic call-backs: the dialler against the captured AMI session (fake transport, fake clock) and a real
SQLite store. Only a call Asterisk confirmed abandoned is rung, once an agent is free and within the hours."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import time, timedelta

import pytest
from twisted.internet import task
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.testing import StringTransport

from ivr.agi.simulator import QueueBehaviour
from ivr.ami.client import AmiMonitor
from ivr.ami.dialler import LOST_MARGIN_SECONDS, ORIGINATE_MARGIN_SECONDS, Dialler
from ivr.ami.protocol import Message
from ivr.ami.recorder import Recorder
from ivr.dialplan.callback import RING_SECONDS
from ivr.rules.model import Callbacks, OpeningHours, OpeningSpan
from ivr.tickets.book import TicketBook
from ivr.tickets.callbacks import State, callback_list
from ivr.tickets.completion import CallEvent, EventKind
from ivr.tickets.store import Query
from tests.ami.peer import ACTIONS, BANNER, asterisk_side, block, captured_user_event, wire
from tests.ami.test_client import LAB
from tests.tickets.calls import NOW, RULES, call, numbered, stubs_of

HUNG_UP = {"hotline-12345": QueueBehaviour.CALLER_HANGUP}
AUTOMATIC = replace(RULES, callbacks=Callbacks(automatic=True, dial="PJSIP/{number}@carrier"))


def ivr_callback(ticket: str, status: str) -> bytes:
    """A UserEvent as the generated `h` extension's UserEvent(IvrCallback, ...) sends it."""
    return wire(captured_user_event("IvrCallback", [("Ticket", ticket), ("DialStatus", status)]))


def sent_id(action: str) -> str:
    """The ActionID the dialler gave an action it sent."""
    return next(line.split(": ")[1] for line in action.split("\r\n") if line.startswith("ActionID"))


class Centre:
    """`rules` is what the monitor's holder gives: a test sets it to play a reload."""

    def __init__(self, tmp_path, rules=AUTOMATIC, hours_from_now=1, listing=maybeDeferred):
        self.clock = task.Clock()
        self.clock.advance((NOW + timedelta(hours=hours_from_now)).timestamp())
        self.book = TicketBook.open(f"sqlite:///{tmp_path / 'tickets.db'}", tmp_path / "spool", "m1")
        self.rules = rules
        self.recorder = Recorder(self.book, lambda: self.rules, "m1", self.clock, run=maybeDeferred)
        self.monitor = AmiMonitor(LAB, self.clock, on_facts=lambda f: (self.recorder.facts(f), self.dialler.facts(f)))
        self.dialler = Dialler(lambda: self.rules, self.monitor, self.recorder, self.clock, run=listing)
        self.transport = StringTransport()
        self.session = self.monitor.buildProtocol(None)
        self.session.makeConnection(self.transport)
        self.session.dataReceived(BANNER + block(ACTIONS, b"login-1"))
        self.session.dataReceived(block(ACTIONS, b"queuestatus-6", b"queuestatus-2"))  # Agent One free
        self.transport.clear()

    def gave_up(self, n, confirmed=True, **behaviour):
        closing = numbered(stubs_of(call(n, "12396", **behaviour), NOW + timedelta(minutes=n))[1], n)
        self.book.store.put([closing])
        if confirmed:
            event = CallEvent(closing.uniqueid, EventKind.ABANDONED, closing.received, "hotline-12345", wait=80)
            self.book.store.add_events([event])
        return closing

    def originated(self) -> list[str]:
        sent = self.transport.value().decode()
        self.transport.clear()
        return [part for part in sent.split("\r\n\r\n") if part.startswith("Action: Originate")]

    def states(self):
        now = self.recorder.now()
        entries = callback_list(self.book.store.find(Query()), self.rules.callbacks, self.rules.numbering, now)
        return {e.stub.id: e.state for e in entries}


def test_a_confirmed_abandon_is_called_back_through_a_free_agent_and_the_answer_is_stored(tmp_path):
    centre = Centre(tmp_path)
    stub = centre.gave_up(1, queues=HUNG_UP)
    centre.dialler.check()
    (action,) = centre.originated()
    assert "Channel: Local/callback@ivr-callback" in action and "Context: ivr-callback-dial" in action
    assert "Exten: 13800138000" in action
    assert f'CallerID: "回拨 {stub.id} 12396" <12345>' in action, "the agent sees the ticket and the line"
    assert "Variable: QUEUE_PRIO=10" in action and f"Variable: __TICKET_ID={stub.id}" in action
    action_id = sent_id(action)
    centre.session.dataReceived(block(ACTIONS, b"originate-8", action_id.encode()))
    centre.dialler.check()
    assert centre.originated() == [], "in flight: never twice"
    centre.session.dataReceived(ivr_callback(stub.id, "ANSWER"))
    assert centre.states() == {stub.id: State.DONE}
    assert [s.detail for s in centre.book.store.get(stub.id).route if s.what == "ami:callback"] == ["ANSWER"]


def test_a_call_back_an_agent_answered_no_longer_holds_a_free_agent(tmp_path):
    """The board counts the answering agent busy (QueueMemberStatus); the attempt must not hold a second one. On
    a real Asterisk two call-backs in progress kept a third, free agent idle (tests/asterisk/test_monitor_callbacks)."""
    centre = Centre(tmp_path)
    centre.gave_up(1, queues=HUNG_UP)
    centre.dialler.check()
    (action,) = centre.originated()
    channel_id = next(line.split(": ")[1] for line in action.split("\r\n") if line.startswith("ChannelId"))
    centre.gave_up(2, queues=HUNG_UP)
    centre.dialler.check()
    assert centre.originated() == [], "the first call-back waits for Agent One: no second one yet"
    connect = [("Event", "AgentConnect"), ("Queue", "hotline-12345"), ("Uniqueid", f"{channel_id};2"),
               ("Interface", "Local/8001@agents/n"), ("MemberName", "Agent One"), ("HoldTime", "0")]  # fmt: skip
    centre.session.dataReceived(wire(tuple(connect)))
    centre.dialler.check()
    assert len(centre.originated()) == 1, "the board's free agent is not the one that answered"


def test_a_failed_attempt_is_retried_after_the_pause_and_capped(tmp_path):
    centre = Centre(tmp_path)
    stub = centre.gave_up(1, queues=HUNG_UP)
    ids = []
    for _ in range(centre.rules.callbacks.max_attempts):
        centre.dialler.check()
        (action,) = centre.originated()
        action_id = sent_id(action)
        ids += [line.split(": ")[1] for line in action.split("\r\n") if line.startswith("ChannelId")]
        failure = Message((("Event", "OriginateResponse"), ("ActionID", action_id), ("Response", "Failure"),
                           ("Reason", "1")))  # fmt: skip
        centre.session.dataReceived(block(ACTIONS, b"originate-8", action_id.encode()) + wire(failure.fields))
        centre.dialler.check()
        assert centre.originated() == [], "not again before retry_minutes"
        centre.clock.advance(centre.rules.callbacks.retry_minutes * 60 + 1)
    assert centre.states() == {stub.id: State.GAVE_UP}
    centre.dialler.check()
    assert centre.originated() == []
    # Asterisk refuses an assigned uniqueid that is a prefix of a live channel's (callback-X-1 beside
    # callback-X-12;2): every attempt's id has the same length, so none is another's prefix.
    assert len(set(ids)) == len(ids) == centre.rules.callbacks.max_attempts
    assert len({len(i) for i in ids}) == 1, ids


def test_an_originate_asterisk_refuses_is_an_attempt_and_frees_the_agent(tmp_path):
    """Asterisk's answer to an action the AMI user may not send, as captured (Permission denied): no
    OriginateResponse follows, so without this the call-back would stay in flight and hold an agent for ever."""
    centre = Centre(tmp_path)
    stub = centre.gave_up(1, queues=HUNG_UP)
    centre.dialler.check()
    (action,) = centre.originated()
    refused = block(asterisk_side("ami-login-bad.txt"), b"ping-1", sent_id(action).encode())
    assert b"Permission denied" in refused
    centre.session.dataReceived(refused)
    attempts = [s.detail for s in centre.book.store.get(stub.id).route if s.what == "ami:callback"]
    assert attempts == ["REFUSED Permission denied"]
    centre.clock.advance(centre.rules.callbacks.retry_minutes * 60 + 1)
    centre.dialler.check()
    assert len(centre.originated()) == 1, "the agent is free again: the next attempt goes out"


def test_an_attempt_whose_end_was_lost_with_the_link_is_given_up_once_it_cannot_last_longer(tmp_path):
    centre = Centre(tmp_path)
    stub = centre.gave_up(1, queues=HUNG_UP)
    centre.dialler.check()
    (action,) = centre.originated()
    centre.session.dataReceived(block(ACTIONS, b"originate-8", sent_id(action).encode()))
    rules = centre.rules
    waits = rules.queues[rules.callbacks.queue].timeout + ORIGINATE_MARGIN_SECONDS
    longest = waits + RING_SECONDS + rules.engine.max_conversation
    centre.clock.advance(longest)
    centre.dialler.check()
    assert centre.originated() == [] and centre.book.store.get(stub.id).route[-1].what != "ami:callback", (
        "a conversation may still be going on"
    )
    centre.clock.advance(LOST_MARGIN_SECONDS + 1)
    centre.dialler.check()
    attempts = [s.detail for s in centre.book.store.get(stub.id).route if s.what == "ami:callback"]
    assert attempts == ["UNKNOWN no result from Asterisk"], "counted: the citizen may have been rung"


@pytest.mark.parametrize(
    ("why", "setup"),
    [
        ("forged: the engine's word only", lambda c: c.gave_up(1, confirmed=False, queues=HUNG_UP)),
        ("withheld number", lambda c: c.gave_up(1, callingpres=0x23, queues=HUNG_UP)),
    ],
)
def test_never_rung(tmp_path, why, setup):
    centre = Centre(tmp_path)
    setup(centre)
    centre.dialler.check()
    assert centre.originated() == [], why


def test_outside_the_hours_or_with_no_free_agent_nobody_is_rung(tmp_path):
    closed = replace(AUTOMATIC, callbacks=replace(AUTOMATIC.callbacks, hours=OpeningHours(spans=(_night(),))))
    centre = Centre(tmp_path, rules=closed)
    centre.gave_up(1, queues=HUNG_UP)
    centre.dialler.check()
    assert centre.originated() == []
    busy = Centre(tmp_path / "busy")
    busy.gave_up(1, queues=HUNG_UP)
    on_a_call = (("Event", "QueueMemberStatus"), ("Queue", "hotline-12345"), ("Interface", "Local/agent1@agents"),
                 ("MemberName", "Agent One"), ("Status", "2"), ("Paused", "0"))  # fmt: skip
    busy.session.dataReceived(wire(on_a_call))
    busy.dialler.check()
    assert busy.originated() == []


def _night() -> OpeningSpan:
    return OpeningSpan(frozenset(range(7)), time(1, 0), time(2, 0))


def test_a_reload_counts_from_the_next_check_and_a_check_under_way_keeps_its_rules(tmp_path, caplog):
    listings = []  # the call-back list's reads, run when the test says

    def held(f, *args):
        listings.append(Deferred().addCallback(lambda _: f(*args)))
        return listings[-1]

    centre = Centre(tmp_path, rules=RULES, listing=held)  # as shipped: call-backs off
    centre.gave_up(1, queues=HUNG_UP)
    centre.dialler.check()
    assert listings == [], "off: the list is not even read"
    centre.rules = AUTOMATIC
    with caplog.at_level(logging.INFO, logger="ivr.ami"):
        centre.dialler.check()
    (turned_on,) = [m for m in caplog.messages if m.startswith("automatic call-backs turned on by the reloaded")]
    assert "needs the originate right" in turned_on, "the manager.conf built while they were off lacks it"
    centre.rules = replace(AUTOMATIC, callbacks=replace(AUTOMATIC.callbacks, priority=20))
    listings[0].callback(None)
    (action,) = centre.originated()
    assert "Variable: QUEUE_PRIO=10" in action, "the check began with priority 10: its call-backs keep it"
