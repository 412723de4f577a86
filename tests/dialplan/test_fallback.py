"""After the engine: every line, every AGISTATUS, every IVR_STAGE the engine can leave and every status of the
outcome table, run through the generated dialplan. The caller always ends with a person or a spoken instruction,
never hears the line's prompts twice, and the static plan is the router's plan for the moment of the call."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.agi.executor import STAGE
from ivr.agi.outcome import QUEUE_FAILURES, SEAT_FAILURES
from ivr.dialplan import names
from ivr.dialplan.fallback import stage_of
from ivr.router.decide import CallFacts, route
from ivr.router.plan import Flag, SetVariable
from ivr.rules.loader import load_rules
from ivr.rules.model import Rules
from tests.conftest import SHIPPED_RULES, SMALL_RULES
from tests.dialplan.calls import (
    connects,
    dialplan_events,
    dialplan_of,
    engine_leaves,
    instructed,
    router_events,
)
from tests.dialplan.interpreter import Call, World, run, unreachable

RULES = load_rules(SHIPPED_RULES)
ZONE = ZoneInfo("Asia/Shanghai")
DURING = datetime(2021, 11, 20, 9, 0, tzinfo=ZONE)
AFTER = datetime(2021, 12, 20, 3, 0, tzinfo=ZONE)
UNLISTED = "SOMETHING-NEW"


def call_line(rules: Rules, number: str, at: datetime, engine=unreachable, answer: bool = False) -> Call:
    """A call to the line's own number in ivr-inbound; every queue and seat answers, or none does."""
    world = World(int(at.timestamp()), engine)
    if answer:
        world.queues = {q.queue: "ANSWER" for q in rules.queues.values()}
        world.seats = {s.dial: "ANSWER" for s in rules.seats.values()}
    return run(dialplan_of(rules), names.INBOUND, number, world)


def stages(rules: Rules) -> list[tuple[str, str, dict[str, str]]]:
    """(stage, what it means, the variables the engine left) for everything an engine can leave behind."""
    cases: list[tuple[str, str, dict[str, str]]] = [
        ("", "plan", {}),
        ("prompt", "resume", {}),
        ("done", "done", {}),
        ("no-such-stage", "resume", {}),
    ]
    for name in [*rules.queues, *rules.seats]:
        stage = stage_of(name, rules)
        status, failures, answered = (
            ("QUEUESTATUS", QUEUE_FAILURES, "CONTINUE")
            if name in rules.queues
            else ("DIALSTATUS", SEAT_FAILURES, "ANSWER")
        )
        cases += [(stage, "failed", {status: failure}) for failure in sorted(failures)]
        if name in rules.queues:  # Queue() leaves ANSWEREDTIME=0 when nobody answered (TIMEOUT, LEAVEEMPTY)
            cases += [(stage, "failed", {status: "TIMEOUT", "ANSWEREDTIME": "0"})]
        cases += [
            (stage, "again", {}),
            (stage, "again", {status: UNLISTED}),
            (stage, "answered", {"ANSWEREDTIME": "42"}),
            (stage, "answered", {status: answered}),
            (stage, "answered", {"ANSWEREDTIME": "42", status: answered}),
        ]
    return cases


@pytest.mark.parametrize("number", list(RULES.lines))
def test_every_stage_and_status_ends_with_a_person_or_an_instruction(number):
    line = RULES.lines[number]
    steps = RULES.chain(line.destination)
    for at in (DURING, AFTER):
        expected_plan = router_events(RULES, number, at)
        for agistatus in ("SUCCESS", "FAILURE"):
            for stage, meaning, variables in stages(RULES):
                engine = engine_leaves(agistatus, {STAGE: stage, **variables})
                call = call_line(RULES, number, at, engine)
                where = f"{number} at {at:%Y-%m-%d} AGISTATUS={agistatus} {STAGE}={stage!r} {variables}"
                assert [e.detail for e in call.of("agi")] == [(number, "")], where
                if meaning in ("done", "answered") and (meaning == "done" or stage.split(":")[1] in steps):
                    assert call.ending == "hangup" and not call.played and not connects(call), where
                    assert bool(call.of("userevent")) == (meaning != "done"), where
                    continue
                assert call.ending == "hangup" and instructed(call, RULES), where
                event = call.of("userevent")
                assert len(event) == 1 and event[0].detail[:3] == (
                    f"Line: {number}",
                    f"Stage: {stage}",
                    f"AgiStatus: {agistatus}",
                ), where
                userfield = call.channel.variables["CDR(userfield)"]
                assert userfield.endswith(f";fallback={stage};agistatus={agistatus}"), where
                expected = _expected_connects(RULES, number, at, stage, meaning, steps)
                assert connects(call) == expected, where
                if meaning == "plan":
                    assert dialplan_events(call) == expected_plan, where
                else:
                    assert not set(call.played) & set(line.prompts), f"{where}: the line's prompts again"


def _expected_connects(
    rules: Rules, number: str, at: datetime, stage: str, meaning: str, steps: list[str]
) -> list[str]:
    """Queues (Asterisk names) and seats (dial strings) the dialplan must try, in order, when none answers."""
    line = rules.lines[number]
    if line.transition and not line.transition.after.connect and at >= line.transition.ends:
        return []
    start = 0
    if meaning in ("failed", "again") and stage.split(":")[1] in steps:
        start = steps.index(stage.split(":")[1]) + (1 if meaning == "failed" else 0)
    tried = []
    for name in steps[start:]:
        destination = rules.destination(name)
        if name in rules.queues:
            tried.append(destination.queue)  # type: ignore[union-attr]
        elif name in rules.seats and destination.hours.is_open(at):  # type: ignore[union-attr]
            tried.append(destination.dial)  # type: ignore[union-attr]
    return tried


@pytest.mark.parametrize("number", list(RULES.lines))
def test_the_first_person_who_answers_ends_the_fallback(number):
    for stage in ("", "prompt"):
        call = call_line(RULES, number, DURING, engine_leaves("SUCCESS", {STAGE: stage}), answer=True)
        assert call.ending == "person"
        assert len(connects(call)) == 1


def _moments(rules: Rules, number: str) -> list[datetime]:
    line = rules.lines[number]
    moments = [DURING, AFTER, datetime(2030, 6, 1, 12, 0, tzinfo=ZONE)]
    if line.transition:
        t = line.transition
        minute = timedelta(minutes=1)
        moments += [t.starts - minute, t.starts, t.ends - minute, t.ends, t.ends + minute]
    return moments


@pytest.mark.parametrize("number", list(RULES.lines))
def test_without_the_engine_the_static_plan_is_the_routers_plan(number):
    tags = {}
    for at in _moments(RULES, number):
        call = call_line(RULES, number, at)
        assert call.channel.variables["AGISTATUS"] == "FAILURE"
        assert dialplan_events(call) == router_events(RULES, number, at), f"{number} at {at}"
        assert call.of("answer") and call.events.index(call.of("answer")[0]) < call.events.index(call.of("play")[0])
        assert {event.detail[0] for event in call.of("play")} == {"zh"}
        tags = {
            step.name.lstrip("_"): step.value
            for step in route(CallFacts(number, at), RULES).steps
            if isinstance(step, SetVariable)
        }
        for name, value in tags.items():
            got = call.channel.variables[name]
            assert got.startswith(value + ";fallback=") if name == "CDR(userfield)" else got == value
    assert tags


# A rules file with what the shipped one lacks: seats with opening hours (one open until midnight), a line that
# stops connecting after its transition, and no unavailable prompt.
HOURS_RULES = SMALL_RULES.replace(
    """    hours:
      - {days: mon-fri, from: "09:00", to: "17:00"}""",
    """    hours:
      - {days: mon-fri, from: "09:00", to: "17:00"}
      - {days: sat, from: "20:00", to: "24:00"}""",
)


@pytest.fixture
def hours_rules(write_rules) -> Rules:
    return load_rules(write_rules(HOURS_RULES))


def test_seat_hours_and_a_line_that_stops_connecting_follow_the_router(hours_rules):
    week = datetime(2027, 3, 1, 0, 0, tzinfo=ZONE)  # a Monday
    moments = [week + timedelta(minutes=m) for m in range(0, 7 * 24 * 60, 17)]
    moments += [
        datetime(2027, 3, 5, 16, 59, tzinfo=ZONE),
        datetime(2027, 3, 5, 17, 0, tzinfo=ZONE),
        datetime(2027, 3, 1, 8, 59, tzinfo=ZONE),
        datetime(2027, 3, 1, 9, 0, tzinfo=ZONE),
        datetime(2027, 3, 6, 19, 59, tzinfo=ZONE),
        datetime(2027, 3, 6, 23, 59, tzinfo=ZONE),
        datetime(2027, 3, 7, 0, 0, tzinfo=ZONE),
    ]
    for number in hours_rules.lines:
        for at in [*moments, *_moments(hours_rules, number)]:
            call = call_line(hours_rules, number, at)
            assert dialplan_events(call) == router_events(hours_rules, number, at), f"{number} at {at}"


# Office hours on the official calendar's special days, where the generated ivr-day context and the router must
# agree: a weekday holiday, a make-up Saturday (with the Saturday evening span too), an ordinary day between.
HOLIDAY_MOMENTS = [
    datetime(2026, 9, 30, 10, 0, tzinfo=ZONE),  # an ordinary Wednesday
    datetime(2026, 10, 1, 10, 0, tzinfo=ZONE),  # National Day, a Thursday
    datetime(2026, 10, 7, 20, 30, tzinfo=ZONE),  # a Wednesday of the Golden Week, evening
    datetime(2026, 10, 10, 10, 0, tzinfo=ZONE),  # a make-up workday, a Saturday
    datetime(2026, 10, 10, 21, 0, tzinfo=ZONE),  # the same Saturday, in its own evening span
    datetime(2026, 10, 10, 17, 0, tzinfo=ZONE),  # the same Saturday, between the two
    datetime(2026, 2, 16, 9, 0, tzinfo=ZONE),  # Spring Festival, a Monday, at opening time
]


def test_office_hours_on_holidays_and_make_up_days_follow_the_router(hours_rules):
    closed = [Flag.SEAT_CLOSED in route(CallFacts("12333", at), hours_rules).flags for at in HOLIDAY_MOMENTS]
    assert closed == [False, True, True, False, False, True, True], "the router, as test_router.py has it"
    for number in hours_rules.lines:
        for at in HOLIDAY_MOMENTS:
            call = call_line(hours_rules, number, at)
            assert dialplan_events(call) == router_events(hours_rules, number, at), f"{number} at {at}"


def test_the_rules_own_holidays_reach_the_dialplan(write_rules):
    """A local holiday of calendar.overrides, on an ordinary Wednesday: the seat is closed by both."""
    text = HOURS_RULES + "calendar:\n  overrides:\n    holidays: [2026-09-30]\n"
    rules = load_rules(write_rules(text))
    at = datetime(2026, 9, 30, 10, 0, tzinfo=ZONE)
    call = call_line(rules, "12333", at)
    assert dialplan_events(call) == router_events(rules, "12333", at)
    assert Flag.SEAT_CLOSED in route(CallFacts("12333", at), rules).flags


def test_a_line_that_stopped_connecting_says_its_notice_again_after_a_prompt(hours_rules):
    after = datetime(2022, 1, 5, 10, 0, tzinfo=ZONE)
    call = call_line(hours_rules, "12396", after, engine_leaves("SUCCESS", {STAGE: "prompt"}))
    assert call.played == ["stopped-12396"] and not connects(call) and call.ending == "hangup"
    during = datetime(2021, 10, 5, 10, 0, tzinfo=ZONE)
    call = call_line(hours_rules, "12396", during, engine_leaves("SUCCESS", {STAGE: "prompt"}))
    assert connects(call) == ["hotline-12345"] and call.played == ["all-busy"]
