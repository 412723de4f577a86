"""Deadlines as the plan sets them (三(四), 三(五)), checked by hand against the official 2026 calendar."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.calendar.deadlines import DeadlineClock, case_deadlines, uncovered_years_ahead
from ivr.rules.model import CalendarOverrides, Category, Rules
from tests.conftest import WHILE_2027_UNCOVERED

SHANGHAI = ZoneInfo("Asia/Shanghai")
STEPS = ("dispatch", "sign-for", "return", "close", "latest-close")


def received(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def due(rules: Rules, at: str, category: str | None = None, extensions: int = 0) -> dict[str, str]:
    case = case_deadlines(received(at), rules, Category(category) if category else None, extensions)
    return {step.step: f"{step.due.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" for step in case.deadlines}


def expect(*times: str) -> dict[str, str]:
    return dict(zip(STEPS, times, strict=False))


# (received, category, extensions, dispatch, sign for, return, close, latest close), working hours 09:00-17:30.
PLAN_CASES = [
    pytest.param(
        "2026-09-30 18:30", "help", 0,
        expect("2026-10-08 10:00", "2026-10-08 12:00", "2026-10-09 12:00", "2026-10-10 17:30", "2026-10-13 17:30"),
        id="national-day-then-make-up-saturday",
    ),
    pytest.param(
        "2025-12-31 18:00", "enquiry", 0,
        expect("2026-01-04 10:00", "2026-01-04 12:00", "2026-01-05 12:00", "2026-01-04 17:30", "2026-01-06 17:30"),
        id="new-year-make-up-sunday",
    ),
    pytest.param(
        "2026-02-13 18:00", "help", 0,
        expect("2026-02-14 10:00", "2026-02-14 12:00", "2026-02-15 12:00", "2026-02-25 17:30", "2026-02-27 17:30"),
        id="spring-festival",
    ),
    pytest.param(
        "2026-02-14 12:00", "enquiry", 0,
        expect("2026-02-14 17:30", "2026-02-14 19:30", "2026-02-15 19:30", "2026-02-24 17:30", "2026-02-26 17:30"),
        id="received-on-a-make-up-saturday-in-hours",
    ),
    pytest.param(
        "2026-04-03 12:00", "enquiry", 0,
        expect("2026-04-03 17:30", "2026-04-03 19:30", "2026-04-04 19:30", "2026-04-07 17:30", "2026-04-09 17:30"),
        id="qingming",
    ),
    pytest.param(
        "2026-04-30 20:00", "complaint", 0,
        expect("2026-04-30 20:00", "2026-04-30 22:00", "2026-05-01 22:00", "2026-05-25 17:30", "2026-06-23 17:30"),
        id="labour-day-complaint-dispatched-at-once",
    ),
    pytest.param(
        "2026-06-18 17:29", "enquiry", 0,
        expect("2026-06-18 17:30", "2026-06-18 19:30", "2026-06-19 19:30", "2026-06-22 17:30", "2026-06-24 17:30"),
        id="dragon-boat-17:29-in-hours",
    ),
    pytest.param(
        "2026-06-18 17:30", "enquiry", 0,
        expect("2026-06-22 10:00", "2026-06-22 12:00", "2026-06-23 12:00", "2026-06-22 17:30", "2026-06-24 17:30"),
        id="dragon-boat-17:30-closed",
    ),
    pytest.param(
        "2026-09-24 15:00", "suggestion", 0,
        expect("2026-09-24 17:30", "2026-09-24 19:30", "2026-09-25 19:30", "2026-09-30 17:30", "2026-10-09 17:30"),
        id="mid-autumn-and-national-day",
    ),
    pytest.param(
        "2026-09-20 11:00", "report", 1,
        expect("2026-09-20 11:00", "2026-09-20 13:00", "2026-09-21 13:00", "2026-10-30 17:30", "2026-11-13 17:30"),
        id="report-on-a-make-up-sunday-one-extension",
    ),
    pytest.param(
        "2026-04-30 20:00", "complaint", 2,
        expect("2026-04-30 20:00", "2026-04-30 22:00", "2026-05-01 22:00", "2026-06-23 17:30"),
        id="complaint-both-extensions",
    ),
    pytest.param(
        "2026-10-07 23:59", "enquiry", 0,
        expect("2026-10-08 10:00", "2026-10-08 12:00", "2026-10-09 12:00", "2026-10-08 17:30", "2026-10-10 17:30"),
        id="23:59-last-holiday",
    ),
    pytest.param(
        "2026-10-08 00:00", "enquiry", 0,
        expect("2026-10-08 10:00", "2026-10-08 12:00", "2026-10-09 12:00", "2026-10-09 17:30", "2026-10-12 17:30"),
        id="00:00-first-working-day",
    ),
    pytest.param(
        "2026-11-27 08:59", "enquiry", 1,
        expect("2026-11-27 10:00", "2026-11-27 12:00", "2026-11-28 12:00", "2026-12-02 17:30"),
        id="08:59-before-opening-same-day-10:00",
    ),
    pytest.param(
        "2026-11-27 09:00", "enquiry", 1,
        expect("2026-11-27 17:30", "2026-11-27 19:30", "2026-11-28 19:30", "2026-12-02 17:30"),
        id="09:00-opening",
    ),
    pytest.param(
        "2026-11-28 11:00", None, 0,
        expect("2026-11-30 10:00", "2026-11-30 12:00", "2026-12-01 12:00"),
        id="saturday-no-category-yet",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("at", "category", "extensions", "expected"), PLAN_CASES)
def test_the_plans_deadlines(shipped, at, category, extensions, expected):
    assert due(shipped, at, category, extensions) == expected


def local_rules(shipped: Rules, **calendar: object) -> Rules:
    return replace(shipped, calendar=replace(shipped.calendar, **calendar))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-10-08 09:59", expect("2026-10-08 10:00", "2026-10-08 14:00", "2026-10-10 14:00")),
        ("2026-10-08 10:01", expect("2026-10-08 18:00", "2026-10-08 22:00", "2026-10-10 22:00")),
    ],
)
def test_the_rules_file_sets_hours_and_limits(shipped, at, expected):
    rules = local_rules(
        shipped,
        opens=time(10),
        closes=time(18),
        sign_for_within=timedelta(hours=4),
        return_within=timedelta(hours=48),
    )
    assert due(rules, at) == expected


INVENTED_2027 = CalendarOverrides(  # the real 2027 schedule is not in chinesecalendar 1.11.0: test data only
    years=frozenset({2027}), holidays=frozenset({date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)})
)


# (received, category, [dispatch, close] counted Monday to Friday, the same with 2027-01-01..03 as holidays)
@WHILE_2027_UNCOVERED
@pytest.mark.parametrize(
    ("at", "category", "without", "with_overrides"),
    [
        ("2026-12-31 16:00", "enquiry",
         ["2026-12-31 17:30", "2027-01-01 17:30"], ["2026-12-31 17:30", "2027-01-04 17:30"]),
        ("2026-12-31 18:00", "enquiry",
         ["2027-01-01 10:00", "2027-01-01 17:30"], ["2027-01-04 10:00", "2027-01-04 17:30"]),
        ("2026-12-30 10:00", "complaint",
         ["2026-12-30 10:00", "2027-01-20 17:30"], ["2026-12-30 10:00", "2027-01-21 17:30"]),
    ],
)  # fmt: skip
def test_last_working_day_of_2026_into_2027(shipped, at, category, without, with_overrides):
    plain = case_deadlines(received(at), shipped, Category(category))
    assert [f"{d.due:%Y-%m-%d %H:%M}" for d in plain.deadlines if d.step in ("dispatch", "close")] == without
    assert plain.uncovered_years == (2027,)
    assert "2027 not covered: Monday to Friday assumed" in plain.deadlines[3].reason
    covered = case_deadlines(received(at), local_rules(shipped, overrides=INVENTED_2027), Category(category))
    assert [f"{d.due:%Y-%m-%d %H:%M}" for d in covered.deadlines if d.step in ("dispatch", "close")] == with_overrides
    assert covered.uncovered_years == ()


def test_reasons_name_the_holidays_and_make_up_days(shipped):
    case = case_deadlines(received("2026-09-30 18:30"), shipped, Category.HELP)
    dispatch, _, give_back, close, _ = case.deadlines
    assert dispatch.reason == (
        "received outside working hours → by 10:00 of the next working day; 2026-10-01..07 National Day 国庆节"
    )
    assert "if the ticket is not the unit's" in give_back.reason
    assert close.reason.startswith("help: 3 working days after the day of receipt")
    assert "2026-10-10 (Sat) make-up workday for National Day 国庆节" in close.reason


def test_a_moment_in_another_zone_is_the_same_moment(shipped):
    from_utc = case_deadlines(datetime(2026, 9, 30, 10, 30, tzinfo=UTC), shipped, Category.HELP)
    assert from_utc == case_deadlines(received("2026-09-30 18:30"), shipped, Category.HELP)
    assert from_utc.received.utcoffset() == timedelta(hours=8)
    assert not from_utc.in_working_hours


@pytest.mark.parametrize(
    ("at", "category", "extensions", "message"),
    [
        (received("2026-10-08 10:00"), Category.COMPLAINT, 3, "complaint allows at most 2 extensions"),
        (received("2026-10-08 10:00"), Category.ENQUIRY, 2, "at most 3 in all"),
        (received("2026-10-08 10:00"), None, 1, "extensions need a category"),
        (received("2026-10-08 10:00"), Category.HELP, -1, "cannot be negative"),
        (datetime(2026, 10, 8, 10, 0), None, 0, "needs its zone"),
    ],
)
def test_impossible_requests_are_refused(shipped, at, category, extensions, message):
    with pytest.raises(ValueError, match=message):
        case_deadlines(at, shipped, category, extensions)


@WHILE_2027_UNCOVERED
def test_the_service_logs_an_uncovered_year_once(shipped, caplog):
    clock = DeadlineClock(shipped)
    with caplog.at_level(logging.WARNING, logger="ivr.calendar"):
        clock.for_case(received("2026-12-30 10:00"), Category.COMPLAINT)
        clock.for_case(received("2026-12-31 10:00"), Category.ENQUIRY)
        clock.for_case(received("2026-06-01 10:00"), Category.ENQUIRY)
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("2027 is not covered by the official calendar")


@WHILE_2027_UNCOVERED
@pytest.mark.parametrize(
    ("at", "overrides", "expected"),
    [
        ("2026-06-01 10:00", CalendarOverrides(), ()),
        ("2026-10-20 10:00", CalendarOverrides(), ()),  # a complaint's 35 working days end in December
        ("2026-11-28 10:00", CalendarOverrides(), (2027,)),
        ("2026-11-28 10:00", INVENTED_2027, ()),
        ("2026-12-30 10:00", CalendarOverrides(years=frozenset({2028})), (2027,)),
    ],
)
def test_years_check_warns_about(shipped, at, overrides, expected):
    assert uncovered_years_ahead(local_rules(shipped, overrides=overrides), received(at)) == expected
