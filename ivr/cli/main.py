"""Entry point of the `ivr` command: argument parsing and the one place errors become exit codes.

Exit codes: 0 success, 1 the input (rules file, prompt manifest) is invalid or the ticket store cannot be read,
2 the command line is wrong.
Errors are one line each on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ivr.cli import (
    agi,
    call,
    callbacks,
    check,
    deadlines,
    deliver,
    deliveries,
    deploy,
    dialplan,
    diff,
    doctor,
    explain,
    graph,
    monitor,
    prompts,
    queues,
    route,
    serve,
    tickets,
    web,
)
from ivr.rules.yamlsource import RulesError
from ivr.tickets.store import StoreUnavailable

DEFAULT_RULES = "routing_rules.yaml"


def default_rules() -> str:
    """IVR_RULES from the environment, else routing_rules.yaml in the current folder."""
    return os.environ.get("IVR_RULES", DEFAULT_RULES)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ivr",
        description="Routing engine for the 12345 government service hotline merge.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check.add_parser(commands, default_rules())
    route.add_parser(commands, default_rules())
    diff.add_parser(commands, default_rules())
    explain.add_parser(commands, default_rules())
    graph.add_parser(commands, default_rules())
    deadlines.add_parser(commands, default_rules())
    prompts.add_parser(commands, default_rules())
    serve.add_parser(commands, default_rules())
    call.add_parser(commands, default_rules())
    agi.add_parser(commands, default_rules())
    dialplan.add_parser(commands, default_rules())
    deploy.add_parser(commands, default_rules())
    doctor.add_parser(commands, default_rules())
    tickets.add_parser(commands, default_rules())
    monitor.add_parser(commands, default_rules())
    queues.add_parser(commands, default_rules())
    callbacks.add_parser(commands, default_rules())
    web.add_parser(commands, default_rules())
    deliver.add_parser(commands, default_rules())
    deliveries.add_parser(commands, default_rules())
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except RulesError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except route.UsageError as exc:
        parser.exit(2, f"ivr {args.command}: {exc}\n")
    except StoreUnavailable as exc:
        print(f"ivr {args.command}: ticket store: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
