"""What the wallboard shows at one moment, as the JSON the page draws. Pure: the boards, today's stubs, the day and
`now` are given, so every figure on the wall is a table test.

The live part (who waits, which agents are free) and the warning come from `ivr.ami.view.centre_view`, today's
figures from `ivr.tickets.figures`, the same code `ivr queues` runs: the wall and the terminal never disagree.
The JSON is language-neutral (codes, numbers, names in both languages); the page words it in Mandarin or English.
Caller numbers are masked here, before anything leaves the process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ivr.ami.view import STALE_SECONDS, centre_view
from ivr.rules.model import Mode, Rules
from ivr.tickets.figures import day_figures
from ivr.tickets.stub import Stub

MODES = (Mode.ABSORBED.value, Mode.DUAL_TRANSFER.value, Mode.DUAL_MERGED.value, Mode.MAIN.value)
NEWEST = 8  # stubs listed: what fits under the tables on a wall screen
STAFF_STATES = ("free", "busy", "paused", "unavailable")


@dataclass(frozen=True)
class Names:
    """Display names and the zone from the rules, so the model needs no Rules object (and tests need no file).
    Queues are keyed by their Asterisk name, as boards and stubs name them."""

    zone: ZoneInfo
    queues: Mapping[str, tuple[str, str]]
    lines: Mapping[str, tuple[str, str]]

    @classmethod
    def of(cls, rules: Rules) -> Names:
        return cls(
            zone=rules.timezone,
            queues={q.queue: (q.name_zh, q.name_en) for q in rules.queues.values()},
            lines={n: (line.name_zh, line.name_en) for n, line in rules.lines.items()},
        )


def today(now: float, zone: ZoneInfo) -> date:
    """The day the wall counts, in the rules' zone: the machine's own zone never matters."""
    return datetime.fromtimestamp(now, zone).date()


def wallboard(
    boards: Mapping[str, dict[str, Any]], stubs: Sequence[Stub], now: float, names: Names, newest: int = NEWEST
) -> dict[str, Any]:
    """The page's state. `stubs` are today's, completed by the store (oldest first), as `day_query` finds them."""
    day = today(now, names.zone)
    view = centre_view(dict(boards), day_figures(day, stubs), now)
    return {
        "now": now,
        "day": day.isoformat(),
        "clock": f"{datetime.fromtimestamp(now, names.zone):%H:%M:%S}",
        "alert": _alert(view),
        "monitors": view["monitors"],
        "queues": [_queue(q, names) for q in view["queues"]],
        "lines": sorted((_line(f, names) for f in view["lines"]), key=lambda f: (-f["calls"], f["line"])),
        "total": view["total"],
        "hours": calls_per_hour(stubs, names.zone),
        "hour_now": datetime.fromtimestamp(now, names.zone).hour,
        "stubs": [_stub(s) for s in reversed(stubs[-newest:])] if newest else [],
    }


def unreadable(reason: str, now: float, zone: ZoneInfo) -> dict[str, Any]:
    """The page's state when the store cannot be read: only the warning, since no figure can be trusted."""
    return {
        "now": now,
        "day": today(now, zone).isoformat(),
        "clock": f"{datetime.fromtimestamp(now, zone):%H:%M:%S}",
        "alert": {"kind": "store", "age": None, "why": reason, "text": f"ticket store cannot be read: {reason}"},
        "monitors": [],
        "queues": [],
        "lines": [],
        "total": None,
        "hours": {mode: [0] * 24 for mode in MODES},
        "hour_now": datetime.fromtimestamp(now, zone).hour,
        "stubs": [],
    }


def calls_per_hour(stubs: Sequence[Stub], zone: ZoneInfo) -> dict[str, list[int]]:
    """Calls received in each hour of the day per merge mode, for the chart. A stub from before a change of the
    rules may name a mode no longer known: it still counts, under its own name."""
    hours: dict[str, list[int]] = {mode: [0] * 24 for mode in MODES}
    for stub in stubs:
        hours.setdefault(stub.mode or "unknown", [0] * 24)[stub.received.astimezone(zone).hour] += 1
    return hours


def _alert(view: dict[str, Any]) -> dict[str, Any]:
    """Why the live part must not be trusted, as a kind the page words in either language. Whether to warn at
    all is centre_view's decision (the same as `ivr queues`); this only says which case it is."""
    text = view["warning"]
    monitors = view["monitors"]
    if not text:
        return {"kind": "", "age": None, "why": "", "text": ""}
    if not monitors:
        return {"kind": "no-monitor", "age": None, "why": "", "text": text}
    newest = monitors[-1]
    if newest["age"] > STALE_SECONDS:
        return {"kind": "stale", "age": newest["age"], "why": "", "text": text}
    return {"kind": "link-down", "age": newest["age"], "why": newest["why"], "text": text}


def _queue(q: dict[str, Any], names: Names) -> dict[str, Any]:
    zh, en = names.queues.get(q["queue"], (q["queue"], q["queue"]))
    figures = q["today"]
    return {
        "queue": q["queue"],
        "name_zh": zh,
        "name_en": en,
        "live": q["live"],
        "waiting": len(q["waiting"]),
        "longest_wait": q["longest_wait"],
        "staff": {state: q["staff"].get(state, 0) for state in STAFF_STATES},
        **{key: figures[key] for key in ("offered", "answered", "abandoned", "average_wait")},
        "service_level": figures["service_level"],
        "connection_rate": figures["connection_rate"],
    }


def _line(f: dict[str, Any], names: Names) -> dict[str, Any]:
    zh, en = names.lines.get(f["line"], (f["line"], f["line"]))
    return {
        "line": f["line"],
        "name_zh": zh,
        "name_en": en,
        "calls": f["offered"],
        "answered": f["answered"],
        "abandoned": f["abandoned"],
        "connection_rate": f["connection_rate"],
    }


def _stub(stub: Stub) -> dict[str, Any]:
    shown = stub.masked()
    return {
        "id": shown.id,
        "time": f"{shown.received:%H:%M:%S}",
        "line": shown.line,
        "mode": shown.mode,
        "caller": shown.caller or "-",
        "outcome": shown.outcome.value,
        "queue": shown.queue,
        "queue_wait": shown.queue_wait,
        "answered_by": shown.answered_by,
    }
