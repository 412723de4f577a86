"""The dual-transfer lines on a real Asterisk 22 when their seats keep opening hours: the site's rules give two
seats hours that have them closed now (seat-12348, whose fallback is its expert queue, and seat-12328, which
falls back to 12345 itself) and two hours that have them open now (seat-12333, seat-12329), relative to the
current time in Asia/Shanghai and split at midnight, so the moment the test runs never lands on an edge;
seat-12320 stays 7x24. A closed seat is never rung: the caller hears that the department cannot answer and goes
to the next queue. Both the engine's clock and the generated dialplan's (GotoIfTime in the rules' zone, with the
engine unreachable) decide, and both must do what `ivr route` says."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.asterisk.lines import check_dialplan_call, check_engine_call, closed_stubs, leave, numbers, place, staff

DUAL_TRANSFER = numbers("dual-transfer")
NOW = datetime.now(ZoneInfo("Asia/Shanghai"))
CLOSED = {"seat-12348": "12348", "seat-12328": "12328"}
OPEN = {"seat-12333": "12333", "seat-12329": "12329"}


def every_day(start: timedelta, end: timedelta) -> str:
    """Opening hours (YAML) every day from NOW+start to NOW+end in whole minutes, split at midnight."""
    at, until = NOW + start, NOW + end
    spans = []
    while at < until:
        midnight = datetime.combine(at.date() + timedelta(days=1), time(0), at.tzinfo)
        stop = min(until, midnight)
        closes = "24:00" if stop == midnight else f"{stop:%H:%M}"
        spans.append(f'      - {{days: mon-sun, from: "{at:%H:%M}", to: "{closes}"}}\n')
        at = stop
    return "    hours:\n" + "".join(spans)


def EDIT_RULES(text: str) -> str:
    """Closed now: open only from 8 to 9 hours ahead. Open now: from 3 hours ago to 3 hours ahead."""
    for seats, hours in ((CLOSED, every_day(timedelta(hours=8), timedelta(hours=9))),
                         (OPEN, every_day(timedelta(hours=-3), timedelta(hours=3)))):  # fmt: skip
        for seat in seats:
            text, found = re.subn(rf"(\n  {seat}:\n(?:    .*\n)*?)    hours: 7x24\n", rf"\g<1>{hours}", text)
            assert found == 1, f"{seat} is no longer 7x24 in the shipped rules"
    return text


@pytest.fixture(scope="module")
def staffed(site):
    agents = staff(site, {"hotline-12345": 2, "expert-12348": 1, "expert-12333": 1, "expert-12329": 1})
    yield agents
    leave(site, agents)


@pytest.fixture(scope="module")
def placed(site, staffed):
    calls = place(site, [(number, None) for number in DUAL_TRANSFER])
    return calls, closed_stubs(site, [p.call for p in calls.values()])


def test_the_rules_say_which_seats_are_open_now(site, placed):
    calls, _ = placed
    for number in CLOSED.values():
        assert "seat-closed" in calls[number].plan["flags"], number
        assert "dial" not in {step["kind"] for step in calls[number].plan["steps"]}, number
    for number in (*OPEN.values(), "12320"):
        assert "seat-closed" not in calls[number].plan["flags"], number


@pytest.mark.parametrize("number", DUAL_TRANSFER)
def test_a_seat_is_rung_only_when_open_and_otherwise_the_next_queue_answers(site, staffed, placed, number):
    calls, stored = placed
    check_engine_call(site, calls[number], staffed, stored)


def test_without_the_engine_the_dialplan_keeps_the_same_hours(site, staffed, placed):
    assert site.engine is not None
    site.engine.stop()
    try:
        calls = place(site, [(number, None) for number in DUAL_TRANSFER])
    finally:
        site.start_engine()
    for call in calls.values():
        check_dialplan_call(site, call, staffed)
