"""Plans written as short strings, so expected plans in tables read like the admin's dry run."""

from __future__ import annotations

from ivr.router.plan import Answer, DialSeat, Hangup, Plan, Play, QueueCall, SetVariable, Step


def word(step: Step) -> str:
    match step:
        case Answer():
            return "answer"
        case SetVariable(name=name, value=value):
            return f"set {name}={value}"
        case Play(prompt=prompt):
            return f"play {prompt}"
        case QueueCall(destination=name):
            return f"queue {name}"
        case DialSeat(destination=name):
            return f"dial {name}"
        case Hangup():
            return "hangup"
    raise AssertionError(step)


def words(plan: Plan) -> list[str]:
    return [word(step) for step in plan.steps]
