"""FastAGI load: the engine against the floor and the peer, in one run, on pinned cores, over loopback.

The load generator plays Asterisk with `ivr.agi.simulator.AsteriskSimulator`, one per call, so the servers see
only lines a real Asterisk 22 sent (environment block, a reply per command, the HANGUP after the engine's close).
Each call dials the main line 12345 (by default; `--numbers`): 27 commands, the ticket prelude, the tags, a
prompt, `EXEC Queue` (answered, option `c`), the rating question twice and the thanks. Each call has its own
uniqueid and linkedid, so each leaves its own ticket stub. A call counts as done when the server closed after
sending exactly the commands the engine's plan has for that number (a ticket id may differ); anything else is an
error, counted by kind.

Servers, all started here as subprocesses pinned to core 0 while this process runs on core 1:

- `engine`: the real `ivr serve` (routing_rules.yaml, router, executor, a ticket stub in SQLite, default
  settings); `engine-redis`: the same with `--store redis://…` on a redis-server started here (also on core 0);
- `floor`: bench/baselines/floor_twisted.py, a bare Twisted server sending the same command lines;
- `panoramisk`: bench/baselines/panoramisk_server.py, panoramisk 1.4 sending the same lines.

The two baselines get the command lines from the engine's own plan (the executor and the simulator, in process,
before anything starts), so every server sends byte for byte the same exchange.

Modes (each bounded in time, stops by itself, prints one JSON line per measurement):

- `compare`: closed loop at 100 and at 1 concurrent callers, every server, `--rounds` rounds alternating the
  servers, then one `summary` line with the medians and the ratios (the README table);
- `closed` / `open`: one server (`--server`), N concurrent callers or a fixed call rate (`--rate`);
- `held`: K sessions kept inside `EXEC Queue` (the simulator's reply to it is held back, as Asterisk holds it for
  the whole wait and conversation) while new calls are measured at 100 concurrent; server memory per held session;
- `burst`: 1,000 calls connecting at once to an engine with its default settings: connect and first-command times;
- `stall`: the engine under `bench/engine_probe.py` (a 10 ms heartbeat timer inside its reactor) while stubs are
  written (SQLite), while Redis is killed and restarted (the spool takes over), and while the rules are reloaded
  every 250 ms; the heartbeat's lateness, p99.9 and max;
- `steps`: one call at a time, each command's wait per server (median), and the engine's extra over the floor
  command by command: where the single-call latency goes;
- `profile`: the engine under cProfile at 100 concurrent; the top functions by own time;
- `spy`: the whole engine process, every thread, sampled by py-spy (only the Python holding the GIL) at
  `--concurrency` callers (1: one call at a time), with the CPU time of its threads per call (`/proc`): where a
  call's CPU goes, writer thread included (`.venv/bin/pip install py-spy` first);
- `cpu`: every server (`--servers`) in turn at the first `--concurrency`, `--rounds` rounds: the CPU µs a call of
  its main thread and of its other threads (user and system, from `/proc`) and its context switches a call.

    .venv/bin/pip install -e '.[bench]'            # panoramisk, for the peer baseline
    .venv/bin/python bench/agiload.py compare [--seconds 8] [--rounds 3]
    .venv/bin/python bench/agiload.py held [--held 10000]
    .venv/bin/python bench/agiload.py burst [--calls 1000]
    .venv/bin/python bench/agiload.py stall [--seconds 8]
    .venv/bin/python bench/agiload.py closed --server engine --concurrency 100
    .venv/bin/python bench/agiload.py open --server floor --rate 300
    .venv/bin/python bench/agiload.py steps --servers engine,floor
    .venv/bin/python bench/agiload.py profile
    .venv/bin/python bench/agiload.py spy --concurrency 100
    .venv/bin/python bench/agiload.py cpu --concurrency 100 --seconds 5

Absolute figures depend on the machine and on whatever else runs on it: compare servers only within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import os
import pstats
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.agi.simulator import AsteriskSimulator, SimulatedCall, SimulatorError, simulate
from ivr.rules.loader import load_rules
from tests.serve.engine import LISTENING, copy_rules
from tests.tickets.redisserver import RedisServer

ROOT = Path(__file__).resolve().parents[1]
SERVER_CORE, LOAD_CORE = 0, 1
TICKET_PREFIX = "SET VARIABLE __TICKET_ID "
CALL_SECONDS = 30.0  # a call that has not ended by then is an error ("timeout"), not a hang of the bench
PYTHON = sys.executable
ENGINES = ("engine", "engine-redis")
SERVERS = ("engine", "engine-redis", "floor", "panoramisk")


# --- what every server must send ------------------------------------------------------------------------------


def expected_commands(numbers: list[str]) -> dict[str, list[str]]:
    """The command lines of each number's call, from the engine's own plan for it now (simulated in process)."""
    rules = load_rules(ROOT / "routing_rules.yaml")
    now = datetime.now(rules.timezone)
    ticket = f"12345-{now:%Y%m%d}-e1-000001"
    return {number: simulate(rules, SimulatedCall(number), now, record=lambda _: ticket).commands for number in numbers}


def same_call(sent: list[str], expected: list[str]) -> bool:
    if len(sent) != len(expected):
        return False
    pairs = zip(sent, expected, strict=True)
    return all(a == b or (a.startswith(TICKET_PREFIX) and b.startswith(TICKET_PREFIX)) for a, b in pairs)


# --- servers --------------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def status_kb(self, key: str) -> int:
        """VmHWM (peak) or VmRSS (now) of the server process, in kB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def pin_process(pid: int, core: int) -> None:
    """Every thread of a process onto one core (sched_setaffinity on a pid moves only its main thread)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), {core})


def launch(name: str, command: list[str], folder: Path) -> Server:
    """Start a server on core 0 and wait for its `listening on 127.0.0.1:PORT` line."""
    log = folder / f"{name}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=folder,
            preexec_fn=lambda: os.sched_setaffinity(0, {SERVER_CORE}),
        )
    deadline = time.monotonic() + 30
    while True:
        match = LISTENING.search(log.read_text(encoding="utf-8", errors="replace"))
        if match:
            return Server(name, process, int(match.group(1)), log)
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"{name} did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)


def engine_command(folder: Path, *extra: str, probe: tuple[str, ...] = ()) -> list[str]:
    rules = copy_rules(folder)
    serve = ["serve", "--port", "0", "--rules", str(rules), *extra]
    if probe:
        return [PYTHON, str(ROOT / "bench" / "engine_probe.py"), *probe, *serve]
    return [PYTHON, "-m", "ivr.cli.main", *serve]


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    server = RedisServer(folder).start()
    assert server.process is not None
    pin_process(server.process.pid, SERVER_CORE)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def servers(names: tuple[str, ...], scripts: Path, extra: tuple[str, ...] = ()) -> Iterator[dict[str, Server]]:
    """The named servers, each in a folder of its own, stopped at the end."""
    with ExitStack() as stack:
        started: dict[str, Server] = {}
        for name in names:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"agiload-{name}-")))
            if name == "engine":
                command = engine_command(folder, *extra)
            elif name == "engine-redis":
                redis = stack.enter_context(redis_server(folder))
                command = engine_command(folder, "--store", redis.url, *extra)
            elif name == "floor":
                command = [PYTHON, str(ROOT / "bench" / "baselines" / "floor_twisted.py"), str(scripts)]
            else:
                command = [PYTHON, str(ROOT / "bench" / "baselines" / "panoramisk_server.py"), str(scripts)]
            started[name] = launch(name, command, folder)
            stack.callback(started[name].stop)
        yield started


# --- the load generator ---------------------------------------------------------------------------------------


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    connects: list[float] = field(default_factory=list)
    firsts: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    waits: list[list[float]] = field(default_factory=list)  # per good call: each command's wait, in order

    def figures(self, seconds: float) -> dict[str, object]:
        ordered = sorted(self.latencies)
        return {
            "calls": len(ordered),
            "seconds": round(seconds, 2),
            "calls_per_s": round(len(ordered) / seconds, 1) if seconds else 0.0,
            "p50_ms": ms(percentile(ordered, 0.50)),
            "p99_ms": ms(percentile(ordered, 0.99)),
            "max_ms": ms(ordered[-1] if ordered else 0.0),
            "errors": dict(self.errors),
        }


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * fraction + 0.5) - 1))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


class Ids:
    """A uniqueid and linkedid per call, shaped as the captured ones (`1795849801.5`), never twice in a run."""

    def __init__(self) -> None:
        self.base = int(time.time())
        self.count = 0

    def next(self) -> tuple[str, str]:
        self.count += 2
        return f"{self.base}.{self.count + 1}", f"{self.base}.{self.count}"


class AsteriskSide(asyncio.Protocol):
    """One call's socket, driven by the simulator. With `hold`, the reply to EXEC Queue is kept back until `hold`
    is set, as Asterisk keeps it while the caller waits and talks: the session stays open in the server."""

    def __init__(self, simulator: AsteriskSimulator, hold: asyncio.Event | None) -> None:
        self.simulator = simulator
        self.hold = hold
        self.transport: asyncio.Transport | None = None
        self.release: asyncio.Future[None] | None = None
        self.first: float | None = None
        self.sent_at = 0.0
        self.waits: list[float] = []  # from our last write to the server's next bytes: one per command
        self.closed_by_server = False
        self.failure = ""
        self.in_queue: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.simulator.open())
        self.sent_at = time.perf_counter()

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.waits.append(now - self.sent_at)
        seen = len(self.simulator.wire)
        try:
            out = self.simulator.receive(data)
        except SimulatorError:
            self.failure = "simulator"
            self.transport.abort()
            return
        if self.hold is not None and any(line.startswith("EXEC Queue") for _, line in self.simulator.wire[seen:]):
            if not self.in_queue.done():
                self.in_queue.set_result(None)
            self.release = asyncio.ensure_future(self._after_hold(out))
        elif out:
            self.transport.write(out)
            self.sent_at = time.perf_counter()

    async def _after_hold(self, out: bytes) -> None:
        assert self.hold is not None and self.transport is not None
        await self.hold.wait()
        if not self.transport.is_closing():
            self.transport.write(out)

    def eof_received(self) -> bool:
        assert self.transport is not None
        self.closed_by_server = True
        self.transport.write(self.simulator.engine_closed())
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self.failure:
            self.failure = "reset" if isinstance(exc, ConnectionResetError) else type(exc).__name__
        if not self.ended.done():
            self.ended.set_result(None)


@dataclass
class Load:
    port: int
    scripts: dict[str, list[str]]
    ids: Ids = field(default_factory=Ids)
    turn: int = 0

    def simulator(self) -> tuple[AsteriskSimulator, list[str]]:
        number = list(self.scripts)[self.turn % len(self.scripts)]
        self.turn += 1
        uniqueid, linkedid = self.ids.next()
        return AsteriskSimulator(SimulatedCall(number, uniqueid=uniqueid, linkedid=linkedid)), self.scripts[number]

    async def call(
        self,
        results: Results,
        started: float | None = None,
        hold: asyncio.Event | None = None,
        on_queue: Callable[[], None] | None = None,
        seconds: float = CALL_SECONDS,
    ) -> None:
        """One whole call. Latency runs from `started` (the moment it was due, for the open loop) to the end."""
        loop = asyncio.get_running_loop()
        simulator, expected = self.simulator()
        began = time.perf_counter()
        started = began if started is None else started
        try:
            transport, side = await asyncio.wait_for(
                loop.create_connection(lambda: AsteriskSide(simulator, hold), "127.0.0.1", self.port), seconds
            )
        except TimeoutError:
            results.errors["connect-timeout"] += 1
            return
        except OSError as exc:
            results.errors[f"connect-{errno.errorcode.get(exc.errno or 0, 'error')}"] += 1
            return
        connected = time.perf_counter()
        if on_queue is not None:
            side.in_queue.add_done_callback(lambda _: on_queue())
        try:
            await asyncio.wait_for(asyncio.shield(side.ended), seconds)
        except TimeoutError:
            transport.abort()
            results.errors["timeout"] += 1
            return
        ended = time.perf_counter()
        sent = [line for direction, line in simulator.wire if direction == ">>"]
        if side.failure and not (side.closed_by_server and side.failure == "reset"):
            results.errors[side.failure] += 1
        elif not sent:
            results.errors["closed-without-command"] += 1
        elif not same_call(sent, expected):
            results.errors["other-commands"] += 1
        else:
            results.latencies.append(ended - started)
            results.connects.append(connected - began)
            results.firsts.append((side.first or ended) - began)
            results.waits.append(side.waits)


async def closed_loop(load: Load, concurrency: int, seconds: float, warmup: float = 1.0) -> dict[str, object]:
    """N callers, each placing its next call as soon as the last ended; only calls started after the warm-up and
    ended before the deadline count."""
    results = Results()
    discard = Results()
    t0 = time.perf_counter()
    measuring_from, deadline = t0 + warmup, t0 + warmup + seconds

    async def caller() -> None:
        while True:
            now = time.perf_counter()
            if now >= deadline:
                return
            attempt = Results()
            await load.call(attempt)
            target = results if now >= measuring_from and time.perf_counter() <= deadline else discard
            target.latencies += attempt.latencies
            target.errors += attempt.errors

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return results.figures(seconds)


async def open_loop(load: Load, rate: float, seconds: float) -> dict[str, object]:
    """Calls started at a fixed rate whatever the server does; latency counts from when each call was due, so a
    server that falls behind shows it (no coordinated omission)."""
    results = Results()
    t0 = time.perf_counter()
    tasks = []
    for n in range(int(rate * seconds)):
        due = t0 + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(load.call(results, started=due)))
    await asyncio.gather(*tasks)
    figures = results.figures(seconds)
    figures["offered_calls_per_s"] = rate
    return figures


def raise_open_files() -> int:
    """Held calls need a descriptor each, here and in the server (which inherits the limit): up to the hard
    limit, in the bench only, never in the engine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def write_scripts(folder: Path, numbers: list[str]) -> tuple[dict[str, list[str]], Path]:
    scripts = expected_commands(numbers)
    path = folder / "scripts.json"
    path.write_text(json.dumps(scripts, ensure_ascii=False), encoding="utf-8")
    return scripts, path


# --- modes ----------------------------------------------------------------------------------------------------


def compare(args: argparse.Namespace, folder: Path) -> None:
    scripts, path = write_scripts(folder, args.numbers)
    names = tuple(name for name in SERVERS if name in args.servers)
    runs: dict[tuple[str, int], list[dict[str, object]]] = {}
    with servers(names, path) as running:
        for server in running.values():  # warm every server up (imports, first stubs, caches) before measuring
            asyncio.run(closed_loop(Load(server.port, scripts), 10, 1.0, warmup=0.0))
        for round_ in range(1, args.rounds + 1):
            for concurrency in args.concurrency:
                for name, server in running.items():
                    figures = asyncio.run(closed_loop(Load(server.port, scripts), concurrency, args.seconds))
                    record = {"mode": "closed", "server": name, "concurrency": concurrency, "round": round_}
                    record.update(figures)
                    record["server_peak_rss_kb"] = server.status_kb("VmHWM")
                    runs.setdefault((name, concurrency), []).append(record)
                    emit(record)
        peaks = {name: server.status_kb("VmHWM") for name, server in running.items()}
    emit(summary(runs, peaks, len(scripts[args.numbers[0]])))


def summary(runs: dict[tuple[str, int], list[dict[str, object]]], peaks: dict[str, int], commands: int) -> dict:
    """The median of the rounds for each server and concurrency, and the engine's ratios to the baselines."""
    table: dict[str, dict[str, object]] = {}
    for (name, concurrency), records in runs.items():
        row = table.setdefault(name, {"server_peak_rss_kb": peaks[name]})
        for key in ("calls_per_s", "p50_ms", "p99_ms", "max_ms"):
            row[f"{key}@{concurrency}"] = statistics.median(float(r[key]) for r in records)  # type: ignore[arg-type]
        errors: Counter[str] = Counter()
        for r in records:
            errors.update(r["errors"])  # type: ignore[arg-type]
        row[f"errors@{concurrency}"] = dict(errors)
    ratios: dict[str, float] = {}
    for engine in (n for n in ENGINES if n in table):
        for base in ("floor", "panoramisk"):
            if base not in table:
                continue
            for key in (k for k in table[engine] if k.startswith("calls_per_s@")):
                ratios[f"{engine}/{base} {key}"] = round(float(table[engine][key]) / float(table[base][key]), 3)  # type: ignore[arg-type]
            for key in (k for k in table[engine] if k.startswith("p99_ms@")):
                ratios[f"{engine}-{base} {key} diff"] = round(float(table[engine][key]) - float(table[base][key]), 3)  # type: ignore[arg-type]
    return {"mode": "summary", "commands_per_call": commands, "servers": table, "ratios": ratios}


def single(args: argparse.Namespace, folder: Path) -> None:
    scripts, path = write_scripts(folder, args.numbers)
    with servers((args.server,), path) as running:
        server = running[args.server]
        asyncio.run(closed_loop(Load(server.port, scripts), 10, 1.0, warmup=0.0))
        load = Load(server.port, scripts)
        if args.mode == "closed":
            figures = asyncio.run(closed_loop(load, args.concurrency[0], args.seconds))
            record: dict[str, object] = {"mode": "closed", "server": args.server, "concurrency": args.concurrency[0]}
        else:
            figures = asyncio.run(open_loop(load, args.rate, args.seconds))
            record = {"mode": "open", "server": args.server}
        record.update(figures)
        record["server_peak_rss_kb"] = server.status_kb("VmHWM")
        emit(record)


async def held_run(server: Server, scripts: dict[str, list[str]], held: int, seconds: float) -> dict[str, object]:
    load = Load(server.port, scripts)
    await closed_loop(load, 10, 1.0, warmup=0.0)
    unloaded = await closed_loop(load, 100, seconds)
    rss_before = server.status_kb("VmRSS")
    hold = asyncio.Event()
    in_queue = 0
    all_in = asyncio.get_running_loop().create_future()

    def reached() -> None:
        nonlocal in_queue
        in_queue += 1
        if in_queue == held and not all_in.done():
            all_in.set_result(None)

    held_results = Results()
    gate = asyncio.Semaphore(200)  # connect them in waves, as calls arrive, not as one burst

    async def held_call() -> None:
        """A slot of the gate is held from the connect until the call is inside the queue (or ended)."""
        await gate.acquire()
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                gate.release()

        def queued() -> None:
            reached()
            release()

        try:
            await load.call(held_results, hold=hold, on_queue=queued, seconds=600)
        finally:
            release()

    began = time.perf_counter()
    tasks = [asyncio.ensure_future(held_call()) for _ in range(held)]
    with suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(all_in), 300)
    ramp = time.perf_counter() - began
    rss_held = server.status_kb("VmRSS")
    loaded = await closed_loop(load, 100, seconds, warmup=0.5)
    rss_loaded = server.status_kb("VmRSS")
    hold.set()
    await asyncio.gather(*tasks)
    per_session = (rss_held - rss_before) / held if held else 0.0
    return {
        "mode": "held",
        "server": server.name,
        "held": held,
        "reached_queue": in_queue,
        "ramp_seconds": round(ramp, 2),
        "unloaded": unloaded,
        "while_held": loaded,
        "setup_ratio": round(float(loaded["calls_per_s"]) / float(unloaded["calls_per_s"]), 3)  # type: ignore[arg-type]
        if unloaded["calls_per_s"]
        else 0.0,
        "server_rss_kb_before": rss_before,
        "server_rss_kb_held": rss_held,
        "server_rss_kb_held_and_loaded": rss_loaded,
        "server_kb_per_held_session": round(per_session, 2),
        "held_calls_completed": len(held_results.latencies),
        "held_errors": dict(held_results.errors),
        "server_peak_rss_kb": server.status_kb("VmHWM"),
    }


def held_mode(args: argparse.Namespace, folder: Path) -> None:
    limit = raise_open_files()
    scripts, path = write_scripts(folder, ["12345"])
    names = tuple(name for name in SERVERS if name in args.servers)
    # The engine's --max-sessions (5000 by default) must admit the held calls plus the measured ones.
    with servers(names, path, ("--max-sessions", str(args.held + 1000))) as running:
        for server in running.values():
            record = asyncio.run(held_run(server, scripts, args.held, args.seconds))
            record["open_files_limit"] = limit
            emit(record)


async def burst_run(server: Server, scripts: dict[str, list[str]], count: int) -> dict[str, object]:
    load = Load(server.port, scripts)
    results = Results()
    began = time.perf_counter()
    await asyncio.gather(*(load.call(results) for _ in range(count)))
    connects, firsts = sorted(results.connects), sorted(results.firsts)
    return {
        "mode": "burst",
        "server": server.name,
        "calls": count,
        "completed": len(results.latencies),
        "connect_p50_ms": ms(percentile(connects, 0.5)),
        "connect_max_ms": ms(connects[-1] if connects else 0.0),
        "first_command_p50_ms": ms(percentile(firsts, 0.5)),
        "first_command_p99_ms": ms(percentile(firsts, 0.99)),
        "first_command_max_ms": ms(firsts[-1] if firsts else 0.0),
        "first_command_over_2s": sum(1 for f in firsts if f > 2.0) + count - len(firsts),
        "whole_burst_ms": ms(time.perf_counter() - began),
        "errors": dict(results.errors),
        "server_peak_rss_kb": server.status_kb("VmHWM"),
    }


def burst_mode(args: argparse.Namespace, folder: Path) -> None:
    raise_open_files()
    scripts, path = write_scripts(folder, args.numbers)
    names = tuple(name for name in SERVERS if name in args.servers)
    with servers(names, path) as running:  # the engine's default settings: no option but port and rules
        for server in running.values():
            emit(asyncio.run(burst_run(server, scripts, args.calls)))


def lag_figures(path: Path) -> dict[str, object]:
    lags = sorted(json.loads(path.read_text()))
    return {
        "beats": len(lags),
        "lag_p50_ms": ms(percentile(lags, 0.5)),
        "lag_p99_ms": ms(percentile(lags, 0.99)),
        "lag_p999_ms": ms(percentile(lags, 0.999)),
        "lag_max_ms": ms(lags[-1] if lags else 0.0),
        "over_50ms": sum(1 for lag in lags if lag > 0.050),
    }


def stall_mode(args: argparse.Namespace, folder: Path) -> None:
    """Each case: a fresh engine under the heartbeat, 100 callers for `--seconds`, the disturbance meanwhile."""
    scripts, _ = write_scripts(folder, args.numbers)
    for case in ("stubs-sqlite", "redis-down", "rules-reload"):
        with tempfile.TemporaryDirectory(prefix=f"agiload-stall-{case}-") as name, ExitStack() as stack:
            where = Path(name)
            lags = where / "lags.json"
            extra: tuple[str, ...] = ()
            redis: RedisServer | None = None
            if case == "redis-down":
                redis = stack.enter_context(redis_server(where))
                extra = ("--store", redis.url)
            server = launch("engine", engine_command(where, *extra, probe=("--lags", str(lags))), where)
            stack.callback(server.stop)
            disturbance = asyncio.Event()

            async def disturb(
                disturbance: asyncio.Event = disturbance,
                case: str = case,
                redis: RedisServer | None = redis,
                server: Server = server,
            ) -> None:
                third = args.seconds / 3
                if case == "redis-down" and redis is not None:
                    await asyncio.sleep(1.0 + third)
                    redis.kill()
                    await asyncio.sleep(third)
                    redis.start()
                    assert redis.process is not None
                    pin_process(redis.process.pid, SERVER_CORE)
                elif case == "rules-reload":
                    end = time.perf_counter() + 1.0 + args.seconds
                    while time.perf_counter() < end and not disturbance.is_set():
                        server.process.send_signal(signal.SIGHUP)
                        await asyncio.sleep(0.25)

            async def run(server: Server = server, disturbance: asyncio.Event = disturbance) -> dict[str, object]:
                task = asyncio.ensure_future(disturb())
                figures = await closed_loop(Load(server.port, scripts), 100, args.seconds)
                disturbance.set()
                await task
                return figures

            figures = asyncio.run(run())
            log = server.log.read_text(errors="replace")
            server.stop()
            record: dict[str, object] = {"mode": "stall", "case": case, "server": "engine", "concurrency": 100}
            record.update(lag_figures(lags))
            record["load"] = figures
            record["reloads"] = log.count("rules reloaded")
            record["spool_alarms"] = log.count("ALARM ticket store unavailable")
            record["replayed"] = log.count("replayed from the spool")
            emit(record)


def steps_mode(args: argparse.Namespace, folder: Path) -> None:
    """Where a call's time goes, one call at a time: each command's wait (from the reply, or the environment, to
    the next command) per server, and the engine's extra over the floor per command, in the same run."""
    scripts, path = write_scripts(folder, args.numbers)
    names = tuple(name for name in SERVERS if name in args.servers)
    medians: dict[str, list[float]] = {}
    with servers(names, path) as running:
        for name, server in running.items():
            asyncio.run(closed_loop(Load(server.port, scripts), 10, 1.0, warmup=0.0))
            results = asyncio.run(serial_calls(Load(server.port, scripts), args.seconds))
            per_step = [sorted(waits) for waits in zip(*results.waits, strict=False)]
            medians[name] = [percentile(waits, 0.5) for waits in per_step]
            record: dict[str, object] = {"mode": "steps", "server": name, **results.figures(args.seconds)}
            record["median_us_per_command"] = [round(m * 1e6) for m in medians[name]]
            emit(record)
    commands = scripts[args.numbers[0]]
    if "floor" in medians:
        for name in (n for n in medians if n != "floor"):
            extra = [round((a - b) * 1e6) for a, b in zip(medians[name], medians["floor"], strict=False)]
            emit({
                "mode": "steps-difference",
                "server": name,
                "extra_us_by_command": [
                    {"command": line.split(" ")[0] + (" " + line.split(" ")[1] if " " in line else ""), "us": us}
                    for line, us in zip(commands, extra, strict=False)
                ],
                "extra_us_total": sum(extra),
            })  # fmt: skip


async def serial_calls(load: Load, seconds: float) -> Results:
    """One call at a time for `seconds`: every call's own result, its command waits included."""
    results = Results()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        await load.call(results)
    return results


def profile_mode(args: argparse.Namespace, folder: Path) -> None:
    scripts, _ = write_scripts(folder, args.numbers)
    stats = folder / "engine.prof"
    server = launch("engine", engine_command(folder, probe=("--profile", str(stats))), folder)
    try:
        figures = asyncio.run(closed_loop(Load(server.port, scripts), 100, args.seconds))
    finally:
        server.stop()
    emit({"mode": "profile", "server": "engine (under cProfile)", **figures})
    out = pstats.Stats(str(stats))
    out.sort_stats(args.sort).print_stats(args.top)
    if args.callers:
        out.print_callers(args.callers)


USAGE = ("user", "system", "voluntary", "involuntary")


def thread_usage(pid: int) -> dict[str, dict[str, float]]:
    """Of a process's main (reactor) thread and of its other threads together: CPU seconds in user and system mode,
    and context switches, voluntary (it waited: a lock, the disk, the poll) and involuntary (another thread took the
    core)."""
    tick = os.sysconf("SC_CLK_TCK")
    usage = {thread: dict.fromkeys(USAGE, 0.0) for thread in ("reactor", "other threads")}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(FileNotFoundError):
            stat = (task / "stat").read_text().rsplit(")", 1)[1].split()
            status = dict(line.split(":\t") for line in (task / "status").read_text().splitlines() if ":\t" in line)
            counted = usage["reactor" if task.name == str(pid) else "other threads"]
            counted["user"] += int(stat[11]) / tick
            counted["system"] += int(stat[12]) / tick
            counted["voluntary"] += int(status["voluntary_ctxt_switches"])
            counted["involuntary"] += int(status["nonvoluntary_ctxt_switches"])
    return usage


def per_call(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]], calls: int) -> dict[str, object]:
    """CPU µs and context switches a call, by thread, from two readings of `thread_usage`."""
    figures: dict[str, object] = {}
    for thread, counted in after.items():
        spent = {key: counted[key] - before[thread][key] for key in USAGE}
        figures[thread] = {
            "cpu_us": round((spent["user"] + spent["system"]) / calls * 1e6),
            "system_us": round(spent["system"] / calls * 1e6),
            "switches": round((spent["voluntary"] + spent["involuntary"]) / calls, 2),
            "involuntary": round(spent["involuntary"] / calls, 2),
        }
    return figures


def cpu_mode(args: argparse.Namespace, folder: Path) -> None:
    """Each server in turn at the first `--concurrency`, `--rounds` rounds: what a call costs it, by thread."""
    scripts, path = write_scripts(folder, args.numbers)
    for round_ in range(1, args.rounds + 1):
        for name in args.servers:
            with servers((name,), path) as started:
                server = started[name]
                load = Load(server.port, scripts)
                asyncio.run(closed_loop(load, 10, 1.0, warmup=0.0))
                before = thread_usage(server.process.pid)
                figures = asyncio.run(closed_loop(load, args.concurrency[0], args.seconds, warmup=0.0))
                after = thread_usage(server.process.pid)
            calls = int(figures["calls"]) or 1  # type: ignore[call-overload]
            emit({"mode": "cpu", "server": name, "round": round_, "concurrency": args.concurrency[0], **figures,
                  "per_call": per_call(before, after, calls)})  # fmt: skip


def spy_mode(args: argparse.Namespace, folder: Path) -> None:
    scripts, _ = write_scripts(folder, args.numbers)
    raw = folder / "py-spy.txt"
    server = launch("engine", engine_command(folder), folder)
    pid = server.process.pid
    try:
        load = Load(server.port, scripts)
        asyncio.run(closed_loop(load, 10, 1.0, warmup=0.0))
        sampler = [str(Path(PYTHON).parent / "py-spy"), "record", "--pid", str(pid), "--gil", "--threads"]
        spy = subprocess.Popen(
            [*sampler, "--rate", "400", "--nonblocking", "--format", "raw", "--output", str(raw)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # py-spy attached
        before = thread_usage(pid)
        if args.concurrency[0] > 1:
            figures = asyncio.run(closed_loop(load, args.concurrency[0], args.seconds, warmup=0.0))
        else:
            figures = asyncio.run(serial_calls(load, args.seconds)).figures(args.seconds)
        after = thread_usage(pid)
        spy.send_signal(signal.SIGINT)  # py-spy writes its samples when interrupted
        spy.wait(timeout=30)
    finally:
        server.stop()
    calls = int(figures["calls"]) or 1  # type: ignore[call-overload]
    cpu = per_call(before, after, calls)
    emit({"mode": "spy", "server": "engine", "concurrency": args.concurrency[0], **figures, "per_call": cpu})
    samples: Counter[tuple[str, str]] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        thread = "reactor" if "MainThread" in frames[0] else "other threads"
        samples[thread, frames[-1]] += int(count)
    total = sum(samples.values()) or 1
    for (thread, frame), count in samples.most_common(args.top):
        print(f"{count / total:6.1%}  {thread:13}  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = ("compare", "closed", "open", "held", "burst", "stall", "steps", "profile", "spy", "cpu")
    parser.add_argument("mode", choices=modes)
    parser.add_argument("--server", choices=SERVERS, default="engine", help="closed/open: the server measured")
    parser.add_argument("--servers", default=",".join(SERVERS), help="compare/held/burst/cpu: which servers")
    parser.add_argument("--numbers", default="12345", help="numbers dialed, in turn (comma-separated)")
    parser.add_argument("--concurrency", default="100,1", help="closed loop callers (compare: each in turn)")
    parser.add_argument("--rate", type=float, default=200.0, help="open loop: calls started per second")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="compare, cpu: rounds (compare reports the median)")
    parser.add_argument("--held", type=int, default=10_000, help="held: sessions kept inside EXEC Queue")
    parser.add_argument("--calls", type=int, default=1000, help="burst: calls connecting at once")
    parser.add_argument("--top", type=int, default=40, help="profile, spy: functions shown")
    parser.add_argument("--sort", default="tottime", help="profile: pstats sort key")
    parser.add_argument("--callers", default="", help="profile: also show who calls functions matching this")
    args = parser.parse_args()
    args.numbers = [n for n in args.numbers.split(",") if n]
    args.servers = [n for n in args.servers.split(",") if n]
    args.concurrency = [int(n) for n in args.concurrency.split(",") if n]
    os.sched_setaffinity(0, {LOAD_CORE})
    modes: dict[str, Callable[[argparse.Namespace, Path], None]] = {
        "compare": compare,
        "closed": single,
        "open": single,
        "held": held_mode,
        "burst": burst_mode,
        "stall": stall_mode,
        "steps": steps_mode,
        "profile": profile_mode,
        "spy": spy_mode,
        "cpu": cpu_mode,
    }
    with tempfile.TemporaryDirectory(prefix="agiload-") as folder:
        modes[args.mode](args, Path(folder))


if __name__ == "__main__":
    main()
