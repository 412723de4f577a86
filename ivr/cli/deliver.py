"""`ivr deliver`: push each delivering data link's ticket events to the department's HTTPS address (docs/delivery.md).
Settings from options or the environment (IVR_*); each link's secret only from the environment or its file."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any

from ivr.cli.route import UsageError
from ivr.cli.serve import add_store_argument, env
from ivr.runtime.logs import add_log_level_argument, configure_logging


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "deliver",
        help="push ticket events to the departments' systems over HTTPS",
        description="For every data link with a delivery in the rules, POST each of its ticket events (created, "
        "updated) from the store, in order, signed (HMAC-SHA256), with an Idempotency-Key; retry 429, 5xx, "
        "timeouts and refused connections with backoff for the link's retry_hours, then park the event as failed; "
        "park any other 4xx at once. Several deliverers may run: one sends each link at a time, another takes "
        "over when it dies. Each link's secret comes from the variable its delivery names (secret_env), or the "
        "file that variable with _FILE names. SIGHUP, or a change of the rules file, reloads the deliveries. "
        "Options can be set in the environment too (IVR_RULES, IVR_STORE, IVR_DELIVER_NAME).",
    )
    parser.add_argument("--rules", default=env("IVR_RULES", default_rules), help="rules file")
    add_store_argument(parser)
    parser.add_argument(
        "--name",
        default=env("IVR_DELIVER_NAME", socket.gethostname()),
        help="this deliverer's name on the links' leases (default: the host name); one per process",
    )
    add_log_level_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ivr.deliver.run import deliver, delivering  # imports the reactor: only when delivering
    from ivr.runtime.rulesholder import RulesHolder
    from ivr.secrets import secret_from_environment
    from ivr.tickets.open import open_store

    holder = RulesHolder(Path(args.rules), lambda rules: rules)

    def secret(variable: str) -> str:
        """A link's secret; "" when its file cannot be read (the link is then not delivered, with an ALARM)."""
        try:
            return secret_from_environment(variable)
        except OSError:
            return ""

    for name, link in delivering(holder.current).items():
        variable = link.delivery.secret_env if link.delivery else ""
        try:
            found = secret_from_environment(variable)
        except OSError as exc:
            raise UsageError(f"data link {name}: secret file {exc.filename}: {exc.strerror}") from None
        if not found:
            raise UsageError(f"data link {name}: set its secret in {variable} or {variable}_FILE")
    try:
        store = open_store(args.store)
    except ValueError as exc:
        raise UsageError(f"--store: {exc}") from None
    configure_logging(args.log_level)
    return deliver(holder, store, args.name, secret)
