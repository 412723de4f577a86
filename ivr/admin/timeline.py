"""When a route can change: at the transition dates of the rules (once) and at the seats' opening and closing times
(every week). Between two of those moments every call to a number gets the same plan, so routing one moment of
each piece covers every route a caller can get, and the pieces name the conditions in words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from ivr.rules.model import DAYS, OpeningHours, Rules

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Period:
    """From `start` (included) until `end` (excluded); None is the open past or future."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or self.start <= moment) and (self.end is None or moment < self.end)

    def describe(self, zone: ZoneInfo) -> str:
        """Empty for all time, so a route that never changes reads without a date."""
        start = f"{self.start.astimezone(zone):%Y-%m-%d %H:%M}" if self.start else ""
        end = f"{self.end.astimezone(zone):%Y-%m-%d %H:%M}" if self.end else ""
        if start and end:
            return f"from {start} until {end}"
        if start:
            return f"from {start}"
        if end:
            return f"until {end}"
        return ""


@dataclass(frozen=True, order=True)
class Slot:
    """Part of one day of the week (0 = Monday), in minutes from midnight, the end excluded."""

    day: int
    start: int
    end: int

    def contains(self, moment: datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        return moment.weekday() == self.day and self.start <= minute < self.end


@dataclass(frozen=True)
class Condition:
    """When something holds: a period, and within it some hours of the week (None: at every hour)."""

    period: Period
    hours: frozenset[Slot] | None = None

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone)
        return self.period.contains(moment) and (self.hours is None or any(s.contains(local) for s in self.hours))

    def describe(self, zone: ZoneInfo, week: frozenset[Slot] = frozenset()) -> str:
        """`week`: every slot sampled in the period; when given, hours may read as `outside` the rest, which is
        how seat hours are usually meant."""
        hours = ""
        if self.hours is not None:
            hours = describe_hours(self.hours)
            rest = week - self.hours
            if rest and len(describe_hours(rest)) + len("outside ") < len(hours):
                hours = f"outside {describe_hours(rest)}"
        parts = [self.period.describe(zone), hours]
        return ", ".join(part for part in parts if part) or "at all times"


@dataclass(frozen=True)
class Sample:
    """One moment standing for a slot of the week within a period (`period` indexes the list of periods)."""

    period: int
    slot: Slot
    at: datetime


def periods(rules: Iterable[Rules]) -> tuple[Period, ...]:
    """The pieces of time cut by every transition date of the given rule sets, in order."""
    instants = sorted(
        {
            moment
            for ruleset in rules
            for line in ruleset.lines.values()
            if line.transition is not None
            for moment in (line.transition.starts, line.transition.ends)
        }
    )
    bounds: list[datetime | None] = [None, *instants, None]
    return tuple(Period(start, end) for start, end in pairwise(bounds))


def week_slots(rules: Iterable[Rules]) -> tuple[Slot, ...]:
    """The slots of the week cut at midnight and at every opening and closing time of any seat."""
    cuts: dict[int, set[int]] = {day: {0, MINUTES_PER_DAY} for day in range(7)}
    for ruleset in rules:
        for seat in ruleset.seats.values():
            for span in seat.hours.spans:
                for day in span.days:
                    cuts[day].update((_minute(span.opens), _minute(span.closes)))
    slots = []
    for day in range(7):
        points = sorted(cuts[day])
        slots.extend(Slot(day, start, end) for start, end in pairwise(points))
    return tuple(slots)


def samples(spans: Sequence[Period], slots: Sequence[Slot], zone: ZoneInfo, anchor: datetime) -> list[Sample]:
    """A moment for each slot of the week in each period: in the week of `anchor` for the period holding it, else
    in the period's first week (its last for the open past). A period shorter than a week has only its slots."""
    found: list[Sample] = []
    for index, period in enumerate(spans):
        if period.contains(anchor):
            reference = anchor
        elif period.start is not None:
            reference = period.start
        else:
            assert period.end is not None, "only one period is open at both ends, and it holds every anchor"
            reference = period.end - timedelta(days=7)
        local = reference.astimezone(zone)
        monday = local.date() - timedelta(days=local.weekday())
        for slot in slots:
            for week in (0, 1, -1):
                day = monday + timedelta(days=slot.day + 7 * week)
                moment = _at(day, slot.start, zone)
                if period.contains(moment):
                    found.append(Sample(index, slot, moment))
                    break
    return found


def _at(day: date, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)


def conditions(
    chosen: Mapping[int, frozenset[Slot]], available: Mapping[int, frozenset[Slot]], spans: Sequence[Period]
) -> tuple[Condition, ...]:
    """The periods (by index) and slots where something holds, as few conditions as say it: neighbouring periods
    with the same hours merge, and hours that are all the period has are left out."""
    merged: list[tuple[int, int, frozenset[Slot] | None]] = []
    for index in sorted(chosen):
        hours: frozenset[Slot] | None = chosen[index] if chosen[index] != available[index] else None
        if merged and merged[-1][1] == index - 1 and merged[-1][2] == hours:
            merged[-1] = (merged[-1][0], index, hours)
        else:
            merged.append((index, index, hours))
    return tuple(Condition(Period(spans[first].start, spans[last].end), hours) for first, last, hours in merged)


def describe_hours(slots: frozenset[Slot]) -> str:
    """Slots of the week as an admin writes opening hours: `mon-fri 12:00-17:00; sat-sun all day`."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    for slot in sorted(slots):
        ranges = by_day.setdefault(slot.day, [])
        if ranges and ranges[-1][1] == slot.start:
            ranges[-1] = (ranges[-1][0], slot.end)
        else:
            ranges.append((slot.start, slot.end))
    groups: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
    for day in sorted(by_day):
        ranges = tuple(by_day[day])
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == ranges:
            groups[-1] = (groups[-1][0], day, ranges)
        else:
            groups.append((day, day, ranges))
    parts = []
    for first, last, ranges in groups:
        days = DAYS[first] if first == last else f"{DAYS[first]}-{DAYS[last]}"
        if ranges == ((0, MINUTES_PER_DAY),):
            parts.append(f"{days} all day")
        else:
            parts.append(f"{days} " + ", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in ranges))
    return "; ".join(parts)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def describe_opening(hours: OpeningHours) -> str:
    """A seat's opening hours as `describe_hours` writes them (mon-fri 08:30-17:30), or 7x24."""
    if hours.always:
        return "7x24"
    slots = frozenset(Slot(day, _minute(span.opens), _minute(span.closes)) for span in hours.spans for day in span.days)
    return describe_hours(slots)


def _minute(clock: time | None) -> int:
    """Minutes from midnight; None is a closing time of midnight at the end of the day."""
    return MINUTES_PER_DAY if clock is None else clock.hour * 60 + clock.minute
