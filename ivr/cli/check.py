"""`ivr check`: validate the rules and show an admin, line by line, where each number goes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ivr.calendar.deadlines import uncovered_years_ahead
from ivr.calendar.workdays import uncovered_warning
from ivr.cli.route import parse_at
from ivr.cli.table import table
from ivr.prompts.checks import check_recordings
from ivr.rules.deliverysection import plain_http
from ivr.rules.loader import load_rules


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "check",
        help="validate a rules file and print every number's route",
        description="Validate the rules file (and its prompt manifest). Every problem is printed as "
        "FILE:LINE:COL: message and the exit code is 1; when the file is valid, a table of every number, "
        "its mode, first destination and fallback chain is printed, then a warning for each year the working-day "
        "calendar does not cover although a ticket received now can be due in it. Each prompt's recordings "
        "(zh/<name>.wav and .alaw beside the manifest) are checked too: present, 8 kHz mono 16-bit, not silent, "
        "not cut off, generated ones not from an older text nor read as English; one line per problem, exit code 1.",
    )
    parser.add_argument("file", nargs="?", default=default_rules, help=f"rules file (default: {default_rules})")
    parser.add_argument(
        "--at",
        metavar="'YYYY-MM-DD HH:MM'",
        help="check the calendar for tickets received then, in the rules' time zone (default: now)",
    )
    parser.add_argument("--no-recordings", action="store_true", help="do not check the prompts' recordings")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rules = load_rules(args.file)
    at = parse_at(args.at, rules).astimezone(rules.timezone)
    problems = [] if args.no_recordings else check_recordings(rules.prompts, rules.recordings)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    rows = [("number", "mode", "department", "first destination", "fallback")]
    for line in rules.lines.values():
        first, *rest = rules.chain(line.destination)
        rows.append((line.number, line.mode.value, line.department.id, first, " -> ".join(rest)))
    print("\n".join(table(rows)))
    emergency = " ".join(rules.emergency.numbers)
    print(
        f"\n{args.file}: OK, {len(rules.lines)} routable numbers, {len(rules.by_alias)} aliases, "
        f"{len(rules.prompts)} prompts{'' if args.no_recordings else ' (recordings checked)'}; "
        f"emergency numbers never routed: {emergency} "
        f"(dialplan context {rules.emergency.context})"
    )
    for year in uncovered_years_ahead(rules, at):
        print(f"warning: {uncovered_warning(year)} (a ticket received {at:%Y-%m-%d %H:%M} can be due in {year})")
    for link in rules.data_links.values():
        if link.delivery is not None and plain_http(link.delivery):
            print(f"warning: data link {link.id} is delivered over plain http ({link.delivery.url}): for tests only")
    return 0
