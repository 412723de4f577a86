"""Caller numbers as they may appear in logs and default exports: masked, so a log file is not a phone book."""

from __future__ import annotations


def mask_number(number: str | None) -> str:
    """Keep the first 3 and last 4 digits of a long number (138****8000), fewer of a short one.

    Short service numbers (12345, 110) are not personal and stay readable; anything with 7 digits or more is
    treated as a subscriber number, whatever its prefix (+86, 0, an area code).
    """
    if not number:
        return "unknown"
    digits = sum(ch.isdigit() for ch in number)
    if digits < 7:
        return number
    keep_head, keep_tail = (3, 4) if digits >= 11 else (2, 2)
    out = []
    seen = 0
    for ch in number:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= keep_head or seen > digits - keep_tail else "*")
        else:
            out.append(ch)
    return "".join(out)
