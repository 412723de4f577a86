"""The pieces of time in which no plan can change, and how they read."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from ivr.admin.timeline import (
    Condition,
    Period,
    Slot,
    describe_hours,
    describe_opening,
    periods,
    samples,
    week_slots,
)
from ivr.rules.loader import load_rules
from ivr.rules.model import OpeningHours, OpeningSpan

ZONE = ZoneInfo("Asia/Shanghai")
DAY = 24 * 60


def hours(*spans: tuple[str, int, int]) -> frozenset[Slot]:
    """("mon-fri", 9 * 60, 17 * 60) and the like, as slots."""
    slots = set()
    for days, start, end in spans:
        first, _, last = days.partition("-")
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        for day in range(names.index(first), names.index(last or first) + 1):
            slots.add(Slot(day, start, end))
    return frozenset(slots)


@pytest.mark.parametrize(
    ("slots", "text"),
    [
        (hours(("mon-fri", 9 * 60, 17 * 60)), "mon-fri 09:00-17:00"),
        (
            hours(("mon-fri", 0, 9 * 60), ("mon-fri", 17 * 60, DAY), ("sat-sun", 0, DAY)),
            "mon-fri 00:00-09:00, 17:00-24:00; sat-sun all day",
        ),
        (hours(("sat-sun", 0, DAY)), "sat-sun all day"),
        (hours(("mon", 8 * 60 + 30, 12 * 60), ("wed", 8 * 60 + 30, 12 * 60)), "mon 08:30-12:00; wed 08:30-12:00"),
        (hours(("mon", 0, 60), ("mon", 60, 120)), "mon 00:00-02:00"),
    ],
)
def test_hours_read_as_an_admin_writes_them(slots, text):
    assert describe_hours(slots) == text


def test_hours_read_as_outside_the_rest_when_that_is_shorter():
    week = frozenset(Slot(d, a, b) for d in range(7) for a, b in ((0, 540), (540, 1020), (1020, DAY)))
    closed = week - hours(("mon-fri", 540, 1020))
    assert Condition(Period(None, None), closed).describe(ZONE, week) == "outside mon-fri 09:00-17:00"
    assert Condition(Period(None, None), None).describe(ZONE, week) == "at all times"


def test_opening_hours():
    assert describe_opening(OpeningHours()) == "7x24"
    spans = (OpeningSpan(frozenset(range(5)), time(8, 30), time(17, 30)), OpeningSpan(frozenset({5}), time(9), None))
    assert describe_opening(OpeningHours(spans)) == "mon-fri 08:30-17:30; sat 09:00-24:00"


def test_periods_are_cut_at_every_transition_date_of_either_file(write_rules):
    rules = load_rules(write_rules())
    starts, ends = datetime(2021, 9, 1, tzinfo=ZONE), datetime(2021, 12, 1, tzinfo=ZONE)
    assert periods((rules,)) == (Period(None, starts), Period(starts, ends), Period(ends, None))
    assert periods(()) == (Period(None, None),)
    assert [p.describe(ZONE) for p in periods((rules,))] == [
        "until 2021-09-01 00:00",
        "from 2021-09-01 00:00 until 2021-12-01 00:00",
        "from 2021-12-01 00:00",
    ]


def test_every_slot_of_every_period_gets_one_moment_inside_it(write_rules):
    rules = load_rules(write_rules())
    spans, week = periods((rules,)), week_slots((rules,))
    assert len(week) == 7 + 5 * 2, "midnight cuts every day, 09:00 and 17:00 cut monday to friday"
    anchor = datetime(2026, 11, 28, 10, 0, tzinfo=ZONE)
    found = samples(spans, week, ZONE, anchor)
    assert len(found) == len(spans) * len(week)
    for sample in found:
        assert spans[sample.period].contains(sample.at)
        assert sample.slot.contains(sample.at.astimezone(ZONE))
    last = [s.at for s in found if s.period == 2]
    assert min(last) >= datetime(2026, 11, 23, tzinfo=ZONE), "the anchor's period is sampled in the anchor's week"


def test_a_period_shorter_than_a_week_has_only_its_own_slots():
    friday, sunday = datetime(2021, 11, 26, tzinfo=ZONE), datetime(2021, 11, 28, tzinfo=ZONE)
    week = week_slots(())
    found = samples((Period(friday, sunday),), week, ZONE, datetime(2026, 1, 1, tzinfo=ZONE))
    assert [s.slot.day for s in found] == [4, 5]
