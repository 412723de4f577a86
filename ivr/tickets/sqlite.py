"""The embedded store: one SQLite file, for one host and no server.

WAL mode, so `ivr tickets` reads while the engine writes; `synchronous=FULL`, so a commit is on disk when it
returns, which is what the durability point promises. One connection, used by one thread at a time: SQLite has
one writer anyway, and the engine's writes are short.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ivr.tickets.completion import CallEvent, completed
from ivr.tickets.sqliteoutbox import SqliteOutbox
from ivr.tickets.store import Query, StoreUnavailable, micros
from ivr.tickets.stub import Stub

T = TypeVar("T")
BUSY_SECONDS = 2.0  # another writer (a second engine on the same file) holds the lock at most this long
SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    uniqueid TEXT NOT NULL UNIQUE, -- the call key (ivr.hosts.call_key): a local call's is its bare uniqueid
    received_us INTEGER NOT NULL,
    day TEXT NOT NULL,
    line TEXT NOT NULL,
    outcome TEXT NOT NULL,
    revision INTEGER NOT NULL,
    stub TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_by_received ON tickets (received_us);
CREATE INDEX IF NOT EXISTS tickets_by_day ON tickets (day, received_us);
CREATE INDEX IF NOT EXISTS tickets_by_line ON tickets (line, received_us);
CREATE TABLE IF NOT EXISTS call_events (
    uniqueid TEXT NOT NULL, -- the call key, as in tickets
    key TEXT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (uniqueid, key)
);
CREATE TABLE IF NOT EXISTS boards (
    name TEXT PRIMARY KEY,
    board TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    link TEXT NOT NULL,
    ticket TEXT NOT NULL,
    revision INTEGER NOT NULL,
    event TEXT NOT NULL,
    written_us INTEGER NOT NULL,
    since_us INTEGER NOT NULL,
    stub TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',  -- or failed (parked); a delivered event is deleted
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox (link, state, seq);
CREATE TABLE IF NOT EXISTS delivery_leases (
    link TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until_us INTEGER NOT NULL
);
"""
INSERT_TICKET = (
    "INSERT INTO tickets (id, uniqueid, received_us, day, line, outcome, revision, stub) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
EVENTS_PER_SELECT = 500  # SQLite's limit on bound parameters is 32,766; stay far below it

NO_BOARD = "\0"  # no monitor has this name: deleting it is a write that changes nothing


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"sqlite:///{path}"
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def put(self, stubs: Sequence[Stub]) -> list[str | None]:
        written = micros(datetime.now(UTC))
        return self.transaction(lambda db: [self._put(db, stub, written) for stub in stubs])

    def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` in one write transaction: all of it is committed, or nothing (StoreUnavailable)."""
        with self._lock:
            db = self._connect(create=True)
            try:
                db.execute("BEGIN IMMEDIATE")
                result = work(db)
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                db.close()  # the next write opens the file afresh: it may have been replaced or repaired
                self._db = None
                raise StoreUnavailable(f"{self.name}: {exc}") from None
            return result

    def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            return self._read(query)

    def deliveries(self) -> SqliteOutbox:
        return SqliteOutbox(self)

    def get(self, ticket_id: str) -> Stub | None:
        rows = self._select("SELECT stub FROM tickets WHERE id = ?", (ticket_id,))
        return rows[0] if rows else None

    def find(self, query: Query) -> list[Stub]:
        where: list[str] = []
        args: list[str | int] = []
        if query.line is not None:
            where.append("line = ?")
            args.append(query.line)
        if query.since is not None:
            where.append("received_us >= ?")
            args.append(micros(query.since))
        if query.until is not None:
            where.append("received_us < ?")
            args.append(micros(query.until))
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        stubs = self._select(f"SELECT stub FROM tickets {condition} ORDER BY received_us, id", tuple(args))
        return [stub for stub in stubs if query.matches(stub)]

    def add_events(self, events: Sequence[CallEvent]) -> None:
        rows = [(e.call, e.key, json.dumps(e.as_json(), ensure_ascii=False)) for e in events]
        self._write("INSERT OR IGNORE INTO call_events (uniqueid, key, event) VALUES (?, ?, ?)", rows)

    def put_board(self, name: str, board: dict[str, Any]) -> None:
        text = json.dumps(board, ensure_ascii=False)
        self._write("INSERT OR REPLACE INTO boards (name, board) VALUES (?, ?)", [(name, text)])

    def boards(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            rows = self._read(lambda db: db.execute("SELECT name, board FROM boards").fetchall())
        return {name: json.loads(text) for name, text in rows}

    def check_writable(self) -> None:
        self._write("DELETE FROM boards WHERE name = ?", [(NO_BOARD,)])

    def tidy(self) -> None:
        """The log's pages copied into the database file now (a passive checkpoint: readers are not waited for),
        so that SQLite's own checkpoint, run inside whichever commit fills the log to 1,000 pages, seldom falls
        on an opening stub's commit (measured: p99 of an opening stub's write 1.0-1.3 ms -> 0.65-0.9 ms)."""
        with self._lock:
            db = self._connect(create=True)
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"{self.name}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _put(self, db: sqlite3.Connection, stub: Stub, written: int) -> str | None:
        """The stub, and in the same transaction its data link's event (the outbox row `ivr deliver` sends). The
        usual write is one statement: a new call's row inserted, or the row of the call under the id the stub
        already carries updated; anything else (a reconnect, a stub replayed or renumbered) reads the row first."""
        changing = _changing(stub)
        if stub.revision == 0:
            try:
                cursor = db.execute(f"{INSERT_TICKET} ON CONFLICT (uniqueid) DO NOTHING", _row(stub, changing))
            except sqlite3.IntegrityError:
                return None  # the id is another call's
            event = "created"
        else:
            cursor = db.execute(
                "UPDATE tickets SET outcome = ?, revision = ?, stub = ? WHERE uniqueid = ? AND id = ? AND revision < ?",
                (*changing, stub.call, stub.id, stub.revision),
            )
            event = "updated"
        if cursor.rowcount:
            _add_event(db, stub, event, written, changing[2])
            return stub.id
        return self._put_read_first(db, stub, written, changing)

    def _put_read_first(
        self, db: sqlite3.Connection, stub: Stub, written: int, changing: tuple[str, int, str]
    ) -> str | None:
        row = db.execute("SELECT id, revision FROM tickets WHERE uniqueid = ?", (stub.call,)).fetchone()
        if row is None:
            try:
                db.execute(INSERT_TICKET, _row(stub, changing))
            except sqlite3.IntegrityError:
                return None  # the id is another call's
            _add_event(db, stub, "created", written, changing[2])
            return stub.id
        stored_id, revision = row
        if stub.revision > revision:
            stored = stub
            if stub.id != stored_id:  # numbered anew (a second session, a replay): the row keeps its id
                stored = stub.evolve(id=stored_id)
                changing = _changing(stored)
            db.execute("UPDATE tickets SET outcome = ?, revision = ?, stub = ? WHERE id = ?", (*changing, stored_id))
            _add_event(db, stored, "updated", written, changing[2])
        return str(stored_id)

    def _select(self, sql: str, args: tuple[object, ...]) -> list[Stub]:
        with self._lock:
            rows = self._read(lambda db: db.execute(sql, args).fetchall())
            stubs = [Stub.from_json(json.loads(text)) for (text,) in rows]
            events = self._read(lambda db: _events_of(db, [stub.call for stub in stubs]))
        return [completed(stub, events.get(stub.call, ())) for stub in stubs]

    def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        db = self._connect(create=False)
        try:
            return query(db)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self.name}: {exc}") from None

    def _write(self, sql: str, rows: Sequence[tuple[str, ...]]) -> None:
        self.transaction(lambda db: db.executemany(sql, rows))

    def _connect(self, create: bool) -> sqlite3.Connection:
        """The connection, opened on first use. Reading never creates the file: a wrong path is an error."""
        if self._db is not None:
            return self._db
        if not create and not self.path.exists():
            raise StoreUnavailable(f"{self.name}: no ticket store there (no stub has been written to it)")
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{self.name}: {exc}") from None
        self._db = db
        return db


def _events_of(db: sqlite3.Connection, calls: list[str]) -> dict[str, list[CallEvent]]:
    found: dict[str, list[CallEvent]] = {}
    for start in range(0, len(calls), EVENTS_PER_SELECT):
        chunk = calls[start : start + EVENTS_PER_SELECT]
        marks = ",".join("?" * len(chunk))
        for call, text in db.execute(f"SELECT uniqueid, event FROM call_events WHERE uniqueid IN ({marks})", chunk):
            found.setdefault(call, []).append(CallEvent.from_json(json.loads(text)))
    return found


def _add_event(db: sqlite3.Connection, stub: Stub, event: str, written: int, text: str) -> None:
    """The data link's event carries the stub's JSON as its row has it (`text`: made once for both)."""
    if stub.data_link:
        db.execute(
            "INSERT INTO outbox (link, ticket, revision, event, written_us, since_us, stub) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (stub.data_link, stub.id, stub.revision, event, written, written, text),
        )


def _row(stub: Stub, changing: tuple[str, int, str]) -> tuple[object, ...]:
    return (stub.id, stub.call, micros(stub.received), stub.day, stub.line, *changing)


def _changing(stub: Stub) -> tuple[str, int, str]:
    """The columns a newer revision replaces."""
    return stub.outcome.value, stub.revision, json.dumps(stub.as_json(), ensure_ascii=False)
