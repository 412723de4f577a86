"""Field readers more than one section of routing_rules.yaml uses: names, digits, Asterisk contexts, opening hours,
and a named section's entries. One copy each, below every section module, so the sections never import each other
for them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from types import MappingProxyType
from typing import TypeVar

from yaml.nodes import Node

from ivr.rules.model import DAYS, OpeningHours, OpeningSpan
from ivr.rules.yamlsource import Reader

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DIGITS = re.compile(r"^[0-9]{2,20}$")
CONTEXT = re.compile(r"^[A-Za-z0-9_-]{1,79}$")

T = TypeVar("T")


def frozen(mapping: dict[str, T]) -> MappingProxyType[str, T]:
    return MappingProxyType(dict(mapping))


def digits(raw: str) -> str:
    if not DIGITS.match(raw):
        raise ValueError("digits only, 2 to 20 of them")
    return raw


def asterisk_name(raw: str) -> str:
    """An Asterisk context or queue name."""
    if not CONTEXT.match(raw):
        raise ValueError("letters, digits, - and _")
    return raw


def check_name(reader: Reader, name: str, key_node: Node, what: str) -> None:
    if not NAME.match(name):
        reader.problems.add(key_node, f"{what}: name {name!r} must be lower-case letters, digits, - and _")


def names(reader: Reader, node: Node, what: str) -> tuple[str, ...]:
    return tuple(v for v in (reader.text(item, what) for item in reader.items(node, what)) if v)


def section(
    reader: Reader, node: Node | None, what: str, build: Callable[[str, Node, Node], T | None]
) -> dict[str, tuple[Node, T | None]]:
    """Every entry by name with its key node and what `build` made of it: None when its body is invalid, the name
    still registered (see the loader's builder)."""
    found: dict[str, tuple[Node, T | None]] = {}
    if node is None:
        return found
    for name, key_node, body in reader.entries(node, what):
        found[name] = (key_node, build(name, key_node, body))
    return found


def opening_hours(reader: Reader, node: Node) -> OpeningHours | None:
    """A seat's hours and the callback hours: 7x24 or a list of {days, from, to}."""
    if getattr(node, "value", None) == "7x24":
        return OpeningHours()
    spans = []
    for item in reader.items(node, "hours (7x24 or a list of {days, from, to})"):
        f = reader.fields(item, "opening hours", required=("days", "from", "to"))
        if f is None or len(f) < 3:
            return None
        days = reader.parsed(f["days"], "days", _day_set, "days such as mon-fri")
        opens = reader.parsed(f["from"], "from", _clock, "HH:MM")
        closes = reader.parsed(f["to"], "to", _clock, "HH:MM or 24:00")
        if days is None or opens is None:
            return None
        if closes is not None and closes <= opens:
            reader.problems.add(f["to"], "opening hours end before they start")
            return None
        spans.append(OpeningSpan(days, opens, closes))
    return OpeningHours(tuple(spans)) if spans else None


def _clock(raw: str) -> time | None:
    """HH:MM; 24:00 (end of day) gives None."""
    if raw == "24:00":
        return None
    if not re.fullmatch(r"\d\d:\d\d", raw):
        raise ValueError("a time of day HH:MM")
    return time.fromisoformat(raw)


def _day_set(raw: str) -> frozenset[int]:
    days: set[int] = set()
    for part in raw.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError("days such as mon-fri or sat,sun")
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            raise ValueError(f"{part} runs backwards")
        days.update(range(start, end + 1))
    return frozenset(days)
