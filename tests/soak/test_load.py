"""Load: thousands of calls held open inside EXEC Queue (a busy 12345 centre: every FastAGI session stays open
for the whole wait and conversation) while new calls keep arriving at a steady rate, against one real
`ivr serve` with its SQLite store. Every call is checked command for command against the same call carried out
in-process, and the store must hold exactly one stub per call.

The Asterisk side is the simulator (captured reply lines only), one asyncio task per call; a held call simply
does not answer its `EXEC Queue` until the test releases it, as Asterisk answers only when the conversation ends.
Loopback only; bounded by hang guards; no timing is asserted (the counts and the time taken are printed with -s).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

import pytest

from ivr.agi.simulator import AsteriskSimulator, SimulatedCall
from ivr.tickets.sqlite import SqliteStore
from tests.serve.engine import Engine, restart_engine, start_engine
from tests.soak.flow import NUMBERS, Driven, on_plan_so_far, right_plan, stubs_by_uniqueid
from tests.tickets.calls import call

HELD = int(os.environ.get("IVR_LOAD_HELD", "2000"))
RATE = int(os.environ.get("IVR_LOAD_RATE", "20"))  # new calls a second while the others are held
SECONDS = int(os.environ.get("IVR_LOAD_SECONDS", "10"))
GUARD = 300.0  # hang guard for the whole run


async def one_call(port: int, simulated: SimulatedCall, release: asyncio.Event | None, held: list[str]) -> Driven:
    """One call; with `release`, its EXEC Queue is answered only once the event is set."""
    simulator = AsteriskSimulator(simulated)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        return Driven(simulator, False, f"connect: {exc}")
    try:
        writer.write(simulator.open())
        buffer = b""
        while data := await reader.read(65536):
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if release is not None and line.startswith(b"EXEC Queue") and not release.is_set():
                    held.append(simulated.uniqueid)
                    await release.wait()
                if reply := simulator.receive(line + b"\n"):
                    writer.write(reply)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write(simulator.engine_closed())
            await writer.drain()
    except OSError as exc:
        return Driven(simulator, False, f"{type(exc).__name__}: {exc}")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return Driven(simulator, True)


async def hold(port: int, first: int = 1) -> tuple[list[asyncio.Task[Driven]], asyncio.Event]:
    """HELD calls waiting inside EXEC Queue at once (12345 and 12396: both queue in hotline-12345)."""
    release = asyncio.Event()
    held: list[str] = []
    holding = [
        asyncio.create_task(one_call(port, call(n, NUMBERS[n % 2]), release, held)) for n in range(first, first + HELD)
    ]
    while len(held) < HELD and not all(task.done() for task in holding):
        await asyncio.sleep(0.05)
    return holding, release


async def arriving(port: int, first: int, count: int) -> list[Driven]:
    """`count` new calls at RATE a second, each run to its end."""
    flowing: list[asyncio.Task[Driven]] = []
    started = time.monotonic()
    for i in range(count):
        n = first + i
        flowing.append(asyncio.create_task(one_call(port, call(n, NUMBERS[n % len(NUMBERS)]), None, [])))
        await asyncio.sleep(max(0.0, started + (i + 1) / RATE - time.monotonic()))
    return list(await asyncio.gather(*flowing))


async def load(port: int) -> tuple[list[Driven], list[Driven], dict[str, float]]:
    started = time.monotonic()
    holding, release = await hold(port)
    figures = {"held_after_s": time.monotonic() - started}
    rate_started = time.monotonic()
    new_calls = await arriving(port, HELD + 1, RATE * SECONDS)
    figures["rate_s"] = time.monotonic() - rate_started
    release.set()
    held_calls = await asyncio.gather(*holding)
    figures["total_s"] = time.monotonic() - started
    return list(held_calls), new_calls, figures


@pytest.mark.soak
def test_thousands_held_in_queue_while_new_calls_arrive(tmp_path):
    engine = start_engine(tmp_path)
    try:
        held_calls, new_calls, figures = asyncio.run(asyncio.wait_for(load(engine.port), GUARD))
    finally:
        assert engine.stop() == 0
    stubs = stubs_by_uniqueid(SqliteStore(tmp_path / "tickets.db"))
    calls = held_calls + new_calls
    wrong = [d for d in calls if not right_plan(d)]
    print(
        f"load: {len(held_calls)} calls held in EXEC Queue at once (all held after {figures['held_after_s']:.1f} s), "
        f"{len(new_calls)} new calls at {RATE}/s meanwhile ({figures['rate_s']:.1f} s), all released; "
        f"{len(calls) - len(wrong)} carried out their plan, {len(wrong)} not; {len(stubs)} calls with stubs, "
        f"{sum(count > 1 for count in stubs.values())} doubled; {figures['total_s']:.1f} s in all"
    )
    assert not wrong, [(d.uniqueid, d.problem) for d in wrong[:5]]
    assert sorted(stubs) == sorted(d.uniqueid for d in calls) and set(stubs.values()) == {1}


async def kill_during_load(engine: Engine, folder: Path) -> tuple[list[Driven], list[Driven], Engine]:
    holding, release = await hold(engine.port)
    engine.process.kill()
    engine.process.wait()
    release.set()  # what Asterisk sees of a call whose engine is gone: its connection ends
    held_calls = list(await asyncio.gather(*holding))
    again = restart_engine(folder, engine.port)
    return held_calls, await arriving(again.port, HELD + 1, RATE * 3), again


@pytest.mark.soak
def test_the_engine_killed_with_thousands_held_in_queue(tmp_path):
    """Every held call already had its TICKET_ID and IVR_STAGE queue:hotline-12345 (so Asterisk's dialplan carries
    it on: tests/dialplan/test_engine_killed.py); the restarted engine serves new calls; one stub per call."""
    engine = start_engine(tmp_path)
    held_calls, new_calls, again = asyncio.run(asyncio.wait_for(kill_during_load(engine, tmp_path), GUARD))
    assert again.stop() == 0
    stubs = stubs_by_uniqueid(SqliteStore(tmp_path / "tickets.db"))
    with_id = [d for d in held_calls + new_calls if d.ticket_id]
    print(
        f"engine SIGKILL under load: {len(held_calls)} held calls cut off in EXEC Queue, all at IVR_STAGE "
        f"queue:hotline-12345, {sum(bool(d.ticket_id) for d in held_calls)} of them with a TICKET_ID; after the "
        f"restart {sum(map(right_plan, new_calls))} of {len(new_calls)} new calls carried out their plan; "
        f"{len(stubs)} calls with stubs, {sum(count > 1 for count in stubs.values())} doubled"
    )
    assert all(d.simulator.variables.get("IVR_STAGE") == "queue:hotline-12345" for d in held_calls)
    assert all(on_plan_so_far(d) for d in held_calls), "cut off, never misrouted"
    assert all(right_plan(d) for d in new_calls)
    assert all(stubs.get(d.uniqueid) == 1 for d in with_id), "every call that got its TICKET_ID has its one stub"
    assert set(stubs.values()) == {1}
