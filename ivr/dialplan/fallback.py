"""After the engine: one context per line that reads IVR_STAGE and carries the call on without the engine.

- `done`: hang up; the engine finished (a person answered, or the caller heard the final instruction).
- unset: the whole static plan: Answer(), the line's prompts for the moment of the call, its queue or seat, and
  the fallbacks after them.
- `prompt`, or a stage not on this line's chain: the line's queue or seat and its fallbacks, without the prompts.
- `queue:NAME` / `dial:SEAT`: a failure status of the outcome table: the step after it (whatever ANSWEREDTIME
  says: Queue() sets it to 0 on a timeout); answered (ANSWEREDTIME, CONTINUE, ANSWER): hang up; no status (the
  engine died before the Queue or Dial started) or one the table does not know: that queue or seat again, then
  the steps after it.

Every case but `done` raises `UserEvent(IvrFallback)` and marks CDR(userfield) `fallback=STAGE`, so the monitor
can make the ticket stub the engine did not. The channel variables are the router's own SetVariable steps, so the
agent's phone and the CDR look the same whoever routed the call.

The moment of the call decides one thing in a line's plan: whether an absorbed line's transition is over. The
dialplan compares ${EPOCH} with the end of the transition, an instant, so no date arithmetic or time zone happens in
Asterisk. (Seat opening hours are GotoIfTime with the rules' zone, in the seat's own context.)
"""

from __future__ import annotations

from datetime import datetime

from ivr.agi.executor import STAGE
from ivr.agi.outcome import QUEUE_FAILURES, SEAT_FAILURES
from ivr.dialplan import names
from ivr.dialplan.conf import Conf
from ivr.router.decide import CallFacts, route
from ivr.router.plan import SetVariable
from ivr.rules.model import Line, Queue, Rules, Seat

USERFIELD = "CDR(userfield)"
USERFIELD_FALLBACK = f";fallback=${{{STAGE}}};agistatus=${{AGISTATUS}}"


def stage_of(name: str, rules: Rules) -> str:
    """The IVR_STAGE the engine sets before it queues the caller in `name` or dials it."""
    return f"queue:{name}" if name in rules.queues else f"dial:{name}"


def write_line(conf: Conf, rules: Rules, line: Line) -> None:
    steps = rules.chain(line.destination)
    first = names.destination(steps[0])
    connecting = [name for name in steps if name in rules.queues or name in rules.seats]
    conf.section(
        names.line(line.number),
        f"{line.number} {line.name_zh} ({line.mode.value}, {line.department.id}): "
        f"{' -> '.join(steps)}. After the engine, by IVR_STAGE.",
    )
    conf.exten("s", f'GotoIf($["${{{STAGE}}}" = "done"]?end)')
    for tag in _tags(rules, line):
        value = tag.value + USERFIELD_FALLBACK if tag.name == USERFIELD else tag.value
        conf.same(f"Set({tag.name}={value})")
    conf.same(
        f"UserEvent(IvrFallback,Line: {line.number},Stage: ${{{STAGE}}},AgiStatus: ${{AGISTATUS}},"
        "QueueStatus: ${QUEUESTATUS},DialStatus: ${DIALSTATUS})"
    )
    conf.same(f'GotoIf($["${{{STAGE}}}" = ""]?plan)', note="the engine was never reached, or did nothing")
    for name in connecting:
        conf.same(f'GotoIf($["${{{STAGE}}}" = "{stage_of(name, rules)}"]?at-{name})')
    conf.same("Goto(resume)", note="prompt, or a stage this line does not know")
    for name in connecting:
        _resume_at(conf, rules, name)
    conf.same("Answer()", label="plan", note="the call arrives unanswered")
    transition = line.transition
    if transition is not None:
        over = f"GotoIf($[${{EPOCH}} >= {int(transition.ends.timestamp())}]?after)"
        conf.same(over, note=f"the transition is over at {transition.ends:%Y-%m-%d %H:%M} {rules.timezone.key}")
    for prompt in line.prompts:
        conf.same(f"Playback({prompt})")
    if transition is None:
        conf.same(f"Goto({first},s,1)", label="resume")
    else:
        conf.same(f"Goto({first},s,1)")
        for i, prompt in enumerate(transition.after.prompts):
            conf.same(f"Playback({prompt})", label="after" if i == 0 else "")
        if transition.after.connect:
            conf.same(f"Goto({first},s,1)", label="resume")
        else:
            conf.same("Hangup()")
            # Stopped in a prompt after the transition: that was the instruction, so it is said again.
            conf.same(over, label="resume")
            conf.same(f"Goto({first},s,1)")
    conf.same("Hangup()", label="end")


def _resume_at(conf: Conf, rules: Rules, name: str) -> None:
    destination = rules.destination(name)
    context = names.destination(name)
    if isinstance(destination, Queue):
        answered = '"${ANSWEREDTIME}" != "" | "${QUEUESTATUS}" = "CONTINUE"'
        status, failures = "QUEUESTATUS", QUEUE_FAILURES
    else:
        assert isinstance(destination, Seat)
        answered = '"${ANSWEREDTIME}" != "" | "${DIALSTATUS}" = "ANSWER"'
        status, failures = "DIALSTATUS", SEAT_FAILURES
    # The failure status first: Asterisk 22's Queue() sets ANSWEREDTIME to 0 when nobody answered (TIMEOUT,
    # LEAVEEMPTY; apps/app_queue.c at `stop:`), so ANSWEREDTIME alone would hang up a caller still waiting.
    listed = "|".join(sorted(failures))
    conf.same(
        f'GotoIf($["${{{status}}}" =~ "^({listed})$"]?{context},s,failed)',
        label=f"at-{name}",
        note="failed: the next step",
    )
    conf.same(f"GotoIf($[{answered}]?end)")
    conf.same(f"Goto({context},s,1)", note="it never started (the engine died first), or an unknown status: again")


def _tags(rules: Rules, line: Line) -> list[SetVariable]:
    """The channel variables the router sets for this line; they do not depend on the time of the call."""
    plan = route(CallFacts(dialed=line.number, at=datetime.fromtimestamp(0, rules.timezone)), rules)
    return [step for step in plan.steps if isinstance(step, SetVariable)]
