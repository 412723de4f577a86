"""`ivr serve` exactly as the console script runs it, plus what a bench needs to see inside it.

A reactor stall cannot be seen from outside the engine: a slow reply may be the load generator's fault. So this
runs the real `ivr.cli.main.main(["serve", ...])` in this process (same code path, options and log) and adds a
heartbeat: a timer due every 10 ms that records how late it fired, until the engine is told to stop; any stall of
the reactor (a synchronous write, a parse, a GIL held by a thread) makes it late by as much. Nothing in the engine
knows about it, so no flag or environment variable in the product exists only for benchmarks. At exit the lateness
of every beat is written as JSON to `--lags FILE`. With `--profile FILE` the whole run is under cProfile instead
(stats written at exit).

    .venv/bin/python bench/engine_probe.py [--lags FILE] [--profile FILE] serve --port 0 --rules routing_rules.yaml ...
"""

from __future__ import annotations

import cProfile
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BEAT_SECONDS = 0.010


def heartbeat(lags: list[float]) -> None:
    from twisted.internet import reactor

    stopping = []

    def beat(due: float) -> None:
        if stopping:
            return
        now = time.monotonic()
        lags.append(now - due)
        reactor.callLater(BEAT_SECONDS, beat, now + BEAT_SECONDS)

    reactor.callWhenRunning(lambda: reactor.callLater(BEAT_SECONDS, beat, time.monotonic() + BEAT_SECONDS))
    # Once the engine is told to stop it serves no call, and it waits for the writes in flight by design (a spool
    # being replayed into the store may take a second): that wait is not a stall of calls, so it is not counted.
    reactor.addSystemEventTrigger("before", "shutdown", stopping.append, True)


def main() -> int:
    from ivr.cli.main import main as ivr_main

    args = sys.argv[1:]
    lags_file = profile_file = None
    while args and args[0] in ("--lags", "--profile"):
        if args[0] == "--lags":
            lags_file = Path(args[1])
        else:
            profile_file = Path(args[1])
        args = args[2:]
    lags: list[float] = []
    if lags_file:
        heartbeat(lags)
    profiler = cProfile.Profile() if profile_file else None
    try:
        if profiler:
            return int(profiler.runcall(ivr_main, args))
        return ivr_main(args)
    finally:
        if profiler and profile_file:
            profiler.dump_stats(profile_file)
        if lags_file:
            lags_file.write_text(json.dumps(lags))


if __name__ == "__main__":
    sys.exit(main())
