"""The inbound contexts: every form a carrier may deliver, on every trunk. Emergency numbers never reach the engine
in any form the numbering section implies (nor with separators); every other number reaches the engine with the
number as delivered and the trunk, and falls back to the line the router gives it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.dialplan import names
from ivr.dialplan.forms import delivered_forms, inbound_forms
from ivr.dialplan.inbound import trunks
from ivr.router.decide import CallFacts, route
from ivr.router.plan import EmergencyNumberRefused
from ivr.rules.loader import load_rules
from ivr.rules.model import Rules
from ivr.rules.numbering import candidates
from tests.conftest import SHIPPED_RULES, SMALL_RULES
from tests.dialplan.calls import dialplan_of
from tests.dialplan.interpreter import Call, World, run

RULES = load_rules(SHIPPED_RULES)
NOW = int(datetime(2021, 11, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp())
TRUNKS = trunks(RULES)


def dial(delivered: str, trunk: str | None, rules: Rules = RULES) -> Call:
    return run(dialplan_of(rules), names.inbound(trunk), delivered, World(NOW))


def fallback_line(call: Call) -> str:
    """The line whose fallback ran (its UserEvent names it)."""
    (event,) = call.of("userevent")
    return event.detail[0].removeprefix("Line: ")


def routed(delivered: str, trunk: str | None, rules: Rules = RULES) -> str:
    """What the router makes of the number: 'emergency NNN' or the line's number."""
    try:
        plan = route(CallFacts(dialed=delivered, at=datetime.fromtimestamp(NOW, rules.timezone), trunk=trunk), rules)
    except EmergencyNumberRefused as refused:
        return f"emergency {refused.number}"
    return plan.line.number


def assert_emergency(call: Call, number: str) -> None:
    assert call.ending == "external" and call.where == (RULES.emergency.context, number)
    assert not call.of("agi") and not call.of("answer")
    assert {event.name for event in call.of("set")} <= {"IVR_DIGITS"}  # only to look a number up again


def test_the_shipped_rules_have_a_context_per_trunk():
    assert [names.inbound(t) for t in TRUNKS] == ["ivr-inbound", "ivr-inbound-ip-longdistance"]


@pytest.mark.parametrize("trunk", TRUNKS)
def test_every_emergency_form_goes_to_the_emergency_context_and_never_to_the_engine(trunk):
    forms = [form for form in inbound_forms(RULES, trunk) if form.emergency]
    assert {form.emergency for form in forms} == set(RULES.emergency.numbers)
    prefixes = RULES.numbering.trunks[trunk or "default"].strip_prefixes
    assert len(forms) == len(RULES.emergency.numbers) * 6 * (1 + len(prefixes))
    for form in forms:
        assert routed(form.delivered, trunk) == f"emergency {form.emergency}"
        assert_emergency(dial(form.delivered, trunk), form.emergency)


@pytest.mark.parametrize("trunk", TRUNKS)
def test_every_form_of_every_line_reaches_the_engine_and_falls_back_to_the_routers_line(trunk):
    forms = [form for form in inbound_forms(RULES, trunk) if form.line]
    assert {form.line for form in forms} == set(RULES.lines)
    for form in forms:
        call = dial(form.delivered, trunk)
        assert [event.detail for event in call.of("agi")] == [(form.delivered, trunk or "")]
        assert fallback_line(call) == routed(form.delivered, trunk) == form.line


@pytest.mark.parametrize(
    ("delivered", "number"),
    [("0871-110", "110"), ("+86 119", "119"), ("(0871) 120", "120"), ("0086-871-122", "122"), (" 110", "110")],
)
def test_separators_are_dropped_before_the_emergency_numbers_are_looked_for(delivered, number):
    assert routed(delivered, None) == f"emergency {number}"
    assert_emergency(dial(delivered, None), number)


@pytest.mark.parametrize("delivered", ["99999", "+4412345", "5", "s", "12-396"])
def test_any_other_number_goes_to_the_engine_then_as_the_router_says(delivered):
    call = dial(delivered, None)
    (agi,) = call.of("agi")
    assert agi.name == f"{RULES.engine.agi_urls[0]}/route"
    assert fallback_line(call) == routed(agi.detail[0], None)
    assert call.ending == "hangup"


def test_the_trunk_argument_names_the_trunk_whose_prefixes_apply():
    call = dial("1790912333", "ip-longdistance")
    assert call.of("agi")[0].detail == ("1790912333", "ip-longdistance")
    assert fallback_line(call) == "12333"
    assert_emergency(dial("17951110", "ip-longdistance"), "110")
    # Another trunk's prefix is not stripped: for the default trunk this is an unknown number, as for the router.
    assert routed("1790912333", None) == "12345" == fallback_line(dial("1790912333", None))


def test_the_engine_is_given_the_number_and_the_stage_is_cleared_before():
    call = dial("12396", None)
    sets = [(event.name, event.detail[0]) for event in call.events[: call.events.index(call.of("agi")[0])]]
    assert sets == [
        ("IVR_STAGE", ""),
        ("__TRANSFER_CONTEXT", names.LINKAGE),
        # the blind-transfer key needs no pbx-transfer sound (the agent's channel inherits it from the caller's)
        ("FEATURE(transferannouncesound)", ""),
        ("FEATURE(inherit)", "yes"),
    ]


def test_a_hagi_url_spreads_calls_over_the_engines_the_srv_records_name(write_rules):
    rules = load_rules(write_rules(SMALL_RULES + 'engine:\n  agi_url: "hagi://engines.hotline.example"\n'))
    assert dial("12345", None, rules).of("agi")[0].name == "hagi://engines.hotline.example/route"


def test_delivered_forms_are_what_numbering_turns_back_into_the_number():
    for trunk in TRUNKS:
        for number in [*RULES.lines, *RULES.emergency.numbers]:
            for form in delivered_forms(number, RULES.numbering, trunk):
                assert candidates(form, RULES.numbering, trunk)[-1] == number


SEPARATORS = st.sampled_from(["", "", "", "-", " ", "(", ")"])


@st.composite
def carrier_numbers(draw: st.DrawFn) -> tuple[str, str | None]:
    """A number as a carrier might deliver it: a trunk prefix or not, an international or area prefix or not,
    a known number or any digits, separators anywhere."""
    trunk = draw(st.sampled_from(TRUNKS))
    own = RULES.numbering.trunks[trunk or "default"].strip_prefixes
    numbering = RULES.numbering
    known = [*RULES.emergency.numbers, *RULES.lines, *RULES.by_alias]
    core = draw(st.one_of(st.sampled_from(known), st.from_regex(r"[0-9]{1,9}", fullmatch=True)))
    area = draw(st.sampled_from(["", *numbering.area_codes]))
    international = draw(st.sampled_from(["", *numbering.international_prefixes]))
    prefix = international + numbering.country_code + area[1:] if international else area
    parts = [draw(st.sampled_from(["", *own, "17909"])), prefix, core]
    text = "".join(parts)
    return "".join(c + draw(SEPARATORS) for c in text).strip() or text, trunk


@settings(max_examples=400, deadline=None)
@given(carrier_numbers())
def test_the_dialplan_and_the_router_agree_on_any_delivered_number(case):
    delivered, trunk = case
    call = dial(delivered, trunk)
    verdict = routed(delivered, trunk)
    if verdict.startswith("emergency "):
        assert_emergency(call, verdict.removeprefix("emergency "))
    else:
        (agi,) = call.of("agi")
        assert fallback_line(call) == verdict == routed(agi.detail[0], trunk)
