"""Every absorbed line on a real Asterisk 22 during its transition: the site's rules move each absorbed line's
transition so that it runs from a month ago to a month ahead (in Asia/Shanghai), so today the caller hears that
the line has merged into 12345 and is connected. Through the engine, and with the engine unreachable through the
generated dialplan alone (its own clock: EPOCH against the end of the transition); both as `ivr route` says."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.asterisk.lines import check_dialplan_call, check_engine_call, closed_stubs, leave, numbers, place, staff

ABSORBED = numbers("absorbed")
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


def EDIT_RULES(text: str) -> str:
    """Every absorbed line's transition from 30 days ago to 30 days ahead: today is well inside it."""
    starts, ends = "starts: 2021-09-01", "ends: 2021-11-30"
    assert text.count(starts) == text.count(ends) == len(ABSORBED), "the shipped transitions changed"
    return text.replace(starts, f"starts: {TODAY - timedelta(days=30)}").replace(
        ends, f"ends: {TODAY + timedelta(days=30)}"
    )


@pytest.fixture(scope="module")
def staffed(site):
    agents = staff(site, {"hotline-12345": len(ABSORBED)})
    yield agents
    leave(site, agents)


@pytest.fixture(scope="module")
def placed(site, staffed):
    calls = place(site, [(number, None) for number in ABSORBED])
    return calls, closed_stubs(site, [p.call for p in calls.values()])


@pytest.mark.parametrize("number", ABSORBED)
def test_an_absorbed_line_in_its_transition_says_it_merged_and_connects(site, staffed, placed, number):
    calls, stored = placed
    plan = calls[number].plan
    assert plan["phase"] == "transition", plan["phase"]
    assert next(s["prompt"] for s in plan["steps"] if s["kind"] == "play") == f"transition-{number}"
    check_engine_call(site, calls[number], staffed, stored)


def test_without_the_engine_the_dialplan_plays_each_transition_prompt(site, staffed, placed):
    assert site.engine is not None
    site.engine.stop()
    try:
        calls = place(site, [(number, None) for number in ABSORBED])
    finally:
        site.start_engine()
    for number, call in calls.items():
        assert call.plan["phase"] == "transition", number
        check_dialplan_call(site, call, staffed)
