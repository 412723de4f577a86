"""Load routing_rules.yaml (and the prompt manifest it names), check everything, and freeze it into Rules.

All problems are collected and reported together as `file:line:col: message`; nothing is returned unless the
whole file is valid, so a bad edit can never go live half-applied. Each section is read by its own module (the
`*section.py` modules, `promptmanifest`); this one reads the top level, calls them always in the same order and
checks what spans sections.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import Node

from ivr.rules.calendarsection import CalendarSection
from ivr.rules.deliverysection import DeliverySection
from ivr.rules.destinationsection import DestinationSection
from ivr.rules.fields import T, check_name, frozen, section
from ivr.rules.linesection import LineSection, References
from ivr.rules.model import (
    CALLBACK_PROMPT,
    CalendarRules,
    Callbacks,
    Department,
    Engine,
    Linkage,
    Mode,
    Rules,
)
from ivr.rules.numberingsection import NumberingSection
from ivr.rules.promptmanifest import PromptManifest
from ivr.rules.settingsection import SettingSection
from ivr.rules.yamlsource import Problems, Reader, RulesError, read_yaml


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


class _RulesBuilder:
    """One pass over the node tree; names are registered even when their body is invalid, so a bad queue
    does not also produce a cascade of 'undefined queue' problems."""

    def __init__(self, path: Path, reader: Reader) -> None:
        self.path = path
        self.r = reader

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
        zone = self._zone(top.get("timezone"))
        manifest = PromptManifest(self.r, self.path)
        prompts = manifest.read(top.get("prompt_manifest"))
        numbering_section = NumberingSection(self.r)
        numbering = numbering_section.numbering(top.get("numbering"))
        emergency = numbering_section.emergency(top.get("emergency"))
        departments = self._named_texts(top.get("departments"), "departments", Department)
        data_links = section(self.r, top.get("data_links"), "data_links", DeliverySection(self.r).data_link)
        destination_section = DestinationSection(self.r)
        queues = section(self.r, top.get("queues"), "queues", destination_section.queue)
        seats = section(self.r, top.get("seats"), "seats", destination_section.seat)
        announcements = section(self.r, top.get("announcements"), "announcements", destination_section.announcement)
        line_section = LineSection(self.r, zone)
        lines = section(self.r, top.get("lines"), "lines", line_section.line)
        calendar = CalendarSection(self.r).read(top["calendar"]) if "calendar" in top else CalendarRules()
        settings = SettingSection(self.r)
        engine = settings.engine(top["engine"]) if "engine" in top else Engine()
        linkage = settings.linkage(top["linkage"], emergency) if "linkage" in top else Linkage()
        callbacks = settings.callbacks(top["callbacks"], set(queues)) if "callbacks" in top else Callbacks()

        destinations = destination_section.destinations(queues, seats, announcements)
        refs = References(self.r, prompts, destinations, departments, data_links)
        built_queues = {n: q for n, (_, q) in queues.items() if q is not None}
        built_seats = {n: s for n, (_, s) in seats.items() if s is not None}
        built_announcements = {n: a for n, (_, a) in announcements.items() if a is not None}
        refs.check_destinations(queues, seats, announcements)
        if callbacks is not None and callbacks.automatic:
            refs.prompt(CALLBACK_PROMPT, top["callbacks"])
        destination_section.check_chains(queues, seats, destinations)
        built_lines = {n: refs.line(fields) for n, (_, fields) in lines.items() if fields is not None}
        by_alias = line_section.check_numbers(lines, emergency)
        main = [line for line in built_lines.values() if line is not None and line.mode is Mode.MAIN]
        modes = [f.mode if f is not None else None for _, f in lines.values()]
        if lines and None not in modes and modes.count(Mode.MAIN) != 1:
            self.r.problems.add(top.get("lines"), "exactly one line must have mode 'main' (12345 itself)")

        if (
            self.r.problems.items
            or zone is None
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
            timezone=zone,
            main=main[0],
            lines=frozen(final_lines),
            by_alias=frozen({alias: final_lines[number] for alias, number in by_alias.items()}),
            departments=frozen({n: d for n, (_, d) in departments.items() if d is not None}),
            data_links=frozen({n: d for n, (_, d) in data_links.items() if d is not None}),
            queues=frozen(built_queues),
            seats=frozen(built_seats),
            announcements=frozen(built_announcements),
            prompts=frozen(prompts),
            numbering=numbering,
            emergency=emergency,
            calendar=calendar,
            engine=engine,
            linkage=linkage,
            callbacks=callbacks,
            recordings=manifest.recordings,
        )

    # --- top-level sections ---------------------------------------------------------------------------------

    def _zone(self, node: Node | None) -> ZoneInfo | None:
        if node is None:
            return None

        def parse(raw: str) -> ZoneInfo:
            try:
                return ZoneInfo(raw)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("an IANA zone name such as Asia/Shanghai") from None

        return self.r.parsed(node, "timezone", parse, "a time zone")

    def _named_texts(self, node: Node | None, what: str, kind: type[T]) -> dict[str, tuple[Node, T | None]]:
        def build(name: str, key_node: Node, body: Node) -> T | None:
            check_name(self.r, name, key_node, what)
            f = self.r.fields(body, f"{what} {name!r}", required=("name_zh", "name_en"))
            if not f or "name_zh" not in f or "name_en" not in f:
                return None
            zh, en = self.r.text(f["name_zh"], "name_zh"), self.r.text(f["name_en"], "name_en")
            return kind(name, zh, en) if zh and en else None  # type: ignore[call-arg]

        return section(self.r, node, what, build)
