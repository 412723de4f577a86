"""Numbers as carriers deliver them reach the right line; emergency numbers are recognised in every form."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.router.decide import CallFacts, route
from ivr.router.plan import EmergencyNumberRefused, Flag
from ivr.rules.numbering import normalise

AT = datetime(2021, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
FORMS = [
    "{n}",
    "+86{n}",
    "0086{n}",
    "+86 {n}",
    "0871{n}",
    "0871-{n}",
    "(0871) {n}",
    "+86871{n}",
    "+86 871 {n}",
    "0086871{n}",
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("number", ["12345", "12396", "96301", "12333", "12315"])
def test_every_prefix_form_reaches_the_line(shipped, form, number):
    dialed = form.format(n=number)
    plan = route(CallFacts(dialed, AT), shipped)
    assert plan.line.number == number
    assert Flag.UNKNOWN_NUMBER not in plan.flags
    assert plan.dialed == dialed


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("number", ["110", "119", "120", "122"])
def test_emergency_numbers_are_refused_in_every_form(shipped, form, number):
    with pytest.raises(EmergencyNumberRefused) as refused:
        route(CallFacts(form.format(n=number), AT), shipped)
    assert refused.value.number == number


def test_trunk_prefixes_are_stripped_only_on_that_trunk(shipped):
    assert route(CallFacts("1790912396", AT, trunk="ip-longdistance"), shipped).line.number == "12396"
    plan = route(CallFacts("1790912396", AT), shipped)
    assert plan.line.number == "12345" and Flag.UNKNOWN_NUMBER in plan.flags
    with pytest.raises(EmergencyNumberRefused):
        route(CallFacts("17951110", AT, trunk="ip-longdistance"), shipped)


def test_long_did_alias(shipped):
    assert route(CallFacts("63112345", AT), shipped).line.number == "12345"
    assert route(CallFacts("0871-63112345", AT), shipped).line.number == "12345"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+1 555 0100", "+15550100"), ("12345", "12345"), ("0871 12315", "12315"), ("+86-871-12315", "12315")],
)
def test_normalise_table(shipped, raw, expected):
    assert normalise(raw, shipped.numbering) == expected


def test_foreign_numbers_are_not_mistaken_for_ours(shipped):
    plan = route(CallFacts("+1110", AT), shipped)
    assert Flag.UNKNOWN_NUMBER in plan.flags
