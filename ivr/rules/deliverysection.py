"""The rules file's `data_links:` section: each department system, and how `ivr deliver` pushes tickets to it
(`delivery:`). The secret is named, never written: the file says which environment variable holds it."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from yaml.nodes import Node

from ivr.rules.fields import check_name, names
from ivr.rules.model import EVENTS, STUB_FIELDS, DataLink, Delivery
from ivr.rules.yamlsource import Reader

SECRET_ENV = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
ALWAYS_SENT = ("id", "revision")  # the receiver's idempotency: without them it cannot tell a repeat


def plain_http(delivery: Delivery) -> bool:
    """Whether the link is read over plain http: allowed to a loopback address only, for tests, with a warning."""
    return urlsplit(delivery.url).scheme == "http"


class DeliverySection:
    def __init__(self, reader: Reader) -> None:
        self.r = reader

    def data_link(self, name: str, key_node: Node, body: Node) -> DataLink | None:
        check_name(self.r, name, key_node, "data_links")
        what = f"data link {name!r}"
        f = self.r.fields(body, what, required=("name_zh", "name_en"), optional=("delivery",))
        if not f or "name_zh" not in f or "name_en" not in f:
            return None
        zh, en = self.r.text(f["name_zh"], "name_zh"), self.r.text(f["name_en"], "name_en")
        delivery = self.delivery(f["delivery"], f"data_links.{name}.delivery") if "delivery" in f else None
        if not zh or not en or ("delivery" in f and delivery is None):
            return None
        return DataLink(name, zh, en, delivery)

    def delivery(self, node: Node, what: str) -> Delivery | None:
        f = self.r.fields(
            node,
            what,
            required=("url", "secret_env"),
            optional=("timeout", "events", "fields", "caller", "retry_hours", "ca_file"),
        )
        if f is None or "url" not in f or "secret_env" not in f:
            return None
        default = Delivery("", "")
        url = self.r.parsed(f["url"], f"{what}.url", _url, "an https:// URL")
        secret_env = self.r.parsed(
            f["secret_env"],
            f"{what}.secret_env",
            _secret_env,
            "the name of the environment variable holding the secret (e.g. IVR_SECRET_12348), never the secret",
        )
        timeout = self.r.integer(f["timeout"], f"{what}.timeout (seconds)", 1, 120) if "timeout" in f else 10
        events = self._events(f["events"], f"{what}.events") if "events" in f else default.events
        fields = self._fields(f["fields"], f"{what}.fields") if "fields" in f else default.fields
        caller = self.r.choice(f["caller"], f"{what}.caller", ("masked", "full")) if "caller" in f else "masked"
        hours = self.r.integer(f["retry_hours"], f"{what}.retry_hours", 1, 720) if "retry_hours" in f else 24
        ca_file = self.r.text(f["ca_file"], f"{what}.ca_file") if "ca_file" in f else ""
        if None in (url, secret_env, timeout, events, fields, caller, hours, ca_file):
            return None
        return Delivery(
            url=url,  # type: ignore[arg-type]
            secret_env=secret_env,  # type: ignore[arg-type]
            timeout=float(timeout),  # type: ignore[arg-type]
            events=events,  # type: ignore[arg-type]
            fields=fields,  # type: ignore[arg-type]
            full_caller=caller == "full",
            retry_seconds=hours * 3600,  # type: ignore[operator]
            ca_file=ca_file,  # type: ignore[arg-type]
        )

    def _events(self, node: Node, what: str) -> frozenset[str] | None:
        found = [self.r.choice(item, what, EVENTS) for item in self.r.items(node, what)]
        if None in found:
            return None
        if not found:
            self.r.problems.add(node, f"{what}: name at least one of {', '.join(EVENTS)}")
            return None
        return frozenset(e for e in found if e)

    def _fields(self, node: Node, what: str) -> tuple[str, ...] | None:
        listed = names(self.r, node, what)
        unknown = [name for name in listed if name not in STUB_FIELDS]
        if unknown:
            known = ", ".join(STUB_FIELDS)
            self.r.problems.add(node, f"{what}: {', '.join(unknown)}: not a stub field (known: {known})")
            return None
        return tuple(dict.fromkeys((*ALWAYS_SENT, *listed)))


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("https://HOST[:PORT]/PATH")
    if parts.username or parts.password:
        raise ValueError("no user or password in the URL: the secret comes from secret_env")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError("plain http only to a loopback address, for tests; a department is reached over https")
    return raw


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secret_env(raw: str) -> str:
    if not SECRET_ENV.match(raw):
        raise ValueError("upper-case letters, digits and _")
    return raw
