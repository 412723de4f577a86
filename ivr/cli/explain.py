"""`ivr explain`: the reverse of `ivr route`. Which numbers end up at this queue or seat, when, and how."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from ivr.admin.explain import as_json, explain, render
from ivr.cli.route import UsageError, parse_at
from ivr.rules.loader import load_rules


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "explain",
        help="show which numbers end up at a queue or seat, when, and through which steps",
        description="For every number, the routes that end at the queue or seat NAME: the steps before it (each "
        "queue or seat passed must fail first) and when they apply (the periods between transition dates, the "
        "seats' opening hours). Numbers whose routes differ only by their own number share one block, which "
        "writes it NNNNN (transition-NNNNN).",
    )
    parser.add_argument("name", metavar="QUEUE_OR_SEAT", help="a queue or seat of the rules (e.g. hotline-12345)")
    parser.add_argument(
        "--at",
        metavar="'YYYY-MM-DD HH:MM'",
        help="only at this moment, in the rules' time zone or ISO 8601 with an offset "
        "(default: every period and every hour of the week)",
    )
    parser.add_argument("--json", action="store_true", help="print every number's route here as JSON")
    parser.add_argument("--rules", default=default_rules, help=f"rules file (default: {default_rules})")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rules = load_rules(args.rules)
    if args.name not in rules.queues and args.name not in rules.seats:
        known = " ".join([*rules.queues, *rules.seats])
        raise UsageError(f"{args.name} is not a queue or seat in {args.rules} (there are: {known})")
    at = parse_at(args.at, rules) if args.at is not None else None
    explanation = explain(args.name, rules, at, datetime.now(rules.timezone))
    if args.json:
        print(json.dumps(as_json(explanation), ensure_ascii=False, indent=2))
    else:
        moment = f"{at.astimezone(rules.timezone):%Y-%m-%d %H:%M} {rules.timezone.key}" if at else ""
        print("\n".join(render(explanation, rules, moment)))
    return 0
