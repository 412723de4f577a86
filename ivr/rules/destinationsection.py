"""The rules file's destinations: `queues`, `seats` (with their opening hours) and `announcements`. Together because
they share one name space and fall back to each other, so the name and fallback-chain checks span all three."""

from __future__ import annotations

import re

from yaml.nodes import Node

from ivr.rules.fields import asterisk_name, check_name, names, opening_hours
from ivr.rules.model import Announcement, OpeningHours, Queue, Seat
from ivr.rules.yamlsource import Reader

DIAL_STRING = re.compile(r"^[A-Za-z0-9/@._:+-]{3,120}$")


class DestinationSection:
    """Reads the three sections with the loader's Reader, so their problems come out with the rest of the file's."""

    def __init__(self, reader: Reader) -> None:
        self.r = reader

    def queue(self, name: str, key_node: Node, body: Node) -> Queue | None:
        check_name(self.r, name, key_node, "queues")
        f = self.r.fields(body, f"queue {name!r}", required=("queue", "name_zh", "name_en", "timeout", "fallback"))
        if f is None or len(f) < 5:
            return None
        queue = self.r.parsed(f["queue"], "queue", asterisk_name, "an Asterisk queue name")
        zh, en = self.r.text(f["name_zh"], "name_zh"), self.r.text(f["name_en"], "name_en")
        timeout = self.r.integer(f["timeout"], "timeout (seconds a caller waits)", 5, 3600)
        fallback = self.r.text(f["fallback"], "fallback")
        if None in (queue, zh, en, timeout, fallback):
            return None
        return Queue(name, queue, zh, en, timeout, fallback)  # type: ignore[arg-type]

    def seat(self, name: str, key_node: Node, body: Node) -> Seat | None:
        check_name(self.r, name, key_node, "seats")
        f = self.r.fields(
            body,
            f"seat {name!r}",
            required=("dial", "name_zh", "name_en", "ring_timeout", "fallback"),
            optional=("hours", "prompt", "unavailable_prompt"),
        )
        if f is None or not {"dial", "name_zh", "name_en", "ring_timeout", "fallback"} <= f.keys():
            return None
        dial = self.r.parsed(f["dial"], "dial", _dial_string, "an Asterisk dial string such as PJSIP/12333@trunk")
        zh, en = self.r.text(f["name_zh"], "name_zh"), self.r.text(f["name_en"], "name_en")
        ring = self.r.integer(f["ring_timeout"], "ring_timeout (seconds)", 5, 120)
        fallback = self.r.text(f["fallback"], "fallback")
        hours = opening_hours(self.r, f["hours"]) if "hours" in f else OpeningHours()
        unavailable = self.r.text(f["unavailable_prompt"], "unavailable_prompt") if "unavailable_prompt" in f else None
        prompt = self.r.text(f["prompt"], "prompt") if "prompt" in f else None
        if None in (dial, zh, en, ring, fallback, hours):
            return None
        return Seat(name, dial, zh, en, ring, hours, prompt, unavailable, fallback)  # type: ignore[arg-type]

    def announcement(self, name: str, key_node: Node, body: Node) -> Announcement | None:
        check_name(self.r, name, key_node, "announcements")
        f = self.r.fields(body, f"announcement {name!r}", required=("prompts",))
        if not f or "prompts" not in f:
            return None
        prompts = names(self.r, f["prompts"], "prompts")
        if not prompts:
            self.r.problems.add(f["prompts"], "an announcement must play at least one prompt")
            return None
        return Announcement(name, prompts)

    def destinations(
        self,
        queues: dict[str, tuple[Node, Queue | None]],
        seats: dict[str, tuple[Node, Seat | None]],
        announcements: dict[str, tuple[Node, Announcement | None]],
    ) -> dict[str, Node]:
        """Every destination name with its key node; a name used in two sections is reported where it comes again."""
        found: dict[str, Node] = {}
        for section in (queues, seats, announcements):
            for name, (key_node, _) in section.items():
                if name in found:
                    self.r.problems.add(key_node, f"destination name {name!r} is used twice")
                found[name] = key_node
        return found

    def check_chains(
        self,
        queues: dict[str, tuple[Node, Queue | None]],
        seats: dict[str, tuple[Node, Seat | None]],
        destinations: dict[str, Node],
    ) -> None:
        """Every fallback chain must end in an announcement, without a loop, so no plan can dead-end."""
        nxt: dict[str, str] = {}
        for section in (queues, seats):
            for name, (_, dest) in section.items():
                if dest is not None:
                    nxt[name] = dest.fallback
        for start in nxt:
            seen = [start]
            current = start
            while current in nxt:
                current = nxt[current]
                if current in seen:
                    chain = " -> ".join([*seen, current])
                    self.r.problems.add(destinations[start], f"fallback chain loops: {chain}")
                    break
                seen.append(current)


def _dial_string(raw: str) -> str:
    if not DIAL_STRING.match(raw):
        raise ValueError("no spaces, commas or special characters")
    return raw
