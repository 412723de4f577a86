"""`ivr dialplan build`: write the Asterisk configuration for the rules, to be #included by the admin's own."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from ivr.cli.route import UsageError
from ivr.dialplan.build import build, write
from ivr.rules.loader import load_rules
from ivr.rules.model import Rules
from ivr.rules.settingsection import AGI_URL, URL_FORMS

DEFAULT_OUT = "dialplan"


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "dialplan",
        help="generate the Asterisk configuration from the rules",
        description="Asterisk configuration generated from the rules file, for the admin's own files to #include.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    builder = actions.add_parser(
        "build",
        help="write ivr-extensions.conf, ivr-queues.conf and ivr-manager.conf",
        description="Write the inbound routing, the fallback that works without the engine, the queues, the "
        "linkage context and the AMI user of the monitor. Never touches extensions.conf, queues.conf or "
        "manager.conf themselves; the same rules always give the same files.",
    )
    builder.add_argument("--rules", default=default_rules, help=f"rules file (default: {default_rules})")
    builder.add_argument("--out", default=DEFAULT_OUT, help=f"folder to write to (default: {DEFAULT_OUT}/)")
    builder.add_argument(
        "--engine",
        metavar="URL",
        action="append",
        help="the engine Asterisk calls, instead of the rules' engine.agi_url: agi://HOST[:PORT] or hagi://SRV-NAME "
        "(one Asterisk of several, a test switch); repeat for engines to try in turn",
    )
    builder.set_defaults(run=run_build)


def run_build(args: argparse.Namespace) -> int:
    rules = with_engine(load_rules(args.rules), args.engine)
    try:
        written = write(build(rules), Path(args.out))
    except OSError as exc:
        raise UsageError(f"--out {args.out}: {exc.strerror or exc}") from None
    for path in written:
        print(path)
    return 0


def with_engine(rules: Rules, engines: list[str] | None) -> Rules:
    """The rules with the `--engine` options, in their order, as their engine.agi_url, when given."""
    if not engines:
        return rules
    for url in engines:
        if not AGI_URL.match(url):
            raise UsageError(f"--engine {url}: {URL_FORMS}, without a path")
        if engines.count(url) > 1:
            raise UsageError(f"--engine {url} is given twice: the dialplan would try it twice")
    return dataclasses.replace(rules, engine=dataclasses.replace(rules.engine, agi_urls=tuple(engines)))
