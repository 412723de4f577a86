"""The real Twisted server over loopback: every line, every outcome, bad peers, allowlist, reload, SIGTERM."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from ivr.agi.simulator import AsteriskSimulator, DialBehaviour, QueueBehaviour, SimulatedCall
from ivr.rules.loader import load_rules
from ivr.serve.callclient import call_engine
from ivr.tickets.open import open_store
from ivr.tickets.store import Query
from ivr.tickets.stub import StubOutcome
from tests.conftest import ROOT, SHIPPED_RULES
from tests.serve.engine import copy_rules, start_engine

RULES = load_rules(SHIPPED_RULES)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    running = start_engine(tmp_path_factory.mktemp("engine"), "--drain-seconds", "2")
    yield running
    assert running.stop() == 0


def execs(simulator):
    return [line for d, line in simulator.wire if d == ">>" and line.startswith("EXEC")]


@pytest.mark.parametrize("number", sorted(RULES.lines))
def test_every_line_is_routed_by_the_real_server(engine, number):
    simulator = call_engine("127.0.0.1", engine.port, SimulatedCall(number))
    line = RULES.lines[number]
    assert simulator.variables["__IVR_LINE"] == number
    assert simulator.variables["IVR_STAGE"] == "done"
    first = RULES.destination(line.destination)
    app = "Dial" if hasattr(first, "dial") else "Queue"
    assert execs(simulator)[0].startswith(f"EXEC {app} ")
    assert simulator.closed, "the engine half-closed and Asterisk's last HANGUP was sent"


@pytest.mark.parametrize(
    ("call", "expected_execs", "stage"),
    [
        (SimulatedCall("12345", queues={"hotline-12345": QueueBehaviour.TIMEOUT}), 1, "done"),
        (SimulatedCall("12345", queues={"hotline-12345": QueueBehaviour.CALLER_HANGUP}), 1, "queue:hotline-12345"),
        (SimulatedCall("12333", seats={"PJSIP/12333@dept-hr-social-security": DialBehaviour.BUSY}), 2, "done"),
        (SimulatedCall("12396", hangup_in_prompt="stopped-12396"), 0, "prompt"),  # the server runs on today
        (SimulatedCall("12396", hangup_after_replies=2), 0, ""),
        (SimulatedCall("110"), 0, ""),
    ],
    ids=["queue-timeout", "abandoned", "seat-busy", "hangup-in-prompt", "hangup-idle", "emergency"],
)
def test_outcomes_over_the_wire(engine, call, expected_execs, stage):
    simulator = call_engine("127.0.0.1", engine.port, call)
    assert len(execs(simulator)) == expected_execs
    assert simulator.variables.get("IVR_STAGE", "") == stage


def test_ivr_call_prints_the_conversation(engine):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ivr.cli.main",
            "call",
            "12333",
            "--port",
            str(engine.port),
            "--seat",
            "busy",
            "--rules",
            str(engine.rules),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "engine   > EXEC Dial PJSIP/12333@dept-hr-social-security,25" in out
    assert "asterisk < 200 result=1 (BUSY)" in out
    assert "engine   > EXEC Queue expert-12333,tc,,,180" in out
    assert out.rstrip().endswith("IVR_STAGE=done; the dialplan hangs up")


def test_ivr_call_without_an_engine_says_so(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "call", "12345", "--port", str(free)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("ivr call: cannot connect to the engine")
    assert "Traceback" not in result.stderr


def _ivr_call(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "call", *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


@contextlib.contextmanager
def _peer(answer: bytes) -> Iterator[int]:
    """A loopback server that answers every connection with `answer` and closes: something that is not an engine."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = server.accept()
                with connection:
                    received = b""
                    while b"\n\n" not in received and (data := connection.recv(65536)):
                        received += data  # the whole environment first: closing on unread bytes would reset
                    connection.sendall(answer)
                    connection.shutdown(socket.SHUT_WR)
                    while connection.recv(65536):
                        pass  # what `ivr call` answers, until it closes

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "is not an AGI engine: it answered 'HTTP/1.1 400"),
        (b"\xff\xfe\x00binary\n", "not an AGI command (not UTF-8)"),
        (b"", "closed the call without a command"),
    ],
    ids=["http", "binary", "closed"],
)
def test_ivr_call_at_something_that_is_not_an_engine_says_so(answer, said):
    with _peer(answer) as port:
        result = _ivr_call("12345", "--port", str(port))
    assert result.returncode == 1 and said in result.stderr, result
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_ivr_call_refuses_a_queue_or_seat_the_rules_do_not_have():
    result = _ivr_call("12345", "--queue", "nosuchq=timeout", "--port", "1")
    assert result.returncode == 2
    assert result.stderr.startswith("ivr call: --queue: 'nosuchq' is not one of the rules' queues: hotline-12345")
    result = _ivr_call("12333", "--seat", "PJSIP/1@nowhere=busy", "--port", "1")
    assert result.returncode == 2 and "--seat: 'PJSIP/1@nowhere' is not one of the rules' seats" in result.stderr


def test_a_port_in_use_is_one_line(tmp_path):
    """Another engine already there (or a second `sh bin/run`): said in one line, exit 2, no traceback."""
    rules = copy_rules(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "ivr.cli.main", "serve", "--rules", str(rules), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    assert result.returncode == 2
    assert result.stderr.startswith(f"ivr serve: cannot listen on 127.0.0.1:{port}: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "tickets-spool").exists(), "a refused engine leaves no spool folder behind"


def test_invalid_rules_refuse_the_engine_and_leave_no_spool_folder(tmp_path):
    rules = copy_rules(tmp_path)
    rules.write_text(rules.read_text(encoding="utf-8").replace("version: 1", "version: [1"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "serve", "--rules", str(rules), "--port", "0", "--spool", "spool"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "YAML syntax error" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "spool").exists()


def test_the_log_gives_each_time_its_offset_and_ends_with_stopped(tmp_path):
    """Tickets are in the rules' zone, the machine's may be UTC: each log time says which clock wrote it."""
    engine = start_engine(tmp_path)
    call_engine("127.0.0.1", engine.port, SimulatedCall("12345"))
    assert engine.stop() == 0
    lines = engine.log_text().splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"
    assert lines and all(re.match(stamp + " (INFO|WARNING|ERROR) ivr", line) for line in lines), lines
    assert lines[-1].endswith("INFO ivr.serve ivr serve stopped"), lines[-1]


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def test_bad_peers_are_cut_off_while_good_calls_go_on(engine):
    env = AsteriskSimulator(SimulatedCall("12345")).open()
    never_blank = socket.create_connection(("127.0.0.1", engine.port))
    never_blank.sendall(env[:-1])  # all but the blank line
    flood = socket.create_connection(("127.0.0.1", engine.port))
    flood.sendall(b"y" * 1_000_000)
    dribble = socket.create_connection(("127.0.0.1", engine.port))
    stop = threading.Event()

    def drip() -> None:
        for byte in env[:-1]:
            if stop.wait(1.0):
                return
            try:
                dribble.send(bytes([byte]))
            except OSError:
                return

    dripper = threading.Thread(target=drip)
    dripper.start()
    midway = socket.create_connection(("127.0.0.1", engine.port))
    midway.sendall(env)
    assert midway.recv(100) == b"GET VARIABLE CHANNEL(linkedid)\n"
    midway.sendall(b"200 res")
    midway.close()
    try:
        with ThreadPoolExecutor(8) as pool:
            good = list(
                pool.map(
                    lambda n: call_engine("127.0.0.1", engine.port, SimulatedCall(n)),
                    ["12345", "12396", "12333", "12315"] * 5,
                )
            )
        assert all(sim.variables.get("IVR_STAGE") == "done" for sim in good)
        assert closed_by_server(flood, 5), "a line without end is refused at once"
        assert closed_by_server(never_blank, 15), "the environment has a limit"
        assert closed_by_server(dribble, 15), "a byte a second does not keep a session"
    finally:
        stop.set()
        dripper.join()
        for sock in (never_blank, flood, dribble):
            sock.close()
    engine.wait_for_log("session from 127.0.0.1 closed before its environment block")


def test_source_outside_the_allowlist_is_refused(tmp_path):
    other = start_engine(tmp_path, "--allow", "10.9.0.0/16")
    try:
        with socket.create_connection(("127.0.0.1", other.port)) as sock:
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):  # the reset may beat the environment
                sock.sendall(AsteriskSimulator(SimulatedCall("12345")).open())
            assert closed_by_server(sock, 10)
        other.wait_for_log("connection from 127.0.0.1 refused: not in the allowlist")
    finally:
        assert other.stop() == 0


def test_reload_on_sighup_and_refusal_of_a_bad_file(tmp_path):
    other = start_engine(tmp_path)
    try:
        text = other.rules.read_text(encoding="utf-8")
        other.rules.write_text(text.replace("    timeout: 600\n", "    timeout: 420\n", 1), encoding="utf-8")
        other.process.send_signal(signal.SIGHUP)
        other.wait_for_log("rules reloaded")
        assert "EXEC Queue hotline-12345,tc,,,420" in execs(
            call_engine("127.0.0.1", other.port, SimulatedCall("12345"))
        )
        other.rules.write_text(text.replace('  "12396":\n', '  "123x6":\n', 1), encoding="utf-8")
        other.wait_for_log("rules reload refused")  # noticed by the file watch, no signal needed
        assert "EXEC Queue hotline-12345,tc,,,420" in execs(
            call_engine("127.0.0.1", other.port, SimulatedCall("12396"))
        )
        assert other.log_text().count("line number '123x6' must be digits only") == 1
    finally:
        assert other.stop() == 0


def test_sigterm_lets_calls_finish_then_closes_them(tmp_path):
    other = start_engine(tmp_path, "--drain-seconds", "2")
    simulator = AsteriskSimulator(SimulatedCall("12345"))
    sock = socket.create_connection(("127.0.0.1", other.port))
    sock.sendall(simulator.open())
    buffered = b""
    while b"EXEC Queue" not in buffered:  # answer until the caller waits in the queue
        data = sock.recv(4096)
        assert data
        buffered = data
        if b"EXEC Queue" not in data:
            sock.sendall(simulator.receive(data))
    other.process.send_signal(signal.SIGTERM)
    other.wait_for_log("stopping: no new sessions; 1 in progress")
    assert closed_by_server(sock, 10), "after the drain time the session is closed; Asterisk's Queue goes on"
    sock.close()
    assert other.process.wait(timeout=30) == 0
    assert "stopped with 1 sessions still open" in other.log_text()
    # The closed session still logged its call and wrote its closing stub before the engine exited.
    assert "result=unfinished stage=queue:hotline-12345" in other.log_text()
    store = open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    try:
        assert [stub.outcome for stub in store.find(Query())] == [StubOutcome.UNFINISHED]
    finally:
        store.close()
