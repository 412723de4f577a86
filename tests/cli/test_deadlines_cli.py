"""`ivr deadlines`, and the calendar warning of `ivr check`, as an admin runs them: real processes and exit codes."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import ivr
from tests.conftest import SHIPPED_RULES, SMALL_RULES, WHILE_2027_UNCOVERED

# The README's example: received after hours on the eve of National Day, a help request.
HELP_ON_THE_EVE_OF_NATIONAL_DAY = """\
received      2026-09-30 18:30 (Wed) Asia/Shanghai, outside working hours (09:00-17:30 on working days)
dispatch      2026-10-08 10:00 (Thu)  received outside working hours → by 10:00 of the next working day; \
2026-10-01..07 National Day 国庆节
sign for      2026-10-08 12:00 (Thu)  2 h after the dispatch deadline (clock hours)
return        2026-10-09 12:00 (Fri)  24 h after the sign-for deadline (clock hours), if the ticket is not the unit's
close         2026-10-10 17:30 (Sat)  help: 3 working days after the day of receipt, by the close of working hours; \
2026-10-01..07 National Day 国庆节; 2026-10-10 (Sat) make-up workday for National Day 国庆节
latest close  2026-10-13 17:30 (Tue)  help: 3 working days + 1 extension of 2 = 5 after the day of receipt, by the \
close of working hours; 2026-10-01..07 National Day 国庆节; 2026-10-10 (Sat) make-up workday for National Day 国庆节
"""


def test_deadlines_in_words():
    result = ivr("deadlines", "--received", "2026-09-30 18:30", "--category", "help")
    assert result.returncode == 0, result.stderr
    assert result.stdout == HELP_ON_THE_EVE_OF_NATIONAL_DAY


def test_deadlines_json_is_the_same_whatever_the_machine_zone():
    args = ("deadlines", "--received", "2026-04-30 20:00", "--category", "complaint", "--extensions", "1", "--json")
    outputs = [ivr(*args, tz=tz).stdout for tz in ("UTC", "Asia/Shanghai", "America/New_York")]
    assert outputs[0] == outputs[1] == outputs[2]
    case = json.loads(outputs[0])
    assert case["received"] == "2026-04-30T20:00:00+08:00" and case["in_working_hours"] is False
    assert (case["category"], case["extensions"], case["uncovered_years"]) == ("complaint", 1, [])
    assert {d["step"]: d["due"] for d in case["deadlines"]} == {
        "dispatch": "2026-04-30T20:00:00+08:00",
        "sign-for": "2026-04-30T22:00:00+08:00",
        "return": "2026-05-01T22:00:00+08:00",
        "close": "2026-06-08T17:30:00+08:00",
        "latest-close": "2026-06-23T17:30:00+08:00",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--category", "complaint", "--extensions", "3"], "--extensions: complaint allows at most 2 extensions"),
        (["--category", "help", "--extensions", "2"], "--extensions: help allows at most 1 extension"),
        (["--extensions", "1"], "--extensions: extensions need a category"),
        (["--category", "complaints"], "invalid choice: 'complaints'"),
    ],
)
def test_impossible_requests_exit_2_with_one_line(args, message):
    result = ivr("deadlines", "--received", "2026-10-08 10:00", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("raw", ["2026-10-08", "2026-02-30 10:00", "tomorrow"])
def test_a_bad_time_of_receipt_exits_2(raw):
    result = ivr("deadlines", "--received", raw)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"ivr deadlines: --received: expected 'YYYY-MM-DD HH:MM' or ISO 8601 with an offset, got {raw!r}"
    ]


def test_a_mistake_in_the_calendar_section_exits_1(write_rules):
    path = write_rules(SMALL_RULES + 'calendar:\n  working_hours: {from: "09:00", to: "8:00"}\n')
    result = ivr("deadlines", "--received", "2026-10-08 10:00", "--rules", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:{SMALL_RULES.count(chr(10)) + 2}:")
    assert "calendar.working_hours.to must be HH:MM" in result.stderr


@WHILE_2027_UNCOVERED
def test_deadlines_into_an_uncovered_year_warn():
    result = ivr("deadlines", "--received", "2026-12-31 18:00", "--category", "enquiry")
    assert result.returncode == 0
    last = result.stdout.splitlines()[-1]
    assert last.startswith("warning: 2027 is not covered by the official calendar")
    assert "2027-01-01 10:00 (Fri)" in result.stdout


@WHILE_2027_UNCOVERED
def test_check_warns_after_the_table_when_next_year_is_not_covered():
    result = ivr("check", str(SHIPPED_RULES), "--at", "2026-12-30 10:00")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    ok = next(i for i, line in enumerate(lines) if ": OK, 29 routable numbers" in line)
    assert lines[ok + 1 :] == [
        "warning: 2027 is not covered by the official calendar (the installed chinesecalendar knows 2004-2026) nor "
        "by calendar.overrides.years: working days in 2027 are counted Monday to Friday, without holidays or "
        "make-up workdays; list them in calendar.overrides and add 2027 to calendar.overrides.years (a ticket "
        "received 2026-12-30 10:00 can be due in 2027)"
    ]


@pytest.mark.parametrize(
    ("calendar", "at"),
    [
        pytest.param("", "2026-06-01 10:00", id="far-from-the-year-end"),
        pytest.param(
            'calendar:\n  overrides: {years: [2027], holidays: ["2027-01-01"]}\n',
            "2026-12-30 10:00",
            id="next-year-in-the-overrides",
        ),
    ],
)
def test_check_is_quiet_when_the_calendar_covers_what_tickets_need(write_rules, calendar, at):
    result = ivr("check", str(write_rules(SMALL_RULES + calendar)), "--at", at, "--no-recordings")
    assert result.returncode == 0, result.stderr
    assert "OK, 4 routable numbers" in result.stdout
    assert "warning" not in result.stdout + result.stderr
