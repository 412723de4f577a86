"""`ivr call`: one call through a running engine, with the simulator playing Asterisk; prints the conversation."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from ivr.agi.simulator import KNOWN_VERBS, DialBehaviour, QueueBehaviour, SimulatedCall, SimulatorError
from ivr.cli.route import UsageError
from ivr.rules.loader import load_rules
from ivr.serve.callclient import CallFailed, call_engine

QUEUE_WORDS = {
    "answered": QueueBehaviour.ANSWER,
    "timeout": QueueBehaviour.TIMEOUT,
    "joinempty": QueueBehaviour.JOINEMPTY,
    "leaveempty": QueueBehaviour.LEAVEEMPTY,
    "unknown": QueueBehaviour.UNKNOWN,
    "hangup": QueueBehaviour.CALLER_HANGUP,
}
SEAT_WORDS = {
    "answered": DialBehaviour.ANSWER,
    "busy": DialBehaviour.BUSY,
    "noanswer": DialBehaviour.NOANSWER,
    "unavail": DialBehaviour.CHANUNAVAIL,
    "congestion": DialBehaviour.CONGESTION,
}


def add_parser(commands: Any, default_rules: str) -> None:
    parser = commands.add_parser(
        "call",
        help="run one simulated call through a running engine and print the conversation",
        description="Act as Asterisk for one call to a running `ivr serve`: send the AGI environment, answer every "
        "command the way a real Asterisk 22 did in the captured sessions, and print the conversation.",
    )
    parser.add_argument("number", help="the number dialed")
    parser.add_argument("--caller", default="13800138000", help="caller number (default: 13800138000)")
    parser.add_argument("--withheld", action="store_true", help="the caller withheld their number")
    parser.add_argument("--redirecting", default="unknown", metavar="NUM", help="agi_rdnis")
    parser.add_argument(
        "--host", default=os.environ.get("IVR_HOST", "127.0.0.1"), help="the engine's address (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("IVR_PORT", "4573")), help="the engine's port (default: 4573)"
    )
    parser.add_argument(
        "--queue",
        action="append",
        default=[],
        metavar="[NAME=]HOW",
        help=f"how queues end: {'|'.join(QUEUE_WORDS)}; NAME= for one queue (default: answered)",
    )
    parser.add_argument(
        "--seat",
        action="append",
        default=[],
        metavar="[DIAL=]HOW",
        help=f"how department seats end: {'|'.join(SEAT_WORDS)} (default: answered)",
    )
    parser.add_argument(
        "--missing-prompt", action="append", default=[], metavar="NAME", help="a recording missing on the Asterisk host"
    )
    parser.add_argument(
        "--hangup-at", type=int, metavar="STEP", help="the caller hangs up right after Asterisk's STEP-th reply"
    )
    parser.add_argument("--hangup-in-prompt", metavar="NAME", help="the caller hangs up while NAME plays")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the engine")
    parser.add_argument("--rules", default=default_rules, help="rules file, for the names of queues and seats")
    parser.set_defaults(run=run)


def _behaviours(items: list[str], words: dict[str, Any], what: str, everything: list[str]) -> dict[str, Any]:
    """`HOW` applies to every name in `everything`; `NAME=HOW` to one name."""
    chosen: dict[str, Any] = {}
    for item in items:
        name, _, how = item.rpartition("=")
        if how not in words:
            raise UsageError(f"--{what}: {how!r} is not one of {', '.join(words)}")
        if name and name not in everything:
            raise UsageError(f"--{what}: {name!r} is not one of the rules' {what}s: {', '.join(everything)}")
        for target in [name] if name else everything:
            chosen[target] = words[how]
    return chosen


def run(args: argparse.Namespace) -> int:
    rules = load_rules(args.rules) if (args.queue or args.seat) else None
    queues = [q.queue for q in rules.queues.values()] if rules else []
    seats = [s.dial for s in rules.seats.values()] if rules else []
    # Each call its own channel ids, shaped like Asterisk's (the linkedid is the `;1` half's uniqueid), so each
    # leaves its own ticket stub: the store keeps one stub per uniqueid.
    epoch, sequence = int(time.time()), os.getpid() * 2
    call = SimulatedCall(
        number=args.number,
        uniqueid=f"{epoch}.{sequence + 1}",
        linkedid=f"{epoch}.{sequence}",
        caller=args.caller,
        callingpres=0x23 if args.withheld else 0,
        rdnis=args.redirecting,
        queues=_behaviours(args.queue, QUEUE_WORDS, "queue", queues),
        seats=_behaviours(args.seat, SEAT_WORDS, "seat", seats),
        missing_prompts=frozenset(args.missing_prompt),
        hangup_in_prompt=args.hangup_in_prompt,
        hangup_after_replies=args.hangup_at,
    )
    try:
        simulator = call_engine(args.host, args.port, call, args.timeout)
    except (CallFailed, SimulatorError) as exc:
        print(f"ivr call: {exc}", file=sys.stderr)
        return 1
    sent = [line for direction, line in simulator.wire if direction == ">>"]
    where = f"{args.host}:{args.port}"
    if not sent:
        print(f"ivr call: {where} closed the call without a command (refused this host? see its log)", file=sys.stderr)
        return 1
    if sent[0].split(" ", 1)[0].upper() not in KNOWN_VERBS:
        print(f"ivr call: {where} is not an AGI engine: it answered {sent[0][:60]!r}", file=sys.stderr)
        return 1
    for direction, line in simulator.wire:
        if direction == "<<" and line.startswith("agi_"):
            continue
        who = "engine   >" if direction == ">>" else "asterisk <"
        print(f"{who} {line}" if line else f"{who} (end of environment)")
    stage = simulator.variables.get("IVR_STAGE", "(not set)")
    print(f"IVR_STAGE={stage}; the dialplan {'hangs up' if stage == 'done' else 'continues from there'}")
    return 0
