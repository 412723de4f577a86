"""Every number of the shipped rules on a real Asterisk 22, today: after the absorbed lines' transitions (which
ended in 2021, so each absorbed line says it has stopped, then connects), the 7x24 seats open. Each number is
called once, all at once, with agents in every queue who answer and talk 2 s; what Asterisk did (the prompts,
in order, the queue or seat that answered) must be what `ivr route NUMBER --json` says, and the stub and the
engine's call line must agree with Asterisk. Numbers in the other forms carriers deliver reach the same line;
the emergency numbers, in any form, go to emergency-out without an AGI session."""

from __future__ import annotations

import pytest

from tests.asterisk.lines import (
    EMERGENCY,
    check_dialplan_call,
    check_emergency_call,
    check_engine_call,
    closed_stubs,
    expected,
    leave,
    numbers,
    place,
    staff,
)

LINES = numbers()
# (as delivered, trunk): the international prefix and country code, the area code, both, the centre's alias,
# a dash (Asterisk's own matching skips it) and a space (the dialplan's _X. drops it), and the trunk
# ip-longdistance's access codes before the number.
FORMS = [
    ("+8612345", None),
    ("63112345", None),
    ("087112396", None),
    ("008612348", None),
    ("+8687112315", None),
    ("0871-12329", None),
    ("12 396", None),
    ("1790912333", "ip-longdistance"),
    ("17951+8612369", "ip-longdistance"),
]
EMERGENCY_FORMS = [(number, None) for number in EMERGENCY] + [
    ("+86110", None),
    ("0871119", None),
    ("0871-120", None),
    ("+86 119", None),
    ("17909122", "ip-longdistance"),
]
# Every call waiting at once in hotline-12345 finds a free agent; one agent in each expert queue.
AGENTS = {"hotline-12345": 30, "expert-12348": 1, "expert-12333": 1, "expert-12329": 1, "expert-12320": 1}


@pytest.fixture(scope="module")
def staffed(site):
    agents = staff(site, AGENTS)
    yield agents
    leave(site, agents)


@pytest.fixture(scope="module")
def placed(site, staffed):
    calls = place(site, [(number, None) for number in LINES] + FORMS, EMERGENCY_FORMS)
    routed = [p.call for number, p in calls.items() if "refused" not in p.plan]
    return calls, closed_stubs(site, routed)


@pytest.mark.parametrize("number", LINES)
def test_each_number_is_carried_out_by_asterisk_as_ivr_route_says(site, staffed, placed, number):
    calls, stored = placed
    assert calls[number].plan["number"] == number
    check_engine_call(site, calls[number], staffed, stored)


@pytest.mark.parametrize(("dialed", "trunk"), FORMS)
def test_a_number_as_a_carrier_delivers_it_reaches_the_same_line(site, staffed, placed, dialed, trunk):
    calls, stored = placed
    form = calls[dialed]
    check_engine_call(site, form, staffed, stored)
    assert expected(form.plan) == expected(calls[form.plan["number"]].plan), "the same plan as the line's own number"


@pytest.mark.parametrize(("dialed", "trunk"), EMERGENCY_FORMS)
def test_an_emergency_number_goes_to_emergency_out_and_never_to_the_engine(site, placed, dialed, trunk):
    calls, stored = placed
    check_emergency_call(site, calls[dialed], stored)


def test_without_the_engine_the_dialplan_says_each_absorbed_line_has_stopped(site, staffed, placed):
    """The generated dialplan's own clock (EPOCH against each transition's end) picks the after-transition
    prompts, as `ivr route` does, when the engine cannot be reached."""
    assert site.engine is not None
    site.engine.stop()
    try:
        calls = place(site, [(number, None) for number in numbers("absorbed")])
    finally:
        site.start_engine()
    for number, call in calls.items():
        assert call.plan["phase"] == "after-transition", number
        check_dialplan_call(site, call, staffed)
