"""Hostile peers against a real `ivr serve`: one that connects and says nothing, one that sends a byte a second,
one that sends megabytes without a newline, and one outside the allowlist. Each is cut off by its own limit and
logged; meanwhile ordinary calls, four at a time, are routed exactly as planned and each leaves one stub.

tests/serve/test_server.py already cuts off a peer stuck inside its environment block and a 1 MB flood; here every
peer is named by the limit that ended it, the floods are bigger and one comes after a valid environment, and the
calls that go on are checked command for command.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from ivr.agi.protocol import MAX_LINE
from ivr.agi.simulator import AsteriskSimulator, SimulatedCall
from ivr.serve.limits import ENVIRONMENT_SECONDS
from ivr.tickets.sqlite import SqliteStore
from tests.serve.engine import Engine, start_engine
from tests.serve.test_server import closed_by_server
from tests.soak.flow import CallFlow, drive, right_plan, stubs_by_uniqueid
from tests.tickets.test_engine import settled

ENV = AsteriskSimulator(SimulatedCall("12345")).open()
MEGABYTES = 8


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    running = start_engine(tmp_path_factory.mktemp("peers"), "--allow", "127.0.0.1/32", "--drain-seconds", "2")
    yield running
    assert running.stop() == 0


def flood(sock: socket.socket, head: bytes, stop: threading.Event) -> None:
    """`head`, then megabytes without a newline, until the engine cuts the connection."""
    try:
        sock.sendall(head)
        chunk = b"y" * 65536
        for _ in range(MEGABYTES * 16):
            if stop.is_set():
                return
            sock.sendall(chunk)
    except OSError:
        return


def drip(sock: socket.socket, stop: threading.Event) -> None:
    for byte in ENV:
        if stop.wait(1.0):
            return
        try:
            sock.send(bytes([byte]))
        except OSError:
            return


def test_hostile_peers_are_cut_off_by_their_limits_while_calls_go_on(engine):
    before = engine.log_text()
    stop = threading.Event()
    silent = socket.create_connection(("127.0.0.1", engine.port))
    dribbler = socket.create_connection(("127.0.0.1", engine.port))
    flooders = [socket.create_connection(("127.0.0.1", engine.port)) for _ in range(2)]
    peers = [
        threading.Thread(target=drip, args=(dribbler, stop)),
        threading.Thread(target=flood, args=(flooders[0], b"", stop)),
        threading.Thread(target=flood, args=(flooders[1], ENV, stop)),  # a valid call, then a reply without end
    ]
    for peer in peers:
        peer.start()
    flow = CallFlow(lambda: engine.port).start()
    try:
        flow.wait_for(40)
        assert closed_by_server(flooders[0], 10), "a line past 8 KiB is refused at once"
        assert closed_by_server(flooders[1], 10), "also after the environment"
        assert closed_by_server(silent, 3 * ENVIRONMENT_SECONDS), "saying nothing does not keep a session"
        assert closed_by_server(dribbler, 3 * ENVIRONMENT_SECONDS), "a byte a second does not keep one either"
    finally:
        calls = flow.stop()
        stop.set()
        for peer in peers:
            peer.join(timeout=30)
        for sock in (silent, dribbler, *flooders):
            sock.close()
    wrong = [driven.uniqueid for driven in calls if not right_plan(driven)]
    stubs = stubs_by_uniqueid(SqliteStore(engine.log.parent / "tickets.db"))
    print(f"hostile peers: 4 cut off; {len(calls)} calls, {len(wrong)} off plan, {len(stubs)} calls with stubs")
    assert len(stubs) == len(calls) + 1, "the flood after a valid environment was a call: it has its stub too"
    assert not wrong, f"calls not routed as planned while hostile peers were connected: {wrong}"
    assert all(stubs.get(driven.uniqueid) == 1 for driven in calls), "every call has exactly one stub"
    log = engine.log_text()[len(before) :]
    assert log.count(f"no answer to the environment block within {ENVIRONMENT_SECONDS:.0f} s") == 2, log
    assert log.count(f"longer than {MAX_LINE} bytes without LF") == 2, log
    assert log.count("session from 127.0.0.1 closed before its environment block") == 3, log
    settled(SqliteStore(engine.log.parent / "tickets.db"), len(stubs))


def test_a_source_outside_the_allowlist_is_refused_and_never_routed(engine):
    """The engine allows 127.0.0.1 only; 127.0.0.2 is another loopback address, as another host would be."""
    store = SqliteStore(engine.log.parent / "tickets.db")
    before = len(stubs_by_uniqueid(store))
    outsider = drive(engine.port, SimulatedCall("12345", uniqueid="1795000000.5"), source="127.0.0.2")
    assert not [line for direction, line in outsider.simulator.wire if direction == ">>"], "not one command"
    engine.wait_for_log("connection from 127.0.0.2 refused: not in the allowlist (--allow)")
    flow = CallFlow(lambda: engine.port, threads=1, first=100_000).start()
    flow.wait_for(1)
    (allowed, *_) = flow.stop()
    assert right_plan(allowed), "the same call from an allowed address is routed"
    stubs = settled(store, before + len(flow.done))
    assert "1795000000.5" not in {stub.uniqueid for stub in stubs}, "the refused call left no stub"
    assert "uniqueid=1795000000.5" not in engine.log_text(), "and was never routed"
