"""The plan executor: carries out a router Plan one AGI command at a time, with no sockets and no clock.

The driver (the Twisted FastAGI protocol, the simulator, a test) calls `start()` once, then `feed()` with every
event the protocol parser produces (replies and HANGUP lines); both return the next action: a Command to send,
CLOSE to half-close the session, or None to keep waiting. The executor never sends a command that acts on the
caller (EXEC, STREAM FILE, ANSWER) after a HANGUP or a 511 reply: a real Asterisk still runs EXEC on a dead
channel, and an EXEC Queue there really rings an agent. After that only GET/SET VARIABLE are sent, for the record.

IVR_STAGE is set before each part of the plan (`prompt`, `queue:NAME`, `dial:SEAT`, `done`), so the dialplan
knows how far the engine got if the engine disappears.

With `ticketing`, the call starts with a prelude for its ticket stub: GET VARIABLE CHANNEL(linkedid), then the
RECORD action, which tells the driver to make the stub durable and answer with `ticket_recorded()`; the engine
then sets `__TICKET_ID` (inherited by the agent's channel) and only then carries out the plan. The driver passes
the time of each read to `feed()`, so the trace has times although the executor has no clock.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from functools import lru_cache

from ivr.agi import rating
from ivr.agi.outcome import QUEUE_FAILURES, SEAT_FAILURES, Ending, Outcome, decide
from ivr.agi.protocol import AgiEnvironment, Event, Hangup, Reply, format_command
from ivr.hosts import LOCAL, host_name
from ivr.privacy import mask_number
from ivr.router.decide import CallFacts, Presentation, route
from ivr.router.plan import Answer, DialSeat, EmergencyNumberRefused, Plan, Play, QueueCall, SetVariable
from ivr.router.plan import Hangup as HangupStep
from ivr.rules.model import Rules

log = logging.getLogger("ivr.agi")

STAGE = "IVR_STAGE"
DEAD_CHANNEL = 511
# Read back after a Queue or Dial returns; GET VARIABLE still works after a hang-up.
QUEUE_VARIABLES = ("QUEUESTATUS", "ABANDONED", "ANSWEREDTIME", "QUEUEWAIT", "MEMBERINTERFACE")
DIAL_VARIABLES = ("DIALSTATUS", "ANSWEREDTIME", "DIALEDPEERNUMBER")
# Cleared before each Queue or Dial: Asterisk does not clear them, so an earlier queue's TIMEOUT or ABANDONED
# would still be read after a later, answered one.
QUEUE_CLEARS = ("QUEUESTATUS", "ABANDONED", "ANSWEREDTIME", "QUEUEWAIT", "MEMBERINTERFACE")
DIAL_CLEARS = ("DIALSTATUS", "ANSWEREDTIME")
# The AGI environment has no linkedid, and on a Local channel it is not the uniqueid: it is read once.
LINKEDID = "CHANNEL(linkedid)"
TICKET_VARIABLE = "__TICKET_ID"
# `ivr doctor`'s test call asks for this script (the generated ivr-doctor context): the engine proves it is reached
# and tells its clock in DOCTOR_VARIABLE, routes nothing and writes no stub.
DOCTOR_SCRIPT = "doctor"
DOCTOR_VARIABLE = "IVR_DOCTOR"


@dataclass(frozen=True)
class Command:
    verb: str
    args: tuple[str, ...] = ()
    # A Queue or Dial: how long it waits for an answer (queue timeout, ring time; 0: no limit of its own), told by
    # the command itself so the reply's time limit need not be read back out of the EXEC data. None otherwise.
    answer_wait: int | None = None

    def encode(self) -> bytes:
        return _encoded(self.verb, *self.args)

    @property
    def acts_on_caller(self) -> bool:
        return self.verb not in ("GET VARIABLE", "SET VARIABLE")


# Calls of one plan send the same lines (the tags, stages, prompts, queues): each is checked and encoded once.
_encoded = lru_cache(maxsize=4096, typed=True)(format_command)


class _Close(Enum):
    CLOSE = "close"


class _Record(Enum):
    RECORD = "record"


CLOSE = _Close.CLOSE
RECORD = _Record.RECORD  # make the ticket stub durable now, then call ticket_recorded()
Action = Command | _Close | _Record | None


class CallResult(StrEnum):
    """How the engine's part of the call ended."""

    ANSWERED = "answered"  # a person answered (queue agent or department seat)
    ABANDONED = "abandoned"  # the caller hung up while waiting for a person
    HUNG_UP_IN_PROMPT = "hung-up-in-prompt"  # the caller hung up before being connected
    INSTRUCTED = "instructed"  # no person reached: the caller heard the final instruction
    EMERGENCY_REFUSED = "emergency-refused"  # an emergency number reached the engine: handed back at once
    DOCTOR = "doctor"  # `ivr doctor`'s test call: answered with the engine's clock, no route, no stub


@dataclass
class TraceEntry:
    """One thing the executor did or learned, for logs and the ticket stub. `at`: the time of the read that led
    to it, as the driver gave it; for the end of a Queue or Dial, `outcome` and the variables read (`values`)."""

    what: str
    at: datetime
    detail: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    outcome: Outcome | None = None


class _Prelude(Enum):
    LINKEDID = "linkedid"
    RECORD = "record"
    TICKET_SET = "ticket-set"


@dataclass
class _Session:
    dead: bool = False
    stage: str = ""
    trace: list[TraceEntry] = field(default_factory=list)


def facts_from_environment(env: AgiEnvironment, now: datetime, down: frozenset[str] = frozenset()) -> CallFacts:
    """The router's facts from the AGI environment.

    The number dialed comes from the first AGI argument (`AGI(agi://host/route,${EXTEN})`), else agi_extension;
    the script path is passed raw, so no number is parsed out of a query string. agi_dnid is often `unknown`,
    agi_rdnis may carry the original number of a call a carrier rewrote. A second argument names the trunk.
    """
    dialed = env.args[0] if env.args and env.args[0] else env.extension
    trunk = env.args[1] if len(env.args) > 1 and env.args[1] else None
    rdnis = env.rdnis if env.rdnis and env.rdnis != "unknown" else None
    caller = env.callerid if env.callerid and env.callerid != "unknown" else None
    pres = env.callingpres & 0x60  # Asterisk AST_PRES_RESTRICTION bits
    presentation = {0x00: Presentation.ALLOWED, 0x20: Presentation.WITHHELD}.get(pres, Presentation.UNKNOWN)
    return CallFacts(dialed, now, rdnis, caller, presentation, trunk, down)


class PlanExecutor:
    """Drives one AGI session through the plan for its call. One instance per call."""

    def __init__(
        self,
        env: AgiEnvironment,
        rules: Rules,
        now: datetime,
        down: frozenset[str] = frozenset(),
        ticketing: bool = False,
    ) -> None:
        self.env = env
        self.facts = facts_from_environment(env, now, down)
        self.rules = rules
        self.ticketing = ticketing
        self.plan: Plan | None = None
        self.result: CallResult | None = None
        self.outcomes: list[tuple[str, Outcome]] = []
        self.linkedid = ""
        self.ticket_id: str | None = None
        self.rating: tuple[rating.Rating, rating.NotRated | None] | None = None  # None: the call is not rated
        self._s = _Session()
        self._script: Generator[Command, Reply, CallResult] | None = None
        self._waiting = False
        self._prelude: _Prelude | None = None
        self._now = now
        self.peer = LOCAL

    @property
    def trace(self) -> list[TraceEntry]:
        return self._s.trace

    @property
    def hung_up(self) -> bool:
        return self._s.dead

    @property
    def stage(self) -> str:
        """The IVR_STAGE last set ("" before the first)."""
        return self._s.stage

    @classmethod
    def begin(
        cls,
        events: Sequence[Event],
        rules: Rules,
        now: datetime,
        down: frozenset[str] = frozenset(),
        ticketing: bool = False,
        peer: str = LOCAL,
    ) -> tuple[PlanExecutor, Action]:
        """A call from the first read, whatever drives it: the environment block (first event) starts the plan, and
        what came in the same read after it (a HANGUP) counts before the driver acts. `peer`: the Asterisk host's
        name as the driver knows it (ivr.hosts), told back to `ivr doctor`."""
        env = events[0]
        if not isinstance(env, AgiEnvironment):
            raise AssertionError("the parser yields the environment first")
        executor = cls(env, rules, now, down, ticketing)
        executor.peer = peer
        action = executor.start()
        rest = events[1:]
        if rest and action is not CLOSE:
            later = executor.feed(rest, now)
            action = later if later is not None or action is None else action
        return executor, action

    def start(self) -> Action:
        if self.env.network_script.partition("?")[0] == DOCTOR_SCRIPT:
            self._script = self._doctor()
            return self._advance(None)
        try:
            self.plan = route(self.facts, self.rules)
        except EmergencyNumberRefused as refused:
            log.error(
                "ALARM emergency number %s (%s) reached the engine on %s: handed back to the dialplan untouched",
                refused.number,
                refused.service,
                self.env.channel,
            )
            self.result = CallResult.EMERGENCY_REFUSED
            self._note("refused", f"emergency {refused.number}")
            return CLOSE
        self._script = self._run(self.plan)
        if not self.ticketing:
            return self._advance(None)
        self._prelude = _Prelude.LINKEDID
        self._waiting = True
        return Command("GET VARIABLE", (LINKEDID,))

    def ticket_recorded(self, ticket_id: str | None) -> Action:
        """The driver made the stub durable under `ticket_id`, or could not (None: the call goes on without one)."""
        if self._prelude is not _Prelude.RECORD:
            raise AssertionError("ticket_recorded() answers the RECORD action only")
        self.ticket_id = ticket_id
        if ticket_id is None:
            self._prelude = None
            return self._advance(None)
        self._note("ticket", ticket_id)
        self._prelude = _Prelude.TICKET_SET
        self._waiting = True
        return Command("SET VARIABLE", (TICKET_VARIABLE, ticket_id))

    def summary(self) -> dict[str, str]:
        """The call in one structured log line's fields; the caller's number masked."""
        facts = self.facts
        caller = "withheld" if facts.presentation is Presentation.WITHHELD else mask_number(facts.caller)
        fields = {
            "uniqueid": self.env.uniqueid,
            "dialed": facts.dialed,
            "line": self.plan.line.number if self.plan else "-",
            "mode": self.plan.mode.value if self.plan else "-",
            "caller": caller,
            "result": self.result.value if self.result else "unfinished",
            "stage": self._s.stage or "-",
            "steps": ",".join(f"{stage}:{outcome.value}" for stage, outcome in self.outcomes) or "-",
        }
        if self.plan and self.plan.flags:
            fields["flags"] = ",".join(flag.value for flag in self.plan.flags)
        if self.ticket_id:
            fields["ticket"] = self.ticket_id
        return fields

    def feed(self, events: Sequence[Event], now: datetime | None = None) -> Action:
        """Everything one read from the socket parsed into, and when it was read. A HANGUP anywhere in it counts
        before the next command is chosen, so a reply followed by HANGUP in the same read never leads to an EXEC."""
        if self.result is not None:
            return None  # after our close Asterisk always sends one last HANGUP: it says nothing of the caller
        if now is not None:
            self._now = now
        replies: list[Reply] = []
        for event in events:
            if isinstance(event, Hangup):
                if not self._s.dead:
                    self._note("hangup")
                self._s.dead = True
            elif isinstance(event, Reply):
                replies.append(event)
        if not replies:
            return None
        if not self._waiting or self._script is None or len(replies) > 1:
            log.warning("unexpected reply %r on %s", replies[-1].raw, self.env.channel)
            return None
        if replies[0].code == DEAD_CHANNEL:
            self._s.dead = True
        self._waiting = False
        if self._prelude is _Prelude.LINKEDID:
            self.linkedid = _value(replies[0])
            self._prelude = _Prelude.RECORD
            return RECORD
        if self._prelude is _Prelude.TICKET_SET:
            self._prelude = None
            return self._advance(None)
        return self._advance(replies[0])

    def _note(
        self, what: str, detail: str = "", values: Mapping[str, str] | None = None, outcome: Outcome | None = None
    ) -> None:
        self.trace.append(TraceEntry(what, self._now, detail, dict(values or {}), outcome))

    def _advance(self, reply: Reply | None) -> Action:
        assert self._script is not None
        try:
            command = self._script.send(reply) if reply is not None else next(self._script)
        except StopIteration as done:
            self.result = done.value
            self._waiting = False
            return CLOSE
        if command.acts_on_caller and self._s.dead:
            raise AssertionError(f"{command.verb} after a hang-up")  # the script checks before yielding
        self._waiting = True
        return command

    # --- the script: one generator per call, yielding commands, given replies --------------------------------

    def _doctor(self) -> Generator[Command, Reply, CallResult]:
        """The engine's clock and the name it gives this call's Asterisk host (what its stubs are keyed by)."""
        host = host_name(self.env.uniqueid, self.peer)
        yield Command("SET VARIABLE", (DOCTOR_VARIABLE, f"{self._now.timestamp():.3f} {host}"))
        return CallResult.DOCTOR

    def _run(self, plan: Plan) -> Generator[Command, Reply, CallResult]:
        s = self._s
        for step in plan.steps:
            if s.dead:
                return CallResult.HUNG_UP_IN_PROMPT
            match step:
                case Answer():
                    reply = yield Command("ANSWER")
                    if reply.result_int == -1:
                        s.dead = True
                case SetVariable(name=name, value=value):
                    yield Command("SET VARIABLE", (name, value))
                case Play(prompt=prompt):
                    yield from self._set_stage("prompt")
                    if s.dead:
                        continue
                    reply = yield Command("STREAM FILE", (prompt, ""))
                    self._after_prompt(prompt, reply)
                case QueueCall(destination=name, queue=queue, timeout=timeout, rating=rated):
                    # Option t: the agent may transfer the caller with the DTMF transfer key (linkage to
                    # 110/119/120/122 and the utilities, see the generated dialplan's TRANSFER_CONTEXT).
                    # Option c: the caller comes back here when the agent hangs up, to be asked for a rating.
                    options = "tc" if rated else "t"
                    ended = yield from self._connect(
                        f"queue:{name}",
                        "Queue",
                        f"{queue},{options},,,{timeout}",
                        timeout,
                        QUEUE_CLEARS,
                        QUEUE_VARIABLES,
                    )
                    if ended is not None:
                        if rated and ended is CallResult.ANSWERED:
                            yield from self._rate()
                        return ended
                case DialSeat(destination=name, dial=dial, ring_timeout=ring):
                    ended = yield from self._connect(
                        f"dial:{name}", "Dial", f"{dial},{ring}", ring, DIAL_CLEARS, DIAL_VARIABLES
                    )
                    if ended is not None:
                        return ended
                case HangupStep():
                    yield from self._set_stage("done")
                    return CallResult.INSTRUCTED
        return CallResult.HUNG_UP_IN_PROMPT if s.dead else CallResult.INSTRUCTED

    def _set_stage(self, stage: str) -> Generator[Command, Reply, None]:
        if self._s.stage != stage:
            self._s.stage = stage
            self._note("stage", stage)
            yield Command("SET VARIABLE", (STAGE, stage))

    def _after_prompt(self, prompt: str, reply: Reply) -> None:
        if reply.result_int != -1:
            self._note("played", prompt)
        elif reply.endpos == 0 and not self._s.dead:
            # The file is missing on the Asterisk host: the caller hears nothing of it, so carry on.
            log.error("ALARM prompt %r is missing on the Asterisk host (STREAM FILE returned -1 at 0)", prompt)
            self._note("prompt-missing", prompt)
        else:
            # -1 part-way through: the caller hung up; the HANGUP line follows.
            self._s.dead = True
            self._note("hangup-in-prompt", prompt)

    def _connect(
        self, stage: str, app: str, data: str, wait: int, clears: tuple[str, ...], variables: tuple[str, ...]
    ) -> Generator[Command, Reply, CallResult | None]:
        """Queue or Dial, then read how it ended. None: it failed, the plan goes on; otherwise how the call ended."""
        s = self._s
        # Clear first, then name the stage: killed in between, the dialplan must never read an earlier queue's
        # status as this one's.
        for name in clears:
            yield Command("SET VARIABLE", (name, ""))
        yield from self._set_stage(stage)
        if s.dead:
            return CallResult.HUNG_UP_IN_PROMPT
        reply = yield Command("EXEC", (app, data), answer_wait=wait)
        values = {}
        for name in variables:
            got = yield Command("GET VARIABLE", (name,))
            values[name] = _value(got)
        status = values.get("QUEUESTATUS" if app == "Queue" else "DIALSTATUS", "")
        ending = Ending(
            app,
            reply.result_int if reply.code == 200 else None,
            status,
            values.get("ABANDONED", ""),
            values.get("ANSWEREDTIME", ""),
            s.dead,
            values.get("MEMBERINTERFACE", ""),
        )
        outcome = decide(ending)
        if status and status not in (QUEUE_FAILURES if app == "Queue" else SEAT_FAILURES) and not ending.answered:
            log.warning("%s returned an unlisted status %s: treated as a failure", app, status)
        detail = " ".join(f"{k}={v}" for k, v in values.items() if v)
        self.outcomes.append((stage, outcome))
        self._note(f"{stage} {outcome.value}", detail, {k: v for k, v in values.items() if v}, outcome)
        if outcome.next_step:
            return None
        return (yield from self._finish(outcome))

    def _rate(self) -> Generator[Command, Reply, None]:
        """Ask for the rating; IVR_STAGE is `done` already, so an engine gone meanwhile never re-queues."""
        if self.outcomes[-1][1] is Outcome.ANSWERED_TRANSFERRED:
            self.rating = (rating.Rating.NOT_RATED, rating.NotRated.TRANSFERRED)
            return
        if self._s.dead:
            self.rating = (rating.Rating.NOT_RATED, rating.NotRated.CALLER_HUNG_UP)
            return
        why = rating.NotRated.TIMED_OUT
        for _ in range(rating.ATTEMPTS):
            reply = yield Command("GET DATA", (rating.QUESTION, str(rating.TIMEOUT_MS), "1"))
            answer = rating.read(reply)
            if isinstance(answer, rating.Rating):
                self.rating = (answer, None)
                self._note("rated", answer.value)
                break
            why = answer
            if answer is rating.NotRated.CALLER_HUNG_UP or self._s.dead:
                why = rating.NotRated.CALLER_HUNG_UP
                self._s.dead = True
                break
        else:
            self._note("not-rated", why.value)
        if self.rating is None:
            self.rating = (rating.Rating.NOT_RATED, why)
        if not self._s.dead:
            reply = yield Command("STREAM FILE", (rating.THANKS, ""))
            self._after_prompt(rating.THANKS, reply)

    def _finish(self, outcome: Outcome) -> Generator[Command, Reply, CallResult]:
        if outcome.answered:
            if not self._s.dead:
                yield from self._set_stage("done")
            return CallResult.ANSWERED
        # The caller left while waiting: IVR_STAGE stays at the queue or seat, so that if Asterisk ever reports
        # -1 for a caller who is in fact still there, the dialplan fallback carries on instead of hanging up.
        return CallResult.ABANDONED


def _value(reply: Reply) -> str:
    """A GET VARIABLE reply's value; "" when the variable is not set (`200 result=0`) or the read failed."""
    return (reply.data or "") if reply.code == 200 and reply.result_int == 1 else ""
