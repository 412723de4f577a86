"""The one small interface every ticket store has, and the `--store` URL that picks one.

- `sqlite:///PATH` (default `sqlite:///tickets.db`, a path in the working folder; `sqlite:////var/lib/...` for an
  absolute one): one host, no server; the engine writes while `ivr tickets` reads (WAL).
- `redis://HOST:PORT/DB`: several engines on several hosts share it; it also delivers the stubs to the
  department systems through streams. The password comes from IVR_REDIS_PASSWORD or IVR_REDIS_PASSWORD_FILE,
  never from the URL, which shows in `ps` and in logs.

Every write is idempotent per call (Asterisk's uniqueid), so replaying a spool or a retried write never makes a
second stub, and a write with an older revision never replaces a newer one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ivr.secrets import secret_from_environment
from ivr.tickets.completion import CallEvent
from ivr.tickets.stub import Stub

DEFAULT_STORE = "sqlite:///tickets.db"
REDIS_PASSWORD = "IVR_REDIS_PASSWORD"
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

    def close(self) -> None: ...


def open_store(url: str, environ: Mapping[str, str] | None = None) -> TicketStore:
    """The store a `--store` URL names; ValueError for a URL that names none, or that holds a password."""
    if url.startswith("sqlite:///"):
        from ivr.tickets.sqlite import SqliteStore

        return SqliteStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith("redis://"):
        from ivr.tickets.redis import RedisStore

        parts = urlsplit(url)
        if parts.password is not None or parts.username is not None:
            raise ValueError(f"put the Redis password in {REDIS_PASSWORD} or {REDIS_PASSWORD}_FILE, not in the URL")
        return RedisStore(url, secret_from_environment(REDIS_PASSWORD, environ) or None)
    raise ValueError(f"{url!r}: expected sqlite:///PATH or redis://HOST:PORT/DB")
