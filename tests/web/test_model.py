"""The page's state from boards, today's stubs and `now`, by table: no store, no clock, no browser."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

import pytest

from ivr.ami.view import STALE_SECONDS
from ivr.tickets.stub import StubOutcome
from ivr.web.model import MODES, Names, calls_per_hour, unreadable, wallboard
from tests.tickets.calls import NOW, RULES, ZONE, call, numbered, stubs_of

T = NOW.timestamp()
NAMES = Names.of(RULES)
_, BASE = stubs_of(call(1, caller="13800138000"))


def stub(n, *, minutes=0, line="12345", mode="main", outcome=StubOutcome.ANSWERED, queue="hotline-12345", wait=5):
    return replace(
        numbered(BASE, n),
        uniqueid=f"{n}.1",
        received=NOW + timedelta(minutes=minutes),
        line=line,
        mode=mode,
        outcome=outcome,
        queue=queue,
        queue_wait=wait,
    )


def board(updated=T - 1, up=True, why="logged in", waiting=(), staff=MappingProxyType({"free": 2, "busy": 1})):
    callers = [{"uniqueid": f"w{i}", "position": i + 1, "since": s, "line": "12396"} for i, s in enumerate(waiting)]
    queue = {"waiting": callers, "longest_wait": 0, "staff": dict(staff), "members": []}
    return {"monitor": "m1", "updated": updated, "link": {"up": up, "since": 0, "why": why}, "snapshots": 1,
            "queues": {"hotline-12345": queue}}  # fmt: skip


@pytest.mark.parametrize(
    ("boards", "kind", "why"),
    [
        ({"m1": board()}, "", ""),
        ({}, "no-monitor", ""),
        ({"m1": board(updated=T - STALE_SECONDS - 1)}, "stale", ""),
        ({"m1": board(up=False, why="Asterisk shut down (Cleanly)")}, "link-down", "Asterisk shut down (Cleanly)"),
        ({"m1": board(up=False, why="x"), "m2": {**board(updated=T - 2), "monitor": "m2"}}, "", ""),
    ],
)
def test_the_warning_says_which_case_and_agrees_with_ivr_queues(boards, kind, why):
    alert = wallboard(boards, [], T, NAMES)["alert"]
    assert (alert["kind"], alert["why"]) == (kind, why)
    assert bool(alert["text"]) == bool(kind), "the text is ivr queues' warning"


def test_queue_row_joins_the_live_board_with_todays_figures():
    stubs = [
        stub(1, wait=5),
        stub(2, wait=20),
        stub(3, outcome=StubOutcome.ABANDONED, wait=40),
        stub(4, line="12396", mode="absorbed", outcome=StubOutcome.HUNG_UP_IN_PROMPT, queue="", wait=None),
    ]
    state = wallboard({"m1": board(waiting=(T - 30, T - 12))}, stubs, T, NAMES)
    (q,) = state["queues"]
    assert q == {
        "queue": "hotline-12345",
        "name_zh": RULES.queues["hotline-12345"].name_zh,
        "name_en": RULES.queues["hotline-12345"].name_en,
        "live": True,
        "waiting": 2,
        "longest_wait": 30.0,
        "staff": {"free": 2, "busy": 1, "paused": 0, "unavailable": 0},
        "offered": 3,
        "answered": 2,
        "abandoned": 1,
        "average_wait": 12.5,
        "service_level": 1 / 3,
        "connection_rate": 2 / 3,
    }
    assert [(f["line"], f["calls"], f["answered"], f["abandoned"]) for f in state["lines"]] == [
        ("12345", 3, 2, 1),
        ("12396", 1, 0, 0),
    ], "busiest line first"
    assert state["lines"][1]["name_zh"] == RULES.lines["12396"].name_zh
    assert (state["total"]["offered"], state["total"]["abandoned"]) == (4, 1)


def test_a_queue_no_board_covers_has_todays_figures_but_no_live_part():
    (q,) = wallboard({}, [stub(1)], T, NAMES)["queues"]
    assert (q["live"], q["waiting"], q["answered"]) == (False, 0, 1)
    assert q["staff"] == {"free": 0, "busy": 0, "paused": 0, "unavailable": 0}


def test_a_queue_the_rules_do_not_name_shows_its_asterisk_name():
    (q,) = wallboard({}, [stub(1, queue="hotline-empty-leave")], T, NAMES)["queues"]
    assert (q["name_zh"], q["name_en"]) == ("hotline-empty-leave", "hotline-empty-leave")


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ([], {}),
        ([(0, "main")], {"main": {10: 1}}),
        (
            [(0, "main"), (59, "main"), (60, "absorbed"), (61, "dual-transfer")],
            {"main": {10: 2}, "absorbed": {11: 1}, "dual-transfer": {11: 1}},
        ),
        ([(-600, "dual-merged")], {"dual-merged": {0: 1}}),  # 00:00 in the rules' zone
        ([(0, "")], {"unknown": {10: 1}}),
    ],
)
def test_calls_per_hour_per_mode_in_the_rules_zone(received, expected):
    stubs = [stub(i, minutes=m, mode=mode) for i, (m, mode) in enumerate(received)]
    hours = calls_per_hour(stubs, ZONE)
    assert set(MODES) <= set(hours)
    assert {mode: {h: n for h, n in enumerate(counts) if n} for mode, counts in hours.items() if any(counts)} == (
        expected
    )


def test_newest_stubs_first_and_callers_masked():
    stubs = [stub(n, minutes=n) for n in range(1, 12)]
    shown = wallboard({"m1": board()}, stubs, T, NAMES, newest=3)["stubs"]
    assert [s["id"][-2:] for s in shown] == ["11", "10", "09"]
    assert {s["caller"] for s in shown} == {"138****8000"}
    assert shown[0]["time"] == "10:11:00"
    assert "13800138000" not in repr(wallboard({}, stubs, T, NAMES))


def test_the_day_and_clock_are_the_rules_zone_whatever_the_machines():
    late = (NOW.replace(hour=23, minute=59, second=30)).timestamp()
    state = wallboard({}, [], late, NAMES)
    assert (state["day"], state["clock"], state["hour_now"]) == ("2026-11-26", "23:59:30", 23)


def test_an_unreadable_store_is_a_warning_and_no_figure():
    state = unreadable("sqlite:///x: disk I/O error", T, ZONE)
    assert state["alert"]["kind"] == "store"
    assert (state["queues"], state["lines"], state["stubs"], state["total"]) == ([], [], [], None)
