"""`ivr queues`: the centre now, from the store: who waits where, which agents are free, and today's figures."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime
from typing import Any

from ivr.cli.serve import add_store_argument
from ivr.cli.table import table
from ivr.cli.tickets import _store
from ivr.rules.loader import load_rules
from ivr.tickets.figures import SERVICE_LEVEL_SECONDS, day_figures, day_query
from ivr.web.view import centre_view

CLEAR = "\x1b[H\x1b[2J"


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "queues",
        help="show the queues now and today's figures",
        description="The live queue board `ivr monitor` keeps in the store (callers waiting, agents free, busy, "
        "paused, unavailable) and today's figures per queue and per line from the ticket stubs (answered, "
        f"abandoned, waits, service level within {SERVICE_LEVEL_SECONDS} s, connection rate). A warning line says "
        "when the live part is stale or the AMI link is down.",
    )
    add_store_argument(parser)
    parser.add_argument("--rules", default=default_rules, help="rules file, for the zone that says what today is")
    parser.add_argument("--json", action="store_true", help="print the view as JSON")
    parser.add_argument(
        "--watch", type=float, nargs="?", const=2.0, metavar="SECONDS", help="print again every SECONDS (default 2)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rules = load_rules(args.rules)
    store = _store(args)
    try:
        while True:
            now = time.time()
            day = datetime.fromtimestamp(now, rules.timezone).date()
            view = centre_view(store.boards(), day_figures(day, store.find(day_query(day, rules.timezone))), now)
            text = json.dumps(view, ensure_ascii=False) if args.json else "\n".join(lines(view))
            print((CLEAR if args.watch and not args.json else "") + text, flush=True)
            if not args.watch:
                return 1 if view["warning"] else 0
            time.sleep(args.watch)
    except KeyboardInterrupt:
        return 0
    finally:
        store.close()


def lines(view: dict[str, Any]) -> list[str]:
    out = [f"WARNING: {view['warning']}" if view["warning"] else "live: AMI link up", ""]
    rows = [["queue", "waiting", "longest", "free", "busy", "paused", "unavail", "answered", "abandoned", "avg wait",
             f"SL {SERVICE_LEVEL_SECONDS}s", "connected"]]  # fmt: skip
    for q in view["queues"]:
        staff, today = q["staff"], q["today"]
        live = q["live"]
        rows.append(
            [
                q["queue"],
                str(len(q["waiting"])) if live else "-",
                _seconds(q["longest_wait"]) if live else "-",
                *(str(staff.get(state, 0)) if live else "-" for state in ("free", "busy", "paused", "unavailable")),
                str(today["answered"]),
                str(today["abandoned"]),
                _seconds(today["average_wait"]),
                _percent(today["service_level"]),
                _percent(today["connection_rate"]),
            ]
        )
    out += table(rows)
    for q in view["queues"]:
        for c in q["waiting"]:
            out.append(f"  {q['queue']} #{c['position']}: waiting {_seconds(c['wait'])}, line {c['line'] or '?'}")
    out.append("")
    rows = [["line", "calls", "answered", "abandoned", "connected"]]
    for f in view["lines"]:
        rows.append(
            [f["line"], str(f["offered"]), str(f["answered"]), str(f["abandoned"]), _percent(f["connection_rate"])]
        )
    out += table(rows)
    return out


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
