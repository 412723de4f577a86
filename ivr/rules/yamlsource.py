"""YAML read as position-carrying nodes, with hard limits, so every problem can be reported as file:line:col.

We never construct Python objects from YAML: the composer gives us nodes with marks, and the rules loader reads
their raw text itself. That keeps YAML 1.1 surprises away (`no` becoming False, `0871` becoming an octal number)
and means no tag can build an object.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 200_000

PLAIN_TAGS = frozenset(
    {
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:timestamp",
        "tag:yaml.org,2002:seq",
        "tag:yaml.org,2002:map",
    }
)

T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file, printed as `file:line:col: message` (line and col 1-based)."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class RulesError(Exception):
    """Raised with every problem found, so an admin fixes them all in one pass instead of one per run."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Problems:
    """Collects problems for one file while the loader goes on looking for more."""

    path: str
    items: list[Problem] = field(default_factory=list)

    def add(self, node: Node | None, message: str) -> None:
        if node is None:
            self.items.append(Problem(self.path, 1, 1, message))
            return
        mark = node.start_mark
        self.items.append(Problem(self.path, mark.line + 1, mark.column + 1, message))


class _DepthLimitedLoader(yaml.SafeLoader):
    """SafeLoader whose (recursive) composer stops at MAX_DEPTH instead of exhausting the Python stack."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.MarkedYAMLError(problem=f"nesting deeper than {MAX_DEPTH} levels", problem_mark=mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# The line breaks PyYAML's reader counts in its marks (CR LF counts once).
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _position(before: str) -> tuple[int, int]:
    """Line and column (in characters, as PyYAML's marks count them) just after `before`, the file's text up to
    the problem: for the errors that carry an offset instead of a mark."""
    breaks = list(_LINE_BREAK.finditer(before))
    return len(breaks) + 1, len(before) - (breaks[-1].end() if breaks else 0) + 1


def _read_regular_file(path: Path, name: str) -> bytes:
    """At most one byte over the limit of `path`. Opened without blocking and refused unless a regular file: a
    FIFO or a device named as the rules or the manifest would otherwise hang a reload, or `ivr check`, for ever."""
    try:
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise RulesError([Problem(name, 1, 1, "not a regular file (a FIFO or a device)")])
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise RulesError([Problem(name, 1, 1, f"cannot read the file: {exc.strerror or exc}")]) from None


def read_yaml(path: Path, shown_as: str | None = None, data: bytes | None = None) -> Node:
    """Compose `path` into a node tree, or raise RulesError with the one problem that stopped it. `data`, when
    given, is the file's content already read (standard input), checked exactly as a file's would be."""
    name = shown_as or str(path)
    if data is None:
        data = _read_regular_file(path, name)
    if len(data) > MAX_FILE_BYTES:
        raise RulesError([Problem(name, 1, 1, f"file is larger than {MAX_FILE_BYTES} bytes")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(data[: exc.start].decode("utf-8"))
        raise RulesError([Problem(name, line, col, "not valid UTF-8")]) from None
    try:
        node = yaml.compose(text, Loader=_DepthLimitedLoader)
    except yaml.MarkedYAMLError as exc:
        raise RulesError([_syntax_problem(name, text, exc)]) from None
    except ReaderError as exc:  # a character YAML forbids (control characters): it has no mark
        line, col = _position(text[: exc.position])
        found = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise RulesError([Problem(name, line, col, f"YAML error: character {found}: {exc.reason}")]) from None
    except yaml.YAMLError as exc:
        raise RulesError([Problem(name, 1, 1, f"YAML error: {exc}")]) from None
    if node is None:
        raise RulesError([Problem(name, 1, 1, "the file is empty")])
    _check_tags_and_size(node, Problems(name))
    return node


def _syntax_problem(name: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    """Where the syntax error is. PyYAML marks the token it could not place, which for a quote left open is far
    below the mistake: the string ran on, over the following lines, to the next quote in the file. A quoted string
    spanning lines before the error (legal YAML, never needed in a rules file) is named instead, where it opens."""
    mark = exc.problem_mark or exc.context_mark
    runaway = _runaway_quote(text, mark.line if mark else 0)
    if runaway is not None:
        start, end = runaway
        message = f"YAML syntax error: this quoted string runs on to line {end.line + 1} (a closing quote missing?)"
        return Problem(name, start.line + 1, start.column + 1, message)
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    what = " ".join(part for part in (exc.context, exc.problem) if part)
    return Problem(name, line, col, f"YAML syntax error: {what}")


def _runaway_quote(text: str, before_line: int) -> tuple[yaml.Mark, yaml.Mark] | None:
    """The start and end of the last quoted scalar spanning lines that ends by `before_line`, if any."""
    found = None
    tokens = yaml.scan(text, Loader=_DepthLimitedLoader)
    try:
        for token in tokens:
            if token.start_mark.line > before_line:
                break
            quoted = isinstance(token, yaml.ScalarToken) and token.style in ('"', "'")
            if quoted and token.end_mark.line > token.start_mark.line:
                found = (token.start_mark, token.end_mark)
    except yaml.YAMLError:
        pass  # the scanner stops at the same error: what it scanned before is what counts
    return found


def _check_tags_and_size(root: Node, problems: Problems) -> None:
    """Refuse explicit tags and alias bombs before any reader walks the tree."""
    seen = 0
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            problems.add(root, f"more than {MAX_NODES} YAML nodes (aliases expand too far)")
            break
        if node.tag not in PLAIN_TAGS:
            problems.add(node, f"YAML tag {node.tag!r} is not allowed: write plain values")
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == "<<" and key.tag.endswith(":merge"):
                    problems.add(key, "merge keys (<<) are not supported: write the keys out")
                stack.extend((key, value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    if problems.items:
        raise RulesError(problems.items)


class Reader:
    """Reads typed values out of nodes, recording a problem (and returning None) instead of raising."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def fields(
        self, node: Node, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, Node] | None:
        """The mapping's values by key; unknown, duplicate and missing keys are reported."""
        if not isinstance(node, MappingNode):
            self.problems.add(node, f"{what} must be a mapping of keys to values")
            return None
        allowed = required + optional
        found: dict[str, Node] = {}
        for key, value in node.value:
            name = self.key(key, what)
            if name is None:
                continue
            if name in found:
                self.problems.add(key, f"{what}: key {name!r} appears twice")
            elif name not in allowed:
                self.problems.add(key, f"{what}: unknown key {name!r}{_suggest(name, allowed)}")
            else:
                found[name] = value
        for name in required:
            if name not in found:
                self.problems.add(node, f"{what}: missing key {name!r}")
        return found

    def entries(self, node: Node, what: str) -> Iterator[tuple[str, Node, Node]]:
        """(key, key node, value node) of a mapping with free keys (names), duplicates reported."""
        if not isinstance(node, MappingNode):
            self.problems.add(node, f"{what} must be a mapping")
            return
        seen: set[str] = set()
        for key, value in node.value:
            name = self.key(key, what)
            if name is None:
                continue
            if name in seen:
                self.problems.add(key, f"{what}: {name!r} is defined twice")
                continue
            seen.add(name)
            yield name, key, value

    def key(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode):
            self.problems.add(node, f"{what}: keys must be plain text")
            return None
        return str(node.value)

    def items(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.problems.add(node, f"{what} must be a list")
            return []
        return list(node.value)

    def text(self, node: Node, what: str, allow_empty: bool = False) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag.endswith(":null"):
            self.problems.add(node, f"{what} must be text")
            return None
        value = str(node.value)
        if not value.strip() and not allow_empty:
            self.problems.add(node, f"{what} must not be empty")
            return None
        return value

    def parsed(self, node: Node, what: str, parse: Callable[[str], T], expected: str) -> T | None:
        """A scalar converted by `parse`; a ValueError from it becomes a problem naming `expected`."""
        raw = self.text(node, what)
        if raw is None:
            return None
        try:
            return parse(raw)
        except ValueError as exc:
            detail = f" ({exc})" if str(exc) and str(exc) != expected else ""
            self.problems.add(node, f"{what} must be {expected}, not {raw!r}{detail}")
            return None

    def integer(self, node: Node, what: str, low: int, high: int) -> int | None:
        def parse(raw: str) -> int:
            if not raw.isdigit():
                raise ValueError
            value = int(raw)
            if not low <= value <= high:
                raise ValueError(f"allowed: {low} to {high}")
            return value

        return self.parsed(node, what, parse, f"a whole number from {low} to {high}")

    def boolean(self, node: Node, what: str) -> bool | None:
        words = {"true": True, "yes": True, "false": False, "no": False}

        def parse(raw: str) -> bool:
            if raw.lower() not in words:
                raise ValueError
            return words[raw.lower()]

        return self.parsed(node, what, parse, "true or false")

    def choice(self, node: Node, what: str, allowed: tuple[str, ...]) -> str | None:
        def parse(raw: str) -> str:
            if raw not in allowed:
                raise ValueError(f"one of: {', '.join(allowed)}{_suggest(raw, allowed)}")
            return raw

        return self.parsed(node, what, parse, "a known value")


def _suggest(name: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, allowed, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
