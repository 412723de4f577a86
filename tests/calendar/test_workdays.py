"""Working days on the official calendar: every 2026 holiday and make-up workday, the overrides, and the fallback."""

from __future__ import annotations

from datetime import date

import pytest

from ivr.calendar.workdays import OFFICIAL_YEARS, WorkingDays, uncovered_warning
from ivr.rules.model import CalendarOverrides
from tests.conftest import WHILE_2027_UNCOVERED

OFFICIAL = WorkingDays(CalendarOverrides())

# (day, working day?, label): the State Council's 2026 schedule as chinesecalendar 1.11.0 carries it.
SCHEDULE_2026 = [
    ("2025-12-31", True, None),
    ("2026-01-01", False, "New Year's Day 元旦"),
    ("2026-01-03", False, "New Year's Day 元旦"),
    ("2026-01-04", True, "make-up workday for New Year's Day 元旦"),  # a Sunday
    ("2026-02-13", True, None),
    ("2026-02-14", True, "make-up workday for Spring Festival 春节"),  # a Saturday
    ("2026-02-15", False, "Spring Festival 春节"),
    ("2026-02-23", False, "Spring Festival 春节"),  # a Monday
    ("2026-02-24", True, None),
    ("2026-02-28", True, "make-up workday for Spring Festival 春节"),  # a Saturday
    ("2026-04-03", True, None),
    ("2026-04-06", False, "Tomb-sweeping Day 清明"),  # a Monday
    ("2026-05-01", False, "Labour Day 劳动节"),
    ("2026-05-05", False, "Labour Day 劳动节"),  # a Tuesday
    ("2026-05-09", True, "make-up workday for Labour Day 劳动节"),  # a Saturday
    ("2026-06-19", False, "Dragon Boat Festival 端午"),  # a Friday
    ("2026-06-22", True, None),
    ("2026-09-20", True, "make-up workday for National Day 国庆节"),  # a Sunday
    ("2026-09-25", False, "Mid-autumn Festival 中秋"),  # a Friday
    ("2026-10-01", False, "National Day 国庆节"),
    ("2026-10-07", False, "National Day 国庆节"),  # a Wednesday
    ("2026-10-08", True, None),
    ("2026-10-10", True, "make-up workday for National Day 国庆节"),  # a Saturday
    ("2026-10-11", False, None),  # an ordinary Sunday
    ("2026-12-31", True, None),
]


@pytest.mark.parametrize(("day", "working", "label"), SCHEDULE_2026, ids=[row[0] for row in SCHEDULE_2026])
def test_the_2026_schedule(day, working, label):
    assert OFFICIAL.is_working_day(date.fromisoformat(day)) is working
    assert OFFICIAL.label(date.fromisoformat(day)) == label


@pytest.mark.parametrize(
    ("after", "count", "expected"),
    [
        ("2026-09-30", 1, "2026-10-08"),  # over National Day
        ("2026-09-30", 3, "2026-10-10"),  # the make-up Saturday counts
        ("2026-02-13", 2, "2026-02-24"),  # make-up Saturday, then Spring Festival
        ("2026-04-30", 4, "2026-05-09"),  # Labour Day, then its make-up Saturday
        ("2026-06-18", 1, "2026-06-22"),  # Dragon Boat long weekend
        ("2026-10-08", 0, "2026-10-08"),
    ],
)
def test_counting_working_days_skips_holidays_and_counts_make_up_days(after, count, expected):
    assert OFFICIAL.add_working_days(date.fromisoformat(after), count) == date.fromisoformat(expected)


@WHILE_2027_UNCOVERED
def test_a_year_nobody_covers_is_monday_to_friday():
    assert not OFFICIAL.covers(2027)
    assert OFFICIAL.is_working_day(date(2027, 1, 1))  # a Friday: surely a holiday, but nobody says so yet
    assert not OFFICIAL.is_working_day(date(2027, 1, 2))
    assert OFFICIAL.next_working_day(date(2026, 12, 31)) == date(2027, 1, 1)


def test_overrides_complete_a_year_and_win_over_the_package():
    days = WorkingDays(
        CalendarOverrides(
            years=frozenset({2027}),
            holidays=frozenset({date(2027, 1, 1), date(2026, 10, 8)}),
            workdays=frozenset({date(2027, 1, 2), date(2026, 10, 7)}),
        )
    )
    assert days.covers(2027) and days.covers(2026) and not days.covers(2028)
    assert not days.is_working_day(date(2027, 1, 1))
    assert days.is_working_day(date(2027, 1, 2))  # a Saturday made a workday
    assert not days.is_working_day(date(2026, 10, 8))
    assert days.is_working_day(date(2026, 10, 7))
    assert days.label(date(2027, 1, 1)) == "holiday (calendar.overrides)"
    assert days.next_working_day(date(2026, 12, 31)) == date(2027, 1, 2)


def test_the_warning_says_which_year_and_how_to_fix_it():
    text = uncovered_warning(2027)
    assert text.startswith("2027 is not covered by the official calendar")
    assert f"knows 2004-{OFFICIAL_YEARS[-1]}" in text and "Monday to Friday" in text
    assert "add 2027 to calendar.overrides.years" in text
