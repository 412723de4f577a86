"""A plan's steps in words: the full sentence of `ivr route`, and the short label the admin tools string into one
line per route. One module, so a step reads the same in every command."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ivr.router.plan import CONNECTING, Answer, DialSeat, Hangup, Plan, Play, QueueCall, SetVariable, Step
from ivr.rules.model import Rules

# What stands for a line's own number in the routes of several lines shown together (transition-NNNNN).
ANY_NUMBER = "NNNNN"

# Joins the steps of one route on one line.
THEN = " → "

Path = tuple[Step, ...]


def say(step: Step, rules: Rules) -> str:
    """The step as a sentence an admin understands, with the names and texts the rules give it."""
    match step:
        case Answer():
            return "Answer the call."
        case SetVariable(name=name, value=value):
            return f"Set channel variable {name}={value}."
        case Play(prompt=prompt, text_zh=text):
            return f"Play {prompt}: 「{text}」 ({rules.prompts[prompt].text_en})"
        case QueueCall(destination=name, queue=queue, timeout=timeout, rating=rating):
            q = rules.queues[name]
            after = " (with the satisfaction rating once the agent hangs up)" if rating else ""
            return (
                f"Queue the caller in {queue} ({q.name_en}) for up to {timeout} s; "
                f"if an agent answers, the plan ends there{after}; otherwise go on."
            )
        case DialSeat(destination=name, dial=dial, ring_timeout=ring):
            seat = rules.seats[name]
            return (
                f"Transfer to the department seat {name} ({seat.name_en}) via {dial}, ringing up to {ring} s; "
                "if it answers, the plan ends there; if busy, unanswered or unreachable, go on."
            )
        case Hangup():
            return "Hang up."
    raise AssertionError(f"unknown step {step!r}")


def label(step: Step) -> str:
    """The step in a few words, for a route written on one line."""
    match step:
        case Play(prompt=prompt):
            return f"play {prompt}"
        case QueueCall(destination=name, queue=queue, timeout=timeout):
            asterisk = "" if queue == name else f" [Asterisk queue {queue}]"
            return f"queue {name}{asterisk} ({timeout} s)"
        case DialSeat(destination=name, ring_timeout=ring):
            return f"ring seat {name} ({ring} s)"
        case Hangup():
            return "hang up"
        case Answer() | SetVariable():
            return step.kind
    raise AssertionError(f"unknown step {step!r}")


def caller_path(plan: Plan) -> Path:
    """The steps a caller hears or waits in: answering and the channel variables are the same on every route and
    say nothing a caller notices."""
    return tuple(step for step in plan.steps if not isinstance(step, Answer | SetVariable))


def heard(step: Step) -> tuple[Any, ...]:
    """What makes two steps the same for a caller: every field but the name the rules file gives a queue or seat
    (the recording and its text, the Asterisk queue or dial string, how long it rings...). A destination renamed
    in the file but still the same queue is no change."""
    return tuple((name, value) for name, value in asdict(step).items() if name != "destination")


def heard_path(path: Path) -> tuple[tuple[Any, ...], ...]:
    return tuple(heard(step) for step in path)


def first_person(path: Path) -> QueueCall | DialSeat | None:
    """The first queue or seat the caller is put through to, if any."""
    for step in path:
        if isinstance(step, CONNECTING):
            return step
    return None


def role(step: QueueCall | DialSeat | None, rules: Rules) -> str:
    """Who answers at this step, named the way the plan names them (12345 agents, expert queue, department seat)."""
    match step:
        case QueueCall(destination=name):
            kind = "12345 queue" if name == rules.main.destination else "expert queue"
            return f"{kind} {name}"
        case DialSeat(destination=name):
            return f"department seat {name}"
    return "no one (an instruction, then hang up)"


def route_line(path: Path) -> str:
    return THEN.join(label(step) for step in path)


def generic(text: str, number: str) -> str:
    """`text` with the line's own number replaced, so routes of several lines that differ only there read as one."""
    return text.replace(number, ANY_NUMBER) if len(number) >= 3 else text
