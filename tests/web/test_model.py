"""The page's state from boards, the stubs read and `now`, by table: no store, no clock, no browser."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

import pytest

from ivr.router.decide import Presentation
from ivr.tickets.callbacks import callback_list
from ivr.tickets.outbox import LinkCounts
from ivr.tickets.stub import RouteStep, StubOutcome
from ivr.web.model import MODES, Names, callbacks, calls_per_hour, ratings, stubs_query, unreadable, wallboard
from ivr.web.view import STALE_SECONDS
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
        rating="",  # asked only where a test says so
        rating_reason="",
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


def rated(n, rating, *, line="12345", agent="PJSIP/agent1", minutes=0):
    return replace(stub(n, line=line, minutes=minutes), rating=rating, answered_by=agent)


NOBODY_RATED = ("PJSIP/agent1", 2, 0, 0, 0, 2, None)  # asked twice, rated never: no satisfaction to give


def rows(found):
    return [(r["key"], r["asked"], r["satisfied"], r["basically_satisfied"], r["dissatisfied"], r["not_rated"],
             r["satisfaction"]) for r in found]  # fmt: skip


@pytest.mark.parametrize(
    ("stubs", "lines", "agents"),
    [
        ([], [], []),
        ([stub(1)], [], []),  # never asked (rating off, a department seat): not in the ratings at all
        (
            [
                rated(1, "satisfied"),
                rated(2, "basically-satisfied"),
                rated(3, "dissatisfied", line="12396", agent="PJSIP/agent2"),
                rated(4, "not-rated", agent="PJSIP/agent2"),
                stub(5),
            ],
            [("12345", 3, 1, 1, 0, 1, 1.0), ("12396", 1, 0, 0, 1, 0, 0.0)],
            [("PJSIP/agent1", 2, 1, 1, 0, 0, 1.0), ("PJSIP/agent2", 2, 0, 0, 1, 1, 0.0)],
        ),
        ([rated(1, "not-rated"), rated(2, "not-rated")], [("12345", 2, 0, 0, 0, 2, None)], [NOBODY_RATED]),
        ([rated(1, "satisfied", agent="")], [("12345", 1, 1, 0, 0, 0, 1.0)], [("-", 1, 1, 0, 0, 0, 1.0)]),
        ([rated(1, "dissatisfied", minutes=-11 * 60)], [], []),  # yesterday's: read for the call-backs, not counted
    ],
)
def test_ratings_per_line_and_per_agent_most_asked_first(stubs, lines, agents):
    found = wallboard({}, stubs, T, NAMES)["ratings"]
    assert (rows(found["lines"]), rows(found["agents"]), found["more_agents"]) == (lines, agents, 0)
    assert all(r["name_zh"] == RULES.lines[r["key"]].name_zh for r in found["lines"])


def test_a_wall_lists_the_most_asked_agents_and_counts_the_rest():
    stubs = [rated(n, "satisfied", agent=f"PJSIP/agent{n % 3}") for n in range(1, 7)] + [rated(9, "satisfied")]
    found = ratings(stubs, NAMES, agents=2)
    assert [(r["key"], r["asked"]) for r in found["agents"]] == [("PJSIP/agent1", 3), ("PJSIP/agent0", 2)]
    assert found["more_agents"] == 1


GAVE_UP = RouteStep(NOW, "ami:abandoned", "hotline-12345 at position 1 after 40 s")
PROMPT_HANGUP = RouteStep(NOW, "ami:hangup", "Normal Clearing")


def gave_up(n, minutes, caller, *steps, outcome=StubOutcome.ABANDONED, **changes):
    return replace(stub(n, minutes=minutes, outcome=outcome, wait=40), caller=caller, route=steps, **changes)


def test_the_callback_panel_counts_every_state_and_lists_the_open_ones_oldest_first_masked():
    stubs = [
        gave_up(1, -12 * 60, "13800138000", GAVE_UP),  # last night: still due this morning
        gave_up(2, -40, "13812345678", GAVE_UP, presentation=Presentation.WITHHELD),
        gave_up(3, -30, "13700137000", RouteStep(NOW - timedelta(minutes=10), "ami:callback", "NOANSWER"), GAVE_UP),
        gave_up(4, -20, "13600136000", GAVE_UP, RouteStep(NOW, "ami:callback-done", "called by agent 7")),
        gave_up(5, -15, "13500135000"),  # the engine says abandoned, Asterisk never did: a forged session
        gave_up(6, -10, "", PROMPT_HANGUP, outcome=StubOutcome.HUNG_UP_IN_PROMPT, queue="", queue_wait=None),
        gave_up(7, -9, "13400134000", GAVE_UP),
        replace(stub(8, minutes=-5), caller="13400134000"),  # called again and reached an agent
    ]
    panel = wallboard({}, stubs, T, NAMES)["callbacks"]
    assert panel["counts"] == {"due": 1, "waiting": 1, "done": 1, "reached-agent": 1, "duplicate": 0,
                               "not-diallable": 2, "gave-up": 0}  # fmt: skip
    shown = [(c["id"][-2:], c["received"], c["caller"], c["gave_up"], c["queue"], c["queue_wait"], c["attempts"],
              c["state"], c["next_at"]) for c in panel["open"]]  # fmt: skip
    assert shown == [
        ("01", "11-25 22:00", "138****8000", "abandoned", "hotline-12345", 40, 0, "due", None),
        ("02", "09:20", "withheld", "abandoned", "hotline-12345", 40, 0, "not-diallable", None),
        ("03", "09:30", "137****7000", "abandoned", "hotline-12345", 40, 1, "waiting", "10:20"),
        ("06", "09:50", "unknown", "hung-up-in-prompt", "", None, 0, "not-diallable", None),
    ]
    assert panel["more"] == 0
    state = json.dumps(wallboard({}, stubs, T, NAMES))
    assert not [s.caller for s in stubs if s.caller and s.caller in state], "no caller in clear"


def test_at_most_so_many_open_callbacks_the_oldest_and_the_rest_counted():
    stubs = [gave_up(n, n - 60, f"1390000{n:04d}", GAVE_UP) for n in range(1, 6)]
    panel = callbacks(callback_list(stubs, RULES.callbacks, RULES.numbering, NOW), NOW.date(), rows=3)
    assert [c["id"][-2:] for c in panel["open"]] == ["01", "02", "03"]
    assert (panel["counts"]["due"], panel["more"]) == (5, 2)


def test_one_read_covers_today_and_the_callback_window():
    assert stubs_query(T, NAMES).since == NOW - timedelta(hours=RULES.callbacks.window_hours, days=1)
    assert stubs_query(T, NAMES).until is None
    assert unreadable("x", T, ZONE)["callbacks"] is None, "no list the store could not give"


def test_a_failing_data_link_is_on_the_wall_and_a_healthy_one_is_not():
    names = replace(NAMES, links={"12348-system": ("12348公共法律服务系统", "12348 public legal service system")})
    healthy = {"12348-system": LinkCounts(pending=3, failed=0, oldest_pending=T - 2)}
    assert wallboard({}, [], T, names, deliveries=healthy)["failing_links"] == []
    for counts in (LinkCounts(0, 1, None), LinkCounts(5, 0, T - 120)):
        (shown,) = wallboard({}, [], T, names, deliveries={"12348-system": counts})["failing_links"]
        assert shown["name_zh"] == "12348公共法律服务系统"
        assert (shown["failed"], shown["pending"], shown["oldest_age"]) == (
            counts.failed, counts.pending, 0 if counts.oldest_pending is None else 120,
        )  # fmt: skip
