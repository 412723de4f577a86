"""Which days are working days: the official Chinese calendar, holidays and make-up workdays (调休) included.

The State Council publishes each year's schedule around November of the year before, and the chinesecalendar
package carries it from its next release on. So a year can be needed before the installed package knows it (a
complaint received in December is due in February); the rules file then lists that year's days itself
(calendar.overrides). A year that neither covers is counted Monday to Friday, and the caller is told so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

from ivr.rules.model import DAYS, CalendarOverrides

# The package refuses dates outside the years of its data; its holiday table spans exactly those years.
OFFICIAL_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def weekday(day: date) -> str:
    return DAYS[day.weekday()].capitalize()


def uncovered_warning(year: int) -> str:
    """What to tell an admin about a year counted Monday to Friday, and how to fix it."""
    return (
        f"{year} is not covered by the official calendar (the installed chinesecalendar knows "
        f"{OFFICIAL_YEARS[0]}-{OFFICIAL_YEARS[-1]}) nor by calendar.overrides.years: working days in {year} are "
        f"counted Monday to Friday, without holidays or make-up workdays; list them in calendar.overrides and add "
        f"{year} to calendar.overrides.years"
    )


@dataclass(frozen=True)
class WorkingDays:
    """The official calendar with the rules file's overrides on top; the overrides win, because they carry the
    local or newer decision."""

    overrides: CalendarOverrides

    def covers(self, year: int) -> bool:
        """Covered: the package has the year's schedule, or the rules file declares it lists the whole year."""
        return year in OFFICIAL_YEARS or year in self.overrides.years

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides.workdays:
            return True
        if day in self.overrides.holidays:
            return False
        if day.year in OFFICIAL_YEARS:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def label(self, day: date) -> str | None:
        """Why the day is not what its weekday suggests (a holiday, a make-up workday); None for an ordinary day."""
        if day in self.overrides.workdays:
            return "make-up workday (calendar.overrides)"
        if day in self.overrides.holidays:
            return "holiday (calendar.overrides)"
        if day.year not in OFFICIAL_YEARS:
            return None
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        if name is None:
            return None
        name = f"{name} {chinese_calendar.Holiday(name).chinese}"
        return name if is_holiday else f"make-up workday for {name}"

    def next_working_day(self, day: date) -> date:
        """The first working day after `day` (finite: only listed dates can be holidays on a weekday)."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day`; `day` itself is not counted."""
        for _ in range(count):
            day = self.next_working_day(day)
        return day
