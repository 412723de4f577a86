"""A call's stub from the plan executor: what is known once it is routed, then how the engine's part ended.

The executor has no clock; its trace carries the time of each read as the driver passed it, and those times
become the route's. Nothing here does I/O, so the session can build a stub on the reactor thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.agi.executor import CallResult, PlanExecutor, TraceEntry
from ivr.agi.outcome import QUEUE_NOT_JOINED, Outcome
from ivr.calendar.deadlines import DeadlineClock
from ivr.router.decide import CallFacts
from ivr.router.plan import Plan
from ivr.tickets.stub import Due, RouteStep, Stub, StubOutcome


@dataclass(frozen=True)
class Channel:
    """The Asterisk channel a call arrived on, as the AGI environment or an AMI event names it."""

    uniqueid: str
    linkedid: str
    name: str
    host: str  # the Asterisk host's name (ivr.hosts.host_name)


def opening_stub(executor: PlanExecutor, engine: str, deadlines: DeadlineClock, host: str) -> Stub:
    """The stub made durable before the call is answered (revision 0), of a call from the Asterisk `host`
    (ivr.hosts.host_name). The executor must have a plan."""
    plan = executor.plan
    if plan is None:
        raise ValueError("a call gets a stub once it is routed: emergency numbers never get one")
    env = executor.env
    channel = Channel(env.uniqueid, executor.linkedid, env.channel, host)
    return plan_stub(plan, executor.facts, channel, engine, deadlines)


def plan_stub(plan: Plan, facts: CallFacts, channel: Channel, engine: str, deadlines: DeadlineClock) -> Stub:
    """A routed call's stub before anything happened to it: the engine's opening stub, or the one the monitor
    makes for a call the dialplan carried without the engine."""
    line = plan.line
    return Stub(
        id="",
        received=facts.at,
        uniqueid=channel.uniqueid,
        host=channel.host,
        linkedid=channel.linkedid,
        channel=channel.name,
        engine=engine,
        caller=facts.caller or "",
        presentation=facts.presentation,
        dialed=facts.dialed,
        redirecting=facts.redirecting or "",
        line=line.number,
        line_name=line.name_zh,
        department=line.department.id,
        department_name=line.department.name_zh,
        mode=line.mode.value,
        data_link=line.data_link.id if line.data_link else "",
        flags=tuple(flag.value for flag in plan.flags),
        outcome=StubOutcome.IN_PROGRESS,
        stage="",
        queue_wait=None,
        answered_by="",
        ended=None,
        route=(),
        deadlines=tuple(Due(step.step, step.due) for step in deadlines.for_case(facts.at).deadlines),
    )


def closing_stub(opening: Stub, executor: PlanExecutor, ended: datetime, ticket_id: str | None = None) -> Stub:
    """The same stub when the engine's part of the call is over (revision 1): route, outcome, wait, agent.
    It keeps the opening stub's id, or takes `ticket_id` when given ("" when the opening stub could not be
    written: the book numbers it then)."""
    endings = [entry for entry in executor.trace if entry.outcome is not None]
    waits = [int(entry.values["QUEUEWAIT"]) for entry in endings if entry.values.get("QUEUEWAIT", "").isdigit()]
    answered = [entry for entry in endings if entry.outcome is not None and entry.outcome.answered]
    return opening.evolve(
        id=opening.id if ticket_id is None else ticket_id,
        linkedid=executor.linkedid,
        outcome=_outcome(executor, answered),
        stage=executor.stage,
        queue=_last_queue(endings),
        rating=executor.rating[0].value if executor.rating else "",
        rating_reason=executor.rating[1].value if executor.rating and executor.rating[1] else "",
        queue_wait=sum(waits) if waits else None,
        answered_by=_answered_by(answered[-1], executor) if answered else "",
        ended=ended,
        route=tuple(RouteStep(entry.at, entry.what, entry.detail) for entry in executor.trace),
        revision=1,
    )


def _last_queue(endings: list[TraceEntry]) -> str:
    """The queue of the last Queue step the caller entered (its trace entry reads `queue:NAME result`); a queue
    that refused the caller at the door (JOINEMPTY…) never had them: the day's figures do not count it offered."""
    steps = (
        entry.what.split(" ")[0]
        for entry in reversed(endings)
        if entry.values.get("QUEUESTATUS") not in QUEUE_NOT_JOINED
    )
    return next((step.removeprefix("queue:") for step in steps if step.startswith("queue:")), "")


def _outcome(executor: PlanExecutor, answered: list[TraceEntry]) -> StubOutcome:
    match executor.result:
        case CallResult.ANSWERED:
            # The department's retained seat answered, or the 12345 agent handed the caller on (linkage).
            seat = bool(answered) and answered[-1].what.startswith("dial:")
            handed_on = bool(answered) and answered[-1].outcome is Outcome.ANSWERED_TRANSFERRED
            return StubOutcome.TRANSFERRED if seat or handed_on else StubOutcome.ANSWERED
        case CallResult.ABANDONED:
            return StubOutcome.ABANDONED
        case CallResult.HUNG_UP_IN_PROMPT:
            return StubOutcome.HUNG_UP_IN_PROMPT
        case CallResult.INSTRUCTED:
            return StubOutcome.INSTRUCTED
    return StubOutcome.UNFINISHED


def _answered_by(entry: TraceEntry, executor: PlanExecutor) -> str:
    """The agent's interface (MEMBERINTERFACE, with setinterfacevar=yes), or the department seat's peer, else
    the seat's dial string."""
    values = entry.values
    found = values.get("MEMBERINTERFACE") or values.get("DIALEDPEERNUMBER")
    if found:
        return found
    kind, _, name = entry.what.partition(" ")[0].partition(":")
    seat = executor.rules.seats.get(name) if kind == "dial" else None
    return seat.dial if seat else ""
