"""Today's figures of the centre, per queue and per original line, from the stored (completed) stubs.

Asterisk's own QueueParams counters run from module load, and the AMI events of an outage are lost; the stubs
survive both, so the day's figures are counted from them, in the rules' zone. Definitions:
- offered: per queue, each stay of a caller in it as Asterisk reported it (the monitor's facts: a caller who
  timed out of an expert queue and was answered in 12345 counts in both, as queue_log does); without the
  monitor's facts, the stub's last queue; per line and in all, each call;
- answered: answered by a person (an agent; or transferred on after that);
- abandoned: per line and in all, the caller gave up (the stub's outcome); per queue, the stay ended without an
  agent, as Asterisk counts it: the caller gave up, or the queue let it go (LEAVEEMPTY, TIMEOUT) and the plan went
  on;
- average wait: of the answered calls; longest wait: of answered and abandoned calls;
- service level: answered within SERVICE_LEVEL_SECONDS / offered (GB/T 33358-2016 uses 15 s);
- connection rate: answered / offered (the plan expects at least 95%).
Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ivr.tickets.completion import stays
from ivr.tickets.store import Query
from ivr.tickets.stub import Stub, StubOutcome

SERVICE_LEVEL_SECONDS = 15
CONNECTION_RATE_EXPECTED = 0.95
_PERSON = {StubOutcome.ANSWERED, StubOutcome.TRANSFERRED}


@dataclass(frozen=True)
class Figures:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_in_time: int = 0
    total_wait: int = 0
    longest_wait: int = 0

    @property
    def average_wait(self) -> float | None:
        return self.total_wait / self.answered if self.answered else None

    @property
    def service_level(self) -> float | None:
        return self.answered_in_time / self.offered if self.offered else None

    @property
    def connection_rate(self) -> float | None:
        return self.answered / self.offered if self.offered else None

    def add(self, stub: Stub, abandoned: bool) -> Figures:
        return self.count(stub.outcome in _PERSON, abandoned, stub.queue_wait or 0)

    def count(self, answered: bool, abandoned: bool, wait: int) -> Figures:
        return Figures(
            offered=self.offered + 1,
            answered=self.answered + answered,
            abandoned=self.abandoned + abandoned,
            answered_in_time=self.answered_in_time + (answered and wait <= SERVICE_LEVEL_SECONDS),
            total_wait=self.total_wait + (wait if answered else 0),
            longest_wait=max(self.longest_wait, wait if answered or abandoned else 0),
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {
            "average_wait": self.average_wait,
            "service_level": self.service_level,
            "connection_rate": self.connection_rate,
        }


@dataclass(frozen=True)
class DayFigures:
    day: date
    queues: dict[str, Figures]
    lines: dict[str, Figures]  # offered here means calls received on the line, queued or not
    total: Figures

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "queues": {name: f.as_json() for name, f in self.queues.items()},
            "lines": {number: f.as_json() for number, f in self.lines.items()},
            "total": self.total.as_json(),
        }


def day_query(day: date, zone: ZoneInfo) -> Query:
    """The stubs received on `day` in the rules' zone (midnight to midnight, whatever the machine's zone)."""
    start = datetime.combine(day, time(), zone)
    return Query(since=start, until=datetime.combine(day + timedelta(days=1), time(), zone))


def day_figures(day: date, stubs: Iterable[Stub]) -> DayFigures:
    queues: dict[str, Figures] = {}
    lines: dict[str, Figures] = {}
    total = Figures()
    for stub in stubs:
        gave_up = stub.outcome is StubOutcome.ABANDONED
        lines[stub.line] = lines.get(stub.line, Figures()).add(stub, gave_up)
        total = total.add(stub, gave_up)
        reported = stays(stub)
        for stay in reported:
            queues[stay.queue] = queues.get(stay.queue, Figures()).count(stay.answered, not stay.answered, stay.wait)
        if stub.queue and not reported:
            queues[stub.queue] = queues.get(stub.queue, Figures()).add(stub, gave_up)
    return DayFigures(day, dict(sorted(queues.items())), dict(sorted(lines.items())), total)


@dataclass(frozen=True)
class Ratings:
    """The satisfaction ratings of the answered calls asked for one (per line, per agent)."""

    asked: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0

    @property
    def rated(self) -> int:
        return self.satisfied + self.basically_satisfied + self.dissatisfied

    @property
    def satisfaction(self) -> float | None:
        """Satisfied or basically satisfied, of the rated calls: the plan's 满意率."""
        return (self.satisfied + self.basically_satisfied) / self.rated if self.rated else None

    def add(self, rating: str) -> Ratings:
        return Ratings(
            self.asked + 1,
            self.satisfied + (rating == "satisfied"),
            self.basically_satisfied + (rating == "basically-satisfied"),
            self.dissatisfied + (rating == "dissatisfied"),
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"rated": self.rated, "satisfaction": self.satisfaction}


def asked(stub: Stub) -> bool:
    """The citizen heard the rating question. A stub the rating applies to keeps a reason when there is none, but
    an agent's transfer, or a citizen who hung up in the conversation (the queue step `answered-caller-hung-up`,
    never `answered-continue`), was never asked: Asterisk ran no question for them."""
    if not stub.rating or stub.rating_reason == "transferred":
        return False
    return stub.rating_reason != "caller-hung-up" or any(s.what.endswith(" answered-continue") for s in stub.route)


def ratings_by(stubs: Iterable[Stub], key: str) -> dict[str, Ratings]:
    """Ratings grouped by a stub field (`line`, `answered_by`), for the stubs that were asked."""
    found: dict[str, Ratings] = {}
    for stub in stubs:
        if asked(stub):
            group = getattr(stub, key) or "-"
            found[group] = found.get(group, Ratings()).add(stub.rating)
    return dict(sorted(found.items()))
