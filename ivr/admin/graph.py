"""`ivr graph`: every route of the rules as one diagram, drawn by `dot` (Graphviz) or written as mermaid text.

This module only decides what the picture holds; `dot` and `mermaid` write it. To fit one screen, lines whose
routes read the same (their own number aside, as transition-NNNNN) share one box, with a row per department:
in the shipped rules the 18 absorbed lines are one box, not 18. Modes are clusters; queues, seats and the final
announcements follow left to right with their fallbacks; the emergency numbers stand apart, never routed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ivr.admin.timeline import describe_opening
from ivr.admin.words import generic
from ivr.rules.model import Announcement, Line, Mode, Queue, Rules, Seat

MODE_TITLES = {
    Mode.MAIN: "main line: 12345 itself",
    Mode.ABSORBED: "absorbed: number retired, answered by 12345",
    Mode.DUAL_TRANSFER: "dual-transfer: number kept, department seat first",
    Mode.DUAL_MERGED: "dual-merged: number kept, answered by 12345 agents",
}


@dataclass(frozen=True)
class Row:
    """Numbers of one department in a box of lines."""

    numbers: str
    department: str


@dataclass(frozen=True)
class Node:
    """A box: `kind` is lines, queue, seat, announcement, hangup or emergency; `lines` are the text under the
    title, `rows` the numbers of a box of lines or of the emergency box."""

    id: str
    kind: str
    title: str
    lines: tuple[str, ...] = ()
    rows: tuple[Row, ...] = ()


@dataclass(frozen=True)
class Edge:
    """`kind`: route (the line's first destination), after (once an absorbed line's transition period is over),
    or fallback (where a queue or seat sends the caller when it fails)."""

    source: str
    target: str
    label: str
    kind: str


@dataclass(frozen=True)
class Cluster:
    """A group of boxes; `kind` is a mode (main, absorbed, dual-transfer, dual-merged), or queue, seat,
    announcement or emergency."""

    id: str
    title: str
    kind: str
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class Diagram:
    title: str
    clusters: tuple[Cluster, ...]
    nodes: Mapping[str, Node]
    edges: tuple[Edge, ...]


def diagram(rules: Rules) -> Diagram:
    ids = _Ids()
    nodes: dict[str, Node] = {}
    clusters: list[Cluster] = []
    edges: list[Edge] = []
    destination_ids = {name: ids.make(name) for name in (*rules.queues, *rules.seats, *rules.announcements)}
    hangup = ids.make("hang-up")
    hangup_needed = False

    for mode in Mode:
        members: list[str] = []
        for index, lines in enumerate(_groups([line for line in rules.lines.values() if line.mode is mode])):
            node = Node(ids.make(f"lines-{mode.value}-{index + 1}"), "lines", _group_title(lines), rows=_rows(lines))
            nodes[node.id] = node
            members.append(node.id)
            first, *_ = lines
            target = destination_ids[first.destination]
            prompts = _name_prompts(first.prompts, lines)
            transition = first.transition
            if transition is None:
                edges.append(Edge(node.id, target, prompts, "route"))
                continue
            ends = f"{transition.ends.astimezone(rules.timezone):%Y-%m-%d %H:%M}"
            edges.append(Edge(node.id, target, _labelled(f"until {ends}", prompts), "route"))
            after = _labelled(f"from {ends}", _name_prompts(transition.after.prompts, lines))
            if transition.after.connect:
                edges.append(Edge(node.id, target, after, "after"))
            else:
                edges.append(Edge(node.id, hangup, after, "after"))
                hangup_needed = True
        if members:
            clusters.append(Cluster(ids.make(f"mode-{mode.value}"), MODE_TITLES[mode], mode.value, tuple(members)))

    for title, kind, section in (
        ("12345 agents and expert queues", "queue", rules.queues),
        ("retained department seats", "seat", rules.seats),
        ("final instructions", "announcement", rules.announcements),
    ):
        members = []
        for name, destination in section.items():
            node = Node(destination_ids[name], kind, name, _describe(destination))
            nodes[node.id] = node
            members.append(node.id)
            if not isinstance(destination, Announcement):
                edges.append(Edge(node.id, destination_ids[destination.fallback], _failure(destination), "fallback"))
        if members:
            clusters.append(Cluster(ids.make(f"{kind}s"), title, kind, tuple(members)))
    if hangup_needed:
        nodes[hangup] = Node(hangup, "hangup", "hang up")

    emergency = Node(
        ids.make("emergency"),
        "emergency",
        "never routed",
        (f"dialplan context {rules.emergency.context}",),
        tuple(Row(number, service) for number, service in rules.emergency.numbers.items()),
    )
    nodes[emergency.id] = emergency
    clusters.append(Cluster(ids.make("emergency-numbers"), "emergency numbers", "emergency", (emergency.id,)))
    count = len(rules.lines) + len(rules.emergency.numbers)
    title = f"{count} numbers: {len(rules.lines)} routed, {len(rules.emergency.numbers)} emergency numbers never routed"
    return Diagram(title, tuple(clusters), MappingProxyType(nodes), tuple(edges))


def _groups(lines: list[Line]) -> list[list[Line]]:
    """Lines whose routes read the same once each one's own number is set aside, in the file's order."""
    groups: dict[tuple[object, ...], list[Line]] = {}
    for line in lines:
        transition = line.transition
        key = (
            line.destination,
            tuple(generic(prompt, line.number) for prompt in line.prompts),
            None
            if transition is None
            else (
                transition.ends,
                tuple(generic(prompt, line.number) for prompt in transition.after.prompts),
                transition.after.connect,
            ),
        )
        groups.setdefault(key, []).append(line)
    return list(groups.values())


def _group_title(lines: list[Line]) -> str:
    return f"{len(lines)} {lines[0].mode.value} lines" if len(lines) > 1 else ""


def _rows(lines: list[Line]) -> tuple[Row, ...]:
    by_department: dict[str, list[str]] = {}
    for line in lines:
        shown = f"{line.number} (also {', '.join(line.aliases)})" if line.aliases else line.number
        by_department.setdefault(line.department.id, []).append(shown)
    return tuple(Row(" ".join(numbers), department) for department, numbers in by_department.items())


def _name_prompts(prompts: tuple[str, ...], lines: list[Line]) -> str:
    if not prompts:
        return ""
    names = prompts if len(lines) == 1 else tuple(generic(p, lines[0].number) for p in prompts)
    return "play " + ", ".join(names)


def _labelled(when: str, prompts: str) -> str:
    return f"{when}: {prompts}" if prompts else when


def _describe(destination: Queue | Seat | Announcement) -> tuple[str, ...]:
    if isinstance(destination, Queue):
        asterisk = () if destination.queue == destination.name else (f"Asterisk queue {destination.queue}",)
        return (destination.name_en, *asterisk, f"waits up to {destination.timeout} s")
    if isinstance(destination, Seat):
        prompt = (f"plays {destination.prompt} first",) if destination.prompt else ()
        return (
            destination.name_en,
            destination.dial,
            f"open {describe_opening(destination.hours)}, rings {destination.ring_timeout} s",
            *prompt,
        )
    return ("play " + ", ".join(destination.prompts), "then hang up")


def _failure(destination: Queue | Seat) -> str:
    if isinstance(destination, Queue):
        return f"no answer in {destination.timeout} s"
    unavailable = f": play {destination.unavailable_prompt}" if destination.unavailable_prompt else ""
    return f"busy, no answer, closed or down{unavailable}"


class _Ids:
    """Identifiers both Graphviz and mermaid accept, unique even when two names differ only in punctuation."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, name: str) -> str:
        base = "n_" + re.sub(r"[^A-Za-z0-9]", "_", name)
        candidate, suffix = base, 2
        while candidate in self.used:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        self.used.add(candidate)
        return candidate
