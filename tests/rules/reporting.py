"""Assertions for rules-file errors: which problems, on which line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.rules.loader import load_rules
from ivr.rules.yamlsource import RulesError


def problems(path: Path) -> list[str]:
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def assert_reported_at(path: Path, text: str, at: str, message: str) -> None:
    """Loading `path` (holding `text`) reports `message` on the line of `at` ("text@N": its N-th line)."""
    found = problems(path)
    needle, _, occurrence = at.partition("@")
    line = line_of(text, needle, int(occurrence or 1))
    matching = [p for p in found if message in p]
    assert matching, f"no problem says {message!r}: {found}"
    assert any(p.startswith(f"{path}:{line}:") for p in matching), found
