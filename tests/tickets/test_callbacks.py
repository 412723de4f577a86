"""The call-back list by table: who is listed (only what Asterisk confirmed), and what may be done for each."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ivr.router.decide import Presentation
from ivr.rules.model import Callbacks
from ivr.tickets.callbacks import State, callback_list, diallable
from ivr.tickets.stub import RouteStep, StubOutcome
from tests.tickets.calls import NOW, RULES, call, stubs_of

SETTINGS = Callbacks(max_attempts=2, retry_minutes=30, window_hours=24, dial="PJSIP/{number}@carrier")
_, BASE = stubs_of(call(1))
GAVE_UP = RouteStep(NOW, "ami:abandoned", "hotline-12345 at position 3 after 80 s")


def stub(n, minutes=0, caller="13912345678", outcome=StubOutcome.ABANDONED, steps=(GAVE_UP,), **changes):
    return replace(
        BASE,
        id=f"12345-20261126-e1-{n:06d}",
        uniqueid=f"17958498{n:02d}.5",
        received=NOW + timedelta(minutes=minutes),
        caller=caller,
        outcome=outcome,
        route=tuple(steps),
        **changes,
    )


def attempt(minutes, result):
    return RouteStep(NOW + timedelta(minutes=minutes), "ami:callback", result)


def states(stubs, minutes_later=60):
    entries = callback_list(stubs, SETTINGS, RULES.numbering, NOW + timedelta(minutes=minutes_later))
    return {e.stub.id[-2:]: e.state for e in entries}


@pytest.mark.parametrize(
    ("stubs", "expected"),
    [
        ([stub(1)], {"01": State.DUE}),
        ([stub(1, steps=())], {}),  # the engine says abandoned, Asterisk never did: a forged session, never listed
        (
            [stub(1, outcome=StubOutcome.HUNG_UP_IN_PROMPT, steps=[RouteStep(NOW, "ami:hangup", "Normal Clearing")])],
            {"01": State.DUE},
        ),
        ([stub(1, outcome=StubOutcome.HUNG_UP_IN_PROMPT, steps=())], {}),
        ([stub(1, presentation=Presentation.WITHHELD)], {"01": State.NOT_DIALLABLE}),
        ([stub(1, caller="")], {"01": State.NOT_DIALLABLE}),
        ([stub(1, caller="95598")], {"01": State.NOT_DIALLABLE}),  # a service number, not a citizen's
        ([stub(1), stub(2, 10, outcome=StubOutcome.ANSWERED, steps=())], {"01": State.REACHED}),
        ([stub(1), stub(2, 10)], {"01": State.DUPLICATE, "02": State.DUE}),  # one call-back per number
        ([stub(1, steps=(GAVE_UP, attempt(50, "NOANSWER")))], {"01": State.WAITING}),
        ([stub(1, steps=(GAVE_UP, attempt(20, "NOANSWER")))], {"01": State.DUE}),  # 30 minutes have passed
        ([stub(1, steps=(GAVE_UP, attempt(5, "BUSY"), attempt(40, "FAILED reason 1")))], {"01": State.GAVE_UP}),
        ([stub(1, steps=(GAVE_UP, attempt(5, "ANSWER")))], {"01": State.DONE}),
        ([stub(1, steps=(GAVE_UP, RouteStep(NOW, "ami:callback-done", "called by hand")))], {"01": State.DONE}),
    ],
)
def test_callback_table(stubs, expected):
    assert states(stubs) == expected


def test_a_number_answered_on_a_call_back_is_not_rung_again_within_the_window():
    first = stub(1, steps=(GAVE_UP, attempt(5, "ANSWER")))
    later = stub(2, 24 * 60 + 30)  # gave up again the next day, more than a window after the first
    assert states([first, later], minutes_later=24 * 60 + 40) == {"01": State.DONE, "02": State.DUE}
    again = stub(3, 60)
    assert states([first, again], minutes_later=70) == {"01": State.DONE, "03": State.DONE}


@pytest.mark.parametrize(
    ("caller", "number"),
    [
        ("13912345678", "13912345678"),
        ("+8613912345678", "13912345678"),
        ("008613912345678", "13912345678"),
        ("0871-65123456", "087165123456"),
        ("+86 871 65123456", "087165123456"),
        ("65123456", "65123456"),
        ("+4420794600000", ""),  # abroad: not called back
        ("12345", ""),
        ("unknown", ""),
    ],
)
def test_only_national_numbers_are_diallable(caller, number):
    assert diallable(stub(1, caller=caller), RULES.numbering) == number
