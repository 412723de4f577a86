"""The ticket stub (工单): the record every call leaves as soon as it is routed, before anyone has read it.

Agents and department systems complete the ticket later (category, handling, reply); the stub holds what the
engine knows: who called which line when, where the call went and how it ended, and the plan's deadlines from
the moment of receipt. Times keep their zone: `received` is in the rules' zone, whatever the machine's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from ivr.hosts import call_key
from ivr.privacy import mask_number
from ivr.router.decide import Presentation


class StubOutcome(StrEnum):
    """How the call ended, in the words of the plan's ticket: queued, answered, transferred, abandoned."""

    IN_PROGRESS = "in-progress"  # written at the start of the call; the engine has not finished it
    ANSWERED = "answered"  # a 12345 agent (or an expert seat) answered
    TRANSFERRED = "transferred"  # the department's retained seat answered, or the agent handed the caller on
    ABANDONED = "abandoned"  # the caller hung up while waiting for a person
    HUNG_UP_IN_PROMPT = "hung-up-in-prompt"  # the caller hung up before being connected
    INSTRUCTED = "instructed"  # nobody could answer: the caller heard the final instruction
    UNFINISHED = "unfinished"  # the engine's session ended first (limit, lost link): the dialplan carried on


@dataclass(frozen=True)
class RouteStep:
    """One step of the call as the engine saw it: a stage entered, a prompt played, a queue or seat ended."""

    at: datetime
    what: str
    detail: str = ""


@dataclass(frozen=True)
class Due:
    """A deadline of the ticket (dispatch, sign-for, return; close once a category is set)."""

    step: str
    due: datetime


@dataclass(frozen=True)
class Stub:
    """One call's ticket stub. `id` is "" until the store numbers it; `revision` counts the engine's writes of
    it (0 when the call is routed, 1 when the engine's part ended), so an older write never replaces a newer."""

    id: str
    received: datetime
    uniqueid: str
    linkedid: str
    channel: str
    engine: str
    caller: str
    presentation: Presentation
    dialed: str
    redirecting: str
    line: str
    line_name: str
    department: str
    department_name: str
    mode: str
    data_link: str
    flags: tuple[str, ...]
    outcome: StubOutcome
    stage: str
    queue_wait: int | None
    answered_by: str
    ended: datetime | None
    route: tuple[RouteStep, ...]
    deadlines: tuple[Due, ...]
    revision: int = 0
    category: str = ""
    queue: str = ""  # the last queue the caller waited in: the engine's stage, or what Asterisk reported
    rating: str = ""  # satisfied, basically-satisfied, dissatisfied, not-rated; "" where no rating is asked
    rating_reason: str = ""  # why not rated: caller-hung-up, timed-out, invalid, transferred
    host: str = ""  # the Asterisk host (ivr.hosts); "" in stubs written before hosts were named: `local`

    @property
    def call(self) -> str:
        """What the stores find the call by (ivr.hosts.call_key): one stub per call, whichever host it came from."""
        return call_key(self.host, self.uniqueid)

    @property
    def day(self) -> str:
        """The day of receipt in the rules' zone, as in the id: YYYYMMDD."""
        return f"{self.received:%Y%m%d}"

    def masked(self) -> Stub:
        """The stub as logs and default listings show it: caller and redirecting numbers masked."""
        caller = "withheld" if self.presentation is Presentation.WITHHELD else mask_number(self.caller or None)
        return self.evolve(caller=caller, redirecting=mask_number(self.redirecting) if self.redirecting else "")

    def evolve(self, **changes: Any) -> Stub:
        """A copy with `changes`, as `dataclasses.replace` makes it but without running `__init__` over thirty
        fields: every call's stub is copied twice (numbered, closed), ~9 µs each that way, ~1 µs this way. Stub
        has no `__post_init__`, so nothing is skipped; a name that is not a field is refused as replace does."""
        unknown = changes.keys() - _FIELDS
        if unknown:
            raise TypeError(f"Stub has no field {', '.join(sorted(unknown))}")
        copy = object.__new__(Stub)
        copy.__dict__.update(self.__dict__, **changes)
        return copy

    def as_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)  # the fields, in their order (set by __init__ or copied by evolve)
        data.update(
            received=self.received.isoformat(),
            presentation=self.presentation.value,
            flags=list(self.flags),
            outcome=self.outcome.value,
            ended=self.ended.isoformat() if self.ended else None,
            route=[{"at": s.at.isoformat(), "what": s.what, "detail": s.detail} for s in self.route],
            deadlines=[{"step": d.step, "due": d.due.isoformat()} for d in self.deadlines],
            timezone=_zone_name(self.received),
        )
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stub:
        zone = ZoneInfo(data["timezone"])

        def moment(text: str) -> datetime:
            return datetime.fromisoformat(text).astimezone(zone)

        values = {f.name: data.get(f.name, f.default) for f in fields(cls)}
        values.update(
            received=moment(data["received"]),
            presentation=Presentation(data["presentation"]),
            flags=tuple(data["flags"]),
            outcome=StubOutcome(data["outcome"]),
            ended=moment(data["ended"]) if data["ended"] else None,
            route=tuple(RouteStep(moment(s["at"]), s["what"], s["detail"]) for s in data["route"]),
            deadlines=tuple(Due(d["step"], moment(d["due"])) for d in data["deadlines"]),
        )
        return cls(**values)


_FIELDS = frozenset(f.name for f in fields(Stub))


def _zone_name(moment: datetime) -> str:
    zone = moment.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise ValueError(f"a stub's times carry a named zone (the rules'), not {zone!r}")
    return zone.key
