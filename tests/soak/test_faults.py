"""Faults while calls flow through a real `ivr serve`, four callers at a time: an invalid rules file, Redis killed
and restarted, the engine killed with SIGKILL and restarted, the engine stalled under systemd's watchdog. Each test
counts the calls and the stubs after the fault: none lost, none doubled.

What happens to a call whose engine dies mid-session on the Asterisk side (the dialplan's fallback by IVR_STAGE,
for every stage the engine can leave) is proved through the generated dialplan's interpreter in
tests/dialplan/test_engine_killed.py; here the Asterisk side only sees its connection drop.
"""

from __future__ import annotations

import os
import signal
import socket
import tempfile
import time
from collections.abc import Iterator

import pytest

from ivr.agi.simulator import AsteriskSimulator
from ivr.tickets.open import open_store
from ivr.tickets.sqlite import SqliteStore
from tests.serve.engine import restart_engine, start_engine
from tests.serve.test_server import closed_by_server
from tests.soak.flow import CallFlow, Driven, on_plan_so_far, right_plan, stubs_by_uniqueid
from tests.tickets.calls import call
from tests.tickets.redisserver import DURABLE, RedisServer
from tests.tickets.test_engine import settled


def report(fault: str, calls: list[Driven], stubs: dict[str, int]) -> None:
    """The counts each fault test shows with -s, then asserts."""
    completed = sum(right_plan(driven) for driven in calls)
    print(
        f"{fault}: {len(calls)} calls ({completed} carried out their plan, {len(calls) - completed} cut off), "
        f"{sum(driven.ticket_id is not None for driven in calls)} with TICKET_ID, {len(stubs)} calls with stubs, "
        f"{sum(count > 1 for count in stubs.values())} doubled"
    )


@pytest.mark.soak  # about 7 s: it waits for the file watch to come round again
def test_an_invalid_rules_file_written_while_calls_flow_changes_nothing(tmp_path):
    engine = start_engine(tmp_path)
    flow = CallFlow(lambda: engine.port).start()
    try:
        flow.wait_for(20)
        text = engine.rules.read_text(encoding="utf-8")
        engine.rules.write_text(text.replace('  "12396":\n', '  "123x6":\n', 1), encoding="utf-8")
        engine.wait_for_log("rules reload refused")  # the file watch noticed it, no signal sent
        engine.process.send_signal(signal.SIGHUP)  # an admin's reload of the same file: refused again, silently
        flow.wait_for(20)
        time.sleep(2.5)  # the file watch runs again meanwhile: it must not log the same problems a second time
        flow.wait_for(20)
    finally:
        calls = flow.stop()
        assert engine.stop() == 0
    stubs = stubs_by_uniqueid(SqliteStore(tmp_path / "tickets.db"))
    report("invalid rules", calls, stubs)
    assert all(right_plan(driven) for driven in calls), "every call routed by the old rules, 12396 included"
    assert stubs == {driven.uniqueid: 1 for driven in calls}
    log = engine.log_text()
    assert log.count("rules reload refused") == 1 and log.count("line number '123x6' must be digits only") == 1
    assert "rules reloaded" not in log


def test_redis_killed_and_restarted_while_calls_flow_loses_and_doubles_no_stub(tmp_path_factory):
    redis_server = RedisServer(tmp_path_factory.mktemp("redis"), extra=DURABLE).start()
    engine = start_engine(tmp_path_factory.mktemp("engine"), "--store", redis_server.url)
    flow = CallFlow(lambda: engine.port).start()
    try:
        flow.wait_for(20)
        redis_server.kill()
        flow.wait_for(30)  # every one of these has its stub in the spool only
        redis_server.start()
        engine.wait_for_log("stubs replayed from the spool")
        flow.wait_for(20)
    finally:
        calls = flow.stop()
    try:
        store = open_store(redis_server.url, environ={})
        settled(store, len(calls))  # the engine still running: its replay timer empties the spool
        stubs = stubs_by_uniqueid(store)
    finally:
        assert engine.stop() == 0
        redis_server.stop()
    report("redis killed", calls, stubs)
    assert all(right_plan(driven) for driven in calls), "the calls never noticed: each had its TICKET_ID"
    assert stubs == {driven.uniqueid: 1 for driven in calls}
    assert "ALARM ticket store unavailable" in engine.log_text()


def in_queue(port: int, n: int) -> tuple[socket.socket, AsteriskSimulator]:
    """A call that has reached EXEC Queue and waits there, as a caller in the queue with nobody free."""
    simulator = AsteriskSimulator(call(n, "12345"))
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(simulator.open())
    while True:
        data = sock.recv(4096)
        assert data, "the engine closed before the queue"
        reply = simulator.receive(data)
        if data.startswith(b"EXEC Queue"):
            return sock, simulator  # no reply: the queue has not ended
        sock.sendall(reply)


def test_engine_killed_and_restarted_while_calls_flow(tmp_path):
    shared = ("--store", f"sqlite:///{tmp_path / 'tickets.db'}", "--spool", str(tmp_path / "spool"))
    (tmp_path / "a").mkdir()
    first = start_engine(tmp_path / "a", *shared)
    current = [first]
    flow = CallFlow(lambda: current[-1].port).start()
    waiting = [in_queue(first.port, 100_000 + n) for n in range(3)]
    try:
        flow.wait_for(20)
        first.process.kill()
        first.process.wait(timeout=10)
        assert all(closed_by_server(sock, 10) for sock, _ in waiting), "Asterisk sees each session drop"
        (tmp_path / "b").mkdir()
        current.append(restart_engine(tmp_path / "b", first.port, *shared))
        flow.wait_for(20, guard=60)  # served again: the callers' retry loop got through
    finally:
        calls = flow.stop()
        for sock, _ in waiting:
            sock.close()
        assert current[-1].stop() == 0
    stubs = stubs_by_uniqueid(SqliteStore(tmp_path / "tickets.db"))
    report("engine SIGKILL", calls, stubs)
    held = [simulator for _, simulator in waiting]
    assert all(s.variables["IVR_STAGE"] == "queue:hotline-12345" and "__TICKET_ID" in s.variables for s in held)
    with_id = [d.uniqueid for d in calls if d.ticket_id] + [s.call.uniqueid for s in held]
    assert all(stubs.get(uniqueid) == 1 for uniqueid in with_id), "every call that got an id has its one stub"
    assert all(count == 1 for count in stubs.values()), "none doubled"
    assert set(stubs) <= {d.uniqueid for d in calls} | {s.call.uniqueid for s in held}
    completed = [driven for driven in calls if right_plan(driven)]
    assert all(on_plan_so_far(driven) for driven in calls), "a call cut off was cut off, never misrouted"
    assert completed and completed[-1] is calls[-1], "calls are served again after the restart"


@pytest.fixture
def notify_socket() -> Iterator[socket.socket]:
    """systemd's end of sd_notify: a datagram socket on a short path (AF_UNIX paths stop at 107 bytes)."""
    folder = tempfile.mkdtemp(prefix="ivr-notify-")
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    yield sock
    sock.close()
    os.unlink(path)
    os.rmdir(folder)


def messages(sock: socket.socket, seconds: float) -> list[str]:
    """Every sd_notify message that arrives within `seconds`."""
    found = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            found.append(sock.recv(4096).decode("ascii"))
        except TimeoutError:
            break
    return found


WATCHDOG_USEC = 1_000_000  # systemd's WatchdogSec=1: the engine pings every 0.5 s


@pytest.mark.soak  # about 10 s: it watches the pings for three watchdog periods, three times
def test_a_stalled_engine_stops_its_watchdog_pings_and_is_replaced(tmp_path, notify_socket, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", notify_socket.getsockname())
    monkeypatch.setenv("WATCHDOG_USEC", str(WATCHDOG_USEC))
    stalled = start_engine(tmp_path)
    before = messages(notify_socket, 3 * WATCHDOG_USEC / 1e6)
    assert "READY=1" in before and before.count("WATCHDOG=1") >= 2, before
    flow = CallFlow(lambda: stalled.port, threads=2).start()
    flow.wait_for(10)
    served_before = flow.stop()
    stalled.process.send_signal(signal.SIGSTOP)  # the reactor blocked: nothing runs, the socket stays open
    try:
        silent = AsteriskSimulator(call(200_000, "12345"))
        waiting = socket.create_connection(("127.0.0.1", stalled.port), timeout=10)
        waiting.sendall(silent.open())  # the kernel accepts it; nobody answers: the caller hears silence
        assert "WATCHDOG=1" not in messages(notify_socket, 3 * WATCHDOG_USEC / 1e6), "no ping while stalled"
        stalled.process.send_signal(signal.SIGABRT)  # WatchdogSignal; pending while the process is stopped
        stalled.process.send_signal(signal.SIGKILL)  # then SIGKILL after TimeoutAbortSec
        stalled.process.wait(timeout=10)
    finally:
        if stalled.process.poll() is None:
            stalled.process.kill()
    assert closed_by_server(waiting, 10), "the silent call's connection drops: the dialplan fallback takes it"
    waiting.close()
    assert not [line for direction, line in silent.wire if direction == ">>"]
    (tmp_path / "again").mkdir()
    shared = ("--store", f"sqlite:///{tmp_path / 'tickets.db'}", "--spool", str(tmp_path / "tickets-spool"))
    replaced = restart_engine(tmp_path / "again", stalled.port, *shared)
    try:
        after = messages(notify_socket, 3 * WATCHDOG_USEC / 1e6)
        assert "READY=1" in after and after.count("WATCHDOG=1") >= 2, after
        flow = CallFlow(lambda: replaced.port, threads=2, first=300_000).start()
        flow.wait_for(10)
        served_after = flow.stop()
    finally:
        assert replaced.stop() == 0
    calls = served_before + served_after
    stubs = stubs_by_uniqueid(SqliteStore(tmp_path / "tickets.db"))
    report("engine stalled", calls, stubs)
    assert all(right_plan(driven) for driven in calls)
    assert stubs == {driven.uniqueid: 1 for driven in calls}, "the silent call never reached the engine: no stub"
