"""Tickets through a real `ivr serve`: a stub survives the engine's SIGKILL, `ivr tickets` reads while the engine
writes, Redis killed mid-run loses no stub and doubles none, two engines share one Redis."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from ivr.agi.simulator import AsteriskSimulator
from ivr.serve.callclient import call_engine
from ivr.tickets.open import open_store
from ivr.tickets.redis import stream_key
from ivr.tickets.sqlite import SqliteStore
from ivr.tickets.store import Query
from ivr.tickets.stub import StubOutcome
from tests.conftest import ROOT
from tests.serve.engine import start_engine
from tests.tickets.calls import call
from tests.tickets.redisserver import DURABLE, RedisServer

NUMBERS = ["12345", "12396", "12333", "12315", "96301"]


def tickets(*args, cwd=ROOT):
    result = subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "tickets", *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def settled(store, count, timeout=20.0):
    """The store's stubs once `count` calls are in it, every one closed (the closing stubs are batched)."""
    deadline = time.monotonic() + timeout
    while True:
        found = store.find(Query())
        if len(found) == count and all(stub.revision == 1 for stub in found):
            return found
        assert time.monotonic() < deadline, f"{len(found)} stubs, {[s.revision for s in found]}"
        time.sleep(0.05)


def test_the_stub_is_on_disk_before_the_engine_sets_ticket_id(tmp_path):
    engine = start_engine(tmp_path)
    simulator = AsteriskSimulator(call(1, "12333"))
    with socket.create_connection(("127.0.0.1", engine.port), timeout=10) as sock:
        sock.sendall(simulator.open())
        lines = sock.makefile("rb")
        while not (line := lines.readline()).startswith(b"SET VARIABLE __TICKET_ID"):
            sock.sendall(simulator.receive(line))
        engine.process.kill()  # SIGKILL the moment the engine says the id: nothing more is written
        engine.process.wait(timeout=10)
    ticket = line.split()[-1].decode()
    stub = SqliteStore(tmp_path / "tickets.db").get(ticket)
    assert stub is not None and stub.uniqueid == "1795849802.5"
    assert (stub.outcome, stub.revision, stub.line) == (StubOutcome.IN_PROGRESS, 0, "12333")

    again = start_engine(tmp_path)  # the same folder: store, spool and counter
    try:
        later = call_engine("127.0.0.1", again.port, call(2, "12345")).variables["__TICKET_ID"]
        assert later > ticket, "the counter went on from its reserved block, never back"
        listed = json.loads(tickets("list", "--json", cwd=tmp_path))
        assert [s["id"] for s in listed] == [ticket, later]
    finally:
        assert again.stop() == 0


def test_ivr_tickets_reads_while_the_engine_writes(tmp_path):
    engine = start_engine(tmp_path)
    calls = [call(n, NUMBERS[n % len(NUMBERS)]) for n in range(1, 41)]
    try:
        with ThreadPoolExecutor(4) as pool:
            running = pool.map(lambda c: call_engine("127.0.0.1", engine.port, c), calls)
            counts = [len(json.loads(tickets("list", "--json", cwd=tmp_path))) for _ in range(3)]
            simulators = list(running)
        assert counts == sorted(counts), "each listing is a consistent snapshot"
        found = settled(SqliteStore(tmp_path / "tickets.db"), len(calls))
        assert sorted(s.uniqueid for s in found) == sorted(c.uniqueid for c in calls)
        assert {s.id for s in found} == {sim.variables["__TICKET_ID"] for sim in simulators}
    finally:
        assert engine.stop() == 0


def test_redis_killed_mid_run_loses_no_stub_and_doubles_none(tmp_path_factory):
    redis_server = RedisServer(tmp_path_factory.mktemp("redis"), extra=DURABLE).start()
    engine = start_engine(tmp_path_factory.mktemp("engine"), "--store", redis_server.url)
    calls = [call(n, NUMBERS[n % len(NUMBERS)]) for n in range(1, 11)]
    try:
        ids = []
        for n, simulated in enumerate(calls, start=1):
            if n == 4:
                redis_server.kill()
            if n == 8:
                redis_server.start()
            ids.append(call_engine("127.0.0.1", engine.port, simulated).variables["__TICKET_ID"])
        assert ids == sorted(ids) and len(set(ids)) == len(calls), "every call had its id, even with Redis down"
        found = settled(open_store(redis_server.url, environ={}), len(calls))
        assert [s.uniqueid for s in found] == [c.uniqueid for c in calls], "one stub per call, in order"
        assert [s.id for s in found] == ids
        created = [e["id"] for _, e in redis_server.client().xrange(stream_key("all")) if e["event"] == "created"]
        assert created == ids, "the department streams got each stub once, in order"
        log = engine.log_text()
        assert "ALARM ticket store unavailable" in log and "stubs replayed from the spool" in log
    finally:
        assert engine.stop() == 0
        redis_server.stop()


def test_two_engines_on_one_redis_number_apart_and_list_together(redis_server, tmp_path_factory):
    engines = [
        start_engine(tmp_path_factory.mktemp(name), "--store", redis_server.url, "--engine-id", name)
        for name in ("e1", "e2")
    ]
    try:
        calls = [call(n, NUMBERS[n % len(NUMBERS)]) for n in range(1, 7)]
        ids = [call_engine("127.0.0.1", engines[n % 2].port, c).variables["__TICKET_ID"] for n, c in enumerate(calls)]
        assert len(set(ids)) == 6 and {i.split("-")[2] for i in ids} == {"e1", "e2"}
        settled(open_store(redis_server.url, environ={}), len(calls))
        listed = json.loads(tickets("list", "--json", "--store", redis_server.url))
        assert sorted(s["id"] for s in listed) == sorted(ids)
        assert [s["engine"] for s in listed] == ["e1", "e2"] * 3
    finally:
        for engine in engines:
            assert engine.stop() == 0
