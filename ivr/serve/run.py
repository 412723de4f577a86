"""Wiring of the FastAGI service to the runtime: the listening socket, the ticket writer, the drain at the stop."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from twisted.internet import task
from twisted.internet.defer import Deferred

from ivr.prompts.files import recorded_seconds
from ivr.rules.model import Rules
from ivr.runtime import service as runtime
from ivr.runtime.rulesholder import RulesHolder
from ivr.runtime.service import reactor
from ivr.serve.limits import Limits
from ivr.serve.service import AgiService, Allowed
from ivr.tickets.book import TicketBook
from ivr.tickets.writer import TicketWriter
from ivr.tickets.writerthread import WriterThread

log = logging.getLogger("ivr.serve")
# After the drain closes its sessions, how long their connectionLost may take before the stop goes on regardless.
CLOSED_SECONDS = 2.0


@dataclass(frozen=True)
class ServeOptions:
    rules: Path
    host: str
    port: int
    allow: tuple[Allowed, ...]
    max_sessions: int
    backlog: int
    drain_seconds: float


def limits_for(rules: Rules) -> Limits:
    """The per-command limits of a rule set, with the prompts' real lengths read from their recordings."""
    return Limits.for_rules(rules, recorded_seconds(rules.prompts, rules.recordings))


def serve(options: ServeOptions, book: TicketBook) -> int:
    holder = RulesHolder(options.rules, limits_for)  # RulesError: an engine never starts on invalid rules
    tickets = TicketWriter(book, reactor, WriterThread(reactor))
    service = AgiService(holder, reactor, options.allow, options.max_sessions, tickets=tickets)
    port = reactor.listenTCP(options.port, service, backlog=options.backlog, interface=options.host)
    address = port.getHost()
    log.info(
        "ivr serve listening on %s:%d (backlog %d, at most %d sessions), rules %s, tickets %s as engine %s (spool %s)",
        address.host,
        address.port,
        options.backlog,
        options.max_sessions,
        options.rules,
        book.store.name,
        book.counter.engine,
        book.spool.folder,
    )
    return runtime.run(
        "ivr serve",
        log,
        holder,
        start=[tickets.start],
        stop=lambda: _stop(port, service, tickets, options.drain_seconds),
        close=book.close,
    )


def _stop(port: object, service: AgiService, tickets: TicketWriter, seconds: float) -> Deferred[None]:
    """Drain the calls, then write their closing stubs before the reactor's threads stop."""
    return _drain(port, service, seconds).addCallback(lambda _: tickets.stop())


def _drain(port: object, service: AgiService, seconds: float) -> Deferred[None]:
    """SIGTERM: stop accepting, give calls in progress up to `seconds`, then close the rest. A closed session
    does not drop its call: Asterisk goes on (a Queue keeps running) and the dialplan continues from IVR_STAGE.
    The drain ends only once every closed session has run its connectionLost (Twisted calls it on a later turn of
    the reactor): that is where a session logs its call and hands its closing stub to the writer, which the stop
    then waits for. Ending at the abort itself lost both (seen on a real Asterisk: the stub stayed in-progress)."""
    log.info("stopping: no new sessions; %d in progress get up to %.0f s", len(service.sessions), seconds)
    done: Deferred[None] = Deferred()
    deadline = reactor.seconds() + seconds
    aborted = False

    def check() -> None:
        nonlocal aborted
        if service.sessions and reactor.seconds() < deadline + (CLOSED_SECONDS if aborted else 0):
            return
        if service.sessions and not aborted:
            log.warning("stopped with %d sessions still open: closed", len(service.sessions))
            for session in list(service.sessions):
                session.transport.abortConnection()
            aborted = True
            return
        poll.stop()
        done.callback(None)

    port.stopListening()  # type: ignore[attr-defined]
    poll = task.LoopingCall(check)
    poll.start(0.1)
    return done
