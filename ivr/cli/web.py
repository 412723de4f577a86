"""`ivr web`: the live wallboard and `/metrics`. Settings from options or the environment (IVR_*); the token only
from a file or the environment, never from the command line (`ps` shows it)."""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path
from typing import Any

from ivr.cli.route import UsageError
from ivr.cli.serve import add_store_argument, env
from ivr.runtime.logs import add_log_level_argument, configure_logging
from ivr.secrets import secret_from_environment

TOKEN = "IVR_WEB_TOKEN"
MIN_TOKEN = 16


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "web",
        help="serve the live wallboard and /metrics (default 127.0.0.1:8080)",
        description="A read-only page for call-centre leads, pushed live (server-sent events): per queue the "
        "callers waiting, the longest wait, agents free, busy, paused and unavailable, today's answered, abandoned, "
        "service level and connection rate; per original line today's calls; calls per hour by merge mode; the "
        "newest ticket stubs (callers masked); a warning when the AMI link is down or the data is stale. "
        "/metrics for Prometheus, /state.json for scripts. Binds to loopback by default; any other address needs "
        f"a token (--token-file, {TOKEN} or {TOKEN}_FILE) of at least {MIN_TOKEN} characters, and then every "
        "request needs it (Authorization: Bearer TOKEN, or ?token=TOKEN). SIGHUP, or a change of the rules file, "
        "reloads the rules (an invalid file is refused, the old rules stay). Options can be set in the environment "
        "too (IVR_WEB_HOST, IVR_WEB_PORT, IVR_RULES, IVR_STORE, IVR_SPOOL).",
    )
    parser.add_argument("--host", default=env("IVR_WEB_HOST", "127.0.0.1"), help="address to listen on")
    parser.add_argument("--port", type=int, default=int(env("IVR_WEB_PORT", "8080")), help="TCP port (0: any free)")
    parser.add_argument("--rules", default=env("IVR_RULES", default_rules), help="rules file: time zone and names")
    add_store_argument(parser)
    parser.add_argument("--token-file", metavar="FILE", help=f"file holding the token (else {TOKEN}, {TOKEN}_FILE)")
    parser.add_argument(
        "--spool",
        action="append",
        metavar="DIR",
        help="an engine's spool folder, whose stubs waiting for the store /metrics counts (repeatable; "
        "default: $IVR_SPOOL, else tickets-spool)",
    )
    add_log_level_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from twisted.internet.error import CannotListenError

    from ivr.runtime.rulesholder import RulesHolder
    from ivr.tickets.open import open_store
    from ivr.web.model import Names
    from ivr.web.server import run as serve  # imports the reactor: only when serving

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: {args.port} is not a TCP port")
    token = read_token(args.token_file)
    if not token and not loopback(args.host):
        raise UsageError(
            f"--host {args.host} is not a loopback address: give a token (--token-file, {TOKEN} or {TOKEN}_FILE)"
        )
    rules = RulesHolder(Path(args.rules), Names.of)
    try:
        store = open_store(args.store)
    except ValueError as exc:
        raise UsageError(f"--store: {exc}") from None
    configure_logging(args.log_level)
    spools = [Path(p) for p in args.spool or [env("IVR_SPOOL", "tickets-spool")]]
    try:
        return serve(store, rules, args.host, args.port, token, spools)
    except CannotListenError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.socketError}") from None


def read_token(path: str | None) -> str:
    """The token from --token-file, else the environment; one that is too short is refused, never shown."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip() if path else secret_from_environment(TOKEN)
    except OSError as exc:
        raise UsageError(f"token file {exc.filename}: {exc.strerror}") from None
    if token and len(token) < MIN_TOKEN:
        raise UsageError(f"the token must be at least {MIN_TOKEN} characters long")
    return token


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve anywhere
