"""Absorbed lines on a real Asterisk 22 in a city that merges them in stages: in this site's rules every absorbed
line, once its transition is over, only says it has stopped and hangs up (`after: {prompts: [stopped-N],
connect: false}`), and three lines have not begun their transition yet (it starts next month), so today they say
they have merged and connect. Through the engine, and with the engine unreachable through the generated dialplan
alone; both as `ivr route` says. With test_lines.py (after, connect: true) and test_lines_transition.py (during)
every transition period and both kinds of ending are run on the switch."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.asterisk.lines import check_dialplan_call, check_engine_call, closed_stubs, leave, numbers, place, staff

ABSORBED = numbers("absorbed")
BEFORE = ["12396", "96301", "12393"]
STOPPED = [number for number in ABSORBED if number not in BEFORE]
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


def EDIT_RULES(text: str) -> str:
    """connect: false after every transition; BEFORE's transitions from 30 to 60 days ahead."""
    for number in ABSORBED:
        connects = f"prompts: [stopped-{number}, connecting-12345]\n        connect: true"
        assert text.count(connects) == 1, f"{number}'s shipped after-transition changed"
        text = text.replace(connects, f"prompts: [stopped-{number}]\n        connect: false")
    for number in BEFORE:
        starts, ends = TODAY + timedelta(days=30), TODAY + timedelta(days=60)
        text, found = re.subn(
            rf'(\n  "{number}":\n(?:    .*\n)*?      )starts: 2021-09-01(.*\n      )ends: 2021-11-30',
            rf"\g<1>starts: {starts}\g<2>ends: {ends}",
            text,
        )
        assert found == 1, f"{number}'s shipped transition changed"
    return text


@pytest.fixture(scope="module")
def staffed(site):
    agents = staff(site, {"hotline-12345": len(BEFORE)})
    yield agents
    leave(site, agents)


@pytest.fixture(scope="module")
def placed(site, staffed):
    calls = place(site, [(number, None) for number in ABSORBED])
    return calls, closed_stubs(site, [p.call for p in calls.values()])


@pytest.mark.parametrize("number", STOPPED)
def test_a_line_stopped_for_good_says_so_and_hangs_up(site, staffed, placed, number):
    calls, stored = placed
    plan = calls[number].plan
    assert plan["phase"] == "after-transition"
    assert [step["kind"] for step in plan["steps"]][-2:] == ["play", "hangup"]
    check_engine_call(site, calls[number], staffed, stored)


@pytest.mark.parametrize("number", BEFORE)
def test_a_line_before_its_transition_says_it_merged_and_connects(site, staffed, placed, number):
    calls, stored = placed
    plan = calls[number].plan
    assert plan["phase"] == "before-transition"
    assert next(s["prompt"] for s in plan["steps"] if s["kind"] == "play") == f"transition-{number}"
    check_engine_call(site, calls[number], staffed, stored)


def test_without_the_engine_the_dialplan_ends_each_line_the_same_way(site, staffed, placed):
    assert site.engine is not None
    site.engine.stop()
    try:
        calls = place(site, [(number, None) for number in ABSORBED])
    finally:
        site.start_engine()
    for call in calls.values():
        check_dialplan_call(site, call, staffed)
