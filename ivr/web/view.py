"""The centre at one moment, as `ivr queues` and the wallboard show it: the monitors' live boards (from the store)
joined with today's figures (from the stubs). Pure: the boards, the figures and `now` are given.

Several monitors may write boards (two for one Asterisk, for redundancy; one per Asterisk): each queue is shown
from the freshest board that has it. The view says when it must not be trusted: no monitor, every link down, or
no board written for STALE_SECONDS (the monitor stopped).
"""

from __future__ import annotations

from typing import Any

from ivr.tickets.figures import DayFigures, Figures

STALE_SECONDS = 5.0


def centre_view(boards: dict[str, dict[str, Any]], figures: DayFigures, now: float) -> dict[str, Any]:
    fresh = sorted(boards.values(), key=lambda b: b["updated"])
    live: dict[str, dict[str, Any]] = {}
    for board in fresh:
        for queue, state in board["queues"].items():
            live[queue] = state
    names = sorted(set(live) | set(figures.queues))
    return {
        "now": now,
        "day": figures.day.isoformat(),
        "warning": _warning(fresh, now),
        "monitors": [
            {
                "name": b["monitor"],
                "up": b["link"]["up"],
                "why": b["link"]["why"],
                "since": b["link"]["since"],
                "age": now - b["updated"],
            }
            for b in fresh
        ],
        "queues": [_queue(name, live.get(name), figures.queues.get(name, Figures()), now) for name in names],
        "lines": [{"line": number, **f.as_json()} for number, f in figures.lines.items()],
        "total": figures.total.as_json(),
    }


def _queue(name: str, state: dict[str, Any] | None, today: Figures, now: float) -> dict[str, Any]:
    waiting = state["waiting"] if state else []
    return {
        "queue": name,
        "live": state is not None,
        "waiting": [{**c, "wait": now - c["since"]} for c in waiting],
        "longest_wait": max((now - c["since"] for c in waiting), default=0.0),
        "staff": state["staff"] if state else {},
        "members": state["members"] if state else [],
        "today": today.as_json(),
    }


def _warning(boards: list[dict[str, Any]], now: float) -> str:
    """Empty when the live part can be trusted; else why not, in words a lead acts on."""
    if not boards:
        return "no monitor has written a queue board: is `ivr monitor` running?"
    newest = boards[-1]
    age = now - newest["updated"]
    if age > STALE_SECONDS:
        return f"queue board not updated for {age:.0f} s: is `ivr monitor` running?"
    if not any(b["link"]["up"] for b in boards if now - b["updated"] <= STALE_SECONDS):
        return f"AMI link down: {newest['link']['why']}"
    return ""
