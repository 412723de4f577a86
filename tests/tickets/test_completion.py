"""Asterisk's facts applied to the engine's stub: one table of what each combination means to a call."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest

from ivr.agi.simulator import QueueBehaviour
from ivr.tickets.completion import CallEvent, EventKind, Stay, completed, stays
from ivr.tickets.stub import StubOutcome
from tests.tickets.calls import NOW, call, stubs_of

OPENING, CLOSING = stubs_of(call(1, "12345", queues={"hotline-12345": QueueBehaviour.CALLER_HANGUP}))
UID = OPENING.uniqueid
AT = NOW + timedelta(seconds=30)
ANSWER = CallEvent(UID, EventKind.ANSWERED, AT, "hotline-12345", "PJSIP/agent7", 12)
ABANDON = CallEvent(UID, EventKind.ABANDONED, AT, "hotline-12345", "", 25, 3)
TRANSFER = CallEvent(UID, EventKind.TRANSFERRED, AT + timedelta(seconds=60), detail="blind to 8001@linkage")
FALLBACK = CallEvent(UID, EventKind.FALLBACK, AT - timedelta(seconds=5), detail="queue:hotline-12345")
ENGINE = {outcome: replace(CLOSING, outcome=outcome) for outcome in StubOutcome}


@pytest.mark.parametrize(
    ("engine", "events", "outcome"),
    [
        (StubOutcome.ANSWERED, [ANSWER], StubOutcome.ANSWERED),
        (StubOutcome.ABANDONED, [ABANDON], StubOutcome.ABANDONED),
        (StubOutcome.INSTRUCTED, [ABANDON], StubOutcome.INSTRUCTED),  # left the queue (LEAVEEMPTY), heard the end
        (StubOutcome.IN_PROGRESS, [ABANDON], StubOutcome.IN_PROGRESS),  # the engine routes the call on
        (StubOutcome.IN_PROGRESS, [FALLBACK, ABANDON], StubOutcome.ABANDONED),  # engine gone, gave up in fallback
        (StubOutcome.IN_PROGRESS, [FALLBACK], StubOutcome.UNFINISHED),
        (StubOutcome.ANSWERED, [ANSWER, TRANSFER], StubOutcome.TRANSFERRED),
        (StubOutcome.UNFINISHED, [ABANDON, ANSWER], StubOutcome.ANSWERED),  # a queue exit, then another queue
        (StubOutcome.HUNG_UP_IN_PROMPT, [], StubOutcome.HUNG_UP_IN_PROMPT),
    ],
)
def test_outcome_table(engine, events, outcome):
    assert completed(ENGINE[engine], events).outcome is outcome
    for order in itertools.permutations(events):
        assert completed(ENGINE[engine], order) == completed(ENGINE[engine], events), "order of arrival is no matter"


def test_an_answer_names_the_agent_and_asterisks_wait():
    stub = completed(ENGINE[StubOutcome.ANSWERED], [ANSWER])
    assert (stub.answered_by, stub.queue_wait) == ("PJSIP/agent7", 12)
    assert ("ami:answered", "hotline-12345 by PJSIP/agent7 after 12 s") in [(s.what, s.detail) for s in stub.route]


def test_the_wait_is_every_queue_asterisk_held_the_caller_in():
    """An expert queue that timed out (Asterisk's QueueCallerAbandon, 180 s), then 12345 answered after 12 s: the
    caller waited 192 s, as the engine's own QUEUEWAIT sum and the judge's queue_log say; and the stays read back."""
    expert = CallEvent(UID, EventKind.ABANDONED, AT - timedelta(seconds=20), "expert-12348", "", 180, 1)
    stub = completed(ENGINE[StubOutcome.ANSWERED], [expert, ANSWER])
    assert (stub.outcome, stub.queue_wait, stub.queue) == (StubOutcome.ANSWERED, 192, "hotline-12345")
    assert stays(stub) == [Stay("expert-12348", False, 180), Stay("hotline-12345", True, 12)]


def test_an_abandon_says_where_and_when_the_caller_gave_up():
    stub = completed(replace(ENGINE[StubOutcome.ABANDONED], ended=None), [ABANDON])
    assert (stub.queue_wait, stub.ended) == (25, AT)
    assert stub.route[-1].detail == "hotline-12345 at position 3 after 25 s"


def test_a_fallback_names_the_stage_the_dialplan_went_on_from():
    stub = completed(OPENING, [FALLBACK])
    assert stub.stage == "fallback:queue:hotline-12345"
    assert stub.route[-1].at.tzinfo == OPENING.received.tzinfo, "shown in the rules' zone"


def test_no_event_leaves_the_stub_as_the_engine_wrote_it():
    assert completed(CLOSING, []) is CLOSING
