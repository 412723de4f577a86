"""`ivr agi`: the classic (stdin/stdout) AGI entry, for `AGI(/path/to/ivr,agi,${EXTEN})`-style setups."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from ivr.agi.classic import run_classic
from ivr.rules.loader import load_rules


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "agi",
        help="classic AGI over stdin/stdout (Asterisk runs it per call)",
        description="Route one call over classic AGI: Asterisk starts this command per call and talks to it over "
        "stdin/stdout; the number dialed is the first AGI argument. Logs go to stderr, callers masked.",
    )
    parser.add_argument("--rules", default=default_rules, help="rules file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level="INFO", format="%(levelname)s %(name)s %(message)s", stream=sys.stderr)
    return run_classic(load_rules(args.rules), sys.stdin.fileno(), sys.stdout.buffer)
