"""Every line of the merge list gets the plan its mode requires, before, during and after its transition
period, with its seat up, down and closed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from ivr.router.decide import CallFacts, Presentation, route
from ivr.router.plan import Flag, Phase
from ivr.rules.model import OpeningHours, OpeningSpan, Rules
from tests.merge_list import MERGE_ROWS, MergeRow
from tests.router.steps import words

SHANGHAI = ZoneInfo("Asia/Shanghai")
BEFORE = datetime(2021, 8, 20, 9, 0, tzinfo=SHANGHAI)
DURING = datetime(2021, 11, 20, 9, 0, tzinfo=SHANGHAI)
LAST_MINUTE = datetime(2021, 11, 30, 23, 59, tzinfo=SHANGHAI)
AFTER = datetime(2021, 12, 1, 0, 0, tzinfo=SHANGHAI)
SUNDAY_NIGHT = datetime(2026, 11, 29, 23, 0, tzinfo=SHANGHAI)
TAIL = ["queue hotline-12345", "play all-busy", "play emergency-advisory", "hangup"]


def head(row: MergeRow) -> list[str]:
    tag = {"absorbed": "merged", "dual-transfer": "transfer", "dual-merged": "line"}[row.mode]
    return [
        "answer",
        f"set __IVR_LINE={row.number}",
        "set __IVR_DEPT=*",
        f"set __IVR_MODE={row.mode}",
        f"set CDR(userfield)=line={row.number};dept=*",
        f"set CALLERID(name)={row.number} {tag}",
        "set CHANNEL(language)=zh",
    ]


def matches(actual: list[str], expected: list[str]) -> bool:
    return len(actual) == len(expected) and all(
        e == a or (e.endswith("*") and a.startswith(e[:-1])) for a, e in zip(actual, expected, strict=True)
    )


def expected_plan(row: MergeRow, when: datetime, seat: str) -> list[str]:
    n = row.number
    if row.mode == "absorbed":
        prompts = ["play transition-" + n] if when < AFTER else ["play stopped-" + n, "play connecting-12345"]
        return head(row) + prompts + TAIL
    if row.mode == "dual-merged":
        return head(row) + TAIL
    expert = [f"queue expert-{n}"] if row.expert_seat else []
    ring = ["play transfer-dept", f"dial seat-{n}"] if seat == "up" else []
    return head(row) + ring + ["play dept-unavailable"] + expert + TAIL


def office_hours_only(rules: Rules) -> Rules:
    weekdays = OpeningHours((OpeningSpan(frozenset(range(5)), time(9), time(17)),))
    return replace(rules, seats=MappingProxyType({n: replace(s, hours=weekdays) for n, s in rules.seats.items()}))


@pytest.mark.parametrize("seat", ["up", "down", "closed"])
@pytest.mark.parametrize("when", [BEFORE, DURING, LAST_MINUTE, AFTER], ids=["before", "during", "last-minute", "after"])
@pytest.mark.parametrize("row", MERGE_ROWS, ids=lambda r: r.number)
def test_each_line_gets_the_plan_of_its_mode(shipped, row, when, seat):
    rules = office_hours_only(shipped) if seat == "closed" else shipped
    at = SUNDAY_NIGHT if seat == "closed" else when
    down = frozenset(shipped.seats) if seat == "down" else frozenset()
    plan = route(CallFacts(row.number, at, caller="13800138000", down=down), rules)
    expected = expected_plan(row, at, seat if row.mode == "dual-transfer" else "up")
    assert matches(words(plan), expected), (words(plan), expected)
    assert plan.line.number == row.number
    if row.mode == "absorbed":
        assert plan.phase == (
            Phase.BEFORE if at < DURING.replace(month=9, day=1) else Phase.DURING if at < AFTER else Phase.AFTER
        )
    if row.mode == "dual-transfer" and seat != "up":
        assert (Flag.SEAT_CLOSED if seat == "closed" else Flag.DESTINATION_DOWN) in plan.flags


def test_seat_open_in_office_hours_is_rung(shipped):
    rules = office_hours_only(shipped)
    monday_morning = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    assert "dial seat-12333" in words(route(CallFacts("12333", monday_morning), rules))
    # 08:59 Beijing time is 00:59 UTC: the seat's hours are read in the rules' zone, not the machine's or UTC.
    early = datetime(2026, 11, 30, 0, 59, tzinfo=ZoneInfo("UTC"))
    assert "dial seat-12333" not in words(route(CallFacts("12333", early), rules))


@pytest.mark.parametrize(
    ("moment", "rung", "why"),
    [
        (datetime(2026, 9, 30, 10, 0), True, "an ordinary Wednesday"),
        (datetime(2026, 10, 1, 10, 0), False, "National Day, a Thursday: a public holiday closes the office"),
        (datetime(2026, 10, 7, 10, 0), False, "the last day of the Golden Week, a Wednesday"),
        (datetime(2026, 10, 10, 10, 0), True, "a make-up workday (调休), a Saturday: the office is open"),
        (datetime(2026, 10, 11, 10, 0), False, "an ordinary Sunday"),
        (datetime(2026, 10, 10, 17, 0), False, "the make-up Saturday, after the office hours"),
    ],
)
def test_office_hours_keep_the_official_calendar(shipped, moment, rung, why):
    rules = office_hours_only(shipped)
    plan = route(CallFacts("12333", moment.replace(tzinfo=SHANGHAI)), rules)
    assert ("dial seat-12333" in words(plan)) is rung, why
    assert (Flag.SEAT_CLOSED in plan.flags) is not rung


def test_the_rules_own_calendar_overrides_count_for_the_office_too(shipped):
    """calendar.overrides: a local holiday the official calendar does not have closes the office that day."""
    rules = office_hours_only(shipped)
    local = replace(rules, calendar=replace(rules.calendar, overrides=replace(
        rules.calendar.overrides, holidays=frozenset({date(2026, 9, 30)}))))  # fmt: skip
    wednesday = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    assert "dial seat-12333" in words(route(CallFacts("12333", wednesday), rules))
    assert "dial seat-12333" not in words(route(CallFacts("12333", wednesday), local))


def test_a_span_on_every_day_or_on_the_weekend_is_taken_as_written(shipped):
    every_day = OpeningHours((OpeningSpan(frozenset(range(7)), time(9), time(17)),))
    weekend = OpeningHours((OpeningSpan(frozenset({5, 6}), time(9), time(17)),))
    national_day = datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI)
    make_up_saturday = datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI)
    assert every_day.is_open(national_day, working_day=False)
    assert weekend.is_open(make_up_saturday, working_day=True), "a weekend office opens on its Saturday anyway"
    assert not weekend.is_open(national_day, working_day=False)


def test_main_line(shipped):
    plan = route(CallFacts("12345", DURING, caller="13800138000"), shipped)
    assert words(plan) == [
        "answer",
        "set __IVR_LINE=12345",
        "set __IVR_DEPT=hotline",
        "set __IVR_MODE=main",
        "set CDR(userfield)=line=12345;dept=hotline;mode=main",
        "set CALLERID(name)=12345 hotline",
        "set CHANNEL(language)=zh",
        "play welcome",
        *TAIL,
    ]
    assert plan.flags == ()


def test_after_transition_without_connect_ends_in_an_instruction(shipped):
    line = shipped.lines["12396"]
    stop = replace(line, transition=replace(line.transition, after=replace(line.transition.after, connect=False)))
    rules = replace(shipped, lines=MappingProxyType({**shipped.lines, "12396": stop}))
    plan = route(CallFacts("12396", AFTER), rules)
    assert words(plan)[-3:] == ["play stopped-12396", "play connecting-12345", "hangup"]


def test_unknown_number_goes_to_12345_and_is_flagged(shipped):
    plan = route(CallFacts("88888", DURING), shipped)
    assert plan.line.number == "12345"
    assert Flag.UNKNOWN_NUMBER in plan.flags
    assert plan.dialed == "88888"
    assert "play welcome" in words(plan)


def test_redirecting_number_names_the_original_line(shipped):
    plan = route(CallFacts("12345", DURING, redirecting="12396"), shipped)
    assert plan.line.number == "12396"
    assert Flag.VIA_REDIRECT in plan.flags
    assert "play transition-12396" in words(plan)
    # Unknown number dialed, original line only in the Diversion header, with prefixes:
    assert route(CallFacts("5550000", DURING, redirecting="+86 871 12333"), shipped).line.number == "12333"


def test_redirect_does_not_override_a_dialed_line(shipped):
    assert route(CallFacts("12333", DURING, redirecting="12396"), shipped).line.number == "12333"


def test_call_handed_over_from_an_emergency_line_stays_12345(shipped):
    plan = route(CallFacts("12345", DURING, redirecting="110"), shipped)
    assert plan.line.number == "12345" and Flag.VIA_REDIRECT not in plan.flags


@pytest.mark.parametrize(
    ("caller", "presentation", "flag"),
    [
        ("13800138000", Presentation.ALLOWED, None),
        ("13800138000", Presentation.WITHHELD, Flag.CALLER_WITHHELD),
        ("unknown", Presentation.ALLOWED, Flag.CALLER_UNKNOWN),
        (None, Presentation.UNKNOWN, Flag.CALLER_UNKNOWN),
    ],
)
def test_caller_presentation_is_recorded_and_changes_no_route(shipped, caller, presentation, flag):
    plan = route(CallFacts("12345", DURING, caller=caller, presentation=presentation), shipped)
    assert [f for f in plan.flags if f in (Flag.CALLER_WITHHELD, Flag.CALLER_UNKNOWN)] == ([flag] if flag else [])
    assert words(plan)[-4:] == TAIL


def test_queue_known_down_is_skipped(shipped):
    plan = route(CallFacts("12333", DURING, down=frozenset({"seat-12333", "expert-12333"})), shipped)
    assert "queue expert-12333" not in words(plan)
    assert words(plan)[-4:] == TAIL


def test_time_without_zone_is_refused(shipped):
    with pytest.raises(ValueError, match="time zone"):
        route(CallFacts("12345", datetime(2021, 11, 20, 9, 0)), shipped)


def test_transition_boundary_in_utc(shipped):
    """2021-11-30 16:00 UTC is midnight in Shanghai: the transition is over there."""
    assert (
        route(CallFacts("12396", datetime(2021, 11, 30, 15, 59, tzinfo=ZoneInfo("UTC"))), shipped).phase is Phase.DURING
    )
    assert (
        route(CallFacts("12396", datetime(2021, 11, 30, 16, 0, tzinfo=ZoneInfo("UTC"))), shipped).phase is Phase.AFTER
    )
