"""A Plan: the ordered steps the engine carries out for one call.

Semantics the executor relies on: steps run in order; a Queue or Dial step that connects the caller to a person
ends the plan; when it fails (whatever the status) the next step runs. So fallbacks are simply the steps that
follow, and the last steps of every plan are a spoken instruction and a hang-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ivr.rules.model import Line, Mode


@dataclass(frozen=True)
class Answer:
    kind: str = field(default="answer", init=False)


@dataclass(frozen=True)
class SetVariable:
    name: str
    value: str
    kind: str = field(default="set", init=False)


@dataclass(frozen=True)
class Play:
    prompt: str
    text_zh: str
    kind: str = field(default="play", init=False)


@dataclass(frozen=True)
class QueueCall:
    destination: str
    queue: str
    timeout: int
    rating: bool = False  # when the agent hangs up, the caller comes back to the engine and is asked to rate
    kind: str = field(default="queue", init=False)


@dataclass(frozen=True)
class DialSeat:
    destination: str
    dial: str
    ring_timeout: int
    kind: str = field(default="dial", init=False)


@dataclass(frozen=True)
class Hangup:
    kind: str = field(default="hangup", init=False)


Step = Answer | SetVariable | Play | QueueCall | DialSeat | Hangup
CONNECTING = (QueueCall, DialSeat)


class Phase(StrEnum):
    """Where an absorbed line stands in its transition period at the time of the call."""

    BEFORE = "before-transition"
    DURING = "transition"
    AFTER = "after-transition"


class Flag(StrEnum):
    """Facts about the decision an admin or a ticket should see."""

    UNKNOWN_NUMBER = "unknown-number"
    VIA_REDIRECT = "via-redirecting-number"
    CALLER_WITHHELD = "caller-withheld"
    CALLER_UNKNOWN = "caller-unknown"
    SEAT_CLOSED = "seat-closed"
    DESTINATION_DOWN = "destination-down"


@dataclass(frozen=True)
class Plan:
    dialed: str
    line: Line
    steps: tuple[Step, ...]
    phase: Phase | None = None
    flags: tuple[Flag, ...] = ()

    @property
    def mode(self) -> Mode:
        return self.line.mode

    def as_json(self) -> dict[str, Any]:
        return {
            "dialed": self.dialed,
            "number": self.line.number,
            "name_zh": self.line.name_zh,
            "name_en": self.line.name_en,
            "mode": self.line.mode.value,
            "department": {
                "id": self.line.department.id,
                "name_zh": self.line.department.name_zh,
                "name_en": self.line.department.name_en,
            },
            "data_link": self.line.data_link.id if self.line.data_link else None,
            "phase": self.phase.value if self.phase else None,
            "flags": [flag.value for flag in self.flags],
            "steps": [_step_json(step) for step in self.steps],
        }


def _step_json(step: Step) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": step.kind}
    data.update({k: v for k, v in step.__dict__.items() if k != "kind"})
    return data


class EmergencyNumberRefused(Exception):
    """The router never plans an emergency call: the dialplan must have sent it elsewhere before the engine."""

    def __init__(self, dialed: str, number: str, service: str) -> None:
        self.dialed, self.number, self.service = dialed, number, service
        super().__init__(f"{number} ({service}) is an emergency number: the engine never routes it")
