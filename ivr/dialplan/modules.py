"""Which Asterisk module provides each application and function the generated dialplan uses: `ivr doctor` asks
Asterisk whether each is loaded, and a test keeps the lists complete (every application and function in the
generated files is listed, and each module is one the lab Asterisk loads)."""

from __future__ import annotations

import re

from ivr.dialplan.parsed import Contexts

APPLICATIONS: dict[str, str] = {
    "Answer": "core",
    "Goto": "core",
    "GotoIf": "core",
    "GotoIfTime": "core",
    "Hangup": "core",
    "Set": "core",
    "Gosub": "app_stack",
    "Return": "app_stack",
    "AGI": "res_agi",
    "Playback": "app_playback",
    "Queue": "app_queue",
    "Dial": "app_dial",
    "UserEvent": "app_userevent",
}
FUNCTIONS: dict[str, str] = {
    "FILTER": "func_strings",
    "CHANNEL": "func_channel",
    "CDR": "func_cdr",
    "CALLERID": "func_callerid",
    "FEATURE": "core",  # main/features_config.c; Set() only: the interpreter keeps it as a plain value
    "STRFTIME": "func_strings",
}
# What the generated queues and manager files need beyond the dialplan's applications and functions.
CONFIGURATION = ("app_queue", "pbx_config")


def applications(contexts: Contexts) -> set[str]:
    return {p.app for extensions in contexts.values() for priorities in extensions.values() for p in priorities}


def functions(text: str) -> set[str]:
    """The dialplan functions the generated text calls (`${NAME(` or `Set(NAME(`)."""
    return set(re.findall(r"(?:\$\{|Set\()([A-Z]+)\(", text))


def needed(contexts: Contexts, text: str) -> list[str]:
    """The modules (`name.so`) the generated extensions file needs, besides the core; a name missing from the
    lists above is a KeyError, which the test of this module catches before a release."""
    used = {APPLICATIONS[a] for a in applications(contexts)} | {FUNCTIONS[f] for f in functions(text)}
    return sorted(f"{module}.so" for module in used | set(CONFIGURATION) if module != "core")
