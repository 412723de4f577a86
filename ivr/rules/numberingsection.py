"""The rules file's `numbering` and `emergency` sections: how carriers deliver numbers, and the emergency numbers
that are never routed. Together because both say what a dialed number is; the lines and the linkage read the
emergency numbers to refuse them."""

from __future__ import annotations

import re

from yaml.nodes import Node

from ivr.rules.fields import DIGITS, asterisk_name, check_name, digits, frozen
from ivr.rules.model import Emergency, Numbering, Trunk
from ivr.rules.yamlsource import Reader

PREFIX = re.compile(r"^(\+|\+?[0-9]{1,8})$")
EMERGENCY_REQUIRED = ("110", "119", "120", "122")


def emergency_numbers(emergency: Emergency | None) -> set[str]:
    """The numbers nothing else may claim; the required ones when the section itself is invalid."""
    return set(emergency.numbers) if emergency else set(EMERGENCY_REQUIRED)


class NumberingSection:
    """Reads both sections with the loader's Reader, so their problems come out with the rest of the file's."""

    def __init__(self, reader: Reader) -> None:
        self.r = reader

    def numbering(self, node: Node | None) -> Numbering | None:
        if node is None:
            return None
        f = self.r.fields(
            node,
            "numbering",
            required=("country_code", "international_prefixes", "area_codes"),
            optional=("trunks",),
        )
        if f is None:
            return None
        country = self._digit_field(f.get("country_code"), "numbering.country_code")
        intl = self._prefixes(f.get("international_prefixes"), "numbering.international_prefixes")
        areas = self._prefixes(f.get("area_codes"), "numbering.area_codes")
        for area_node in self.r.items(f["area_codes"], "numbering.area_codes") if "area_codes" in f else []:
            if not str(area_node.value).startswith("0"):
                self.r.problems.add(area_node, "an area code is written with its leading 0, e.g. '0871'")
        trunks: dict[str, Trunk] = {}
        if "trunks" in f:
            for name, key_node, body in self.r.entries(f["trunks"], "numbering.trunks"):
                check_name(self.r, name, key_node, "numbering.trunks")  # the dialplan passes it to the engine
                tf = self.r.fields(body, f"trunk {name!r}", required=("strip_prefixes",))
                if tf and "strip_prefixes" in tf:
                    strip = self._prefixes(tf["strip_prefixes"], f"trunk {name!r} strip_prefixes")
                    trunks[name] = Trunk(name, strip)
        if country is None:
            return None
        return Numbering(intl, country, areas, frozen(trunks))

    def _prefixes(self, node: Node | None, what: str) -> tuple[str, ...]:
        if node is None:
            return ()
        values = []
        for item in self.r.items(node, what):
            value = self.r.parsed(item, what, _prefix, "digits, optionally after a +")
            if value is not None:
                values.append(value)
        return tuple(sorted(values, key=len, reverse=True))

    def _digit_field(self, node: Node | None, what: str) -> str | None:
        return None if node is None else self.r.parsed(node, what, digits, "a number made of digits")

    def emergency(self, node: Node | None) -> Emergency | None:
        if node is None:
            return None
        f = self.r.fields(node, "emergency", required=("context", "numbers"))
        if f is None:
            return None
        context = None
        if "context" in f:
            context = self.r.parsed(f["context"], "emergency.context", asterisk_name, "an Asterisk context name")
        numbers: dict[str, str] = {}
        if "numbers" in f:
            for number, key_node, body in self.r.entries(f["numbers"], "emergency.numbers"):
                if not DIGITS.match(number):
                    self.r.problems.add(key_node, f"emergency number {number!r} must be digits")
                    continue
                name = self.r.text(body, f"emergency number {number}")
                numbers[number] = name or ""
            for required in EMERGENCY_REQUIRED:
                if required not in numbers:
                    self.r.problems.add(f["numbers"], f"emergency.numbers must include {required}")
        if context is None:
            return None
        return Emergency(context, frozen(numbers))


def _prefix(raw: str) -> str:
    if not PREFIX.match(raw):
        raise ValueError("digits, optionally after a +")
    return raw
