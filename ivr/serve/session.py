"""One FastAGI session: bytes from Asterisk into the parser, events into the executor, commands back out.

Every wait has a limit that fits what is awaited (ivr.serve.limits); a session over its limit is closed and the
dialplan goes on from IVR_STAGE. A session ends with a half-close, as Asterisk expects: it then writes one last
HANGUP and closes its side.

With a ticket writer, every routed call gets its stub: the opening stub is made durable (in a thread) before
the first command that acts on the call, and the closing stub is written when the session ends, whatever
ended it. A store slower than STORE_SECONDS does not hold the call: it is routed without TICKET_ID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol as Interface

from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITCPTransport
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from ivr.agi.executor import CLOSE, RECORD, Action, Command, PlanExecutor
from ivr.agi.protocol import AgiParser, AgiProtocolError, Event
from ivr.hosts import host_name
from ivr.rules.model import Rules
from ivr.runtime.rulesholder import RulesHolder
from ivr.serve.limits import ENVIRONMENT_SECONDS, STORE_SECONDS, Limits
from ivr.tickets.fromcall import closing_stub
from ivr.tickets.stub import Stub
from ivr.tickets.writer import TicketWriter

log = logging.getLogger("ivr.serve")
CLOSING_SECONDS = 5.0
# A limit timer that fires less than this before its deadline counts as on time (clock arithmetic rounds).
DEADLINE_SLACK = 0.001


class SessionHost(Interface):
    """What a session needs of the service that accepted it (ivr.serve.service.AgiService has it), given rather
    than imported so the service and its sessions do not import each other."""

    holder: RulesHolder[Limits]
    now: Callable[[Rules], datetime]
    tickets: TicketWriter | None
    sessions: set[FastAgiSession]

    def refusal(self, host: str) -> str | None: ...

    def host_of(self, address: str) -> str: ...


class FastAgiSession(Protocol):
    transport: ITCPTransport  # set by makeConnection: the TCP connection from Asterisk

    def __init__(self, service: SessionHost, clock: IReactorTime) -> None:
        self.service = service
        self.clock = clock
        self.parser = AgiParser()
        self.executor: PlanExecutor | None = None
        self.limits: Limits | None = None
        self._waiting_for: str | None = "the environment block"  # None: the reply to last_command
        self.last_command: Command | None = None
        self._timer: IDelayedCall | None = None
        self._deadline = 0.0
        self._limit = 0.0
        self._started = 0.0
        self._closing = False
        self._accepted = False
        self._gone = False
        self._opening: Stub | None = None
        self._peer = ""  # the Asterisk host's name as the allowlist or its address gives it (ivr.hosts)

    @property
    def waiting_for(self) -> str:
        """What the session waits for, for the log: built only when a log line needs it, not once per command."""
        if self._waiting_for is None and self.last_command is not None:
            return f"{self.last_command.verb} {' '.join(self.last_command.args)}".strip()
        return self._waiting_for or ""

    # --- Twisted callbacks -----------------------------------------------------------------------------------

    def connectionMade(self) -> None:
        peer = self.transport.getPeer()
        refusal = self.service.refusal(peer.host)
        if refusal:
            log.warning("connection from %s refused: %s", peer.host, refusal)
            self.transport.abortConnection()
            return
        self._accepted = True
        self._peer = self.service.host_of(peer.host)
        self.service.sessions.add(self)
        self.transport.setTcpKeepAlive(True)
        self._started = self.clock.seconds()
        self._arm(ENVIRONMENT_SECONDS)

    def dataReceived(self, data: bytes) -> None:
        if self._closing and self.executor is not None and self.executor.result is not None:
            return  # the last HANGUP after our half-close
        try:
            events = self.parser.feed(data)
        except AgiProtocolError as exc:
            self._act(self._events(list(exc.events)))
            log.warning("session %s: %s: closed", self._name(), exc)
            self._abort()
            return
        self._act(self._events(events))

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._cancel()
        self._gone = True
        if not self._accepted:
            return
        self.service.sessions.discard(self)
        if self.executor is not None:
            if log.isEnabledFor(logging.INFO):
                fields = self.executor.summary()
                fields["host"] = self._host(self.executor)  # two hosts' calls may share the uniqueid
                fields["seconds"] = f"{self.clock.seconds() - self._started:.1f}"
                log.info("call %s", " ".join(f"{k}={v}" for k, v in fields.items()))
            self._close_ticket(self.executor)
        elif self.waiting_for:
            log.warning("session from %s closed before its environment block", self.transport.getPeer().host)

    # --- the executor ----------------------------------------------------------------------------------------

    def _events(self, events: list[Event]) -> Action:
        if self.executor is None:
            if not events:
                return None
            self.limits = self.service.holder.current
            now = self.service.now(self.limits.rules)
            self.executor, action = PlanExecutor.begin(
                events, self.limits.rules, now, ticketing=self.service.tickets is not None, peer=self._peer
            )
            return action
        return self.executor.feed(events, self.service.now(self.executor.rules))

    def _act(self, action: Action) -> None:
        if action is None:
            return
        if action is CLOSE:
            self._close()
            return
        if action is RECORD:
            self._open_ticket()
            return
        assert isinstance(action, Command) and self.limits is not None
        self.last_command = action
        self._waiting_for = None
        self.transport.write(action.encode())
        self._arm(self.limits.seconds(action))

    # --- the ticket stub --------------------------------------------------------------------------------------

    def _open_ticket(self) -> None:
        """Make the stub durable, then go on: no command is in flight, so only the store's own limit runs."""
        tickets, executor = self.service.tickets, self.executor
        assert tickets is not None and executor is not None
        self._cancel()
        self._waiting_for = "the ticket store"
        self._opening = tickets.opening(executor, self._host(executor))
        created = tickets.create(self._opening)
        created.addTimeout(STORE_SECONDS, self.clock)
        created.addErrback(self._store_too_slow)
        created.addCallback(self._ticket_opened)

    def _store_too_slow(self, failure: Failure) -> None:
        log.error(
            "ALARM session %s: the ticket store took more than %.0f s: routed without TICKET_ID (%s)",
            self._name(),
            STORE_SECONDS,
            failure.getErrorMessage(),
        )

    def _ticket_opened(self, ticket_id: str | None) -> None:
        if not self._gone and self.executor is not None:
            self._act(self.executor.ticket_recorded(ticket_id))

    def _close_ticket(self, executor: PlanExecutor) -> None:
        """The closing stub; the writer gives it the opening stub's id if that is still being written."""
        tickets = self.service.tickets
        if tickets is None or executor.plan is None:
            return  # no store, or an emergency number handed back: never a stub
        opening = self._opening or tickets.opening(executor, self._host(executor))  # ended before the stub was due
        ended = self.service.now(executor.rules)
        tickets.finish(closing_stub(opening, executor, ended, executor.ticket_id or ""))

    def _host(self, executor: PlanExecutor) -> str:
        """The call's host: its uniqueid's systemname, else the peer's name. Read from the same channel, a
        reconnect or a second session gives the same host, so the same key and the same ticket."""
        return host_name(executor.env.uniqueid, self._peer)

    # --- limits and closing ----------------------------------------------------------------------------------

    def _arm(self, seconds: float) -> None:
        """The limit runs from now. A timer due no later than the new deadline stays: it fires early and re-arms
        for the rest. Replies mostly come within milliseconds, so a call moves a timer a few times, not once per
        command (each move is a heap operation in the reactor, shared by every session)."""
        self._limit = seconds
        self._deadline = self.clock.seconds() + seconds
        timer = self._timer
        if timer is not None and timer.active() and timer.getTime() <= self._deadline:
            return
        self._cancel()
        self._timer = self.clock.callLater(seconds, self._expired)

    def _cancel(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _expired(self) -> None:
        self._timer = None
        remaining = self._deadline - self.clock.seconds()
        if remaining > DEADLINE_SLACK:
            self._timer = self.clock.callLater(remaining, self._expired)
            return
        seconds = self._limit
        if self._closing:
            self._abort()
            return
        stage = self.executor.summary()["stage"] if self.executor else "-"
        log.warning(
            "session %s: no answer to %s within %.0f s: closed, the dialplan continues from IVR_STAGE=%s",
            self._name(),
            self.waiting_for,
            seconds,
            stage,
        )
        self._abort()

    def _close(self) -> None:
        """Half-close and keep reading: Asterisk writes its last HANGUP and closes; abort if it does not."""
        self._closing = True
        self._waiting_for = ""
        self.transport.loseWriteConnection()
        self._arm(CLOSING_SECONDS)

    def _abort(self) -> None:
        self._closing = True
        self._cancel()
        self.transport.abortConnection()

    def _name(self) -> str:
        if self.executor is not None:
            return self.executor.env.uniqueid or self.executor.env.channel
        return str(self.transport.getPeer().host)
