"""`ivr deadlines`: the deadlines a ticket received at a given time gets, with the reasons, so anyone can check the
arithmetic against the plan and the official calendar."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ivr.calendar.deadlines import CaseDeadlines, case_deadlines
from ivr.calendar.workdays import uncovered_warning, weekday
from ivr.cli.route import UsageError, parse_at
from ivr.rules.loader import load_rules
from ivr.rules.model import Category, Rules


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "deadlines",
        help="show the deadlines of a ticket received at a given time",
        description="Print when a ticket received at the given time must be dispatched, signed for, returned "
        "(if it is not the unit's) and, with a category, closed: on the official calendar, in the rules' time "
        "zone, by the time limits of the rules file's calendar section.",
    )
    parser.add_argument(
        "--received",
        required=True,
        metavar="'YYYY-MM-DD HH:MM'",
        help="when the ticket was received, in the rules' time zone, or ISO 8601 with an offset",
    )
    parser.add_argument("--category", choices=[c.value for c in Category], help="the ticket's category")
    parser.add_argument(
        "--extensions", type=int, default=0, metavar="N", help="extensions granted so far (needs --category)"
    )
    parser.add_argument("--json", action="store_true", help="print the deadlines as JSON")
    parser.add_argument("--rules", default=default_rules, help=f"rules file (default: {default_rules})")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rules = load_rules(args.rules)
    received = parse_at(args.received, rules, "--received")
    category = Category(args.category) if args.category else None
    try:
        case = case_deadlines(received, rules, category, args.extensions)
    except ValueError as exc:
        raise UsageError(f"--extensions: {exc}") from None
    if args.json:
        print(json.dumps(as_json(case, rules), ensure_ascii=False, indent=2))
    else:
        print("\n".join(describe(case, rules)))
    return 0


def as_json(case: CaseDeadlines, rules: Rules) -> dict[str, Any]:
    return {
        "received": case.received.isoformat(),
        "timezone": rules.timezone.key,
        "in_working_hours": case.in_working_hours,
        "category": case.category.value if case.category else None,
        "extensions": case.extensions,
        "deadlines": [
            {"step": step.step, "due": step.due.isoformat(), "reason": step.reason} for step in case.deadlines
        ],
        "uncovered_years": list(case.uncovered_years),
    }


def describe(case: CaseDeadlines, rules: Rules) -> list[str]:
    cal = rules.calendar
    when = "in" if case.in_working_hours else "outside"
    out = [
        f"received      {case.received:%Y-%m-%d %H:%M} ({weekday(case.received)}) {rules.timezone.key}, {when} "
        f"working hours ({cal.opens:%H:%M}-{cal.closes:%H:%M} on working days)"
    ]
    for step in case.deadlines:
        label = step.step.replace("-", " ")
        out.append(f"{label:<13} {step.due:%Y-%m-%d %H:%M} ({weekday(step.due)})  {step.reason}")
    out += [f"warning: {uncovered_warning(year)}" for year in case.uncovered_years]
    return out
