"""The deadlines a ticket gets from the moment it was received (plan 三(四) 即时转办签收, 三(五) 限时答复办结).

How they are counted, in the rules' time zone whatever the machine's:
- dispatch (派单): received in working hours on a working day, by the close of that day; otherwise by
  `dispatch_by` (10:00) of the next working day (the same day when received before opening on a working day).
  Complaints and reports are dispatched at once (第一时间): the deadline is the moment of receipt.
- sign for (签收) and return (退回): "2小时内" and "24小时内" are clock hours, not working hours, counted from the
  latest permitted dispatch and from the sign-for deadline; the plan counts days elsewhere as 工作日 and says
  so, and 12345 itself works 7x24.
- close (答复办结): N working days after the day of receipt, which is not counted, due at the close of working
  hours of the N-th; extensions add working days the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from ivr.calendar.workdays import WorkingDays, uncovered_warning, weekday
from ivr.rules.model import Category, Rules, TimeLimit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadline:
    """One step's deadline; `step` is dispatch, sign-for, return, close or latest-close."""

    step: str
    due: datetime
    reason: str


@dataclass(frozen=True)
class CaseDeadlines:
    """Every deadline of one ticket. `uncovered_years`: years counted Monday to Friday because no calendar has them."""

    received: datetime
    in_working_hours: bool
    category: Category | None
    extensions: int
    deadlines: tuple[Deadline, ...]
    uncovered_years: tuple[int, ...]


def case_deadlines(
    received: datetime, rules: Rules, category: Category | None = None, extensions: int = 0
) -> CaseDeadlines:
    """The deadlines of a ticket received at `received` (with its zone); ValueError for extensions the category
    does not allow."""
    if received.tzinfo is None:
        raise ValueError("the time of receipt needs its zone, or the machine's own zone would decide")
    limit = _allowed(rules, category, extensions)
    cal = rules.calendar
    days = WorkingDays(cal.overrides)
    local = received.astimezone(rules.timezone)
    today = local.date()
    in_hours = in_working_hours(rules, local, days)

    if limit is not None and limit.dispatch_at_once:
        dispatch = Deadline("dispatch", local, f"{category}: dispatched at once (第一时间)")
    elif in_hours:
        due = _at_close(today, rules)
        dispatch = Deadline("dispatch", due, "received in working hours → by the close of the same working day")
    else:
        early = days.is_working_day(today) and local.time() < cal.opens
        day = today if early else days.next_working_day(today)
        due = datetime.combine(day, cal.dispatch_by, rules.timezone)
        if early:
            reason = f"received before working hours → by {cal.dispatch_by:%H:%M} the same day"
        else:
            reason = f"received outside working hours → by {cal.dispatch_by:%H:%M} of the next working day"
        dispatch = Deadline("dispatch", due, reason + _notes(days, today, day))
    sign_for = Deadline(
        "sign-for",
        _clock_hours(dispatch.due, cal.sign_for_within, rules),
        f"{_hours(cal.sign_for_within)} after the dispatch deadline (clock hours)",
    )
    give_back = Deadline(
        "return",
        _clock_hours(sign_for.due, cal.return_within, rules),
        f"{_hours(cal.return_within)} after the sign-for deadline (clock hours), if the ticket is not the unit's",
    )
    steps = [dispatch, sign_for, give_back]
    if limit is not None and category is not None:
        steps.append(_close("close", category, limit, extensions, today, days, rules))
        if extensions < limit.max_extensions:
            steps.append(_close("latest-close", category, limit, limit.max_extensions, today, days, rules))
    last = max(step.due for step in steps).date()
    uncovered = tuple(year for year in range(today.year, last.year + 1) if not days.covers(year))
    return CaseDeadlines(local, in_hours, category, extensions, tuple(steps), uncovered)


def in_working_hours(rules: Rules, moment: datetime, days: WorkingDays | None = None) -> bool:
    """Within the rules' working hours on a working day of the official calendar (`days`, when the caller has
    them already), in the rules' time zone."""
    local = moment.astimezone(rules.timezone)
    on = (days or WorkingDays(rules.calendar.overrides)).is_working_day(local.date())
    return on and rules.calendar.opens <= local.time() < rules.calendar.closes


def uncovered_years_ahead(rules: Rules, received: datetime) -> tuple[int, ...]:
    """The uncovered years that the longest deadlines of a ticket received then reach: what `ivr check` warns
    about, early enough to add the next year's schedule before the first ticket needs it."""
    years: set[int] = set()
    for category, limit in rules.calendar.time_limits.items():
        years.update(case_deadlines(received, rules, category, limit.max_extensions).uncovered_years)
    return tuple(sorted(years))


class DeadlineClock:
    """Deadlines for the service, which asks on every call: a year counted Monday to Friday is logged once per
    year, not once per ticket."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._warned: set[int] = set()
        self._by_part: dict[tuple[date, bool, bool], CaseDeadlines] = {}

    def for_case(self, received: datetime, category: Category | None = None, extensions: int = 0) -> CaseDeadlines:
        if category is None and not extensions and received.tzinfo is not None:
            return self._uncategorised(received)
        return self._warn(case_deadlines(received, self.rules, category, extensions))

    def _uncategorised(self, received: datetime) -> CaseDeadlines:
        """Every call's opening stub asks this, and the working-day calendar is slow to ask (about 110 µs). Without
        a category the deadlines depend on the time of receipt only through its day and whether it came before
        opening, in working hours or after closing; so they are counted once per day and part of day, and every
        call of the same part gets exactly what counting would give."""
        local = received.astimezone(self.rules.timezone)
        hours = self.rules.calendar
        key = (local.date(), local.time() < hours.opens, local.time() < hours.closes)
        known = self._by_part.get(key)
        if known is None:
            known = self._by_part[key] = self._warn(case_deadlines(received, self.rules))
        return replace(known, received=received)

    def _warn(self, deadlines: CaseDeadlines) -> CaseDeadlines:
        for year in deadlines.uncovered_years:
            if year not in self._warned:
                self._warned.add(year)
                log.warning("%s", uncovered_warning(year))
        return deadlines


def clock_for(rules: Rules, clock: DeadlineClock | None) -> DeadlineClock:
    """`clock` while it counts for these rules; a new one after a reload (new calendar, its warnings due again).
    For the long-running users that keep one clock and are handed the rules in use now."""
    return clock if clock is not None and clock.rules is rules else DeadlineClock(rules)


def _allowed(rules: Rules, category: Category | None, extensions: int) -> TimeLimit | None:
    if category is None:
        if extensions:
            raise ValueError("extensions need a category")
        return None
    limit = rules.calendar.time_limits[category]
    if extensions < 0:
        raise ValueError(f"extensions cannot be negative, not {extensions}")
    if extensions > limit.max_extensions:
        allowed = "no extension" if not limit.max_extensions else f"at most {_extensions(limit.max_extensions)}"
        raise ValueError(f"{category} allows {allowed} ({_extension_text(limit)}), not {extensions}")
    return limit


def _close(
    step: str, category: Category, limit: TimeLimit, extensions: int, received: date, days: WorkingDays, rules: Rules
) -> Deadline:
    count = limit.days + extensions * limit.extension_days
    day = days.add_working_days(received, count)
    reason = f"{category}: {_working_days(limit.days)}"
    if extensions:
        reason += f" + {_extensions(extensions)} of {limit.extension_days} = {count}"
    reason += " after the day of receipt, by the close of working hours" + _notes(days, received, day)
    return Deadline(step, _at_close(day, rules), reason)


def _extension_text(limit: TimeLimit) -> str:
    each = " each" if limit.max_extensions > 1 else ""
    if not limit.max_extensions:
        return f"{_working_days(limit.days)} in all"
    return f"of {_working_days(limit.extension_days)}{each}, at most {limit.max_days} in all"


def _extensions(count: int) -> str:
    return f"{count} extension{'s' if count != 1 else ''}"


def _notes(days: WorkingDays, first: date, last: date) -> str:
    """The holidays and make-up workdays between two days, each run shown whole, and the uncovered years."""
    notes = []
    day = first
    while day <= last:
        label = days.label(day)
        if label is None:
            day += timedelta(days=1)
            continue
        start, end = day, day
        while days.label(start - timedelta(days=1)) == label:
            start -= timedelta(days=1)
        while days.label(end + timedelta(days=1)) == label:
            end += timedelta(days=1)
        notes.append(f"{_span(start, end)} {label}")
        day = end + timedelta(days=1)
    years = range(first.year, last.year + 1)
    notes += [f"{year} not covered: Monday to Friday assumed" for year in years if not days.covers(year)]
    return "".join(f"; {note}" for note in notes)


def _span(start: date, end: date) -> str:
    if start == end:
        return f"{start} ({weekday(start)})"
    if start.year != end.year:
        return f"{start}..{end}"
    return f"{start}..{end:%d}" if start.month == end.month else f"{start}..{end:%m-%d}"


def _at_close(day: date, rules: Rules) -> datetime:
    return datetime.combine(day, rules.calendar.closes, rules.timezone)


def _clock_hours(start: datetime, length: timedelta, rules: Rules) -> datetime:
    """Elapsed hours, so a daylight-saving zone in a rules file would still give real hours."""
    return (start.astimezone(UTC) + length).astimezone(rules.timezone)


def _hours(length: timedelta) -> str:
    return f"{int(length.total_seconds() // 3600)} h"


def _working_days(count: int) -> str:
    return f"{count} working day{'s' if count != 1 else ''}"
