"""The SQLite store's outbox: the `outbox` table the store fills in each stub's own transaction, read in order per
data link by the deliverer that holds the link's lease (`delivery_leases`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from ivr.tickets.outbox import Event, LinkCounts
from ivr.tickets.store import micros

T = TypeVar("T")
COLUMNS = "seq, link, ticket, revision, event, written_us, since_us, stub, attempts, error, state"


class Database(Protocol):
    """The store's connection, one transaction or read at a time (ivr.tickets.sqlite)."""

    def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T: ...

    def read(self, query: Callable[[sqlite3.Connection], T]) -> T: ...


class SqliteOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def take(self, link: str, owner: str, lease_seconds: float, limit: int) -> list[Event] | None:
        lease = int(lease_seconds * 1_000_000)

        def lease_row(db: sqlite3.Connection) -> tuple[str, int] | None:
            return db.execute("SELECT owner, until_us FROM delivery_leases WHERE link = ?", (link,)).fetchone()

        def pending(db: sqlite3.Connection) -> list[Event]:
            rows = db.execute(
                f"SELECT {COLUMNS} FROM outbox WHERE link = ? AND state = 'pending' ORDER BY seq LIMIT ?",
                (link, limit),
            )
            return [_event(r) for r in rows]

        row = self.db.read(lease_row)
        if row is not None and row[0] == owner and row[1] - _now() > lease // 2:
            return self.db.read(pending)  # the lease is ours for a while yet: polling writes nothing

        def take(db: sqlite3.Connection) -> list[Event] | None:
            now, held = _now(), lease_row(db)
            if held is not None and held[0] != owner and held[1] > now:
                return None
            db.execute("INSERT OR REPLACE INTO delivery_leases (link, owner, until_us) VALUES (?, ?, ?)",
                       (link, owner, now + lease))  # fmt: skip
            return pending(db)

        return self.db.transaction(take)

    def delivered(self, event: Event) -> None:
        self._set(event, "DELETE FROM outbox WHERE seq = ?", ())  # the department has it: nothing left to keep

    def attempted(self, event: Event, error: str) -> None:
        self._set(event, "UPDATE outbox SET attempts = attempts + 1, error = ? WHERE seq = ?", (error,))

    def park(self, event: Event, error: str) -> None:
        sql = "UPDATE outbox SET state = 'failed', attempts = attempts + 1, error = ? WHERE seq = ?"
        self._set(event, sql, (error,))

    def listing(self, links: Sequence[str], failed_only: bool) -> list[Event]:
        states = ("failed",) if failed_only else ("pending", "failed")
        sql = (
            f"SELECT {COLUMNS} FROM outbox WHERE state IN ({_marks(states)}) AND link IN ({_marks(links)}) "
            "ORDER BY link, seq"
        )
        return self.db.read(lambda db: [_event(r) for r in db.execute(sql, (*states, *links))])

    def retry(self, links: Sequence[str], keys: Sequence[str]) -> int:
        seqs = tuple(int(k) for k in keys if k.isdigit())
        if keys and not seqs:
            return 0
        which = f" AND seq IN ({_marks(seqs)})" if seqs else ""
        update = (
            "UPDATE outbox SET state = 'pending', since_us = ?, attempts = 0, error = '' "
            f"WHERE state = 'failed' AND link IN ({_marks(links)}){which}"
        )
        return self.db.transaction(lambda db: db.execute(update, (_now(), *links, *seqs)).rowcount)

    def counts(self, links: Sequence[str]) -> dict[str, LinkCounts]:
        def count(db: sqlite3.Connection) -> dict[str, LinkCounts]:
            found = {}
            for link in links:
                pending, oldest = db.execute(
                    "SELECT COUNT(*), MIN(written_us) FROM outbox WHERE link = ? AND state = 'pending'", (link,)
                ).fetchone()
                (failed,) = db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE link = ? AND state = 'failed'", (link,)
                ).fetchone()
                found[link] = LinkCounts(pending, failed, oldest / 1_000_000 if oldest is not None else None)
            return found

        return self.db.read(count)

    def _set(self, event: Event, sql: str, args: tuple[str, ...]) -> None:
        self.db.transaction(lambda db: db.execute(sql, (*args, int(event.key))))


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _now() -> int:
    return micros(datetime.now(UTC))


def _event(row: tuple[int, str, str, int, str, int, int, str, int, str, str]) -> Event:
    seq, link, ticket, revision, event, written, since, stub, attempts, error, state = row
    return Event(
        key=str(seq),
        link=link,
        ticket=ticket,
        revision=revision,
        event=event,
        written=written / 1_000_000,
        since=since / 1_000_000,
        stub=json.loads(stub),
        attempts=attempts,
        error=error,
        failed=state == "failed",
    )
