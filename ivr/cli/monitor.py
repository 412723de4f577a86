"""`ivr monitor`: the AMI client that keeps the live queue board in the store and completes ticket stubs.
Settings from options or the environment (IVR_*); the AMI login only from the environment."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any

from ivr.cli.route import UsageError
from ivr.cli.serve import add_store_argument, env
from ivr.runtime.logs import add_log_level_argument, configure_logging

DEFAULT_SPOOL = "monitor-spool"
DEFAULT_ENGINE_ID = "m1"
DEFAULT_QUEUE_LOG = "/var/log/asterisk/queue_log"


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "monitor",
        help="follow Asterisk's queues over AMI; complete ticket stubs",
        description="Log in to Asterisk's AMI (IVR_AMI_USER, IVR_AMI_SECRET or IVR_AMI_SECRET_FILE), keep the live "
        "board of every queue in the ticket store, and store what Asterisk reports about each call: who answered "
        "after how long, who gave up where, transfers, and calls the dialplan carried without the engine (those "
        "get a stub numbered with --engine-id). Reconnects with backoff; every (re)connect rebuilds the board. "
        "SIGHUP, or a change of the rules file, reloads the rules (an invalid file is refused, the old rules stay). "
        "Options can be set in the environment too (IVR_AMI_HOST, IVR_AMI_PORT, IVR_MONITOR_NAME, IVR_ASTERISK_NAME, "
        "IVR_RULES, "
        "IVR_STORE, IVR_MONITOR_ENGINE_ID, IVR_MONITOR_SPOOL, IVR_QUEUE_LOG).",
    )
    add_ami_address(parser)
    parser.add_argument(
        "--name",
        default=env("IVR_MONITOR_NAME", socket.gethostname()),
        help="this monitor's name on the boards (default: the host name)",
    )
    parser.add_argument(
        "--asterisk-name",
        default=env("IVR_ASTERISK_NAME", ""),
        metavar="NAME",
        help="the name of the Asterisk host watched, for an Asterisk without systemname: the name the engines' "
        "--allow gives it (default: its AMI address; loopback is 'local', as the engine calls a loopback peer)",
    )
    parser.add_argument("--rules", default=env("IVR_RULES", default_rules), help="rules file")
    add_store_argument(parser)
    parser.add_argument(
        "--engine-id",
        default=env("IVR_MONITOR_ENGINE_ID", DEFAULT_ENGINE_ID),
        help=f"the id part of the stubs this monitor makes for fallback calls (default: {DEFAULT_ENGINE_ID}); "
        "must differ from every engine's",
    )
    parser.add_argument(
        "--spool",
        default=env("IVR_MONITOR_SPOOL", DEFAULT_SPOOL),
        metavar="DIR",
        help=f"this monitor's own folder for its id counter and stubs waiting for the store (default: {DEFAULT_SPOOL})",
    )
    parser.add_argument(
        "--queue-log",
        default=env("IVR_QUEUE_LOG", DEFAULT_QUEUE_LOG),
        metavar="FILE",
        help="Asterisk's queue_log, read back after each time no events could be seen (a restart, a link down), so "
        "a caller who gave up meanwhile is still counted and on the call-back list (default: "
        f"{DEFAULT_QUEUE_LOG}; '' reads none)",
    )
    add_log_level_argument(parser)
    parser.set_defaults(run=run)


def add_ami_address(parser: argparse.ArgumentParser) -> None:
    """--ami-host and --ami-port, defaults from IVR_AMI_HOST and IVR_AMI_PORT: the monitor, deploy and doctor talk to
    the same Asterisk."""
    parser.add_argument("--ami-host", default=env("IVR_AMI_HOST", "127.0.0.1"), help="Asterisk's AMI address")
    parser.add_argument("--ami-port", type=int, default=int(env("IVR_AMI_PORT", "5038")), help="AMI TCP port")


def run(args: argparse.Namespace) -> int:
    from ivr.ami.client import Credentials
    from ivr.ami.run import monitor  # imports the reactor: only when monitoring
    from ivr.hosts import check_host_name
    from ivr.runtime.rulesholder import RulesHolder
    from ivr.tickets.book import TicketBook
    from ivr.tickets.ids import check_engine_id
    from ivr.tickets.spool import SpoolBusy

    if not 0 < args.ami_port <= 65535:
        raise UsageError(f"--ami-port: {args.ami_port} is not a TCP port")
    try:
        credentials = Credentials.from_environment()
        check_engine_id(args.engine_id)
        if args.asterisk_name:
            check_host_name(args.asterisk_name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"AMI secret file {exc.filename}: {exc.strerror}") from None
    holder = RulesHolder(Path(args.rules), lambda rules: rules)  # the monitor needs the rules as they are
    try:
        book = TicketBook.open(args.store, Path(args.spool), args.engine_id)
    except ValueError as exc:
        raise UsageError(f"--store: {exc}") from None
    except SpoolBusy as exc:
        raise UsageError(f"--spool: {exc}") from None
    configure_logging(args.log_level)
    queue_log = Path(args.queue_log) if args.queue_log else None
    return monitor(args.ami_host, args.ami_port, args.name, credentials, holder, book, queue_log, args.asterisk_name)
