"""The rules file's `lines`: each line's fields, its transition period and the moments that bound it, its aliases
and number checks, and the references check that resolves the names a line (and a destination) uses in the other
sections. A line is read first and resolved only once every section has been read, since it names departments,
data links, prompts and destinations from all over the file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from yaml.nodes import Node

from ivr.rules.fields import DIGITS, T, digits, names
from ivr.rules.model import (
    RATING_PROMPTS,
    AfterTransition,
    Announcement,
    DataLink,
    Department,
    Emergency,
    Line,
    Mode,
    Prompt,
    Queue,
    Seat,
    Transition,
)
from ivr.rules.numberingsection import emergency_numbers
from ivr.rules.yamlsource import Reader

MODES = tuple(mode.value for mode in Mode)


@dataclass(frozen=True)
class TransitionFields:
    starts: datetime
    ends: datetime
    after_prompts: tuple[str, ...]
    after_prompts_node: Node
    connect: bool


@dataclass(frozen=True)
class LineFields:
    """A line as read, before its references to departments, prompts and destinations are resolved."""

    number: str
    number_node: Node
    fields: dict[str, Node]
    mode: Mode | None
    aliases: tuple[tuple[str, Node], ...]
    transition: TransitionFields | None


class LineSection:
    """Reads each line with the loader's Reader; a transition's dates are read in the rules file's time zone."""

    def __init__(self, reader: Reader, zone: ZoneInfo | None) -> None:
        self.r = reader
        self.zone = zone

    def line(self, number: str, key_node: Node, body: Node) -> LineFields | None:
        if not DIGITS.match(number):
            self.r.problems.add(key_node, f"line number {number!r} must be digits only")
        f = self.r.fields(
            body,
            f"line {number}",
            required=("name_zh", "name_en", "department", "mode", "prompts", "destination"),
            optional=("aliases", "transition", "data_link", "note", "rating"),
        )
        if f is None or not {"name_zh", "name_en", "department", "mode", "prompts", "destination"} <= f.keys():
            return None
        mode_raw = self.r.choice(f["mode"], f"line {number} mode", MODES)
        mode = Mode(mode_raw) if mode_raw else None
        aliases = []
        for item in self.r.items(f["aliases"], "aliases") if "aliases" in f else []:
            alias = self.r.parsed(item, "alias", digits, "a number made of digits")
            if alias is not None:
                aliases.append((alias, item))
        transition = None
        if mode is Mode.ABSORBED and "transition" not in f:
            self.r.problems.add(body, f"line {number}: an absorbed line needs a transition period")
        if "transition" in f:
            if mode is not None and mode is not Mode.ABSORBED:
                self.r.problems.add(f["transition"], f"line {number}: only absorbed lines have a transition period")
            transition = self._transition(f["transition"], number)
        return LineFields(
            number=number,
            number_node=key_node,
            fields=f,
            mode=mode,
            aliases=tuple(aliases),
            transition=transition,
        )

    def _transition(self, node: Node, number: str) -> TransitionFields | None:
        f = self.r.fields(node, f"line {number} transition", required=("starts", "ends", "after"))
        if f is None or len(f) < 3:
            return None
        starts = self.r.parsed(f["starts"], "starts", self._moment_start, "YYYY-MM-DD or YYYY-MM-DD HH:MM")
        ends = self.r.parsed(f["ends"], "ends", self._moment_end, "YYYY-MM-DD or YYYY-MM-DD HH:MM")
        if starts and ends and ends <= starts:
            self.r.problems.add(f["ends"], f"line {number}: the transition ends before it starts")
            return None
        af = self.r.fields(f["after"], f"line {number} after", required=("prompts", "connect"))
        if af is None or len(af) < 2:
            return None
        after_prompts = names(self.r, af["prompts"], "after.prompts")
        if not after_prompts:
            self.r.problems.add(af["prompts"], "after the transition the caller must hear at least one prompt")
        connect = self.r.boolean(af["connect"], "after.connect")
        if starts is None or ends is None or connect is None:
            return None
        return TransitionFields(starts, ends, after_prompts, af["prompts"], connect)

    def _moment(self, raw: str) -> tuple[datetime, bool]:
        zone = self.zone or ZoneInfo("UTC")
        if re.fullmatch(r"\d{4}-\d\d-\d\d", raw):
            return datetime.combine(date.fromisoformat(raw), time(), zone), True
        if re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", raw):
            return datetime.fromisoformat(raw).replace(tzinfo=zone), False
        raise ValueError("no such date")

    def _moment_start(self, raw: str) -> datetime:
        return self._moment(raw)[0]

    def _moment_end(self, raw: str) -> datetime:
        """A bare date is the last day of service, so the period ends at the following midnight."""
        moment, whole_day = self._moment(raw)
        return moment + timedelta(days=1) if whole_day else moment

    def check_numbers(
        self, lines: dict[str, tuple[Node, LineFields | None]], emergency: Emergency | None
    ) -> dict[str, str]:
        """Numbers and aliases are unique and never emergency numbers; returns alias -> line number."""
        refused = emergency_numbers(emergency)
        owner: dict[str, str] = {}
        aliases: dict[str, str] = {}
        # Line numbers are claimed before aliases, so a clash is reported at the alias, where the mistake is.
        claims = [(number, number, key_node) for number, (key_node, _) in lines.items()]
        claims += [(number, alias, node) for number, (_, f) in lines.items() if f for alias, node in f.aliases]
        for number, claimed, node in claims:
            if claimed in refused:
                self.r.problems.add(node, f"{claimed} is an emergency number: it must never be routed by the merge")
            elif claimed in owner:
                self.r.problems.add(node, f"number {claimed} is used twice (already by line {owner[claimed]})")
            else:
                owner[claimed] = number
                if claimed != number:
                    aliases[claimed] = number
        return aliases


# The kind of first destination each mode requires: 12345 agents sit in queues, retained seats are dialed.
_DESTINATION_KIND = {
    Mode.MAIN: Queue,
    Mode.ABSORBED: Queue,
    Mode.DUAL_MERGED: Queue,
    Mode.DUAL_TRANSFER: Seat,
}


class References:
    """Resolves names used across sections and reports the ones that are not defined."""

    def __init__(
        self,
        reader: Reader,
        prompts: dict[str, Prompt],
        destinations: dict[str, Node],
        departments: dict[str, tuple[Node, Department | None]],
        data_links: dict[str, tuple[Node, DataLink | None]],
    ) -> None:
        self.r = reader
        self.prompts = prompts
        self.destinations = destinations
        self.departments = departments
        self.data_links = data_links
        self.rating_checked = False
        self.kinds: dict[str, type] = {}

    def check_destinations(
        self,
        queues: dict[str, tuple[Node, Queue | None]],
        seats: dict[str, tuple[Node, Seat | None]],
        announcements: dict[str, tuple[Node, Announcement | None]],
    ) -> None:
        for section, kind in ((queues, Queue), (seats, Seat), (announcements, Announcement)):
            for name in section:
                self.kinds[name] = kind
        for section in (queues, seats):
            for name, (key_node, dest) in section.items():
                if dest is None:
                    continue
                if dest.fallback not in self.destinations:
                    self.r.problems.add(
                        key_node, f"{name}: fallback {dest.fallback!r} is not a defined queue, seat or announcement"
                    )
                elif dest.fallback == name:
                    self.r.problems.add(key_node, f"{name}: falls back to itself")
                if isinstance(dest, Seat):
                    for prompt in (dest.prompt, dest.unavailable_prompt):
                        if prompt:
                            self.prompt(prompt, key_node)
        for _, (key_node, announcement) in announcements.items():
            for prompt in announcement.prompts if announcement else ():
                self.prompt(prompt, key_node)

    def prompt(self, name: str, node: Node) -> None:
        if self.prompts and name not in self.prompts:
            self.r.problems.add(node, f"prompt {name!r} is not defined in the prompt manifest")

    def line(self, lf: LineFields) -> Line | None:
        f = lf.fields
        zh, en = self.r.text(f["name_zh"], "name_zh"), self.r.text(f["name_en"], "name_en")
        department = self._lookup(f["department"], self.departments, "department")
        data_link = self._lookup(f["data_link"], self.data_links, "data link") if "data_link" in f else None
        prompts = tuple(v for v in (self.r.text(i, "prompts") for i in self.r.items(f["prompts"], "prompts")) if v)
        for prompt in prompts:
            self.prompt(prompt, f["prompts"])
        destination = self.r.text(f["destination"], "destination")
        if destination is not None and destination not in self.destinations:
            self.r.problems.add(f["destination"], f"destination {destination!r} is not a defined queue or seat")
        elif destination is not None and lf.mode is not None:
            wanted = _DESTINATION_KIND[lf.mode]
            if self.kinds.get(destination) is not wanted:
                self.r.problems.add(
                    f["destination"],
                    f"line {lf.number} is {lf.mode.value}: its destination must be a {wanted.__name__.lower()}",
                )
        note = self.r.text(f["note"], "note") if "note" in f else ""
        rating = self.r.boolean(f["rating"], "rating") if "rating" in f else True
        if rating and not self.rating_checked:  # said once, at the first line that asks for ratings
            self.rating_checked = True
            for prompt in RATING_PROMPTS:
                self.prompt(prompt, f.get("rating", f["mode"]))
        transition = None
        if lf.transition is not None:
            for prompt in lf.transition.after_prompts:
                self.prompt(prompt, lf.transition.after_prompts_node)
            transition = Transition(
                lf.transition.starts,
                lf.transition.ends,
                AfterTransition(lf.transition.after_prompts, lf.transition.connect),
            )
        if None in (zh, en, department, destination, lf.mode, note, rating) or ("data_link" in f and data_link is None):
            return None
        if lf.mode is Mode.ABSORBED and transition is None:
            return None
        return Line(
            number=lf.number,
            name_zh=zh,  # type: ignore[arg-type]
            name_en=en,  # type: ignore[arg-type]
            department=department,  # type: ignore[arg-type]
            mode=lf.mode,  # type: ignore[arg-type]
            prompts=prompts,
            destination=destination,  # type: ignore[arg-type]
            aliases=tuple(alias for alias, _ in lf.aliases),
            transition=transition,
            data_link=data_link,
            note=note or "",
            rating=bool(rating),
        )

    def _lookup(self, node: Node, table: dict[str, tuple[Node, T | None]], what: str) -> T | None:
        name = self.r.text(node, what)
        if name is None:
            return None
        if name not in table:
            self.r.problems.add(node, f"{what} {name!r} is not defined")
            return None
        return table[name][1]
