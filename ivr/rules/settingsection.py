"""The rules file's service settings: `engine` (where the dialplan reaches the routing engine), `linkage` (the
utility lines agents transfer callers to) and `callbacks` (calling citizens back). Each may be left out for its
defaults; together because they are read after the sections they refer to (the emergency numbers, the queues)."""

from __future__ import annotations

import re

from yaml.nodes import Node, SequenceNode

from ivr.rules.fields import asterisk_name, check_name, digits, frozen, opening_hours
from ivr.rules.model import Callbacks, Emergency, Engine, Linkage
from ivr.rules.numberingsection import emergency_numbers
from ivr.rules.yamlsource import Reader

AGI_URL = re.compile(
    r"^(agi://[A-Za-z0-9.-]+(:[0-9]{1,5})?|agi://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?|hagi://[A-Za-z0-9._-]+)$"
)

URL_FORMS = "agi://HOST[:PORT] or hagi://SRV-NAME"


class SettingSection:
    """Reads the three sections with the loader's Reader, so their problems come out with the rest of the file's."""

    def __init__(self, reader: Reader) -> None:
        self.r = reader

    def engine(self, node: Node) -> Engine | None:
        f = self.r.fields(node, "engine", required=(), optional=("agi_url", "max_conversation"))
        if f is None:
            return None
        default = Engine()
        urls = self._agi_urls(f["agi_url"]) if "agi_url" in f else default.agi_urls
        longest = (
            self.r.integer(f["max_conversation"], "engine.max_conversation (seconds)", 60, 86400)
            if "max_conversation" in f
            else default.max_conversation
        )
        if urls is None or longest is None:
            return None
        return Engine(urls, longest)

    def _agi_urls(self, node: Node) -> tuple[str, ...] | None:
        """One engine, or a list the dialplan tries in order (the next only when one was not reached or refused
        the call before any command)."""
        if not isinstance(node, SequenceNode):
            url = self.r.parsed(node, "engine.agi_url", _agi_url, URL_FORMS)
            return None if url is None else (url,)
        items = self.r.items(node, "engine.agi_url")
        if not items:
            self.r.problems.add(node, f"engine.agi_url must list at least one engine ({URL_FORMS})")
            return None
        urls: list[str] = []
        for item in items:
            url = self.r.parsed(item, "engine.agi_url", _agi_url, URL_FORMS)
            if url is not None and url in urls:
                self.r.problems.add(item, f"engine {url} is listed twice: the dialplan would try it twice")
            elif url is not None:
                urls.append(url)
        return tuple(urls) if len(urls) == len(items) else None

    def linkage(self, node: Node, emergency: Emergency | None) -> Linkage | None:
        """Utility lines an agent transfers callers to; the emergency numbers are linked always, so never here."""
        f = self.r.fields(node, "linkage", required=("outbound_context",), optional=("utilities",))
        if f is None or "outbound_context" not in f:
            return None
        context = self.r.parsed(
            f["outbound_context"], "linkage.outbound_context", asterisk_name, "an Asterisk context name"
        )
        refused = emergency_numbers(emergency)
        utilities: dict[str, str] = {}
        owner: dict[str, str] = {}
        for name, key_node, body in self.r.entries(f["utilities"], "linkage.utilities") if "utilities" in f else []:
            check_name(self.r, name, key_node, "linkage.utilities")
            number = self.r.parsed(body, f"linkage.utilities.{name}", digits, "a number made of digits")
            if number is None:
                continue
            if number in refused:
                self.r.problems.add(body, f"{number} is an emergency number: agents reach it by linkage already")
            elif number in owner:
                self.r.problems.add(body, f"number {number} is listed twice (already as {owner[number]})")
            else:
                owner[number] = name
                utilities[name] = number
        if context is None:
            return None
        return Linkage(context, frozen(utilities))

    def callbacks(self, node: Node, queue_names: set[str]) -> Callbacks | None:
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
        hours = opening_hours(self.r, f["hours"]) if "hours" in f else default.hours
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


def _agi_url(raw: str) -> str:
    if not AGI_URL.match(raw):
        raise ValueError(f"{URL_FORMS}, without a path")
    return raw
