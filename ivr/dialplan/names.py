"""Names of the generated contexts, in one place because every context refers to the others."""

from __future__ import annotations

ENGINE = "ivr-engine"
LINKAGE = "ivr-linkage"
DAY = "ivr-day"  # what the official calendar makes of a date, for office hours that keep the working days
INBOUND = "ivr-inbound"
DEFAULT_TRUNK = "default"


def inbound(trunk: str | None) -> str:
    """The context a carrier's calls arrive in: ivr-inbound for the default trunk, ivr-inbound-NAME for another."""
    return INBOUND if trunk in (None, DEFAULT_TRUNK) else f"{INBOUND}-{trunk}"


def line(number: str) -> str:
    """After the engine: the fallback for one line."""
    return f"ivr-line-{number}"


def destination(name: str) -> str:
    """One queue, seat or announcement of the rules, then its fallback."""
    return f"ivr-to-{name}"
