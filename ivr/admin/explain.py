"""`ivr explain`: the reverse of `ivr route`. Which numbers end up at a queue or seat, when, and through which
steps: every number is routed at one moment of every piece of time in which its plan cannot change (see timeline),
or at the one moment asked about, and the steps before the queue or seat are the ones that must fail first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ivr.admin.timeline import Condition, Sample, Slot, conditions, describe_opening, periods, samples, week_slots
from ivr.admin.words import THEN, Path, caller_path, generic, label
from ivr.router.decide import CallFacts, route
from ivr.router.plan import DialSeat, QueueCall, Step
from ivr.rules.model import Announcement, Line, Queue, Rules, Seat

# Why the caller goes past a queue or seat that comes before the one explained.
PASSED = {
    "queue": "no agent answers in time, or none is logged in",
    "dial": "busy, unanswered or unreachable",
}


@dataclass(frozen=True)
class Arrival:
    """A number's callers reach the destination through `path` (its last step) whenever one of `when` holds."""

    line: Line
    when: tuple[Condition, ...]
    path: Path


@dataclass(frozen=True)
class Explanation:
    target: str
    arrivals: tuple[Arrival, ...]
    at: datetime | None
    zone: ZoneInfo
    week: frozenset[Slot]
    unknown_numbers: bool


def explain(target: str, rules: Rules, at: datetime | None, anchor: datetime) -> Explanation:
    """Arrivals at queue or seat `target`: at the moment `at`, or over every period of the rules and every hour
    of the week (`anchor`, usually now, picks the week sampled in its period)."""
    zone = rules.timezone
    if at is not None:
        spans = periods(())
        week = week_slots(())
        sampled = [Sample(0, week[at.astimezone(zone).weekday()], at)]
    else:
        spans = periods((rules,))
        week = week_slots((rules,))
        sampled = samples(spans, week, zone, anchor)
    available: dict[int, frozenset[Slot]] = {}
    for sample in sampled:
        available[sample.period] = available.get(sample.period, frozenset()) | {sample.slot}
    arrivals: list[Arrival] = []
    for line in rules.lines.values():
        seen: dict[Path, dict[int, frozenset[Slot]]] = {}
        for sample in sampled:
            path = _path_to(target, caller_path(route(CallFacts(dialed=line.number, at=sample.at), rules)))
            if path is not None:
                chosen = seen.setdefault(path, {})
                chosen[sample.period] = chosen.get(sample.period, frozenset()) | {sample.slot}
        for path, chosen in seen.items():
            when = () if at is not None else conditions(chosen, available, spans)
            arrivals.append(Arrival(line, when, path))
    unknown = any(arrival.line is rules.main for arrival in arrivals)
    return Explanation(target, tuple(arrivals), at, zone, frozenset(week), unknown)


def _path_to(target: str, path: Path) -> Path | None:
    for index, step in enumerate(path):
        if isinstance(step, QueueCall | DialSeat) and step.destination == target:
            return path[: index + 1]
    return None


def describe_target(target: str, rules: Rules) -> str:
    """The queue or seat itself, and where its own callers go when it fails."""
    destination = rules.destination(target)
    after = _fallback(destination.fallback, rules)
    if isinstance(destination, Queue):
        asterisk = f"Asterisk queue {destination.queue}, waits up to {destination.timeout} s"
        return (
            f"queue {target}: {destination.name_en} ({destination.name_zh}); {asterisk}; if {PASSED['queue']}: {after}"
        )
    assert isinstance(destination, Seat), "explain takes only queues and seats"
    prompt = f", after play {destination.prompt}" if destination.prompt else ""
    unavailable = f"play {destination.unavailable_prompt}, then " if destination.unavailable_prompt else ""
    return (
        f"seat {target}: {destination.name_en} ({destination.name_zh}); dials {destination.dial}{prompt}, "
        f"rings up to {destination.ring_timeout} s, open {describe_opening(destination.hours)}; "
        f"if {PASSED['dial']}, closed or down: {unavailable}{after}"
    )


def _fallback(name: str, rules: Rules) -> str:
    destination = rules.destination(name)
    if isinstance(destination, Announcement):
        return f"announcement {name} ({', '.join(destination.prompts)}), then hang up"
    return f"{'queue' if isinstance(destination, Queue) else 'seat'} {name}"


def render(explanation: Explanation, rules: Rules, moment: str) -> list[str]:
    """Numbers whose route here reads the same (their own number aside) share a block. `moment` names the time
    asked about, or is empty for every period and hour."""
    out = [describe_target(explanation.target, rules)]
    blocks = _blocks(explanation)
    numbers = len({arrival.line.number for arrival in explanation.arrivals})
    scope = f"at {moment}" if explanation.at is not None else "in every period of the rules, at every hour"
    if not blocks:
        out.append(f"No number ends up here ({scope}).")
        return out
    ways = f"{len(blocks)} way{'s' if len(blocks) != 1 else ''}"
    who = "1 number ends" if numbers == 1 else f"{numbers} numbers end"
    out.append(f"{who} up here ({scope}), in {ways}:")
    for lines, when, path in blocks:
        out.append("")
        out.append(f"{_who(lines)}{f', {when}' if when else ''}:")
        out.append(f"  {path}")
    if explanation.unknown_numbers:
        out.append("")
        out.append(f"Any other number that reaches the engine is routed as {rules.main.number} (flag unknown-number).")
    return out


def _blocks(explanation: Explanation) -> list[tuple[list[Line], str, str]]:
    grouped: dict[tuple[Any, ...], tuple[list[Line], Arrival]] = {}
    for arrival in explanation.arrivals:
        when = "; ".join(condition.describe(explanation.zone, explanation.week) for condition in arrival.when)
        generic_path = generic(_route(arrival.path), arrival.line.number)
        lines, _ = grouped.setdefault((arrival.line.mode, when, generic_path), ([], arrival))
        lines.append(arrival.line)
    blocks = []
    for (_, when, generic_path), (lines, first) in grouped.items():
        blocks.append((lines, when, _route(first.path) if len(lines) == 1 else generic_path))
    return blocks


def _route(path: Path) -> str:
    """The steps, each queue or seat passed with the reason the caller goes on."""
    *before, last = path
    return THEN.join([*(_passed(step) for step in before), label(last)])


def _passed(step: Step) -> str:
    reason = PASSED.get(step.kind)
    return f"{label(step)} [{reason}]" if reason else label(step)


def _who(lines: list[Line]) -> str:
    if len(lines) == 1:
        line = lines[0]
        aliases = f"; also dialed as {' '.join(line.aliases)}" if line.aliases else ""
        return f"{line.number} ({line.mode.value}, {line.department.id}{aliases})"
    return f"{' '.join(line.number for line in lines)} ({len(lines)} {lines[0].mode.value} lines)"


def as_json(explanation: Explanation) -> dict[str, Any]:
    zone = explanation.zone
    return {
        "target": explanation.target,
        "at": explanation.at.astimezone(zone).isoformat() if explanation.at else None,
        "timezone": zone.key,
        "arrivals": [
            {
                "number": arrival.line.number,
                "mode": arrival.line.mode.value,
                "department": arrival.line.department.id,
                "when": [condition.describe(zone, explanation.week) for condition in arrival.when] or None,
                "steps": [label(step) for step in arrival.path],
            }
            for arrival in explanation.arrivals
        ],
        "unknown_numbers": explanation.unknown_numbers,
    }
