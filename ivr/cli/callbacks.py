"""`ivr callbacks`: the citizens who gave up waiting, as Asterisk confirmed, and whether they may be called back.
Numbers are masked unless --unmask."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from typing import Any

from ivr.cli.serve import add_store_argument
from ivr.cli.table import table
from ivr.cli.tickets import _store
from ivr.privacy import mask_number
from ivr.rules.loader import load_rules
from ivr.tickets.callbacks import Callback, State, callback_list
from ivr.tickets.completion import CallEvent, EventKind
from ivr.tickets.store import Query

DAYS_SHOWN = 7


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "callbacks",
        help="the call-back list: callers who gave up waiting",
        description="Callers who abandoned in a queue or hung up during a prompt, as Asterisk's own events confirm "
        "(a forged AGI session never appears here), with what may be done: due, waiting for the next attempt, done, "
        "reached an agent meanwhile, a newer call-back for the same number, not diallable (withheld, unknown, not "
        "a national number), or every attempt made. `ivr monitor` dials the due ones when callbacks.automatic is on.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the call-backs of the last days, oldest first")
    _common(listing, default_rules)
    listing.add_argument("--all", action="store_true", help="also those done or not to be dialled")
    listing.add_argument("--days", type=int, default=DAYS_SHOWN, help=f"how far back (default {DAYS_SHOWN})")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.add_argument("--unmask", action="store_true", help="show numbers in full")
    listing.set_defaults(run=run_list)
    done = actions.add_parser("done", help="mark a call-back done (an agent called the citizen by hand)")
    _common(done, default_rules)
    done.add_argument("id", help="the ticket id")
    done.add_argument("--note", required=True, help="what was done, e.g. 'called back by agent 7, resolved'")
    done.set_defaults(run=run_done)


def _common(parser: argparse.ArgumentParser, default_rules: str) -> None:
    add_store_argument(parser)
    parser.add_argument("--rules", default=default_rules, help="rules file: call-back settings, numbering, zone")


def run_list(args: argparse.Namespace) -> int:
    rules = load_rules(args.rules)
    now = datetime.now(rules.timezone)
    store = _store(args)
    stubs = store.find(Query(since=now - timedelta(days=args.days)))
    entries = callback_list(stubs, rules.callbacks, rules.numbering, now)
    if not args.all:
        entries = [e for e in entries if e.state in (State.DUE, State.WAITING, State.NOT_DIALLABLE)]
    if args.json:
        print(json.dumps([_json(e, args.unmask) for e in entries], ensure_ascii=False, indent=2))
        return 0
    rows = [("ticket", "received", "line", "caller", "why", "attempts", "state")]
    for e in entries:
        state = e.state.value + (f" until {e.next_at:%H:%M}" if e.next_at else "") + (f": {e.note}" if e.note else "")
        rows.append((e.stub.id, f"{e.stub.received:%Y-%m-%d %H:%M}", e.stub.line, _caller(e, args.unmask), e.why,
                     str(len(e.attempts)), state))  # fmt: skip
    print("\n".join([*table(rows), f"{len(entries)} call-back{'s' if len(entries) != 1 else ''}"]))
    return 0


def run_done(args: argparse.Namespace) -> int:
    store = _store(args)
    stub = store.get(args.id)
    if stub is None:
        print(f"ivr callbacks: no ticket {args.id} in {args.store}", file=sys.stderr)
        return 1
    zone = stub.received.tzinfo
    done = CallEvent(stub.uniqueid, EventKind.CALLBACK_DONE, datetime.now(zone), detail=args.note, host=stub.host)
    store.add_events([done])
    print(f"{args.id}: call-back marked done")
    return 0


def _caller(entry: Callback, unmask: bool) -> str:
    caller = entry.number or entry.stub.caller or "unknown"
    if entry.stub.presentation.value == "withheld":
        return "withheld"
    return caller if unmask else mask_number(caller)


def _json(entry: Callback, unmask: bool) -> dict[str, Any]:
    return {
        "ticket": entry.stub.id,
        "received": entry.stub.received.isoformat(),
        "line": entry.stub.line,
        "caller": _caller(entry, unmask),
        "why": entry.why,
        "attempts": [{"at": a.at.isoformat(), "result": a.detail} for a in entry.attempts],
        "state": entry.state.value,
        "next_at": entry.next_at.isoformat() if entry.next_at else None,
        "note": entry.note,
    }
