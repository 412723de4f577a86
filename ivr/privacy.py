"""Caller numbers as they may appear in logs and default exports: masked, so a log file is not a phone book."""

from __future__ import annotations

# Chinese area codes of 2 digits after the trunk 0 (Beijing 010, 020-029); every other one has 3 (0871, 0755).
SHORT_AREA_CODES = ("10", "2")
MIN_MASKED = 3


def mask_number(number: str | None) -> str:
    """Keep what says where a number is from and its last 4 digits; mask the rest (138****8000).

    A mobile keeps its 3-digit network prefix, a landline its area code (0871-****3456), and a `+86`, `0086` or
    trunk `0` in front of either stays as it was (+86138****8000, 0138****8000). Any other number of 7 digits
    or more keeps 3 and 4 digits when it is long, 2 and 2 when it is short. Short service numbers (12345, 110)
    are not personal and stay readable. At least 3 digits are always masked.
    """
    if not number:
        return "unknown"
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) < 7:
        return number
    head, tail = _kept(digits, number.lstrip().startswith("+"))
    head = min(head, len(digits) - tail - MIN_MASKED)
    out = []
    seen = 0
    for ch in number:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= head or seen > len(digits) - tail else "*")
        else:
            out.append(ch)
    return "".join(out)


def _kept(digits: str, plus: bool) -> tuple[int, int]:
    """Digits kept at the start and at the end."""
    country = 0
    if digits.startswith("0086"):
        country = 4
    elif digits.startswith("86") and (plus or (len(digits) == 13 and digits[2] == "1")):
        country = 2
    national = digits[country:]
    if len(national) == 11 and national.startswith("1"):
        return country + 3, 4  # mobile: 138****8000
    if len(national) == 12 and national.startswith("01"):
        return country + 4, 4  # mobile dialed with the trunk 0: 0138****8000
    if national.startswith("0"):
        return country + 1 + _area_length(national[1:]), 4  # landline with the trunk 0: 0871-****3456
    if country:
        return country + _area_length(national), 4  # landline after +86: +86 871 ****3456
    return (3, 4) if len(digits) >= 11 else (2, 2)


def _area_length(rest: str) -> int:
    return 2 if rest.startswith(SHORT_AREA_CODES) else 3
