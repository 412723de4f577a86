"""`ivr tickets`: list, show and export the ticket stubs in a store. Callers are masked unless --unmask."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ivr.cli.route import UsageError, parse_at
from ivr.cli.serve import add_store_argument
from ivr.cli.table import table
from ivr.hosts import LOCAL
from ivr.rules.loader import load_rules
from ivr.tickets.export import csv_bytes, due_text, json_text, route_text
from ivr.tickets.figures import ratings_by
from ivr.tickets.open import open_store
from ivr.tickets.store import Query, TicketStore
from ivr.tickets.stub import Stub, StubOutcome


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "tickets",
        help="list, show or export the ticket stubs in the store",
        description="Read the ticket stubs the engine wrote: one per call. Caller numbers are masked "
        "(138****8000) unless --unmask; Asterisk's own queue_log and CDR keep them unmasked.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="one line per stub, oldest first")
    _add_query(listing, default_rules)
    listing.add_argument("--json", action="store_true", help="print the stubs as JSON")
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", help="one stub in full: route with times, deadlines")
    show.add_argument("id", help="the ticket id, e.g. 12345-20261128-e1-000042")
    show.add_argument("--json", action="store_true", help="print the stub as JSON")
    _add_common(show)
    show.set_defaults(run=run_show)
    ratings = actions.add_parser("ratings", help="satisfaction ratings per line and per agent")
    _add_query(ratings, default_rules)
    ratings.add_argument("--json", action="store_true", help="print the figures as JSON")
    ratings.set_defaults(run=run_ratings)
    export = actions.add_parser("export", help="every matching stub as CSV (UTF-8 with BOM, for Excel) or JSON")
    _add_query(export, default_rules)
    export.add_argument("--format", choices=["csv", "json"], default="csv", help="default: csv")
    export.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    export.set_defaults(run=run_export)


def _add_common(parser: argparse.ArgumentParser) -> None:
    add_store_argument(parser)
    parser.add_argument("--unmask", action="store_true", help="show caller numbers in full")


def _add_query(parser: argparse.ArgumentParser, default_rules: str) -> None:
    _add_common(parser)
    when = "'YYYY-MM-DD HH:MM'"
    parser.add_argument("--since", metavar=when, help="received at or after, in the rules' zone or ISO 8601")
    parser.add_argument("--until", metavar=when, help="received before, in the rules' zone or ISO 8601")
    parser.add_argument("--line", metavar="NUMBER", help="the original line, e.g. 12396")
    parser.add_argument("--outcome", choices=[o.value for o in StubOutcome], help="how the call ended")
    parser.add_argument("--rules", default=default_rules, help="rules file, for the zone of --since and --until")


def run_list(args: argparse.Namespace) -> int:
    stubs = _found(args)
    if args.json:
        print(json_text(stubs))
        return 0
    rows = [("id", "received", "line", "outcome", "caller", "wait", "rating", "answered by")]
    for stub in stubs:
        wait = "" if stub.queue_wait is None else f"{stub.queue_wait} s"
        received = f"{stub.received:%Y-%m-%d %H:%M:%S}"
        rating = stub.rating + (f" ({stub.rating_reason})" if stub.rating_reason else "")
        rows.append((stub.id, received, stub.line, stub.outcome.value, stub.caller, wait, rating, stub.answered_by))
    print("\n".join([*table(rows), f"{len(stubs)} ticket stub{'s' if len(stubs) != 1 else ''}"]))
    return 0


def run_ratings(args: argparse.Namespace) -> int:
    stubs = _found(args)
    groups = {"line": ratings_by(stubs, "line"), "agent": ratings_by(stubs, "answered_by")}
    if args.json:
        print(json.dumps({k: {g: r.as_json() for g, r in v.items()} for k, v in groups.items()}, ensure_ascii=False))
        return 0
    out: list[str] = []
    for kind, found in groups.items():
        rows = [(kind, "asked", "satisfied", "basically", "dissatisfied", "not rated", "satisfaction")]
        for group, r in found.items():
            share = "-" if r.satisfaction is None else f"{r.satisfaction:.0%}"
            rows.append((group, str(r.asked), str(r.satisfied), str(r.basically_satisfied), str(r.dissatisfied),
                         str(r.asked - r.rated), share))  # fmt: skip
        out += [*table(rows), ""]
    print("\n".join(out).rstrip())
    return 0


def run_show(args: argparse.Namespace) -> int:
    stub = _store(args).get(args.id)
    if stub is None:
        print(f"ivr tickets: no ticket {args.id} in {args.store}", file=sys.stderr)
        return 1
    stub = stub if args.unmask else stub.masked()
    if args.json:
        print(json.dumps(stub.as_json(), ensure_ascii=False, indent=2))
        return 0
    print("\n".join(describe(stub)))
    return 0


def run_export(args: argparse.Namespace) -> int:
    stubs = _found(args)
    data = csv_bytes(stubs) if args.format == "csv" else (json_text(stubs) + "\n").encode("utf-8")
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"{len(stubs)} ticket stubs written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    return 0


def describe(stub: Stub) -> list[str]:
    caller = f"{stub.caller} ({stub.presentation.value})"
    out = [
        f"ticket      {stub.id}",
        f"received    {stub.received:%Y-%m-%d %H:%M:%S} {stub.received.tzinfo}",
        f"line        {stub.line} {stub.line_name} ({stub.mode}); dialed {stub.dialed}"
        + (f", redirected from {stub.redirecting}" if stub.redirecting else ""),
        f"department  {stub.department} {stub.department_name}"
        + (f"; data link {stub.data_link}" if stub.data_link else ""),
        f"caller      {caller}",
        f"outcome     {stub.outcome.value}" + (f", answered by {stub.answered_by}" if stub.answered_by else ""),
        f"queue wait  {'-' if stub.queue_wait is None else f'{stub.queue_wait} s'}"
        + (f" in {stub.queue}" if stub.queue else ""),
        f"rating      {stub.rating or '-'}" + (f" ({stub.rating_reason})" if stub.rating_reason else ""),
        f"category    {stub.category or '(not yet set)'}",
        f"channel     {stub.channel} uniqueid {stub.uniqueid} linkedid {stub.linkedid}; host {stub.host or LOCAL}; "
        f"engine {stub.engine}",
        "deadlines   " + ", ".join(f"{d.step} {due_text(stub, d.step)}" for d in stub.deadlines),
        "route       " + (route_text(stub).replace("; ", "\n            ") or "-"),
    ]
    if stub.ended:
        out.append(f"ended       {stub.ended:%Y-%m-%d %H:%M:%S}")
    return out


def _store(args: argparse.Namespace) -> TicketStore:
    try:
        return open_store(args.store)
    except ValueError as exc:
        raise UsageError(f"--store: {exc}") from None


def _found(args: argparse.Namespace) -> list[Stub]:
    since = until = None
    if args.since or args.until:
        rules = load_rules(args.rules)
        since = parse_at(args.since, rules, "--since") if args.since else None
        until = parse_at(args.until, rules, "--until") if args.until else None
    stubs = _store(args).find(Query(since, until, args.line, args.outcome))
    return stubs if args.unmask else [stub.masked() for stub in stubs]
