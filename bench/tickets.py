"""Ticket stub writes: stubs per second and write latency of each store, beside a bare baseline in the same run.

Each backend writes the same N opening stubs (distinct calls) one at a time, as the engine does at the durability
point, and reports stubs/s and the p50/p99 latency of one write; then the same N closing stubs in batches of 100,
as the engine batches them (the latency is then that of a whole batch), and N more opening stubs in batches of
100, as the engine group-commits the opening stubs of calls that arrive together. Last, calls one at a time as the
engine writes them (each opening stub alone, the closing stubs of 20 calls together): the opening stub's latency
through the store alone (SQLite checkpoints inside whichever commit fills its log) and through the book (which
reserves the counter's next block and has the store checkpoint with the closing stubs). The book adds what the engine
adds to a store: numbering (the counter) and the spool check. The baselines do the least the same durability
needs: a plain SQLite insert and commit (WAL, synchronous=FULL) of the stub's JSON, and a plain Redis pipeline
(HSET and XADD) of it, one stub a write and 100 a write. A real redis-server is started on a free loopback port in
a temporary folder (no persistence), and stopped at the end.

    .venv/bin/python bench/tickets.py [N]
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.tickets.book import TicketBook
from ivr.tickets.ids import Counter
from ivr.tickets.open import open_store
from ivr.tickets.spool import Spool
from ivr.tickets.stub import Stub
from tests.tickets.calls import call, stubs_of
from tests.tickets.redisserver import RedisServer

BATCH = 100
CLOSINGS_EVERY = 20  # one call at a time, about 200 calls end within the writer's 0.1 s wait


def timed(write: Callable[[Sequence[Stub]], object], stubs: Sequence[Stub], batch: int) -> list[float]:
    latencies = []
    for start in range(0, len(stubs), batch):
        began = time.perf_counter()
        write(stubs[start : start + batch])
        latencies.append(time.perf_counter() - began)
    return latencies


def one_call_at_a_time(
    write: Callable[[Sequence[Stub]], Sequence[str | None]], openings: Sequence[Stub], closings: Sequence[Stub]
) -> list[float]:
    """The engine's pattern with one call at a time: each call's opening stub alone (timed: the call waits for
    it), and every CLOSINGS_EVERY calls their closing stubs together (not timed: no call waits for them)."""
    latencies, ended = [], []
    for opening, closing in zip(openings, closings, strict=True):
        began = time.perf_counter()
        ticket_id = write([opening])[0]
        latencies.append(time.perf_counter() - began)
        ended.append(replace(closing, id=ticket_id or closing.id))
        if len(ended) == CLOSINGS_EVERY:
            write(ended)
            ended = []
    return latencies


def report(name: str, latencies: list[float], count: int) -> None:
    ordered = sorted(latencies)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    rate = count / sum(latencies)
    print(
        f"{name:<42} {rate:9,.0f} stubs/s   p50 {statistics.median(ordered) * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms"
    )


def bare_sqlite(path: Path) -> Callable[[Sequence[Stub]], None]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE tickets (id TEXT PRIMARY KEY, stub TEXT NOT NULL)")

    def write(stubs: Sequence[Stub]) -> None:
        db.execute("BEGIN")
        db.executemany(
            "INSERT OR REPLACE INTO tickets VALUES (?, ?)",
            [(s.id, json.dumps(s.as_json(), ensure_ascii=False)) for s in stubs],
        )
        db.execute("COMMIT")

    return write


def bare_redis(server: RedisServer) -> Callable[[Sequence[Stub]], None]:
    client = server.client()

    def write(stubs: Sequence[Stub]) -> None:
        pipe = client.pipeline(transaction=False)
        for stub in stubs:
            text = json.dumps(stub.as_json(), ensure_ascii=False)
            pipe.hset(f"bare:{stub.id}", "stub", text)
            pipe.xadd("bare:stream", {"id": stub.id, "stub": text})
        pipe.execute()

    return write


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    pairs = [stubs_of(call(n, ("12345", "12348", "96301", "12333")[n % 4])) for n in range(count)]
    openings = [replace(o, id=f"12345-20261126-e1-{n:06d}") for n, (o, _) in enumerate(pairs, start=1)]
    closings = [replace(c, id=o.id) for o, (_, c) in zip(openings, pairs, strict=True)]
    # Other calls again: the opening stubs a burst of calls brings, which the engine group-commits.
    again = [stubs_of(call(count + n, ("12345", "12348", "96301", "12333")[n % 4]))[0] for n in range(count)]
    openings_again = [replace(o, id=f"12345-20261126-e1-{count + n:06d}") for n, o in enumerate(again, start=1)]
    print(f"{count} stubs of {len(json.dumps(openings[0].as_json(), ensure_ascii=False).encode())} bytes (JSON)")
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        server = RedisServer(base).start()
        try:
            sqlite_store = open_store(f"sqlite:///{base / 'tickets.db'}")
            redis_store = open_store(server.url, environ={})
            spool = Spool(base / "spool-only")
            runs: list[tuple[str, Callable[[Sequence[Stub]], object], Sequence[Stub], int]] = [
                ("baseline: SQLite insert + commit", bare_sqlite(base / "bare.db"), openings, 1),
                ("baseline: SQLite, 100 a commit", bare_sqlite(base / "bare-batch.db"), openings, BATCH),
                ("SQLite store, opening stub", sqlite_store.put, openings, 1),
                ("SQLite store, opening stubs, 100 a write", sqlite_store.put, openings_again, BATCH),
                ("SQLite store, closing stubs, 100 a write", sqlite_store.put, closings, BATCH),
                ("baseline: Redis pipeline HSET+XADD", bare_redis(server), openings, 1),
                ("baseline: Redis pipeline, 100 a write", bare_redis(server), openings_again, BATCH),
                ("Redis store, opening stub", redis_store.put, openings, 1),
                ("Redis store, opening stubs, 100 a write", redis_store.put, openings_again, BATCH),
                ("Redis store, closing stubs, 100 a write", redis_store.put, closings, BATCH),
                ("spool append + fsync", spool.append, openings, 1),
            ]
            for name, write, stubs, batch in runs:
                report(name, timed(write, stubs, batch), len(stubs))
            unnumbered = [replace(o, id="") for o in openings]
            for name, url in (("SQLite", f"sqlite:///{base / 'book.db'}"), ("Redis", f"{server.url[:-1]}1")):
                book = TicketBook(open_store(url, environ={}), Spool(base / name), Counter(base / name, "e1"))
                report(f"book (id + {name}), opening stub", timed(book.record, unnumbered, 1), count)
            # A call's opening stub between other calls' closing stubs: SQLite's own checkpoint (the store alone)
            # against the book's upkeep with the closing stubs (the counter's next block, the checkpoint).
            alone = open_store(f"sqlite:///{base / 'calls-store.db'}").put
            report("SQLite store, calls one at a time: opening", one_call_at_a_time(alone, openings, closings), count)
            book = TicketBook(open_store(f"sqlite:///{base / 'calls-book.db'}"), Spool(base / "c"), Counter(base, "e1"))
            numbered = one_call_at_a_time(book.record, unnumbered, closings)
            report("book (id + SQLite), calls one at a time: opening", numbered, count)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
