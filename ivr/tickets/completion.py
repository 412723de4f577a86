"""What Asterisk itself says about a call (AMI events the monitor stores), and the stub those facts complete.

The engine sees a call through its AGI session only: a HANGUP during EXEC Queue may be a caller giving up or an
agent's transfer, and after its session ends it sees nothing. The monitor sees Asterisk's own events: who answered
and after how long, where a caller gave up, a transfer, the dialplan carrying on without the engine. Those facts
are stored beside the engine's stub, never in it, so neither writer can overwrite the other whatever the order
their writes land in; every read of a stub applies them (`completed`). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from ivr.agi.rating import NotRated, Rating
from ivr.hosts import call_key
from ivr.tickets.stub import RouteStep, Stub, StubOutcome


class EventKind(StrEnum):
    ANSWERED = "answered"  # AgentConnect: an agent of `queue` took the call after `wait` seconds
    ABANDONED = "abandoned"  # QueueCallerAbandon: the caller left `queue` without an agent, at `position`
    TRANSFERRED = "transferred"  # BlindTransfer / AttendedTransfer / AgentComplete Reason: transfer; a seat that
    # answered the dialplan's Dial (DialEnd ANSWER, `agent`: the seat's DIALEDPEERNUMBER)
    FALLBACK = "fallback"  # UserEvent IvrFallback: the dialplan went on without the engine at stage `detail`
    HANGUP = "hangup"  # Hangup of an engine-routed channel: the call was real (cause in `detail`)
    CALLBACK = "callback"  # one call-back attempt and how it ended (`detail`: DIALSTATUS, or FAILED ...)
    CALLBACK_DONE = "callback-done"  # a lead marked the call-back done (`detail`: the note)


@dataclass(frozen=True)
class CallEvent:
    uniqueid: str
    kind: EventKind
    at: datetime
    queue: str = ""
    agent: str = ""
    wait: int | None = None
    position: int | None = None
    detail: str = ""
    host: str = ""  # the Asterisk host that reported it (ivr.hosts); "" in facts stored before hosts were named

    @property
    def call(self) -> str:
        """The call the fact is about, as the stores key it (ivr.hosts.call_key): the stub with the same key."""
        return call_key(self.host, self.uniqueid)

    @property
    def key(self) -> str:
        """The same fact seen twice (two monitors, a replay, AgentComplete beside BlindTransfer) is kept once."""
        if self.kind in (EventKind.TRANSFERRED, EventKind.HANGUP, EventKind.CALLBACK_DONE):
            return self.kind.value
        if self.kind is EventKind.CALLBACK:
            return f"{self.kind.value}:{self.at.isoformat()}"
        return f"{self.kind.value}:{self.queue}:{self.detail}"

    def as_json(self) -> dict[str, Any]:
        return {
            "uniqueid": self.uniqueid,
            "kind": self.kind.value,
            "at": self.at.isoformat(),
            "queue": self.queue,
            "agent": self.agent,
            "wait": self.wait,
            "position": self.position,
            "detail": self.detail,
            "host": self.host,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallEvent:
        return cls(
            uniqueid=data["uniqueid"],
            kind=EventKind(data["kind"]),
            at=datetime.fromisoformat(data["at"]),
            queue=data["queue"],
            agent=data["agent"],
            wait=data["wait"],
            position=data["position"],
            detail=data["detail"],
            host=data.get("host", ""),
        )

    def step(self, zone: tzinfo | None) -> RouteStep:
        """The event as a line of the stub's route (what = `ami:KIND`), in the stub's zone."""
        at = self.at.astimezone(zone)
        match self.kind:
            case EventKind.ANSWERED:
                return RouteStep(at, "ami:answered", f"{self.queue} by {self.agent} after {self.wait} s")
            case EventKind.ABANDONED:
                return RouteStep(at, "ami:abandoned", f"{self.queue} at position {self.position} after {self.wait} s")
            case EventKind.TRANSFERRED | EventKind.HANGUP | EventKind.CALLBACK | EventKind.CALLBACK_DONE:
                return RouteStep(at, f"ami:{self.kind.value}", self.detail)
        return RouteStep(at, "ami:fallback", f"dialplan went on at stage {self.detail or '(none)'}")


@dataclass(frozen=True)
class Stay:
    """One stay of a caller in one queue as Asterisk reported it: an agent answered after `wait` seconds, or the
    caller left without an agent (gave up, or the queue let it go: LEAVEEMPTY, TIMEOUT) after `wait` seconds."""

    queue: str
    answered: bool
    wait: int


_STAY = re.compile(r"(?P<queue>\S+) (?:by .* |at position \S+ )after (?P<wait>-?\d+|None) s")


def stays(stub: Stub) -> list[Stay]:
    """Every queue stay Asterisk reported for this call, in order, read back from the route steps `step` wrote
    (`ami:answered`, `ami:abandoned`); [] when no monitor reported any."""
    found = []
    for step in stub.route:
        if step.what in ("ami:answered", "ami:abandoned") and (match := _STAY.fullmatch(step.detail)):
            wait = match["wait"]
            found.append(Stay(match["queue"], step.what == "ami:answered", int(wait) if wait != "None" else 0))
    return found


# Outcomes under which a confirmed queue abandon is the call's end: the caller hung up (engine), or nobody but
# the dialplan followed the call (engine cut off or never reached).
_ABANDON_ENDS = {StubOutcome.ABANDONED, StubOutcome.UNFINISHED}


def completed(stub: Stub, events: Iterable[CallEvent]) -> Stub:
    """The stub with Asterisk's facts applied. A transfer outranks an answer, an answer outranks an abandon (a
    queue exit by LEAVEEMPTY or TIMEOUT is reported as an abandon too, and the plan goes on), and an abandon ends
    the call only when the engine saw the caller hang up or was no longer there to see."""
    found = sorted(events, key=lambda e: (e.at, e.key))
    if not found:
        return stub
    kinds = {kind: [e for e in found if e.kind is kind] for kind in EventKind}
    outcome, answered_by, wait, ended, stage = stub.outcome, stub.answered_by, stub.queue_wait, stub.ended, stub.stage
    queue = next((e.queue for e in reversed(found) if e.queue), stub.queue)
    fallback = kinds[EventKind.FALLBACK]
    if fallback:
        stage = stage or f"fallback:{fallback[-1].detail}"
        if outcome is StubOutcome.IN_PROGRESS:
            outcome = StubOutcome.UNFINISHED
    # The caller's whole wait: every queue stay Asterisk reported (an expert queue timed out, then 12345).
    waited = sum(e.wait or 0 for e in (*kinds[EventKind.ABANDONED], *kinds[EventKind.ANSWERED]))
    if kinds[EventKind.ANSWERED]:
        answer = kinds[EventKind.ANSWERED][-1]
        outcome, answered_by, wait = StubOutcome.ANSWERED, answer.agent, waited
    elif kinds[EventKind.ABANDONED] and outcome in _ABANDON_ENDS:
        gave_up = kinds[EventKind.ABANDONED][-1]
        outcome, wait, ended = StubOutcome.ABANDONED, waited, ended or gave_up.at
    rating_reason = stub.rating_reason
    if kinds[EventKind.TRANSFERRED]:
        outcome = StubOutcome.TRANSFERRED
        answered_by = answered_by or next((e.agent for e in kinds[EventKind.TRANSFERRED] if e.agent), "")
        if stub.rating == Rating.NOT_RATED:  # the engine saw only the HANGUP a transfer ends the session with
            rating_reason = NotRated.TRANSFERRED.value
    zone = stub.received.tzinfo
    return stub.evolve(
        outcome=outcome,
        answered_by=answered_by,
        queue_wait=wait,
        ended=ended.astimezone(zone) if ended else None,
        stage=stage,
        queue=queue,
        rating_reason=rating_reason,
        route=tuple(sorted((*stub.route, *(e.step(zone) for e in found)), key=lambda s: s.at)),
    )
