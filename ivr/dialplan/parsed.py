"""The generated extensions file read back as Asterisk's pbx_config reads it: context -> extension -> priorities.
Only the subset the generator writes (`[context]`, `exten => NAME,1[(label)],App(data)`, `same => n[(label)],...`,
`;` comments, `\\;` for a semicolon in data): `ivr doctor` compares it with what Asterisk lists as loaded, and the
tests' dialplan interpreter runs it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENTRY = re.compile(r"(exten|same)\s*=>\s*(?:([^,]+),)?(1|n)(?:\(([A-Za-z0-9_-]+)\))?,(\w+)\((.*)\)")


class DialplanError(Exception):
    """Something the subset does not cover, or a dialplan Asterisk would not run as the generator meant."""


@dataclass(frozen=True)
class Priority:
    app: str
    data: str
    label: str


Contexts = dict[str, dict[str, list[Priority]]]


def parse(text: str) -> Contexts:
    contexts: Contexts = {}
    context: dict[str, list[Priority]] | None = None
    current: list[Priority] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        if section := re.fullmatch(r"\[([A-Za-z0-9_-]+)\]", line):
            context = contexts.setdefault(section[1], {})
            current = None
            continue
        entry = _ENTRY.fullmatch(line)
        if context is None or entry is None:
            raise DialplanError(f"line {number}: not understood: {raw!r}")
        kind, name, prio, label, app, data = entry.groups()
        if kind == "exten":
            if prio != "1" or name in context:
                raise DialplanError(f"line {number}: extension {name} must start at priority 1, once")
            current = context[name] = []
        elif current is None or prio != "n":
            raise DialplanError(f"line {number}: `same` without an extension above")
        current.append(Priority(app, data.replace("\\;", ";"), label or ""))
    return contexts


def _strip_comment(raw: str) -> str:
    at = 0
    while (at := raw.find(";", at)) != -1:
        if at == 0 or raw[at - 1] != "\\":
            return raw[:at]
        at += 1
    return raw
