"""The one small interface every ticket store has (ivr.tickets.open picks one by its `--store` URL).

Every write is idempotent per call (Asterisk's uniqueid), so replaying a spool or a retried write never makes a
second stub, and a write with an older revision never replaces a newer one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ivr.tickets.completion import CallEvent
from ivr.tickets.outbox import Outbox
from ivr.tickets.stub import Stub

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StoreUnavailable(Exception):
    """The store cannot be reached, or failed the operation; the message says why, and never holds a secret."""


@dataclass(frozen=True)
class Query:
    """Which stubs to list: received in [since, until), of one line, with one outcome; None means any."""

    since: datetime | None = None
    until: datetime | None = None
    line: str | None = None
    outcome: str | None = None

    def matches(self, stub: Stub) -> bool:
        return (
            (self.since is None or stub.received >= self.since)
            and (self.until is None or stub.received < self.until)
            and (self.line is None or stub.line == self.line)
            and (self.outcome is None or stub.outcome.value == self.outcome)
        )


def micros(moment: datetime) -> int:
    """A moment as microseconds since the epoch: the order of stubs in every index, exact and zone-free."""
    return (moment - EPOCH) // timedelta(microseconds=1)


class TicketStore(Protocol):
    """What the engine and `ivr tickets` need of a store. Methods may be called from several threads."""

    name: str  # the URL as logs may show it

    def put(self, stubs: Sequence[Stub]) -> list[str | None]:
        """Write stubs in order. For each: a call (uniqueid) not yet known is created under the stub's id; a known
        one keeps its id and takes the stub's data if its revision is newer. Returns the id each call has now,
        or None where the stub's id already belongs to another call (nothing written for it).
        StoreUnavailable when nothing can be said of the write: the caller keeps the stubs and tries again."""
        ...

    def get(self, ticket_id: str) -> Stub | None: ...

    def find(self, query: Query) -> list[Stub]:
        """The stubs matching `query`, by time of receipt. Like `get`, with the stored call events applied
        (ivr.tickets.completion), so `query.outcome` matches the completed outcome."""
        ...

    def add_events(self, events: Sequence[CallEvent]) -> None:
        """Keep what Asterisk reported about calls (the monitor's facts), beside the stubs: the same fact of a call
        (its `key`) is kept once, so several monitors, or one replaying, never double it."""
        ...

    def put_board(self, name: str, board: dict[str, Any]) -> None:
        """The live queue board of monitor `name` (JSON-ready), replacing its previous one: every dashboard and
        `ivr queues` reads the boards from the store, whichever host the monitor runs on."""
        ...

    def boards(self) -> dict[str, dict[str, Any]]: ...

    def check_writable(self) -> None:
        """A write that changes nothing (`ivr doctor`): StoreUnavailable unless stubs could be written now; a
        Redis replica, read-only, refuses it as it would refuse a stub."""
        ...

    def tidy(self) -> None:
        """Upkeep that may take a while and that no call waits for (SQLite: copying its log into the database
        file). The book asks with closing stubs, so that it does not fall on a new call's opening stub."""
        ...

    def deliveries(self) -> Outbox:
        """The data links' stub events for `ivr deliver` (ivr.tickets.outbox)."""
        ...

    def close(self) -> None: ...
