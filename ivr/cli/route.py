"""`ivr route`: the dry run. What would a caller dialing NUMBER at a given time get, step by step?"""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime
from typing import Any

from ivr.admin.words import say
from ivr.router.decide import CallFacts, Presentation, route
from ivr.router.plan import EmergencyNumberRefused, Plan
from ivr.rules.loader import load_rules
from ivr.rules.model import Rules


class UsageError(Exception):
    """A command-line value that cannot be used; reported as `ivr route: ...` with exit code 2."""


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "route",
        help="show the plan a caller dialing NUMBER would get",
        description="Dry run: print, step by step, what the engine would do with a call to NUMBER.",
    )
    parser.add_argument("number", help="the number dialed, as the carrier delivers it (e.g. 12396, +8612396)")
    parser.add_argument(
        "--at",
        metavar="'YYYY-MM-DD HH:MM'",
        help="time of the call in the rules' time zone, or ISO 8601 with an offset (default: now)",
    )
    parser.add_argument("--caller", metavar="NUM", help="caller number (default: unknown)")
    parser.add_argument("--withheld", action="store_true", help="the caller withheld their number")
    parser.add_argument("--redirecting", metavar="NUM", help="redirecting number (Diversion, agi_rdnis)")
    parser.add_argument("--trunk", metavar="NAME", help="the trunk the call came in on (numbering.trunks)")
    parser.add_argument("--seat-down", action="store_true", help="treat every retained seat as unavailable")
    parser.add_argument(
        "--down", metavar="NAME", action="append", default=[], help="treat this queue or seat as unavailable"
    )
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--rules", default=default_rules, help=f"rules file (default: {default_rules})")
    parser.set_defaults(run=run)


def parse_at(raw: str | None, rules: Rules, option: str = "--at") -> datetime:
    """`option` names the flag in the error, since `check --at` and `deadlines --received` parse times too."""
    if raw is None:
        return datetime.now(rules.timezone)
    if re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", raw.strip()):
        try:
            return datetime.fromisoformat(raw.strip()).replace(tzinfo=rules.timezone)
        except ValueError:
            pass
    else:
        try:
            moment = datetime.fromisoformat(raw.strip())
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    raise UsageError(f"{option}: expected 'YYYY-MM-DD HH:MM' or ISO 8601 with an offset, got {raw!r}")


# What a carrier may deliver around the digits of a number (the router drops the separators; `*` and `#` are
# keys a phone can send). Letters are a typing mistake, not a number nobody knows.
_DIALLED = re.compile(r"[0-9+*#()\-. ]*[0-9][0-9+*#()\-. ]*")


def parse_number(raw: str | None, what: str) -> str | None:
    """`raw` as given, if it is a telephone number; `what` names the argument in the error."""
    if raw is not None and not _DIALLED.fullmatch(raw):
        raise UsageError(f"{what}: {raw!r} is not a telephone number (digits, with + - . ( ) * # or spaces)")
    return raw


def run(args: argparse.Namespace) -> int:
    rules = load_rules(args.rules)
    at = parse_at(args.at, rules)
    parse_number(args.number, "NUMBER")
    parse_number(args.caller, "--caller")
    parse_number(args.redirecting, "--redirecting")
    unknown = sorted(set(args.down) - set(rules.queues) - set(rules.seats))
    if unknown:
        raise UsageError(f"--down: {', '.join(unknown)} is not a queue or seat in {args.rules}")
    down = frozenset(args.down) | (frozenset(rules.seats) if args.seat_down else frozenset())
    presentation = Presentation.WITHHELD if args.withheld else Presentation.ALLOWED
    facts = CallFacts(
        dialed=args.number,
        at=at,
        redirecting=args.redirecting,
        caller=args.caller,
        presentation=presentation,
        trunk=args.trunk,
        down=down,
    )
    try:
        plan = route(facts, rules)
    except EmergencyNumberRefused as refused:
        if args.json:
            print(
                json.dumps(
                    {
                        "dialed": refused.dialed,
                        "refused": "emergency",
                        "number": refused.number,
                        "service": refused.service,
                        "context": rules.emergency.context,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(
                f"{refused.dialed}: {refused.number} is an emergency number ({refused.service}). The engine never "
                f"routes it; the generated dialplan sends it to context {rules.emergency.context}."
            )
        return 0
    if args.json:
        body = plan.as_json()
        body["at"] = at.astimezone(rules.timezone).isoformat()
        print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        print("\n".join(describe(plan, rules, at)))
    return 0


def describe(plan: Plan, rules: Rules, at: datetime) -> list[str]:
    """The plan in words an admin understands, numbered like the steps of the JSON output."""
    line = plan.line
    local = at.astimezone(rules.timezone)
    out = [
        f"{plan.dialed} -> line {line.number} {line.name_zh} ({line.name_en})",
        f"mode: {line.mode.value}; department: {line.department.name_zh} ({line.department.name_en})",
        f"at: {local:%Y-%m-%d %H:%M} {rules.timezone.key}",
    ]
    if plan.phase is not None and line.transition is not None:
        period = line.transition
        out.append(
            f"transition: {plan.phase.value} (transition period from {period.starts:%Y-%m-%d %H:%M} "
            f"until {period.ends:%Y-%m-%d %H:%M}, end not included)"
        )
    if line.data_link is not None:
        out.append(f"tickets also go to: {line.data_link.name_zh} ({line.data_link.name_en})")
    if plan.flags:
        out.append("notes: " + ", ".join(flag.value for flag in plan.flags))
    out.append("steps:")
    out.extend(f"  {i}. {say(step, rules)}" for i, step in enumerate(plan.steps, start=1))
    return out
