"""Automatic call-backs over AMI: the monitor rings back, through a free 12345 agent, the citizens the call-back
list says are due (`callbacks.automatic` in the rules).

Every CHECK_SECONDS, within the configured hours, with the AMI link up and an agent of the call-back queue free,
the due entries (at most one per free agent) are originated: a Local channel into the generated context
`ivr-callback`, which waits in the queue with QUEUE_PRIO (ahead of callers, so it never races them for the agent
they are waiting for), showing the agent "回拨 TICKET LINE"; once an agent answers, context `ivr-callback-dial`
rings the citizen presenting 12345, and its `h` extension reports DIALSTATUS in UserEvent(IvrCallback). Each
attempt is stored on the stub when it ends (OriginateResponse Failure: no agent took it; or the citizen's
DIALSTATUS), so the list, the attempt cap and the windows hold across monitors and restarts. A call being
originated is not originated again while it is in flight (the queue's wait, then the ring). While it waits in the
queue it holds a free agent; once an agent answers it (AgentConnect of its queued half, whose uniqueid follows
from the Originate's ChannelId), the board counts that agent busy, and the attempt no longer holds another one.

The rules are asked afresh at each check, so a reload that turns `callbacks.automatic` on or off, or changes the
hours or the queue, counts from the next check; a check under way, and the calls it originates, keep the rules it
began with (the entries were chosen by them).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from twisted.internet import task, threads
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from ivr.ami.board import Answered, CallbackEnded, Fact, MemberState
from ivr.ami.client import AmiMonitor
from ivr.ami.recorder import Recorder
from ivr.dialplan.callback import CONTEXT, DIAL_CONTEXT, EXTENSION, MAIN_NUMBER, RING_SECONDS
from ivr.privacy import mask_number
from ivr.router.decide import working_day
from ivr.rules.model import Rules
from ivr.tickets.callbacks import Callback, State, callback_list
from ivr.tickets.completion import CallEvent, EventKind
from ivr.tickets.store import Query
from ivr.tickets.stub import Stub

log = logging.getLogger("ivr.ami")
CHECK_SECONDS = 5.0
# The Originate waits this much longer than the queue's own timeout for an agent to take the call-back.
ORIGINATE_MARGIN_SECONDS = 30
# An attempt whose end Asterisk never reported (its OriginateResponse or UserEvent lost while the AMI link was
# down) is given up this long after the longest it can last: the queue wait, the ring and the conversation.
LOST_MARGIN_SECONDS = 300
Runner = Callable[..., Deferred[Any]]


def agent_wait_seconds(rules: Rules) -> int:
    """How long a call-back's Originate waits for an agent: the queue's timeout and a margin."""
    return rules.queues[rules.callbacks.queue].timeout + ORIGINATE_MARGIN_SECONDS


def originate_fields(entry: Callback, rules: Rules, channel_id: str = "") -> list[tuple[str, str]]:
    """The Originate action's fields for one call-back (ActionID added by the session). `channel_id`: the uniqueid
    of the Local channel's ;1 half (Asterisk's own when empty); its ;2 half, the one waiting in the queue, is
    `channel_id;2` (main/core_unreal.c, ast_unreal_new_channels)."""
    settings = rules.callbacks
    stub = entry.stub
    named = [("ChannelId", channel_id)] if channel_id else []
    return [
        ("Channel", f"Local/{EXTENSION}@{CONTEXT}"),
        *named,
        ("Context", DIAL_CONTEXT),
        ("Exten", entry.number),
        ("Priority", "1"),
        ("CallerID", f'"回拨 {stub.id} {stub.line}" <{MAIN_NUMBER}>'),
        ("Timeout", str(agent_wait_seconds(rules) * 1000)),
        ("Variable", f"__TICKET_ID={stub.id}"),
        ("Variable", f"IVR_CALLBACK_QUEUE={rules.queues[settings.queue].queue}"),
        ("Variable", f"QUEUE_PRIO={settings.priority}"),
        ("Async", "true"),
    ]


@dataclass(frozen=True)
class _Attempt:
    """A call-back originated by this monitor whose end is not known yet."""

    stub: Stub
    sent_at: float  # reactor seconds
    queued: str  # the uniqueid of its half waiting in the queue
    connected: bool = False  # an agent answered it: that agent is busy on the board


class Dialler:
    def __init__(
        self,
        rules: Callable[[], Rules],
        monitor: AmiMonitor,
        recorder: Recorder,
        clock: IReactorTime,
        run: Runner = threads.deferToThread,
    ) -> None:
        """`rules()` gives the rules in use now (the monitor's reloads)."""
        self.rules = rules
        self.monitor = monitor
        self.recorder = recorder
        self._run = run
        self._automatic = rules().callbacks.automatic
        self._in_flight: dict[str, _Attempt] = {}  # by ActionID
        self._checking = False
        self._ids = itertools.count(int(clock.seconds() * 1000))  # unique across this monitor's restarts
        self.clock = clock
        self._loop = task.LoopingCall(self.check)
        self._loop.clock = clock

    def start(self) -> None:
        """Check even while call-backs are off: a reload may turn them on."""
        self._loop.start(CHECK_SECONDS, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def check(self) -> None:
        rules = self.rules()
        settings = rules.callbacks
        if settings.automatic != self._automatic:
            self._automatic = settings.automatic
            log.warning(
                "automatic call-backs turned %s by the reloaded rules%s",
                "on" if settings.automatic else "off",
                ": the AMI user needs the originate right (ivr dialplan build, then `manager reload` in Asterisk)"
                if settings.automatic
                else "",
            )
        self._give_up_lost(rules)
        if not settings.automatic or self._checking or self.monitor.session is None or not self.monitor.up:
            return
        now = self.recorder.now().astimezone(rules.timezone)  # the hours are read in these rules' zone
        working = working_day(rules, now) if settings.hours.on_working_days else None
        if not settings.hours.is_open(now, working):  # office hours keep the official calendar, as seats' do
            return
        queue = rules.queues[settings.queue].queue
        waiting = [attempt for attempt in self._in_flight.values() if not attempt.connected]
        free = self.monitor.board.staff(queue)[MemberState.FREE] - len(waiting)
        if free <= 0:
            return
        self._checking = True
        since = now - timedelta(hours=settings.window_hours) - timedelta(days=1)
        store = self.recorder.book.store
        found = self._run(lambda: callback_list(store.find(Query(since=since)), settings, rules.numbering, now))
        found.addCallback(self._dial, free, rules)
        found.addErrback(lambda failure: log.error("call-backs: %s", failure.getErrorMessage()))
        found.addBoth(self._checked)

    def _checked(self, result: object) -> None:
        self._checking = False

    def _dial(self, entries: list[Callback], free: int, rules: Rules) -> None:
        flying = {attempt.stub.call for attempt in self._in_flight.values()}
        due = [e for e in entries if e.state is State.DUE and e.stub.call not in flying][:free]
        session = self.monitor.session
        for entry in due:
            if session is None:
                return
            # Fixed width: Asterisk refuses an assigned uniqueid that is the prefix of a live channel's
            # (channelstorage_ao2_legacy.c, by_uniqueid_cb), e.g. callback-X-1 while callback-X-12;2 is up.
            channel_id = f"callback-{entry.stub.id}-{next(self._ids):06d}"
            action_id = session.send("Originate", originate_fields(entry, rules, channel_id))
            self._in_flight[action_id] = _Attempt(entry.stub, self.clock.seconds(), f"{channel_id};2")
            log.info(
                "call-back of %s (%s, line %s) to %s: waiting for an agent",
                entry.stub.id,
                entry.why,
                entry.stub.line,
                mask_number(entry.number),
            )

    def _give_up_lost(self, rules: Rules) -> None:
        """Attempts far past their longest possible end: their result was lost with the AMI link. Stored as an
        attempt of unknown result (it counts against the cap: the citizen may have been rung)."""
        longest = agent_wait_seconds(rules) + RING_SECONDS + rules.engine.max_conversation
        now = self.clock.seconds()
        lost = [a for a, attempt in self._in_flight.items() if now - attempt.sent_at > longest + LOST_MARGIN_SECONDS]
        if lost:
            self.facts([CallbackEnded(action_id, "", "UNKNOWN no result from Asterisk") for action_id in lost])

    def facts(self, facts: list[Fact]) -> None:
        """Store how each attempt ended, on its call's stub."""
        events = []
        for fact in facts:
            if isinstance(fact, Answered):
                self._connected(fact.uniqueid)
            if not isinstance(fact, CallbackEnded):
                continue
            # OriginateResponse and refusals name the action; the dialplan's UserEvent names the ticket.
            ended = [
                action_id
                for action_id, attempt in self._in_flight.items()
                if action_id == fact.action_id or (fact.ticket and attempt.stub.id == fact.ticket)
            ]
            if not ended:
                continue  # another monitor's call-back: that monitor records it
            stub = self._in_flight[ended[0]].stub
            for action_id in ended:
                del self._in_flight[action_id]
            events.append(
                CallEvent(stub.uniqueid, EventKind.CALLBACK, self.recorder.now(), detail=fact.result, host=stub.host)
            )
            log.info("call-back of %s ended: %s", stub.id, fact.result)
        if events:
            self.recorder.record(events)

    def _connected(self, uniqueid: str) -> None:
        for action_id, attempt in self._in_flight.items():
            if attempt.queued == uniqueid:
                self._in_flight[action_id] = replace(attempt, connected=True)
