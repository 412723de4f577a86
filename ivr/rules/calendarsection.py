"""The rules file's `calendar` section: working hours and ticket time limits (plan 三(四), 三(五)), and the
holidays the file adds to the official calendar. Its own module because nothing else in the file refers to it."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from types import MappingProxyType

from yaml.nodes import Node

from ivr.rules.model import PLAN_TIME_LIMITS, CalendarOverrides, CalendarRules, Category, TimeLimit
from ivr.rules.yamlsource import Reader

CATEGORIES = tuple(category.value for category in Category)


def _time_of_day(raw: str) -> time:
    """HH:MM within the day: unlike a seat's hours, working hours and the dispatch time never end at 24:00."""
    if not re.fullmatch(r"\d\d:\d\d", raw) or raw == "24:00":
        raise ValueError("a time of day before 24:00")
    return time.fromisoformat(raw)


def _date(raw: str) -> date:
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", raw):
        raise ValueError("a date YYYY-MM-DD")
    return date.fromisoformat(raw)


class CalendarSection:
    """Reads the section with the loader's Reader, so its problems come out with the rest of the file's."""

    def __init__(self, reader: Reader) -> None:
        self.r = reader

    def read(self, node: Node) -> CalendarRules | None:
        """Every key may be left out: the plan's value applies, so only a local or legal difference is written."""
        f = self.r.fields(
            node,
            "calendar",
            required=(),
            optional=("working_hours", "dispatch_by", "sign_for_hours", "return_hours", "categories", "overrides"),
        )
        if f is None:
            return None
        plan = CalendarRules()
        opens, closes = self._working_hours(f["working_hours"]) if "working_hours" in f else (plan.opens, plan.closes)
        dispatch_by = plan.dispatch_by
        if "dispatch_by" in f:
            dispatch_by = self.r.parsed(f["dispatch_by"], "calendar.dispatch_by", _time_of_day, "HH:MM")
        sign_for = plan.sign_for_within
        if "sign_for_hours" in f:
            hours = self.r.integer(f["sign_for_hours"], "calendar.sign_for_hours", 1, 72)
            sign_for = None if hours is None else timedelta(hours=hours)
        return_within = plan.return_within
        if "return_hours" in f:
            hours = self.r.integer(f["return_hours"], "calendar.return_hours", 1, 240)
            return_within = None if hours is None else timedelta(hours=hours)
        limits = self._time_limits(f["categories"]) if "categories" in f else plan.time_limits
        overrides = self._overrides(f["overrides"]) if "overrides" in f else plan.overrides
        if opens is None or closes is None or dispatch_by is None:
            return None
        if not opens <= dispatch_by <= closes:
            self.r.problems.add(
                f.get("dispatch_by", f.get("working_hours")),
                f"calendar.dispatch_by {dispatch_by:%H:%M} must fall within working hours "
                f"({opens:%H:%M}-{closes:%H:%M}), since it is a time of the working day",
            )
            return None
        if sign_for is None or return_within is None or limits is None or overrides is None:
            return None
        return CalendarRules(opens, closes, dispatch_by, sign_for, return_within, limits, overrides)

    def _working_hours(self, node: Node) -> tuple[time | None, time | None]:
        f = self.r.fields(node, "calendar.working_hours", required=("from", "to"))
        if f is None or len(f) < 2:
            return None, None
        opens = self.r.parsed(f["from"], "calendar.working_hours.from", _time_of_day, "HH:MM")
        closes = self.r.parsed(f["to"], "calendar.working_hours.to", _time_of_day, "HH:MM")
        if opens is not None and closes is not None and closes <= opens:
            self.r.problems.add(f["to"], "working hours end before they start")
            return None, None
        return opens, closes

    def _time_limits(self, node: Node) -> MappingProxyType[Category, TimeLimit] | None:
        """A category written here replaces the plan's limits for it; the others keep the plan's."""
        limits = dict(PLAN_TIME_LIMITS)
        complete = True
        for name, key_node, body in self.r.entries(node, "calendar.categories"):
            known = self.r.choice(key_node, "calendar.categories: category", CATEGORIES)
            limit = self._time_limit(name, body, PLAN_TIME_LIMITS[Category(known)] if known else None)
            if known is None or limit is None:
                complete = False
            else:
                limits[Category(known)] = limit
        return MappingProxyType(limits) if complete else None

    def _time_limit(self, name: str, node: Node, plan: TimeLimit | None) -> TimeLimit | None:
        what = f"category {name!r}"
        f = self.r.fields(
            node,
            what,
            required=("days",),
            optional=("max_days", "extension_days", "max_extensions", "dispatch_at_once"),
        )
        if f is None or "days" not in f:
            return None
        days = self.r.integer(f["days"], f"{what} days", 1, 365)
        at_once = plan is not None and plan.dispatch_at_once
        if "dispatch_at_once" in f:
            at_once = self.r.boolean(f["dispatch_at_once"], f"{what} dispatch_at_once")
        extension = self._extension(node, f, what, days)
        if days is None or extension is None or at_once is None:
            return None
        return TimeLimit(days, *extension, dispatch_at_once=at_once)

    def _extension(self, node: Node, f: dict[str, Node], what: str, days: int | None) -> tuple[int, int] | None:
        """(extension_days, max_extensions). The plan writes the limit two ways: "at most 3 working days in all"
        (max_days: one extension up to that total) and "at most 2 extensions of 10 working days" (the pair)."""
        stepped = ("extension_days" in f, "max_extensions" in f)
        if "max_days" in f:
            if any(stepped):
                self.r.problems.add(f["max_days"], f"{what}: give max_days or extension_days with max_extensions")
                return None
            max_days = self.r.integer(f["max_days"], f"{what} max_days", 1, 365)
            if max_days is None or days is None:
                return None
            if max_days < days:
                self.r.problems.add(f["max_days"], f"{what}: max_days ({max_days}) is below days ({days})")
                return None
            return max_days - days, int(max_days > days)
        if not any(stepped):
            return 0, 0
        if not all(stepped):
            self.r.problems.add(node, f"{what}: extension_days and max_extensions go together")
            return None
        step = self.r.integer(f["extension_days"], f"{what} extension_days", 1, 365)
        times = self.r.integer(f["max_extensions"], f"{what} max_extensions", 0, 10)
        return None if step is None or times is None else (step, times)

    def _overrides(self, node: Node) -> CalendarOverrides | None:
        f = self.r.fields(node, "calendar.overrides", required=(), optional=("years", "holidays", "workdays"))
        if f is None:
            return None
        years: set[int] = set()
        for item in self.r.items(f["years"], "calendar.overrides.years") if "years" in f else []:
            year = self.r.integer(item, "calendar.overrides.years", 2000, 2100)
            if year in years:
                self.r.problems.add(item, f"calendar.overrides.years: {year} is listed twice")
            elif year is not None:
                years.add(year)
        holidays = self._dates(f.get("holidays"), "calendar.overrides.holidays")
        workdays = self._dates(f.get("workdays"), "calendar.overrides.workdays")
        for day, day_node in workdays.items():
            if day in holidays:
                self.r.problems.add(day_node, f"{day} is listed both as a holiday and as a make-up workday")
        return CalendarOverrides(frozenset(years), frozenset(holidays), frozenset(workdays))

    def _dates(self, node: Node | None, what: str) -> dict[date, Node]:
        found: dict[date, Node] = {}
        for item in self.r.items(node, what) if node is not None else []:
            day = self.r.parsed(item, what, _date, "a date YYYY-MM-DD")
            if day in found:
                self.r.problems.add(item, f"{what}: {day} is listed twice")
            elif day is not None:
                found[day] = item
        return found
