"""The rules file's calendar section: the plan's values by default, and a precise message for every mistake."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from ivr.rules.loader import load_rules
from ivr.rules.model import PLAN_TIME_LIMITS, CalendarRules, Category, TimeLimit
from tests.conftest import SMALL_RULES
from tests.rules.reporting import assert_reported_at

CALENDAR = """\
calendar:
  working_hours: {from: "08:30", to: "17:00"}
  dispatch_by: "10:00"
  sign_for_hours: 2
  return_hours: 24
  categories:
    enquiry: {days: 1, max_days: 3}
    complaint: {days: 20, extension_days: 10, max_extensions: 1}
  overrides:
    years: [2027]
    holidays: ["2027-01-01", "2027-02-10"]
    workdays: ["2027-02-06"]
"""


def test_no_section_means_the_plans_values(write_rules):
    assert load_rules(write_rules()).calendar == CalendarRules()


def test_the_shipped_file_writes_out_the_plans_values(shipped):
    assert shipped.calendar == CalendarRules()
    assert shipped.calendar.time_limits[Category.COMPLAINT].max_days == 35
    assert shipped.calendar.time_limits[Category.ENQUIRY].max_days == 3


def test_the_section_is_read(write_rules):
    calendar = load_rules(write_rules(SMALL_RULES + CALENDAR)).calendar
    assert (calendar.opens, calendar.closes, calendar.dispatch_by) == (time(8, 30), time(17), time(10))
    assert (calendar.sign_for_within, calendar.return_within) == (timedelta(hours=2), timedelta(hours=24))
    # A category written replaces the plan's limits; dispatch at once stays the plan's; the others keep the plan's.
    assert calendar.time_limits[Category.COMPLAINT] == TimeLimit(20, 10, 1, dispatch_at_once=True)
    assert calendar.time_limits[Category.HELP] == PLAN_TIME_LIMITS[Category.HELP]
    assert calendar.overrides.years == {2027}
    assert calendar.overrides.holidays == {date(2027, 1, 1), date(2027, 2, 10)}
    assert calendar.overrides.workdays == {date(2027, 2, 6)}


def test_a_category_without_extension_keys_gets_no_extension(write_rules):
    text = SMALL_RULES + CALENDAR.replace("{days: 1, max_days: 3}", "{days: 2}")
    assert load_rules(write_rules(text)).calendar.time_limits[Category.ENQUIRY].max_days == 2


# (replace this in CALENDAR, with that, the problem expected on the line of `at` ("text@N": its N-th line), message)
CASES = [
    pytest.param("  return_hours: 24", "  return_hour: 24", "return_hour", "did you mean 'return_hours'?", id="typo"),
    pytest.param(
        "sign_for_hours: 2", "sign_for_hours: two", "two", "sign_for_hours must be a whole number", id="hours-type"
    ),
    pytest.param('{from: "08:30"', '{from: "8.30"', "8.30", "working_hours.from must be HH:MM", id="bad-time"),
    pytest.param('to: "17:00"', 'to: "24:00"', "24:00", "before 24:00", id="midnight"),
    pytest.param('to: "17:00"', 'to: "08:00"', "08:00", "working hours end before they start", id="backwards"),
    pytest.param('  dispatch_by: "10:00"', '  dispatch_by: "08:00"', "dispatch_by", "within working hours", id="early"),
    pytest.param("    complaint:", "    complain:", "complain:", "did you mean 'complaint'?", id="unknown-category"),
    pytest.param(
        "{days: 1, max_days: 3}",
        "{days: 3, max_days: 2}",
        "max_days: 2",
        "max_days (2) is below days (3)",
        id="max-below-days",
    ),
    pytest.param(
        "extension_days: 10, max_extensions: 1",
        "extension_days: 10",
        "complaint:",
        "extension_days and max_extensions go together",
        id="half-an-extension",
    ),
    pytest.param(
        "{days: 1, max_days: 3}",
        "{days: 1, max_days: 3, extension_days: 2}",
        "max_days: 3",
        "give max_days or extension_days with max_extensions",
        id="both-shapes",
    ),
    pytest.param(
        "max_extensions: 1}", "max_extensions: 1, dispatch_at_once: soon}", "soon", "true or false", id="at-once"
    ),
    pytest.param("days: 20", "days: 0", "days: 0", "days must be a whole number from 1 to 365", id="zero-days"),
    pytest.param('"2027-02-10"', '"2027-02-30"', "2027-02-30", "must be a date YYYY-MM-DD", id="bad-date"),
    pytest.param(
        '["2027-02-06"]',
        '["2027-02-06", "2027-02-10"]',
        'workdays: ["2027-02-06", "2027-02-10"]',
        "2027-02-10 is listed both as a holiday and as a make-up workday",
        id="holiday-and-workday",
    ),
    pytest.param('"2027-02-10"]', '"2027-01-01"]', '"2027-01-01"]', "2027-01-01 is listed twice", id="twice"),
    pytest.param("years: [2027]", "years: [27]", "[27]", "from 2000 to 2100", id="short-year"),
    pytest.param(
        "  categories:\n    enquiry: {days: 1, max_days: 3}\n"
        "    complaint: {days: 20, extension_days: 10, max_extensions: 1}",
        "  categories: [enquiry, complaint]",
        "categories: [",
        "calendar.categories must be a mapping",
        id="not-a-mapping",
    ),
]


@pytest.mark.parametrize(("old", "new", "at", "message"), CASES)
def test_each_mistake_is_reported_where_it_is(write_rules, old, new, at, message):
    assert old in CALENDAR, old
    text = SMALL_RULES + CALENDAR.replace(old, new, 1)
    assert_reported_at(write_rules(text), text, at, message)
