"""What the wallboard shows at one moment, as the JSON the page draws. Pure: the boards, today's stubs, the day and
`now` are given, so every figure on the wall is a table test.

The live part (who waits, which agents are free) and the warning come from `ivr.web.view.centre_view`, today's
figures from `ivr.tickets.figures`, the same code `ivr queues` runs: the wall and the terminal never disagree.
Ratings come from `ratings_by` and the call-back list from `callback_list`, as `ivr tickets ratings` and
`ivr callbacks list` give them. The JSON is language-neutral (codes, numbers, names in both languages); the page
words it in Mandarin or English. Caller numbers are masked here, before anything leaves the process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ivr.rules.model import Callbacks, Mode, Numbering, Rules
from ivr.tickets.callbacks import Callback, State, callback_list
from ivr.tickets.figures import Ratings, day_figures, day_query, ratings_by
from ivr.tickets.outbox import LinkCounts
from ivr.tickets.store import Query
from ivr.tickets.stub import Stub
from ivr.web.view import STALE_SECONDS, centre_view

MODES = (Mode.ABSORBED.value, Mode.DUAL_TRANSFER.value, Mode.DUAL_MERGED.value, Mode.MAIN.value)
NEWEST = 8  # stubs listed: what fits under the tables on a wall screen
STAFF_STATES = ("free", "busy", "paused", "unavailable")
OPEN_CALLBACKS = (State.DUE, State.WAITING, State.NOT_DIALLABLE)  # still someone's to do, as `ivr callbacks list`
CALLBACK_ROWS = 10  # open call-backs listed, oldest first: the rest are counted, not shown
RATED_AGENTS = 12  # agents listed in the ratings, most asked first: a big centre has more than a wall can hold
# A data link is failing when an event was parked, or the oldest pending one has waited this long: a department
# that is up takes an event in well under a second, and the first retries come within a minute.
LINK_BEHIND_SECONDS = 60.0


@dataclass(frozen=True)
class Names:
    """Display names and the zone from the rules, so the model needs no Rules object (and tests need no file).
    Queues are keyed by their Asterisk name, as boards and stubs name them."""

    zone: ZoneInfo
    queues: Mapping[str, tuple[str, str]]
    lines: Mapping[str, tuple[str, str]]
    callbacks: Callbacks  # the call-back list's window, attempts and retry pause decide each entry's state
    numbering: Numbering  # which callers may be dialled at all
    links: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # the data links `ivr deliver` pushes

    @classmethod
    def of(cls, rules: Rules) -> Names:
        return cls(
            zone=rules.timezone,
            queues={q.queue: (q.name_zh, q.name_en) for q in rules.queues.values()},
            lines={n: (line.name_zh, line.name_en) for n, line in rules.lines.items()},
            callbacks=rules.callbacks,
            numbering=rules.numbering,
            links={n: (d.name_zh, d.name_en) for n, d in rules.data_links.items() if d.delivery is not None},
        )


def today(now: float, zone: ZoneInfo) -> date:
    """The day the wall counts, in the rules' zone: the machine's own zone never matters."""
    return datetime.fromtimestamp(now, zone).date()


def stubs_query(now: float, names: Names) -> Query:
    """The one read the wall needs: today's calls, and every call the call-back list may still hold (a caller
    who gave up late yesterday is still due this morning). The same reach as the dialler's, so the wall lists
    what `ivr monitor` would dial."""
    return Query(since=datetime.fromtimestamp(now, names.zone) - timedelta(hours=names.callbacks.window_hours, days=1))


def todays(stubs: Sequence[Stub], now: float, zone: ZoneInfo) -> list[Stub]:
    """The stubs of the day the wall counts, out of a wider read."""
    day = day_query(today(now, zone), zone)
    return [stub for stub in stubs if day.matches(stub)]


def wallboard(
    boards: Mapping[str, dict[str, Any]],
    stubs: Sequence[Stub],
    now: float,
    names: Names,
    newest: int = NEWEST,
    deliveries: Mapping[str, LinkCounts] | None = None,
) -> dict[str, Any]:
    """The page's state. `stubs` are completed by the store (oldest first), as `stubs_query` finds them: today's
    figures count today's only, the call-back list looks further back. `deliveries`: each delivering data link's
    pending and failed events."""
    moment = datetime.fromtimestamp(now, names.zone)
    day = moment.date()
    stubs_of_day = todays(stubs, now, names.zone)
    view = centre_view(dict(boards), day_figures(day, stubs_of_day), now)
    return {
        "now": now,
        "day": day.isoformat(),
        "clock": f"{moment:%H:%M:%S}",
        "alert": _alert(view),
        "monitors": view["monitors"],
        "queues": [_queue(q, names) for q in view["queues"]],
        "lines": sorted((_line(f, names) for f in view["lines"]), key=lambda f: (-f["calls"], f["line"])),
        "total": view["total"],
        "hours": calls_per_hour(stubs_of_day, names.zone),
        "hour_now": moment.hour,
        "stubs": [_stub(s) for s in reversed(stubs_of_day[-newest:])] if newest else [],
        "ratings": ratings(stubs_of_day, names),
        "callbacks": callbacks(callback_list(stubs, names.callbacks, names.numbering, moment), day),
        "failing_links": failing_links(deliveries or {}, now, names),
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
        "ratings": {"lines": [], "agents": [], "more_agents": 0},
        "callbacks": None,
        "failing_links": [],
    }


def failing_links(deliveries: Mapping[str, LinkCounts], now: float, names: Names) -> list[dict[str, Any]]:
    """The data links a lead must hear of: an event parked as failed, or the oldest pending one late."""
    found = []
    for link, counts in sorted(deliveries.items()):
        age = now - counts.oldest_pending if counts.oldest_pending is not None else 0.0
        if counts.failed or age >= LINK_BEHIND_SECONDS:
            found.append(
                {"link": link, **_names(names.links, link), "failed": counts.failed, "pending": counts.pending,
                 "oldest_age": round(age)}
            )  # fmt: skip
    return found


def ratings(stubs: Sequence[Stub], names: Names, agents: int = RATED_AGENTS) -> dict[str, Any]:
    """Today's ratings per original line and per agent, most asked first; `more_agents` were left off."""
    lines = [_rated(line, r) | _names(names.lines, line) for line, r in _most_asked(ratings_by(stubs, "line"))]
    by_agent = [_rated(agent, r) for agent, r in _most_asked(ratings_by(stubs, "answered_by"))]
    return {"lines": lines, "agents": by_agent[:agents], "more_agents": max(0, len(by_agent) - agents)}


def callbacks(entries: Sequence[Callback], day: date, rows: int = CALLBACK_ROWS) -> dict[str, Any]:
    """How many call-backs are in each state, and the open ones, oldest first (as `callback_list` gives them):
    the longest a citizen has waited for a call is the one a lead must see."""
    still_open = [e for e in entries if e.state in OPEN_CALLBACKS]
    return {
        "counts": callback_counts(entries),
        "open": [_callback(e, day) for e in still_open[:rows]],
        "more": max(0, len(still_open) - rows),
    }


def callback_counts(entries: Sequence[Callback]) -> dict[str, int]:
    """Entries per state, every state named (a zero is news too: nobody is waiting for a call)."""
    return {state.value: sum(1 for e in entries if e.state is state) for state in State}


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
    figures = q["today"]
    return {
        "queue": q["queue"],
        **_names(names.queues, q["queue"]),
        "live": q["live"],
        "waiting": len(q["waiting"]),
        "longest_wait": q["longest_wait"],
        "staff": {state: q["staff"].get(state, 0) for state in STAFF_STATES},
        **{key: figures[key] for key in ("offered", "answered", "abandoned", "average_wait")},
        "service_level": figures["service_level"],
        "connection_rate": figures["connection_rate"],
    }


def _line(f: dict[str, Any], names: Names) -> dict[str, Any]:
    return {
        "line": f["line"],
        **_names(names.lines, f["line"]),
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


def _names(known: Mapping[str, tuple[str, str]], key: str) -> dict[str, str]:
    """A name in both languages; one the rules no longer know shows its own key."""
    zh, en = known.get(key, (key, key))
    return {"name_zh": zh, "name_en": en}


def _most_asked(found: Mapping[str, Ratings]) -> list[tuple[str, Ratings]]:
    return sorted(found.items(), key=lambda item: (-item[1].asked, item[0]))


def _rated(key: str, r: Ratings) -> dict[str, Any]:
    return {"key": key, **r.as_json(), "not_rated": r.asked - r.rated}


def _callback(entry: Callback, day: date) -> dict[str, Any]:
    """One open call-back; its caller masked as every stub on the wall (withheld stays "withheld")."""
    stub = entry.stub.masked()
    received = f"{stub.received:%H:%M}" if stub.received.date() == day else f"{stub.received:%m-%d %H:%M}"
    return {
        "id": stub.id,
        "received": received,
        "line": stub.line,
        "caller": stub.caller,
        "gave_up": stub.outcome.value,
        "queue": stub.queue,
        "queue_wait": stub.queue_wait,
        "attempts": len(entry.attempts),
        "state": entry.state.value,
        "next_at": f"{entry.next_at:%H:%M}" if entry.next_at else None,
    }
