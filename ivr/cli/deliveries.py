"""`ivr deliveries`: the ticket events still to be delivered to the departments, and those parked as failed, which
`ivr deliveries retry` sends again. No caller number is shown: an event is named by its ticket."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from ivr.cli.route import UsageError
from ivr.cli.serve import add_store_argument
from ivr.cli.table import table
from ivr.cli.tickets import _store
from ivr.rules.loader import load_rules
from ivr.rules.model import Rules
from ivr.tickets.outbox import Event


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "deliveries",
        help="ticket events waiting for, or failed on, the way to the departments",
        description="List the pending and failed deliveries of the data links that have a delivery in the rules "
        "(oldest first per link), or, with `retry`, send parked ones again: the given ids, or every failed one of "
        "--link. A retried event starts its link's retry time again. Exit code 1 when one is failed.",
    )
    parser.add_argument("action", nargs="?", choices=("retry",), help="retry: send parked deliveries again")
    parser.add_argument("ids", nargs="*", metavar="ID", help="with retry: the deliveries to send again")
    parser.add_argument("--link", help="only this data link")
    parser.add_argument("--failed", action="store_true", help="only those parked as failed")
    parser.add_argument("--json", action="store_true", help="print them as JSON")
    parser.add_argument("--rules", default=default_rules, help="rules file: which data links deliver")
    add_store_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    links = _links(load_rules(args.rules), args.link)
    if not links:
        print(f"no data link has a delivery in {args.rules}: nothing is delivered (docs/delivery.md)")
        return 0
    outbox = _store(args).deliveries()
    if args.action == "retry":
        if not args.ids and not args.link:
            raise UsageError("retry: name the deliveries (ID ...) or --link NAME")
        count = outbox.retry(links, args.ids)
        print(f"{count} deliver{'y' if count == 1 else 'ies'} to send again")
        return 0 if count or not args.ids else 1
    events = outbox.listing(links, args.failed)
    if args.json:
        print(json.dumps([_document(e) for e in events], ensure_ascii=False, indent=2))
    else:
        _print(events)
    return 1 if any(e.failed for e in events) else 0


def _links(rules: Rules, only: str | None) -> list[str]:
    links = [name for name, link in rules.data_links.items() if link.delivery is not None]
    if only is None:
        return links
    if only not in links:
        raise UsageError(f"--link: {only!r} is not a data link with a delivery (those: {', '.join(links) or 'none'})")
    return [only]


def _document(event: Event) -> dict[str, object]:
    return {
        "id": event.key,
        "link": event.link,
        "ticket": event.ticket,
        "revision": event.revision,
        "event": event.event,
        "written": event.written,
        "state": "failed" if event.failed else "pending",
        "attempts": event.attempts,
        "error": event.error,
    }


def _print(events: list[Event]) -> None:
    now = time.time()
    rows = [("id", "link", "ticket", "event", "state", "age", "attempts", "last error")]
    for e in events:
        state = "failed" if e.failed else "pending"
        rows.append((e.key, e.link, e.ticket, e.event, state, _age(now - e.written), str(e.attempts), e.error))
    print("\n".join(table(rows)))
    failed = sum(e.failed for e in events)
    print(f"{len(events) - failed} pending, {failed} failed")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"
