"""The live queue board: who waits where, which agents are free, fed by AMI messages. Pure: no socket, no clock
(the time of each message is given), so every captured session can be replayed into it in a test.

Of the 100-odd events one queued call produces, only the queue events below change the board; the rest are
ignored. A QueueStatus snapshot (QueueParams / QueueMember / QueueEntry items) rebuilds it after every
(re)connect, since events during an AMI outage are lost. Daily figures (answered, abandoned, service level) are
not kept here: they come from the stored ticket stubs, which survive outages and restarts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ivr.ami.protocol import Message


class MemberState(StrEnum):
    FREE = "free"
    BUSY = "busy"
    PAUSED = "paused"
    UNAVAILABLE = "unavailable"


# Asterisk device states (AST_DEVICE_*), as QueueMember/QueueMemberStatus report them in `Status`.
_DEVICE = {
    "1": MemberState.FREE,
    "2": MemberState.BUSY,
    "3": MemberState.BUSY,
    "6": MemberState.BUSY,
    "7": MemberState.BUSY,
    "8": MemberState.BUSY,
    "4": MemberState.UNAVAILABLE,
    "5": MemberState.UNAVAILABLE,
    "0": MemberState.UNAVAILABLE,
}


@dataclass(frozen=True)
class Caller:
    uniqueid: str
    queue: str
    position: int
    since: float
    line: str


@dataclass(frozen=True)
class Member:
    queue: str
    interface: str
    name: str
    status: str
    paused: bool

    @property
    def state(self) -> MemberState:
        if self.paused:
            return MemberState.PAUSED
        return _DEVICE.get(self.status, MemberState.UNAVAILABLE)


@dataclass(frozen=True)
class Answered:
    """A queued caller reached an agent (AgentConnect): completes the stub with who and how long the wait was."""

    uniqueid: str
    queue: str
    interface: str
    member: str
    hold_seconds: int


@dataclass(frozen=True)
class Abandoned:
    """A caller left a queue without an agent (QueueCallerAbandon; also sent for LEAVEEMPTY and TIMEOUT exits)."""

    uniqueid: str
    queue: str
    position: int
    hold_seconds: int


@dataclass(frozen=True)
class Transferred:
    """An answered caller was passed on by the agent or seat (BlindTransfer / AttendedTransfer with Result:
    Success, or AgentComplete with Reason: transfer). The engine cannot tell: its session just sees a HANGUP."""

    uniqueid: str
    how: str  # blind or attended
    to: str  # extension@context for a blind transfer; the other party's channel for an attended one


@dataclass(frozen=True)
class Fallback:
    """The dialplan carried the call on without the engine (UserEvent IvrFallback): the engine was down, cut off,
    or killed at `stage`. The monitor makes the stub the engine could not."""

    uniqueid: str
    linkedid: str
    channel: str
    caller: str
    line: str
    stage: str
    agi_status: str


@dataclass(frozen=True)
class HungUp:
    """A channel the engine or the fallback routed is gone (Hangup carrying channelvars' IVR_LINE): Asterisk's
    word that a caller who hung up during a prompt was a real call, not a forged AGI session."""

    uniqueid: str
    cause: str


@dataclass(frozen=True)
class Dialled:
    """A Dial of a routed caller ended (DialEnd; IVR_LINE on the caller's channel): in `context` (where the
    caller's dialplan was: the engine's, or a generated fallback context), to `to` (the called channel), with
    Asterisk's DIALSTATUS. app_queue's rings of agents raise DialEnd too; which ones matter is the recorder's call,
    which knows the rules' seats."""

    uniqueid: str
    context: str
    to: str
    status: str


@dataclass(frozen=True)
class CallbackEnded:
    """A call-back attempt ended: OriginateResponse Failure for `action_id` (no agent took it in time, or Asterisk
    refused), or UserEvent(IvrCallback) of the generated dialplan with the citizen's DIALSTATUS for `ticket`."""

    action_id: str
    ticket: str
    result: str


Fact = Answered | Abandoned | Transferred | Fallback | HungUp | Dialled | CallbackEnded


def channel_variable(m: Message, name: str) -> str:
    """A variable manager.conf's channelvars adds to a channel's events: `ChanVariable: NAME=value` (Asterisk 12
    and later; `ChanVariable(CHANNEL): NAME=value` for the halves of a Local channel). "" when absent."""
    for key, value in m.fields:
        if (key == "ChanVariable" or key.startswith("ChanVariable(")) and value.startswith(name + "="):
            return value[len(name) + 1 :]
    return ""


def _int(value: str | None) -> int:
    return int(value) if value and value.lstrip("-").isdigit() else 0


@dataclass
class QueueBoard:
    callers: dict[str, Caller] = field(default_factory=dict)
    members: dict[tuple[str, str], Member] = field(default_factory=dict)
    covered: set[str] = field(default_factory=set)  # queues named by QueueParams: shown even when empty
    _snapshot: QueueBoard | None = None

    def waiting(self, queue: str) -> list[Caller]:
        return sorted((c for c in self.callers.values() if c.queue == queue), key=lambda c: c.position)

    def longest_wait(self, queue: str, now: float) -> float:
        return max((now - c.since for c in self.waiting(queue)), default=0.0)

    def staff(self, queue: str) -> dict[MemberState, int]:
        counts = dict.fromkeys(MemberState, 0)
        for member in self.members.values():
            if member.queue == queue:
                counts[member.state] += 1
        return counts

    def learn_line(self, uniqueid: str, line: str) -> None:
        """The original line of a caller who joined before this board saw it (a snapshot has no channel variables):
        a line the caller's own events gave is kept."""
        caller = self.callers.get(uniqueid)
        if caller is not None and line and not caller.line:
            self.callers[uniqueid] = replace(caller, line=line)

    def queues(self) -> list[str]:
        return sorted(self.covered | {q for q, _ in self.members} | {c.queue for c in self.callers.values()})

    def as_json(self, now: float) -> dict[str, Any]:
        """The board as the store keeps it for dashboards: per queue, who waits (no caller numbers) and the staff.
        `since` is in epoch seconds, so a reader works out the wait at its own moment."""
        return {
            queue: {
                "waiting": [
                    {"uniqueid": c.uniqueid, "position": c.position, "since": c.since, "line": c.line}
                    for c in self.waiting(queue)
                ],
                "longest_wait": self.longest_wait(queue, now),
                "staff": {state.value: count for state, count in self.staff(queue).items()},
                "members": [
                    {"name": m.name, "interface": m.interface, "state": m.state.value}
                    for m in sorted(self.members.values(), key=lambda m: m.name)
                    if m.queue == queue
                ],
            }
            for queue in self.queues()
        }

    # --- events ----------------------------------------------------------------------------------------------

    def apply(self, message: Message, now: float) -> list[Fact]:
        """Change the board by one AMI message; return what it tells about a call's outcome."""
        target = self._snapshot if self._snapshot is not None and message.action_id else self
        handler = _HANDLERS.get(message.event or "")
        if handler is None:
            return []
        return handler(target, message, now)

    def apply_all(self, messages: Iterable[Message], now: float) -> list[Fact]:
        return [fact for message in messages for fact in self.apply(message, now)]

    def begin_snapshot(self) -> None:
        """A QueueStatus was sent: its items build a fresh board that replaces this one when it completes."""
        self._snapshot = QueueBoard()

    def finish_snapshot(self) -> None:
        """Replace what the snapshot covers: the queues its QueueParams items named (a QueueStatus may ask for
        one queue only), and nothing else."""
        snap, self._snapshot = self._snapshot, None
        if snap is None:
            return
        covered = snap.covered
        self.covered |= covered
        self.callers = {u: c for u, c in self.callers.items() if c.queue not in covered} | snap.callers
        self.members = {k: m for k, m in self.members.items() if m.queue not in covered} | snap.members

    def _join(self, m: Message, now: float) -> list[Fact]:
        uniqueid = m.get("Uniqueid") or ""
        self.callers[uniqueid] = Caller(
            uniqueid, m.get("Queue") or "", _int(m.get("Position")), now, channel_variable(m, "IVR_LINE")
        )
        return []

    def _leave(self, m: Message, now: float) -> list[Fact]:
        gone = self.callers.pop(m.get("Uniqueid") or "", None)
        if gone is not None:
            for uid, caller in list(self.callers.items()):
                if caller.queue == gone.queue and caller.position > gone.position:
                    self.callers[uid] = replace(caller, position=caller.position - 1)
        return []

    def _abandon(self, m: Message, now: float) -> list[Fact]:
        return [
            Abandoned(m.get("Uniqueid") or "", m.get("Queue") or "", _int(m.get("Position")), _int(m.get("HoldTime")))
        ]

    def _connect(self, m: Message, now: float) -> list[Fact]:
        return [
            Answered(
                m.get("Uniqueid") or "",
                m.get("Queue") or "",
                m.get("Interface") or "",
                m.get("MemberName") or "",
                _int(m.get("HoldTime")),
            )
        ]

    def _complete(self, m: Message, now: float) -> list[Fact]:
        # app_queue raises AgentComplete from its stasis handlers, which may run after the caller's channel is
        # gone: then the event has no caller fields at all (no Uniqueid), and says nothing of a call we can name.
        if m.get("Reason") != "transfer" or not m.get("Uniqueid"):
            return []
        return [Transferred(m.get("Uniqueid") or "", "blind", "")]

    def _transfer(self, m: Message, now: float) -> list[Fact]:
        if m.get("Result") != "Success":
            return []
        if m.event == "BlindTransfer":
            target = f"{m.get('Extension') or ''}@{m.get('Context') or ''}"
            return [Transferred(m.get("TransfereeUniqueid") or "", "blind", target)]
        target = m.get("TransferTargetChannel") or m.get("SecondTransfererChannel") or ""
        return [Transferred(m.get("TransfereeUniqueid") or "", "attended", target)]

    def _hangup(self, m: Message, now: float) -> list[Fact]:
        if not channel_variable(m, "IVR_LINE"):
            return []
        return [HungUp(m.get("Uniqueid") or "", m.get("Cause-txt") or m.get("Cause") or "")]

    def _dial_end(self, m: Message, now: float) -> list[Fact]:
        if not channel_variable(m, "IVR_LINE"):
            return []
        return [
            Dialled(
                m.get("Uniqueid") or "", m.get("Context") or "", m.get("DestChannel") or "", m.get("DialStatus") or ""
            )
        ]

    def _originated(self, m: Message, now: float) -> list[Fact]:
        if m.get("Response") == "Success":
            return []  # an agent took it; the citizen's answer comes with UserEvent(IvrCallback)
        return [CallbackEnded(m.action_id or "", "", f"FAILED reason {m.get('Reason') or '?'}")]

    def _user(self, m: Message, now: float) -> list[Fact]:
        if m.get("UserEvent") == "IvrCallback":
            return [CallbackEnded("", m.get("Ticket") or "", m.get("DialStatus") or "")]
        if m.get("UserEvent") != "IvrFallback":
            return []
        return [
            Fallback(
                m.get("Uniqueid") or "",
                m.get("Linkedid") or "",
                m.get("Channel") or "",
                m.get("CallerIDNum") or "",
                m.get("Line") or "",
                m.get("Stage") or "",
                m.get("AgiStatus") or "",
            )
        ]

    def _member(self, m: Message, now: float) -> list[Fact]:
        interface = m.get("Interface") or m.get("Location") or ""
        queue = m.get("Queue") or ""
        if m.event == "QueueMemberRemoved":
            self.members.pop((queue, interface), None)
            return []
        old = self.members.get((queue, interface))
        self.members[(queue, interface)] = Member(
            queue,
            interface,
            m.get("MemberName") or m.get("Name") or (old.name if old else interface),
            m.get("Status") or (old.status if old else "0"),
            (m.get("Paused") or ("1" if old and old.paused else "0")) == "1",
        )
        return []

    def _params(self, m: Message, now: float) -> list[Fact]:
        self.covered.add(m.get("Queue") or "")
        return []

    def _entry(self, m: Message, now: float) -> list[Fact]:
        uniqueid = m.get("Uniqueid") or ""
        self.callers[uniqueid] = Caller(
            uniqueid,
            m.get("Queue") or "",
            _int(m.get("Position")),
            now - _int(m.get("Wait")),
            channel_variable(m, "IVR_LINE"),
        )
        return []


_HANDLERS = {
    "QueueCallerJoin": QueueBoard._join,
    "QueueCallerLeave": QueueBoard._leave,
    "QueueCallerAbandon": QueueBoard._abandon,
    "AgentConnect": QueueBoard._connect,
    "AgentComplete": QueueBoard._complete,
    "BlindTransfer": QueueBoard._transfer,
    "AttendedTransfer": QueueBoard._transfer,
    "UserEvent": QueueBoard._user,
    "Hangup": QueueBoard._hangup,
    "DialEnd": QueueBoard._dial_end,
    "OriginateResponse": QueueBoard._originated,
    "QueueMemberStatus": QueueBoard._member,
    "QueueMemberAdded": QueueBoard._member,
    "QueueMemberRemoved": QueueBoard._member,
    "QueueMemberPause": QueueBoard._member,
    "QueueMember": QueueBoard._member,
    "QueueEntry": QueueBoard._entry,
    "QueueParams": QueueBoard._params,
}
