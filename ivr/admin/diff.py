"""`ivr diff`: what a change of the rules file does to callers, number by number, before it goes live.

Every number either file knows is routed under both files at one moment of every piece of time in which its plan
cannot change (see timeline): so a seat's new hours, a moved transition date or a renamed queue show up with the
hours and dates they apply to, and nothing else does.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ivr.admin.timeline import Condition, Slot, conditions, describe_hours, periods, samples, week_slots
from ivr.admin.words import Path, caller_path, first_person, generic, heard_path, label, role, route_line
from ivr.router.decide import CallFacts, route
from ivr.router.plan import EmergencyNumberRefused, Step
from ivr.rules.model import Line, Rules

NO_CHANGE = "no change for callers"


@dataclass(frozen=True)
class Outcome:
    """What a caller gets: the steps heard, or the emergency context when the number is an emergency number."""

    path: Path
    emergency: str | None = None

    def key(self) -> tuple[Any, ...]:
        return (heard_path(self.path), self.emergency)

    def describe(self, number: str | None = None) -> str:
        """With `number`, that line's own number reads NNNNN, as in a block of several lines."""
        if self.emergency is not None:
            return f"never routed: an emergency number, sent to context {self.emergency}"
        text = route_line(self.path)
        return text if number is None else generic(text, number)


@dataclass(frozen=True)
class RouteChange:
    """One number gets `new` instead of `old` whenever one of `when` holds. A line of None: the number is not a
    line in that file (routed as an unknown number to 12345, or an emergency number)."""

    number: str
    old_line: Line | None
    new_line: Line | None
    when: tuple[Condition, ...]
    old: Outcome
    new: Outcome
    summary: str
    holds_at: bool


@dataclass(frozen=True)
class TagChange:
    """How agents and tickets see a number (mode, department, data link), which no caller hears."""

    number: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class RulesDiff:
    at: datetime
    zone: ZoneInfo
    routes: tuple[RouteChange, ...]
    tags: tuple[TagChange, ...]
    emergency: str | None
    week: frozenset[Slot]

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(change.number for change in self.routes))

    @property
    def numbers_at(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(change.number for change in self.routes if change.holds_at))


def diff_rules(old: Rules, new: Rules, at: datetime) -> RulesDiff:
    """Every change for callers between two valid rule sets, and what agents see differently; `at` is the moment
    the admin asks about (changes that hold then are marked), and picks the week sampled in its period."""
    zone = new.timezone
    spans = periods((old, new))
    week = week_slots((old, new))
    sampled = samples(spans, week, zone, at)
    available: dict[int, frozenset[Slot]] = {}
    for sample in sampled:
        available[sample.period] = available.get(sample.period, frozenset()) | {sample.slot}
    routes: list[RouteChange] = []
    tags: list[TagChange] = []
    for number in _numbers(old, new):
        seen: dict[tuple[Any, ...], tuple[Outcome, Outcome, dict[int, frozenset[Slot]]]] = {}
        for sample in sampled:
            before, after = _outcome(number, sample.at, old), _outcome(number, sample.at, new)
            if before.key() == after.key():
                continue
            _, _, chosen = seen.setdefault((before.key(), after.key()), (before, after, {}))
            chosen[sample.period] = chosen.get(sample.period, frozenset()) | {sample.slot}
        for before, after, chosen in seen.values():
            when = conditions(chosen, available, spans)
            routes.append(
                RouteChange(
                    number=number,
                    old_line=old.line_for(number),
                    new_line=new.line_for(number),
                    when=when,
                    old=before,
                    new=after,
                    summary=summarize(before, after, old, new),
                    holds_at=any(condition.contains(at, zone) for condition in when),
                )
            )
        tag = _tags(number, old, new)
        if tag is not None:
            tags.append(tag)
    emergency = None
    if old.emergency.context != new.emergency.context:
        emergency = (
            f"{' '.join(new.emergency.numbers)} (emergency numbers, never routed): the dialplan sends them to "
            f"context {old.emergency.context} → {new.emergency.context}"
        )
    return RulesDiff(at, zone, tuple(routes), tuple(tags), emergency, frozenset(week))


def _numbers(old: Rules, new: Rules) -> list[str]:
    """The new file's lines and aliases in its order, then what only the old file has."""
    known = [*new.lines, *new.by_alias, *old.lines, *old.by_alias]
    return list(dict.fromkeys(known))


def _outcome(number: str, at: datetime, rules: Rules) -> Outcome:
    try:
        plan = route(CallFacts(dialed=number, at=at), rules)
    except EmergencyNumberRefused:
        return Outcome((), rules.emergency.context)
    return Outcome(caller_path(plan))


def _tags(number: str, old: Rules, new: Rules) -> TagChange | None:
    before, after = old.line_for(number), new.line_for(number)
    if before is None or after is None:
        return None
    changes = []
    if before.number != after.number:
        changes.append(f"line {before.number} → {after.number}")
    if before.mode is not after.mode:
        changes.append(f"mode {before.mode.value} → {after.mode.value}")
    if before.department.id != after.department.id:
        changes.append(f"department {before.department.id} → {after.department.id}")
    old_link = before.data_link.id if before.data_link else "none"
    new_link = after.data_link.id if after.data_link else "none"
    if old_link != new_link:
        changes.append(f"tickets to data link {old_link} → {new_link}")
    return TagChange(number, tuple(changes)) if changes else None


def summarize(old: Outcome, new: Outcome, old_rules: Rules, new_rules: Rules) -> str:
    """The change in a few words: who answers first, if that changed; otherwise which steps differ."""
    if old.emergency is not None or new.emergency is not None:
        return f"{_first(old, old_rules)} → {_first(new, new_rules)}"
    first_old, first_new = role(first_person(old.path), old_rules), role(first_person(new.path), new_rules)
    if first_old != first_new:
        return f"{first_old} → {first_new}"
    parts = []
    matcher = difflib.SequenceMatcher(a=heard_path(old.path), b=heard_path(new.path), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        was, now = old.path[i1:i2], new.path[j1:j2]
        if op == "delete":
            parts.append("drops " + ", ".join(label(step) for step in was))
        elif op == "insert":
            parts.append("adds " + ", ".join(label(step) for step in now))
        elif op == "replace":
            if len(was) == len(now) and all(label(a) == label(b) for a, b in zip(was, now, strict=True)):
                parts.extend(_detail(a, b) for a, b in zip(was, now, strict=True))
            else:
                parts.append(", ".join(label(s) for s in was) + " → " + ", ".join(label(s) for s in now))
    return "; ".join(parts)


def _first(outcome: Outcome, rules: Rules) -> str:
    if outcome.emergency is not None:
        return f"never routed (emergency context {outcome.emergency})"
    return role(first_person(outcome.path), rules)


def _detail(old: Step, new: Step) -> str:
    """A step that kept its name but not what the caller gets from it: the fields that changed."""
    before, after = asdict(old), asdict(new)
    changed = [f"{name} {before[name]} → {after[name]}" for name in before if before[name] != after.get(name)]
    return f"{label(old)}: {', '.join(changed)}"


def render(diff: RulesDiff, moment: str) -> list[str]:
    """The diff as text: one block per change, numbers whose change reads the same (their own number aside)
    together, then the tags, then the summary. `moment` names --at in the marks (`now`, or the time given)."""
    out: list[str] = []
    for numbers, first, block in _blocks(diff):
        when = "; ".join(_when(condition, diff, moment) for condition in first.when)
        out.append(f"{_who(numbers, first)}, {when}:")
        out.extend(f"  {text}" for text in block)
        out.append("")
    if diff.emergency is not None:
        out.append(diff.emergency)
    for tag in diff.tags:
        out.append(f"{tag.number} (for agents and tickets, not heard by callers): {'; '.join(tag.changes)}")
    if diff.emergency is not None or diff.tags:
        out.append("")
    out.append(summary_line(diff, moment))
    return out


def _blocks(diff: RulesDiff) -> list[tuple[list[str], RouteChange, tuple[str, ...]]]:
    grouped: dict[tuple[Any, ...], tuple[list[str], RouteChange]] = {}
    for change in diff.routes:
        when = tuple(_when(condition, diff, "") for condition in change.when)
        line = change.new_line or change.old_line
        number = change.number
        key = (
            when,
            line.mode if line else None,
            generic(change.summary, number),
            change.old.describe(number),
            change.new.describe(number),
        )
        numbers, _ = grouped.setdefault(key, ([], change))
        numbers.append(change.number)
    blocks = []
    for key, (numbers, first) in grouped.items():
        if len(numbers) == 1:
            text = (first.summary, f"old: {first.old.describe()}", f"new: {first.new.describe()}")
        else:
            text = (key[2], f"old: {key[3]}", f"new: {key[4]}")
        blocks.append((numbers, first, text))
    return blocks


def _who(numbers: Sequence[str], change: RouteChange) -> str:
    line = change.new_line or change.old_line
    if len(numbers) > 1:
        kind = f"{line.mode.value} lines" if line is not None else "numbers"
        return f"{' '.join(numbers)} ({len(numbers)} {kind})"
    if change.new_line is None and change.old_line is not None:
        return f"{numbers[0]} (no longer a line: was {change.old_line.mode.value}, {change.old_line.department.id})"
    if change.old_line is None and change.new_line is not None:
        return f"{numbers[0]} (new: {change.new_line.mode.value}, {change.new_line.department.id})"
    assert change.old_line is not None and change.new_line is not None, "a number compared is a line in a file"
    mode = change.new_line.mode.value
    if change.old_line.mode is not change.new_line.mode:
        mode = f"{change.old_line.mode.value} → {mode}"
    return f"{numbers[0]} ({mode}, {change.new_line.department.id})"


def _when(condition: Condition, diff: RulesDiff, moment: str) -> str:
    text = condition.describe(diff.zone, diff.week)
    if condition.period.end is not None and condition.period.end <= diff.at:
        return f"{text} (past)"
    if moment and condition.contains(diff.at, diff.zone):
        return f"{text} ← {moment}"
    return text


def summary_line(diff: RulesDiff, moment: str) -> str:
    numbers = diff.numbers
    if not numbers and diff.emergency is None:
        text = NO_CHANGE
    elif not numbers:
        text = "no routed number changes for callers"
    else:
        count = "1 number changes" if len(numbers) == 1 else f"{len(numbers)} numbers change"
        when = moment if moment == "now" else f"at {moment}"
        text = f"{count} for callers, {len(diff.numbers_at) or 'none'} of them {when}"
    if diff.emergency is not None:
        text += "; the emergency numbers go to another dialplan context"
    if diff.tags:
        count = f"{len(diff.tags)} number{'s' if len(diff.tags) != 1 else ''}"
        text += f"; {count} tagged differently for agents and tickets"
    return text


def as_json(diff: RulesDiff) -> dict[str, Any]:
    """Per number and without grouping, for scripts; steps as the router's JSON has them (`kind` and fields)."""
    return {
        "at": diff.at.astimezone(diff.zone).isoformat(),
        "timezone": diff.zone.key,
        "changes": [
            {
                "number": change.number,
                "old_mode": change.old_line.mode.value if change.old_line else None,
                "new_mode": change.new_line.mode.value if change.new_line else None,
                "when": [_condition_json(condition, diff.zone, diff.week) for condition in change.when],
                "holds_at": change.holds_at,
                "summary": change.summary,
                "old": _outcome_json(change.old),
                "new": _outcome_json(change.new),
            }
            for change in diff.routes
        ],
        "tags": [{"number": tag.number, "changes": list(tag.changes)} for tag in diff.tags],
        "emergency": diff.emergency,
        "numbers_changed": list(diff.numbers),
        "numbers_changed_at": list(diff.numbers_at),
        "summary": summary_line(diff, f"{diff.at.astimezone(diff.zone):%Y-%m-%d %H:%M}"),
    }


def _condition_json(condition: Condition, zone: ZoneInfo, week: frozenset[Slot]) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.astimezone(zone).isoformat() if moment else None

    return {
        "from": iso(condition.period.start),
        "until": iso(condition.period.end),
        "hours": describe_hours(condition.hours) if condition.hours is not None else None,
        "text": condition.describe(zone, week),
    }


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    if outcome.emergency is not None:
        return {"emergency_context": outcome.emergency, "steps": []}
    return {"steps": [asdict(step) for step in outcome.path], "route": route_line(outcome.path)}
