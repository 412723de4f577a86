"""What `ivr deploy` would change in an Asterisk's folders, worked out from what is there now: no I/O here, so
every case (a fresh Asterisk, a second run, an admin's file with the include already in it) is a table test.

The generated files go to ETC/ivr/ and the prompts to SOUNDS/zh/, replaced whole when they differ; the admin's
own extensions.conf, queues.conf and manager.conf only ever get their one `#include` line appended, once. What
changed decides what Asterisk reloads: nothing changed, nothing reloaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ivr.dialplan.build import EXTENSIONS, INCLUDED_FROM, MANAGER, QUEUES
from ivr.dialplan.manager import SECRET_FILE

GENERATED_FOLDER = "ivr"


class Reload(StrEnum):
    """What Asterisk reloads (AMI `Reload` with this module), in this order."""

    MANAGER = "manager"
    DIALPLAN = "pbx_config"
    QUEUES = "app_queue"


RELOAD_OF = {EXTENSIONS: Reload.DIALPLAN, QUEUES: Reload.QUEUES, MANAGER: Reload.MANAGER}


class DeployRefused(Exception):
    """The Asterisk's own files cannot take the generated ones as they are: one line saying which and why."""


@dataclass(frozen=True)
class Change:
    """One file to write: `path` relative to its root (`etc` or `sounds`), its bytes now (None: it is new) and
    after; `private`: readable by its owner only (the AMI secret)."""

    root: str
    path: str
    before: bytes | None
    after: bytes
    reload: Reload | None
    private: bool = False


def include_line(name: str) -> str:
    return f'#include "{GENERATED_FOLDER}/{name}"'


def _includes(text: str, name: str) -> bool:
    """The admin's file already includes the generated one, however they wrote it (quotes or not, an absolute
    path, #tryinclude)."""
    pattern = rf'^\s*#(try)?include\s+"?[^"\n]*\b{re.escape(GENERATED_FOLDER)}/{re.escape(name)}"?\s*$'
    return re.search(pattern, text, re.MULTILINE) is not None


def _has_general(text: str) -> bool:
    return re.search(r"^\s*\[general\]", text, re.MULTILINE) is not None


def with_include(own: str, text: str | None, name: str) -> str | None:
    """The admin's file `own` with the include of `name` appended; None when it is there already. queues.conf and
    manager.conf need their own [general] before the include (the generated files add to it with `(+)`, and
    Asterisk drops the rest of a file whose `(+)` finds no section): a missing queues.conf [general] is added;
    manager.conf without one is refused, since AMI itself is then off and turning it on is the admin's choice."""
    current = text or ""
    if _includes(current, name):
        return None
    if own != INCLUDED_FROM[EXTENSIONS] and not _has_general(current):
        if own == INCLUDED_FROM[MANAGER]:
            raise DeployRefused(
                f"{own} has no [general] section, so AMI is off: add [general] with enabled = yes and "
                "bindaddr = 127.0.0.1 first"
            )
        current = "[general]\n" + current
    if current and not current.endswith("\n"):
        current += "\n"
    return f"{current}\n; added by `ivr deploy`: the files generated from routing_rules.yaml\n{include_line(name)}\n"


def secret_conf(secret: str) -> bytes:
    return f"secret = {secret}\n".encode()


@dataclass(frozen=True)
class Present:
    """What is in the Asterisk's folders now: text of the files that matter, bytes of the prompts there (None:
    missing)."""

    etc: Mapping[str, str | None]
    sounds: Mapping[str, bytes | None]


def changes(generated: Mapping[str, str], prompts: Mapping[str, bytes], secret: str, present: Present) -> list[Change]:
    """Every file deploy writes, in the order it writes them: the generated files before the includes that name
    them (a reload in between never reads an include of a missing file), the secret before the manager include,
    the prompts last (a missing prompt is skipped by the dialplan, a missing file breaks the whole reload)."""
    found: list[Change] = []
    secret_now = present.etc.get(SECRET_FILE)
    wanted = secret_conf(secret)
    if secret_now is None or secret_now.encode() != wanted:
        before = None if secret_now is None else secret_now.encode()
        found.append(Change("etc", SECRET_FILE, before, wanted, Reload.MANAGER, private=True))
    for name, text in generated.items():
        path = f"{GENERATED_FOLDER}/{name}"
        now = present.etc.get(path)
        if now != text:
            found.append(Change("etc", path, None if now is None else now.encode(), text.encode(), RELOAD_OF[name]))
    for name in generated:
        own = INCLUDED_FROM[name]
        now = present.etc.get(own)
        added = with_include(own, now, name)
        if added is not None:
            found.append(Change("etc", own, None if now is None else now.encode(), added.encode(), RELOAD_OF[name]))
    for path, data in prompts.items():
        if present.sounds.get(path) != data:
            found.append(Change("sounds", path, present.sounds.get(path), data, None))
    return found


def reloads(found: list[Change]) -> list[Reload]:
    wanted = {change.reload for change in found if change.reload is not None}
    return [reload for reload in Reload if reload in wanted]
