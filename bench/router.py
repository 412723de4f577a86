"""Router decision time: the median of `route(CallFacts, Rules)` for the shipped rules, per kind of call.

The router runs on the reactor for every call, so its median is part of every call's setup. timeit, not a timed
unit test: each kind of call is routed N times in each of 7 repeats, and the median of the 7 per-call times is
reported (with the best), one JSON line per kind. Bounded: N times 7 decisions per kind; stops by itself.

    .venv/bin/python bench/router.py [N]
"""

from __future__ import annotations

import json
import statistics
import sys
import timeit
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.router.decide import CallFacts, Presentation, route
from ivr.rules.loader import load_rules

REPEATS = 7


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rules = load_rules(Path(__file__).resolve().parents[1] / "routing_rules.yaml")
    now = datetime.now(rules.timezone)
    kinds = {
        "12345 main line": CallFacts("12345", now, caller="13800138000"),
        "96301 merged line": CallFacts("96301", now, caller="13800138000"),
        "12348 transfer line": CallFacts("12348", now, caller="13800138000"),
        "12345 redirected from 12348": CallFacts("12345", now, redirecting="12348", caller="13800138000"),
        "withheld caller": CallFacts("12345", now, presentation=Presentation.WITHHELD),
    }
    for name, facts in kinds.items():
        runs = timeit.repeat(lambda facts=facts: route(facts, rules), number=count, repeat=REPEATS)
        per_call = [run / count for run in runs]
        print(
            json.dumps(
                {
                    "mode": "router",
                    "call": name,
                    "decisions": count * REPEATS,
                    "median_us": round(statistics.median(per_call) * 1e6, 2),
                    "best_us": round(min(per_call) * 1e6, 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
