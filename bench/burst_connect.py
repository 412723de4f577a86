"""Burst of new calls: how long does the TCP connect take when N calls arrive at once?

Asterisk gives a FastAGI connect 2 s (MAX_AGI_CONNECT), then the call falls to the dialplan fallback. This starts
a real `ivr serve` twice in the same run, with Twisted's default backlog (50) as the baseline and with the engine's
default (4096), opens N connections at once from one asyncio client on loopback, and reports connect times.
Each connection sends a full AGI environment and waits for the engine's first command (the read of
CHANNEL(linkedid) for the ticket stub), so a connect that the engine accepted late shows too. Bounded: N
connections, a 10 s limit each; stops by itself.

    .venv/bin/python bench/burst_connect.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.agi.simulator import AsteriskSimulator, SimulatedCall
from tests.serve.engine import start_engine

ENV = AsteriskSimulator(SimulatedCall("12345")).open()


async def one_call(port: int) -> tuple[float, float]:
    """(connect seconds, first-command seconds); infinity for what did not happen within the 10 s limit."""
    started = time.perf_counter()
    try:
        return await asyncio.wait_for(_call(port, started), 10)
    except (TimeoutError, OSError):
        return float("inf"), float("inf")


async def _call(port: int, started: float) -> tuple[float, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    connected = time.perf_counter() - started
    writer.write(ENV)
    await writer.drain()
    await reader.readline()
    answered = time.perf_counter() - started
    writer.close()
    return connected, answered


async def burst(port: int, count: int) -> list[tuple[float, float]]:
    return await asyncio.gather(*(one_call(port) for _ in range(count)))


def report(name: str, results: list[tuple[float, float]]) -> None:
    connects = sorted(c for c, _ in results)
    answers = sorted(a for _, a in results)
    late = sum(1 for c in connects if c > 2.0)
    lost = sum(1 for a in answers if a == float("inf"))
    p99 = connects[int(len(connects) * 0.99) - 1]
    print(
        f"{name:<22} connect p50 {statistics.median(connects) * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  "
        f"max {connects[-1] * 1000:7.1f} ms  over 2 s: {late:4d}   first command max {answers[-1] * 1000:7.1f} ms  "
        f"none within 10 s: {lost}"
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(f"{count} simultaneous FastAGI connects on loopback")
    for name, backlog in (("baseline backlog 50", "50"), ("ivr serve backlog 4096", "4096")):
        with tempfile.TemporaryDirectory() as folder:
            engine = start_engine(Path(folder), "--backlog", backlog)
            try:
                report(name, asyncio.run(burst(engine.port, count)))
            finally:
                engine.stop()


if __name__ == "__main__":
    main()
