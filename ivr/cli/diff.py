"""`ivr diff`: before a changed rules file goes live, what it changes for callers, number by number."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ivr.admin.diff import as_json, diff_rules, render
from ivr.cli.route import UsageError, parse_at
from ivr.rules.loader import load_rules
from ivr.rules.model import Rules
from ivr.rules.yamlsource import MAX_FILE_BYTES, RulesError

STDIN = "-"
# How a rules file read from standard input is named in its problems; its prompt manifest is found from the
# current folder, where `git show HEAD:routing_rules.yaml | ivr diff -` runs.
STDIN_NAME = "<stdin>"


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "diff",
        help="show what changes for callers between two rules files",
        description="Route every number under both files at every moment where a plan can differ (each period "
        "between the transition dates either file names, each stretch of the week between seat opening and "
        "closing times) and print only what changes for callers, with when it applies, then a summary count. "
        "Problems in either file are reported as `ivr check` reports them (exit code 1). "
        f"Example: git show HEAD:{default_rules} | ivr diff - {default_rules}",
    )
    parser.add_argument("old", metavar="OLD", help="the rules file in force, or - for standard input")
    parser.add_argument(
        "new",
        metavar="NEW",
        nargs="?",
        default=default_rules,
        help=f"the changed rules file, or - for standard input (default: {default_rules})",
    )
    parser.add_argument(
        "--at",
        metavar="'YYYY-MM-DD HH:MM'",
        help="the moment to mark: changes that hold then are marked, and periods over before it read (past); "
        "in NEW's time zone, or ISO 8601 with an offset (default: now)",
    )
    parser.add_argument("--json", action="store_true", help="print every change per number as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.old == STDIN and args.new == STDIN:
        raise UsageError("OLD and NEW cannot both be - (standard input)")
    old, new = load_both(args.old, args.new)
    at = parse_at(args.at, new)
    diff = diff_rules(old, new, at)
    if args.json:
        print(json.dumps(as_json(diff), ensure_ascii=False, indent=2))
    else:
        moment = "now" if args.at is None else f"{at.astimezone(new.timezone):%Y-%m-%d %H:%M}"
        print("\n".join(render(diff, moment)))
    return 0


def load_both(old: str, new: str) -> tuple[Rules, Rules]:
    """Both rule sets, or RulesError with the problems of both files, so one run shows every mistake."""
    loaded: list[Rules] = []
    problems = []
    for name in (old, new):
        try:
            loaded.append(_load(name))
        except RulesError as exc:
            problems.extend(exc.problems)
    if problems:
        raise RulesError(problems)
    return loaded[0], loaded[1]


def _load(name: str) -> Rules:
    if name == STDIN:
        return load_rules(STDIN_NAME, data=sys.stdin.buffer.read(MAX_FILE_BYTES + 1))
    return load_rules(name)
