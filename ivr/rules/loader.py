"""Load routing_rules.yaml (and the prompt manifest it names), check everything, and freeze it into Rules.

All problems are collected and reported together as `file:line:col: message`; nothing is returned unless the
whole file is valid, so a bad edit can never go live half-applied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import Node

from ivr.rules.calendarsection import CalendarSection
from ivr.rules.model import (
    CALLBACK_PROMPT,
    DAYS,
    RATING_PROMPTS,
    AfterTransition,
    Announcement,
    CalendarRules,
    Callbacks,
    DataLink,
    Department,
    Emergency,
    Engine,
    Line,
    Linkage,
    Mode,
    Numbering,
    OpeningHours,
    OpeningSpan,
    Prompt,
    Queue,
    Rules,
    Seat,
    Transition,
    Trunk,
)
from ivr.rules.yamlsource import Problems, Reader, RulesError, read_yaml

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DIGITS = re.compile(r"^[0-9]{2,20}$")
PREFIX = re.compile(r"^(\+|\+?[0-9]{1,8})$")
DIAL_STRING = re.compile(r"^[A-Za-z0-9/@._:+-]{3,120}$")
AGI_URL = re.compile(
    r"^(agi://[A-Za-z0-9.-]+(:[0-9]{1,5})?|agi://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?|hagi://[A-Za-z0-9._-]+)$"
)
CONTEXT = re.compile(r"^[A-Za-z0-9_-]{1,79}$")
EMERGENCY_REQUIRED = ("110", "119", "120", "122")
MODES = tuple(mode.value for mode in Mode)

T = TypeVar("T")


def load_rules(path: Path | str, data: bytes | None = None) -> Rules:
    """The validated rule set in `path`, or RulesError listing every problem in it. With `data` (a file read from
    standard input), `path` only names it in problems and anchors the prompt manifest's relative path."""
    path = Path(path)
    root = read_yaml(path, data=data)
    problems = Problems(str(path))
    rules = _RulesBuilder(path, Reader(problems)).build(root)
    if problems.items or rules is None:
        raise RulesError(problems.items)
    return rules


def _frozen(mapping: dict[str, T]) -> MappingProxyType[str, T]:
    return MappingProxyType(dict(mapping))


def _digits(raw: str) -> str:
    if not DIGITS.match(raw):
        raise ValueError("digits only, 2 to 20 of them")
    return raw


def _name(raw: str) -> str:
    if not NAME.match(raw):
        raise ValueError("lower-case letters, digits, - and _")
    return raw


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


class _RulesBuilder:
    """One pass over the node tree; names are registered even when their body is invalid, so a bad queue
    does not also produce a cascade of 'undefined queue' problems."""

    def __init__(self, path: Path, reader: Reader) -> None:
        self.path = path
        self.r = reader
        self.zone: ZoneInfo | None = None
        self.recordings = path.parent

    def build(self, root: Node) -> Rules | None:
        top = self.r.fields(
            root,
            "rules file",
            required=(
                "version",
                "timezone",
                "prompt_manifest",
                "numbering",
                "emergency",
                "departments",
                "queues",
                "announcements",
                "lines",
            ),
            optional=("data_links", "seats", "calendar", "engine", "linkage", "callbacks"),
        )
        if top is None:
            return None
        if "version" in top:
            self.r.integer(top["version"], "version", 1, 1)
        self.zone = self._zone(top.get("timezone"))
        prompts = self._prompts(top.get("prompt_manifest"))
        numbering = self._numbering(top.get("numbering"))
        emergency = self._emergency(top.get("emergency"))
        departments = self._named_texts(top.get("departments"), "departments", Department)
        data_links = self._named_texts(top.get("data_links"), "data_links", DataLink)
        queues = self._section(top.get("queues"), "queues", self._queue)
        seats = self._section(top.get("seats"), "seats", self._seat)
        announcements = self._section(top.get("announcements"), "announcements", self._announcement)
        lines = self._section(top.get("lines"), "lines", self._line_node)
        calendar = CalendarSection(self.r).read(top["calendar"]) if "calendar" in top else CalendarRules()
        engine = self._engine(top["engine"]) if "engine" in top else Engine()
        linkage = self._linkage(top["linkage"], emergency) if "linkage" in top else Linkage()
        callbacks = self._callbacks(top["callbacks"], set(queues)) if "callbacks" in top else Callbacks()

        destinations: dict[str, Node] = {}
        for section in (queues, seats, announcements):
            for name, (key_node, _) in section.items():
                if name in destinations:
                    self.r.problems.add(key_node, f"destination name {name!r} is used twice")
                destinations[name] = key_node

        refs = _References(self.r, prompts, destinations, departments, data_links)
        built_queues = {n: q for n, (_, q) in queues.items() if q is not None}
        built_seats = {n: s for n, (_, s) in seats.items() if s is not None}
        built_announcements = {n: a for n, (_, a) in announcements.items() if a is not None}
        refs.check_destinations(queues, seats, announcements)
        if callbacks is not None and callbacks.automatic:
            refs.prompt(CALLBACK_PROMPT, top["callbacks"])
        self._check_chains(queues, seats, destinations)
        built_lines = {n: refs.line(fields) for n, (_, fields) in lines.items() if fields is not None}
        by_alias = self._check_numbers(lines, emergency)
        main = [line for line in built_lines.values() if line is not None and line.mode is Mode.MAIN]
        modes = [f.mode if f is not None else None for _, f in lines.values()]
        if lines and None not in modes and modes.count(Mode.MAIN) != 1:
            self.r.problems.add(top.get("lines"), "exactly one line must have mode 'main' (12345 itself)")

        if (
            self.r.problems.items
            or self.zone is None
            or numbering is None
            or emergency is None
            or calendar is None
            or engine is None
            or linkage is None
            or callbacks is None
            or not main
            or any(line is None for line in built_lines.values())
        ):
            return None
        final_lines = {n: line for n, line in built_lines.items() if line is not None}
        return Rules(
            source=str(self.path),
            timezone=self.zone,
            main=main[0],
            lines=_frozen(final_lines),
            by_alias=_frozen({alias: final_lines[number] for alias, number in by_alias.items()}),
            departments=_frozen({n: d for n, (_, d) in departments.items() if d is not None}),
            data_links=_frozen({n: d for n, (_, d) in data_links.items() if d is not None}),
            queues=_frozen(built_queues),
            seats=_frozen(built_seats),
            announcements=_frozen(built_announcements),
            prompts=_frozen(prompts),
            numbering=numbering,
            emergency=emergency,
            calendar=calendar,
            engine=engine,
            linkage=linkage,
            callbacks=callbacks,
            recordings=self.recordings,
        )

    # --- sections -------------------------------------------------------------------------------------------

    def _zone(self, node: Node | None) -> ZoneInfo | None:
        if node is None:
            return None

        def parse(raw: str) -> ZoneInfo:
            try:
                return ZoneInfo(raw)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("an IANA zone name such as Asia/Shanghai") from None

        return self.r.parsed(node, "timezone", parse, "a time zone")

    def _prompts(self, node: Node | None) -> dict[str, Prompt]:
        if node is None:
            return {}
        relative = self.r.text(node, "prompt_manifest")
        if relative is None:
            return {}
        manifest = self.path.parent / relative
        self.recordings = manifest.parent
        try:
            root = read_yaml(manifest)
        except RulesError as exc:
            self.r.problems.items.extend(exc.problems)
            return {}
        reader = Reader(Problems(str(manifest)))
        prompts: dict[str, Prompt] = {}
        top = reader.fields(root, "prompt manifest", required=("prompts",))
        if top and "prompts" in top:
            for name, key_node, body in reader.entries(top["prompts"], "prompts"):
                if not NAME.match(name):
                    reader.problems.add(key_node, f"prompt name {name!r} must be lower-case letters, digits, - and _")
                fields = reader.fields(body, f"prompt {name!r}", required=("zh", "en"))
                if fields and "zh" in fields and "en" in fields:
                    zh, en = reader.text(fields["zh"], "zh"), reader.text(fields["en"], "en")
                    if zh and en:
                        prompts[name] = Prompt(name, zh.strip(), en.strip())
        self.r.problems.items.extend(reader.problems.items)
        return prompts

    def _engine(self, node: Node) -> Engine | None:
        f = self.r.fields(node, "engine", required=(), optional=("agi_url", "max_conversation"))
        if f is None:
            return None
        default = Engine()
        url = (
            self.r.parsed(f["agi_url"], "engine.agi_url", _agi_url, "agi://HOST[:PORT] or hagi://SRV-NAME")
            if ("agi_url" in f)
            else default.agi_url
        )
        longest = (
            self.r.integer(f["max_conversation"], "engine.max_conversation (seconds)", 60, 86400)
            if "max_conversation" in f
            else default.max_conversation
        )
        if url is None or longest is None:
            return None
        return Engine(url, longest)

    def _numbering(self, node: Node | None) -> Numbering | None:
        if node is None:
            return None
        f = self.r.fields(
            node,
            "numbering",
            required=("country_code", "international_prefixes", "area_codes"),
            optional=("trunks",),
        )
        if f is None:
            return None
        country = self._digit_field(f.get("country_code"), "numbering.country_code")
        intl = self._prefixes(f.get("international_prefixes"), "numbering.international_prefixes")
        areas = self._prefixes(f.get("area_codes"), "numbering.area_codes")
        for area_node in self.r.items(f["area_codes"], "numbering.area_codes") if "area_codes" in f else []:
            if not str(area_node.value).startswith("0"):
                self.r.problems.add(area_node, "an area code is written with its leading 0, e.g. '0871'")
        trunks: dict[str, Trunk] = {}
        if "trunks" in f:
            for name, key_node, body in self.r.entries(f["trunks"], "numbering.trunks"):
                self._check_name(name, key_node, "numbering.trunks")  # the dialplan passes it to the engine
                tf = self.r.fields(body, f"trunk {name!r}", required=("strip_prefixes",))
                if tf and "strip_prefixes" in tf:
                    strip = self._prefixes(tf["strip_prefixes"], f"trunk {name!r} strip_prefixes")
                    trunks[name] = Trunk(name, strip)
        if country is None:
            return None
        return Numbering(intl, country, areas, _frozen(trunks))

    def _prefixes(self, node: Node | None, what: str) -> tuple[str, ...]:
        if node is None:
            return ()
        values = []
        for item in self.r.items(node, what):
            value = self.r.parsed(item, what, _prefix, "digits, optionally after a +")
            if value is not None:
                values.append(value)
        return tuple(sorted(values, key=len, reverse=True))

    def _digit_field(self, node: Node | None, what: str) -> str | None:
        return None if node is None else self.r.parsed(node, what, _digits, "a number made of digits")

    def _emergency(self, node: Node | None) -> Emergency | None:
        if node is None:
            return None
        f = self.r.fields(node, "emergency", required=("context", "numbers"))
        if f is None:
            return None
        context = None
        if "context" in f:
            context = self.r.parsed(f["context"], "emergency.context", _context, "an Asterisk context name")
        numbers: dict[str, str] = {}
        if "numbers" in f:
            for number, key_node, body in self.r.entries(f["numbers"], "emergency.numbers"):
                if not DIGITS.match(number):
                    self.r.problems.add(key_node, f"emergency number {number!r} must be digits")
                    continue
                name = self.r.text(body, f"emergency number {number}")
                numbers[number] = name or ""
            for required in EMERGENCY_REQUIRED:
                if required not in numbers:
                    self.r.problems.add(f["numbers"], f"emergency.numbers must include {required}")
        if context is None:
            return None
        return Emergency(context, _frozen(numbers))

    def _linkage(self, node: Node, emergency: Emergency | None) -> Linkage | None:
        """Utility lines an agent transfers callers to; the emergency numbers are linked always, so never here."""
        f = self.r.fields(node, "linkage", required=("outbound_context",), optional=("utilities",))
        if f is None or "outbound_context" not in f:
            return None
        context = self.r.parsed(f["outbound_context"], "linkage.outbound_context", _context, "an Asterisk context name")
        emergency_numbers = set(emergency.numbers) if emergency else set(EMERGENCY_REQUIRED)
        utilities: dict[str, str] = {}
        owner: dict[str, str] = {}
        for name, key_node, body in self.r.entries(f["utilities"], "linkage.utilities") if "utilities" in f else []:
            self._check_name(name, key_node, "linkage.utilities")
            number = self.r.parsed(body, f"linkage.utilities.{name}", _digits, "a number made of digits")
            if number is None:
                continue
            if number in emergency_numbers:
                self.r.problems.add(body, f"{number} is an emergency number: agents reach it by linkage already")
            elif number in owner:
                self.r.problems.add(body, f"number {number} is listed twice (already as {owner[number]})")
            else:
                owner[number] = name
                utilities[name] = number
        if context is None:
            return None
        return Linkage(context, _frozen(utilities))

    def _callbacks(self, node: Node, queue_names: set[str]) -> Callbacks | None:
        default = Callbacks()
        f = self.r.fields(
            node,
            "callbacks",
            required=(),
            optional=("automatic", "hours", "queue", "priority", "max_attempts", "retry_minutes", "window_hours",
                      "dial"),
        )  # fmt: skip
        if f is None:
            return None
        automatic = self.r.boolean(f["automatic"], "callbacks.automatic") if "automatic" in f else False
        hours = self._hours(f["hours"]) if "hours" in f else default.hours
        queue = self.r.text(f["queue"], "callbacks.queue") if "queue" in f else default.queue
        if queue is not None and queue not in queue_names:
            self.r.problems.add(f["queue"], f"callbacks.queue: {queue!r} is not a defined queue")
        numbers = {
            key: self.r.integer(f[key], f"callbacks.{key}", low, high) if key in f else getattr(default, key)
            for key, low, high in (
                ("priority", 1, 100),
                ("max_attempts", 1, 10),
                ("retry_minutes", 1, 1440),
                ("window_hours", 1, 720),
            )
        }
        dial = self.r.text(f["dial"], "callbacks.dial") if "dial" in f else ""
        if dial and "{number}" not in dial:
            self.r.problems.add(f["dial"], "callbacks.dial must hold {number}, e.g. PJSIP/{number}@carrier")
            dial = None
        if automatic and not dial:
            self.r.problems.add(node, "callbacks.automatic needs callbacks.dial: how to ring a citizen's number")
            return None
        if None in (automatic, hours, queue, dial, *numbers.values()):
            return None
        return Callbacks(automatic, hours, queue, dial=dial, **numbers)  # type: ignore[arg-type]

    def _section(
        self, node: Node | None, what: str, build: Callable[[str, Node, Node], T | None]
    ) -> dict[str, tuple[Node, T | None]]:
        found: dict[str, tuple[Node, T | None]] = {}
        if node is None:
            return found
        for name, key_node, body in self.r.entries(node, what):
            found[name] = (key_node, build(name, key_node, body))
        return found

    def _named_texts(self, node: Node | None, what: str, kind: type[T]) -> dict[str, tuple[Node, T | None]]:
        def build(name: str, key_node: Node, body: Node) -> T | None:
            self._check_name(name, key_node, what)
            f = self.r.fields(body, f"{what} {name!r}", required=("name_zh", "name_en"))
            if not f or "name_zh" not in f or "name_en" not in f:
                return None
            zh, en = self.r.text(f["name_zh"], "name_zh"), self.r.text(f["name_en"], "name_en")
            return kind(name, zh, en) if zh and en else None  # type: ignore[call-arg]

        return self._section(node, what, build)

    def _check_name(self, name: str, key_node: Node, what: str) -> None:
        if not NAME.match(name):
            self.r.problems.add(key_node, f"{what}: name {name!r} must be lower-case letters, digits, - and _")

    def _queue(self, name: str, key_node: Node, body: Node) -> Queue | None:
        self._check_name(name, key_node, "queues")
        f = self.r.fields(body, f"queue {name!r}", required=("queue", "name_zh", "name_en", "timeout", "fallback"))
        if f is None or len(f) < 5:
            return None
        queue = self.r.parsed(f["queue"], "queue", _context, "an Asterisk queue name")
        zh, en = self.r.text(f["name_zh"], "name_zh"), self.r.text(f["name_en"], "name_en")
        timeout = self.r.integer(f["timeout"], "timeout (seconds a caller waits)", 5, 3600)
        fallback = self.r.text(f["fallback"], "fallback")
        if None in (queue, zh, en, timeout, fallback):
            return None
        return Queue(name, queue, zh, en, timeout, fallback)  # type: ignore[arg-type]

    def _seat(self, name: str, key_node: Node, body: Node) -> Seat | None:
        self._check_name(name, key_node, "seats")
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
        hours = self._hours(f["hours"]) if "hours" in f else OpeningHours()
        unavailable = self.r.text(f["unavailable_prompt"], "unavailable_prompt") if "unavailable_prompt" in f else None
        prompt = self.r.text(f["prompt"], "prompt") if "prompt" in f else None
        if None in (dial, zh, en, ring, fallback, hours):
            return None
        return Seat(name, dial, zh, en, ring, hours, prompt, unavailable, fallback)  # type: ignore[arg-type]

    def _hours(self, node: Node) -> OpeningHours | None:
        if getattr(node, "value", None) == "7x24":
            return OpeningHours()
        spans = []
        for item in self.r.items(node, "hours (7x24 or a list of {days, from, to})"):
            f = self.r.fields(item, "opening hours", required=("days", "from", "to"))
            if f is None or len(f) < 3:
                return None
            days = self.r.parsed(f["days"], "days", _day_set, "days such as mon-fri")
            opens = self.r.parsed(f["from"], "from", _clock, "HH:MM")
            closes = self.r.parsed(f["to"], "to", _clock, "HH:MM or 24:00")
            if days is None or opens is None:
                return None
            if closes is not None and closes <= opens:
                self.r.problems.add(f["to"], "opening hours end before they start")
                return None
            spans.append(OpeningSpan(days, opens, closes))
        return OpeningHours(tuple(spans)) if spans else None

    def _announcement(self, name: str, key_node: Node, body: Node) -> Announcement | None:
        self._check_name(name, key_node, "announcements")
        f = self.r.fields(body, f"announcement {name!r}", required=("prompts",))
        if not f or "prompts" not in f:
            return None
        prompts = self._names(f["prompts"], "prompts")
        if not prompts:
            self.r.problems.add(f["prompts"], "an announcement must play at least one prompt")
            return None
        return Announcement(name, prompts)

    def _names(self, node: Node, what: str) -> tuple[str, ...]:
        return tuple(v for v in (self.r.text(item, what) for item in self.r.items(node, what)) if v)

    def _line_node(self, number: str, key_node: Node, body: Node) -> _LineFields | None:
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
            alias = self.r.parsed(item, "alias", _digits, "a number made of digits")
            if alias is not None:
                aliases.append((alias, item))
        transition = None
        if mode is Mode.ABSORBED and "transition" not in f:
            self.r.problems.add(body, f"line {number}: an absorbed line needs a transition period")
        if "transition" in f:
            if mode is not None and mode is not Mode.ABSORBED:
                self.r.problems.add(f["transition"], f"line {number}: only absorbed lines have a transition period")
            transition = self._transition(f["transition"], number)
        return _LineFields(
            number=number,
            number_node=key_node,
            fields=f,
            mode=mode,
            aliases=tuple(aliases),
            transition=transition,
        )

    def _transition(self, node: Node, number: str) -> _TransitionFields | None:
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
        after_prompts = self._names(af["prompts"], "after.prompts")
        if not after_prompts:
            self.r.problems.add(af["prompts"], "after the transition the caller must hear at least one prompt")
        connect = self.r.boolean(af["connect"], "after.connect")
        if starts is None or ends is None or connect is None:
            return None
        return _TransitionFields(starts, ends, after_prompts, af["prompts"], connect)

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

    # --- cross checks ---------------------------------------------------------------------------------------

    def _check_chains(
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

    def _check_numbers(
        self, lines: dict[str, tuple[Node, _LineFields | None]], emergency: Emergency | None
    ) -> dict[str, str]:
        """Numbers and aliases are unique and never emergency numbers; returns alias -> line number."""
        emergency_numbers = set(emergency.numbers) if emergency else set(EMERGENCY_REQUIRED)
        owner: dict[str, str] = {}
        aliases: dict[str, str] = {}
        # Line numbers are claimed before aliases, so a clash is reported at the alias, where the mistake is.
        claims = [(number, number, key_node) for number, (key_node, _) in lines.items()]
        claims += [(number, alias, node) for number, (_, f) in lines.items() if f for alias, node in f.aliases]
        for number, claimed, node in claims:
            if claimed in emergency_numbers:
                self.r.problems.add(node, f"{claimed} is an emergency number: it must never be routed by the merge")
            elif claimed in owner:
                self.r.problems.add(node, f"number {claimed} is used twice (already by line {owner[claimed]})")
            else:
                owner[claimed] = number
                if claimed != number:
                    aliases[claimed] = number
        return aliases


@dataclass(frozen=True)
class _TransitionFields:
    starts: datetime
    ends: datetime
    after_prompts: tuple[str, ...]
    after_prompts_node: Node
    connect: bool


@dataclass(frozen=True)
class _LineFields:
    """A line as read, before its references to departments, prompts and destinations are resolved."""

    number: str
    number_node: Node
    fields: dict[str, Node]
    mode: Mode | None
    aliases: tuple[tuple[str, Node], ...]
    transition: _TransitionFields | None


# The kind of first destination each mode requires: 12345 agents sit in queues, retained seats are dialed.
_DESTINATION_KIND = {
    Mode.MAIN: Queue,
    Mode.ABSORBED: Queue,
    Mode.DUAL_MERGED: Queue,
    Mode.DUAL_TRANSFER: Seat,
}


class _References:
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

    def line(self, lf: _LineFields) -> Line | None:
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


def _agi_url(raw: str) -> str:
    if not AGI_URL.match(raw):
        raise ValueError("agi://HOST[:PORT] or hagi://SRV-NAME, without a path")
    return raw


def _prefix(raw: str) -> str:
    if not PREFIX.match(raw):
        raise ValueError("digits, optionally after a +")
    return raw


def _context(raw: str) -> str:
    if not CONTEXT.match(raw):
        raise ValueError("letters, digits, - and _")
    return raw


def _dial_string(raw: str) -> str:
    if not DIAL_STRING.match(raw):
        raise ValueError("no spaces, commas or special characters")
    return raw
