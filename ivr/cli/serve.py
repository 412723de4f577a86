"""`ivr serve`: run the FastAGI engine. Settings come from options or the environment (IVR_*), never secrets
on the command line."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

from ivr.cli.route import UsageError
from ivr.rules.yamlsource import RulesError
from ivr.runtime.logs import add_log_level_argument, configure_logging
from ivr.serve.service import LOOPBACK, parse_allow
from ivr.tickets.open import DEFAULT_STORE

DEFAULT_SPOOL = "tickets-spool"
DEFAULT_ENGINE_ID = "e1"


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the FastAGI engine (default 127.0.0.1:4573)",
        description="Run the FastAGI engine Asterisk connects to with AGI(agi://HOST:PORT/route,${EXTEN}). "
        "Every option can also be set in the environment (IVR_HOST, IVR_PORT, IVR_RULES, IVR_ALLOW, "
        "IVR_MAX_SESSIONS, IVR_BACKLOG, IVR_DRAIN_SECONDS, IVR_STORE, IVR_ENGINE_ID, IVR_SPOOL). SIGHUP, or a "
        "change of the rules file, reloads the rules for new calls; SIGTERM stops accepting and lets calls in "
        "progress finish (bounded). Every routed call leaves one ticket stub in the store.",
    )
    parser.add_argument("--host", default=env("IVR_HOST", "127.0.0.1"), help="address to listen on")
    parser.add_argument("--port", type=int, default=int(env("IVR_PORT", "4573")), help="TCP port (0: any free)")
    parser.add_argument("--rules", default=env("IVR_RULES", default_rules), help="rules file")
    parser.add_argument(
        "--allow",
        default=env("IVR_ALLOW", ",".join(LOOPBACK)),
        help="comma-separated addresses or networks allowed to connect (default: loopback only); NAME=ADDRESS also "
        "names the Asterisk host at ADDRESS (when it has no systemname): its calls are kept apart by that name",
    )
    parser.add_argument(
        "--max-sessions",
        type=int,
        default=int(env("IVR_MAX_SESSIONS", "5000")),
        help="calls handled at once; one more is refused and the dialplan carries it (default: 5000)",
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=int(env("IVR_BACKLOG", "4096")),
        help="listen backlog: a burst of new calls must connect within Asterisk's 2 s",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=float(env("IVR_DRAIN_SECONDS", "10")),
        help="on SIGTERM, how long calls in progress may go on before their sessions are closed",
    )
    add_store_argument(parser)
    parser.add_argument(
        "--engine-id",
        default=env("IVR_ENGINE_ID", DEFAULT_ENGINE_ID),
        help="this engine's part of every ticket id: 1 to 16 lowercase letters and digits, unique per engine "
        f"(default: {DEFAULT_ENGINE_ID})",
    )
    parser.add_argument(
        "--spool",
        default=env("IVR_SPOOL", DEFAULT_SPOOL),
        metavar="DIR",
        help="this engine's own folder for the ticket id counter and the stubs waiting for the store "
        f"(default: {DEFAULT_SPOOL})",
    )
    add_log_level_argument(parser)
    parser.set_defaults(run=run)


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=env("IVR_STORE", DEFAULT_STORE),
        metavar="URL",
        help="ticket store: sqlite:///PATH, redis://HOST:PORT/DB or redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE/DB"
        f", password in IVR_REDIS_PASSWORD(_FILE) (default: {DEFAULT_STORE})",
    )


def run(args: argparse.Namespace) -> int:
    from twisted.internet.error import CannotListenError

    from ivr.serve.run import ServeOptions, serve  # imports the reactor: only when serving
    from ivr.tickets.book import TicketBook
    from ivr.tickets.ids import check_engine_id
    from ivr.tickets.spool import SpoolBusy

    try:
        allow = parse_allow(part for part in args.allow.split(",") if part.strip())
    except ValueError as exc:
        raise UsageError(f"--allow: {exc}") from None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: {args.port} is not a TCP port")
    try:
        check_engine_id(args.engine_id)
    except ValueError as exc:
        raise UsageError(f"--engine-id: {exc}") from None
    spool = Path(args.spool)
    fresh = not spool.exists()
    try:
        book = TicketBook.open(args.store, spool, args.engine_id)
    except ValueError as exc:
        raise UsageError(f"--store: {exc}") from None
    except SpoolBusy as exc:
        raise UsageError(f"--spool: {exc}") from None
    configure_logging(args.log_level)
    options = ServeOptions(
        Path(args.rules), args.host, args.port, allow, args.max_sessions, args.backlog, args.drain_seconds
    )
    try:
        return serve(options, book)
    except (CannotListenError, RulesError) as refused:
        # Refused before any call (the rules invalid, the port taken): a spool folder made for it goes too, as
        # long as no stub waits in it.
        keep = book.spool.pending
        book.close()
        if fresh and not keep:
            shutil.rmtree(spool, ignore_errors=True)
        if isinstance(refused, RulesError):
            raise
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {refused.socketError}") from None
