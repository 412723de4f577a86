"""Numbers as carriers deliver them, turned into the number a citizen meant to dial.

Pure: no lookups beyond the rule set given. Order matters and is the same everywhere (the router, the dialplan
generator, the checks): exact match first, then the trunk's own prefixes, the international prefix with the
country code, then the city's area code. Emergency detection runs on the result, so `+86110` or `0871-110`
are recognised as 110.
"""

from __future__ import annotations

from ivr.rules.model import Numbering

_SEPARATORS = str.maketrans("", "", " -().\t")


def _strip_first(number: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if number.startswith(prefix) and len(number) > len(prefix):
            return number[len(prefix) :]
    return number


def candidates(raw: str, numbering: Numbering, trunk: str | None = None) -> list[str]:
    """The forms of `raw` to look up, most literal first; the last one is the fully normalised number."""
    number = raw.strip().translate(_SEPARATORS)
    forms = [number]
    trunk_rules = numbering.trunks.get(trunk or "") or numbering.trunks.get("default")
    if trunk_rules is not None:
        number = _strip_first(number, trunk_rules.strip_prefixes)
        forms.append(number)
    international = _strip_first(number, numbering.international_prefixes)
    if international != number:
        if not international.startswith(numbering.country_code):
            return list(dict.fromkeys(forms))  # another country's number: nothing of ours in it
        number = international[len(numbering.country_code) :]
        forms.append(number)
        # After the country code an area code is written without its trunk 0: +86 871 12345.
        number = _strip_first(number, tuple(code[1:] for code in numbering.area_codes))
    else:
        number = _strip_first(number, numbering.area_codes)
    forms.append(number)
    return list(dict.fromkeys(forms))


def normalise(raw: str, numbering: Numbering, trunk: str | None = None) -> str:
    """The fully normalised number (digits only when the input was a phone number at all)."""
    return candidates(raw, numbering, trunk)[-1]
