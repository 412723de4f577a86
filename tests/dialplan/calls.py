"""Helpers shared by the dialplan tests: the generated dialplan of a rule set, fake engines, the router's plan as
the events the interpreter reports, and what counts as the caller reaching a person or an instruction."""

from __future__ import annotations

from datetime import datetime

from ivr.dialplan.build import EXTENSIONS, build
from ivr.router.decide import CallFacts, route
from ivr.router.plan import DialSeat, Hangup, Play, QueueCall
from ivr.rules.model import Rules
from tests.dialplan.interpreter import Call, Channel, Dialplan, Engine

_BUILT: dict[int, tuple[Rules, Dialplan]] = {}


def dialplan_of(rules: Rules) -> Dialplan:
    """Built and parsed once per rule set (Rules holds mappings, so it is not hashable: kept by identity)."""
    if id(rules) not in _BUILT:
        _BUILT[id(rules)] = (rules, Dialplan.parse(build(rules)[EXTENSIONS]))
    return _BUILT[id(rules)][1]


def engine_leaves(agistatus: str, variables: dict[str, str]) -> Engine:
    """An engine that answered the call, left these channel variables (IVR_STAGE, statuses) and went away."""

    def engine(channel: Channel, args: list[str]) -> None:
        channel.answered = True
        channel.variables.update(variables)
        channel.variables["AGISTATUS"] = agistatus

    return engine


def router_events(rules: Rules, number: str, at: datetime, trunk: str | None = None) -> list[tuple[str, ...]]:
    """The router's plan when nobody answers, in the interpreter's terms: prompts, queues, seats, and the end."""
    events: list[tuple[str, ...]] = []
    for step in route(CallFacts(dialed=number, at=at, trunk=trunk), rules).steps:
        match step:
            case Play(prompt=prompt):
                events.append(("play", prompt))
            case QueueCall(queue=queue, timeout=timeout):
                events.append(("queue", queue, str(timeout)))
            case DialSeat(dial=dial, ring_timeout=ring):
                events.append(("dial", dial, str(ring)))
            case Hangup():
                events.append(("hangup",))
    return events


def dialplan_events(call: Call) -> list[tuple[str, ...]]:
    """The same view of an interpreted call."""
    events: list[tuple[str, ...]] = []
    for event in call.events:
        if event.kind == "play":
            events.append(("play", event.name))
        elif event.kind in ("queue", "dial"):
            events.append((event.kind, event.name, event.detail[-2]))
    if call.ending == "hangup":
        events.append(("hangup",))
    return events


def connects(call: Call) -> list[str]:
    """The queues and seats the dialplan tried, in order."""
    return [event.name for event in call.events if event.kind in ("queue", "dial")]


def instructed(call: Call, rules: Rules) -> bool:
    """The call ended with a complete spoken instruction: a final announcement, or an absorbed line's notice that
    it has stopped when it does not connect any more, then a hang-up."""
    if call.ending != "hangup":
        return False
    played = call.played
    endings = [a.prompts for a in rules.announcements.values()]
    endings += [
        line.transition.after.prompts
        for line in rules.lines.values()
        if line.transition and not line.transition.after.connect
    ]
    return any(played[-len(prompts) :] == list(prompts) for prompts in endings if len(played) >= len(prompts))
