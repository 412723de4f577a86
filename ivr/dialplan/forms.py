"""Every form in which a carrier may deliver a number the rules know, and where the router sends each one.

The forms are the reverse of `ivr.rules.numbering`: the trunk's own prefixes, the international prefix with the
country code (with or without the area code after it), the area code. Which line (or emergency number) a form
stands for is not worked out here but asked of the router, so the dialplan can never disagree with the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.router.decide import CallFacts, route
from ivr.router.plan import EmergencyNumberRefused, Flag
from ivr.rules.model import Numbering, Rules


@dataclass(frozen=True)
class Form:
    """A number as delivered, and what it is: a line (its number) or an emergency number (the number)."""

    delivered: str
    line: str | None = None
    emergency: str | None = None


def delivered_forms(number: str, numbering: Numbering, trunk: str | None) -> list[str]:
    """The forms of `number` that numbering.candidates() turns back into it on this trunk, shortest first."""
    trunk_rules = numbering.trunks.get(trunk or "") or numbering.trunks.get("default")
    trunk_prefixes = ("", *(trunk_rules.strip_prefixes if trunk_rules else ()))
    national = [number, *(area + number for area in numbering.area_codes)]
    after_country = [number, *(area[1:] + number for area in numbering.area_codes)]
    international = [
        p + numbering.country_code + rest for p in numbering.international_prefixes for rest in after_country
    ]
    return list(dict.fromkeys(t + form for t in trunk_prefixes for form in (*national, *international)))


def inbound_forms(rules: Rules, trunk: str | None) -> list[Form]:
    """Every delivered form of every emergency number, line and alias on this trunk, emergency numbers first,
    then the lines in the rules' order; a form the router sends nowhere known (12345 as an unknown number) is
    left to the catch-all."""
    numbers = [*rules.emergency.numbers, *rules.lines, *rules.by_alias]
    forms: dict[str, Form] = {}
    for number in numbers:
        for delivered in delivered_forms(number, rules.numbering, trunk):
            if delivered not in forms:
                forms[delivered] = _routed(delivered, rules, trunk)
    known = [form for form in forms.values() if form.line or form.emergency]
    order = {number: i for i, number in enumerate(rules.lines)}
    return sorted(known, key=lambda form: (form.line is not None, order.get(form.line or "", -1)))


def _routed(delivered: str, rules: Rules, trunk: str | None) -> Form:
    # The line a number belongs to does not depend on the time; any moment will do.
    facts = CallFacts(dialed=delivered, at=datetime.fromtimestamp(0, rules.timezone), trunk=trunk)
    try:
        plan = route(facts, rules)
    except EmergencyNumberRefused as refused:
        return Form(delivered, emergency=refused.number)
    if Flag.UNKNOWN_NUMBER in plan.flags:
        return Form(delivered)
    return Form(delivered, line=plan.line.number)
