"""The engine's own CPU per call, in one process, without sockets: what `ivr serve` spends on a call itself.

The closed-loop bench (bench/agiload.py) measures the engine's calls per second against the floor and the peer,
but on a shared machine its absolute figures move by a third between runs, which hides a change of 20 µs a call.
This runs the engine's own code for whole calls, the way the reactor would (FastAgiSession with a Twisted test
transport, the shipped rules, the stubs built, numbered and committed into a real SQLite file in place, the `call`
log line formatted at INFO) and times only the engine's part: the simulator playing Asterisk runs between the
timed spans. It prints the CPU µs a call of each part (median of `--rounds`), and with `--profile` the top
functions by own time. What it leaves out is the part no Python change moves: Twisted's reactor loop, the socket
system calls, the thread hop (bench/agiload.py's `spy` mode measures the whole process).

    .venv/bin/python bench/percall.py [--calls 2000] [--rounds 5] [--profile] [--folder /dev/shm]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twisted.internet import task
from twisted.internet.defer import Deferred, succeed

from ivr.agi.simulator import AsteriskSimulator, SimulatedCall
from ivr.runtime.logs import configure_logging
from ivr.runtime.rulesholder import RulesHolder
from ivr.serve.limits import Limits
from ivr.serve.service import AgiService
from ivr.tickets.book import TicketBook
from ivr.tickets.writer import TicketWriter
from tests.serve.fakes import TcpTransport

ROOT = Path(__file__).resolve().parents[1]
WARM = 50
CLOSINGS_BATCH = 50  # at 100 concurrent, ~70 calls end within the writer's CLOSINGS_WAIT


class Timed:
    """Sums the CPU time spent inside the wrapped calls, by part."""

    def __init__(self) -> None:
        self.ns: dict[str, int] = {"session": 0, "stub writes": 0}

    def session(self, function: Callable[..., Any], *args: Any) -> Any:
        start = time.thread_time_ns()
        try:
            return function(*args)
        finally:
            self.ns["session"] += time.thread_time_ns() - start

    def writes(self, function: Callable[..., Any], *args: Any) -> Deferred[Any]:
        """The writer's runner, in place: what the writer thread does, counted apart from the session's part (an
        opening stub is written inside a session's span)."""
        start = time.thread_time_ns()
        result = function(*args)
        spent = time.thread_time_ns() - start
        self.ns["stub writes"] += spent
        self.ns["session"] -= spent
        return succeed(result)


def one_call(service: AgiService, clock: task.Clock, timed: Timed, number: int) -> None:
    simulator = AsteriskSimulator(
        SimulatedCall("12345", uniqueid=f"1700000000.{2 * number + 1}", linkedid=f"1700000000.{2 * number}")
    )
    transport = TcpTransport()
    session = service.buildProtocol(None)
    timed.session(session.makeConnection, transport)
    timed.session(session.dataReceived, simulator.open())
    while not transport.write_closed and not transport.aborted:
        sent = transport.take()
        reply = simulator.receive(sent)
        timed.session(session.dataReceived, reply)
    timed.session(session.dataReceived, simulator.engine_closed())
    timed.session(session.connectionLost, None)
    if number % CLOSINGS_BATCH == 0:
        clock.advance(1.0)  # the closing stubs' wait is over: they are written together, as under load


def measure(calls: int, folder: Path, profile: cProfile.Profile | None) -> dict[str, float]:
    holder = RulesHolder(ROOT / "routing_rules.yaml", Limits.for_rules)
    clock = task.Clock()
    book = TicketBook.open(f"sqlite:///{folder / 'tickets.db'}", folder / "spool", "e1")
    timed = Timed()
    writer = TicketWriter(book, clock, run=timed.writes)
    service = AgiService(holder, clock, tickets=writer)
    for number in range(WARM):  # first imports, the rules' caches, the SQLite file
        one_call(service, clock, timed, number)
    timed.ns = dict.fromkeys(timed.ns, 0)
    if profile:
        profile.enable()
    for number in range(WARM, WARM + calls):
        one_call(service, clock, timed, number)
    clock.advance(1.0)
    if profile:
        profile.disable()
    book.close()
    return {part: ns / calls / 1000 for part, ns in timed.ns.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="one round under cProfile: top functions by own time")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument(
        "--folder", help="where the SQLite file goes (default: the temporary folder; /dev/shm: without the fsync)"
    )
    args = parser.parse_args()
    configure_logging("INFO")
    logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # noqa: SIM115 - the log line's cost, not its output
    rounds = []
    with tempfile.TemporaryDirectory(prefix="percall-", dir=args.folder) as name:
        for round_ in range(args.rounds):
            folder = Path(name) / str(round_)
            rounds.append(measure(args.calls, folder, None))
        figures = {part: round(statistics.median(r[part] for r in rounds), 1) for part in rounds[0]}
        figures["total"] = round(sum(figures.values()), 1)
        print(json.dumps({"mode": "percall", "calls": args.calls, "rounds": args.rounds, "cpu_us_per_call": figures}))
        if args.profile:
            profile = cProfile.Profile()
            measure(args.calls, Path(name) / "profiled", profile)
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
