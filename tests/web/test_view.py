"""The centre view: which board counts, and when the live part must not be trusted."""

from __future__ import annotations

from datetime import date

import pytest

from ivr.tickets.figures import day_figures
from ivr.web.view import STALE_SECONDS, centre_view

TODAY = day_figures(date(2026, 11, 28), [])
NOW = 1_000_000.0


def board(name, updated, up=True, why="logged in", waiting=()):
    queue = {"waiting": [{"uniqueid": u, "position": i + 1, "since": s, "line": "12396"} for i, (u, s) in
                         enumerate(waiting)], "longest_wait": 0, "staff": {"free": 1}, "members": []}  # fmt: skip
    return {"monitor": name, "updated": updated, "link": {"up": up, "since": 0, "why": why}, "snapshots": 1,
            "queues": {"hotline-12345": queue}}  # fmt: skip


@pytest.mark.parametrize(
    ("boards", "warning"),
    [
        ({}, "no monitor has written a queue board: is `ivr monitor` running?"),
        ({"m1": board("m1", NOW - 1)}, ""),
        ({"m1": board("m1", NOW - STALE_SECONDS - 7)}, "queue board not updated for 12 s: is `ivr monitor` running?"),
        ({"m1": board("m1", NOW - 1, up=False, why="connection lost")}, "AMI link down: connection lost"),
        ({"m1": board("m1", NOW - 1, up=False, why="x"), "m2": board("m2", NOW - 2)}, ""),  # one link is enough
    ],
)
def test_warnings(boards, warning):
    assert centre_view(boards, TODAY, NOW)["warning"] == warning


def test_each_queue_from_the_freshest_board_and_waits_at_the_readers_moment():
    boards = {"old": board("old", NOW - 3, waiting=[("a", NOW - 100)]), "new": board("new", NOW - 1,
              waiting=[("b", NOW - 30)])}  # fmt: skip
    (queue,) = centre_view(boards, TODAY, NOW)["queues"]
    assert [(c["uniqueid"], c["wait"]) for c in queue["waiting"]] == [("b", 30.0)]
    assert queue["longest_wait"] == 30.0
