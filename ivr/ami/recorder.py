"""What the monitor learns, into the store: call events beside the engine's stubs, stubs for the calls the
dialplan carried without the engine, and the live board every PUBLISH_SECONDS.

Writes run in threads, never on the reactor, one batch at a time. A store that fails keeps nothing from being
learnt: the facts wait in memory and go with the next batch (an ALARM is logged once per outage). Fallback stubs go
through the ticket book, so they are numbered with the monitor's own engine id and spooled when the store is down.
The board is written whole each time: a dashboard that finds it older than a few seconds knows the monitor is gone.

Every fact and fallback stub carries the Asterisk host it came from (ivr.hosts: the uniqueid's systemname, else the
name this monitor was given for its Asterisk), so it completes that host's stub of the call and never another
host's call that happens to have the same uniqueid.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from twisted.internet import task, threads
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime

from ivr.ami.board import Abandoned, Answered, Dialled, Fact, Fallback, HungUp, QueueBoard, Transferred
from ivr.ami.queuelog import Row, missed
from ivr.calendar.deadlines import DeadlineClock, clock_for
from ivr.dialplan import names
from ivr.hosts import LOCAL, host_name
from ivr.router.decide import CallFacts, Presentation, route
from ivr.rules.model import Rules
from ivr.tickets.book import TicketBook
from ivr.tickets.completion import CallEvent, EventKind
from ivr.tickets.fromcall import Channel, plan_stub
from ivr.tickets.store import StoreUnavailable
from ivr.tickets.stub import Stub, StubOutcome

log = logging.getLogger("ivr.ami")
PUBLISH_SECONDS = 1.0
Runner = Callable[..., Deferred[Any]]


class Recorder:
    def __init__(
        self,
        book: TicketBook,
        rules: Callable[[], Rules],
        name: str,
        clock: IReactorTime,
        run: Runner = threads.deferToThread,
        host: str = LOCAL,
    ) -> None:
        """`rules()` gives the rules in use now: asked on each use, so a reload counts from the next fact on.
        `run(f, *args)` runs f in a thread and returns a Deferred of its result (tests run it in place). `host`:
        the name given to the Asterisk this monitor watches (`--asterisk-name`, else its AMI address's)."""
        self.book = book
        self.rules = rules
        self.name = name
        self.clock = clock
        self.host = host
        self._run = run
        self._deadlines: DeadlineClock | None = None
        self._events: list[CallEvent] = []
        self._stubs: list[Stub] = []
        self._writing: Deferred[None] | None = None
        self._failing = False
        self._queue_log_unread = False  # the last read of queue_log failed, and was logged
        self._board: dict[str, Any] | None = None
        self._board_of: Callable[[], dict[str, Any]] = lambda: {}
        self._publisher = task.LoopingCall(self._tick)
        self._publisher.clock = clock

    def start(self, board: Callable[[], dict[str, Any]]) -> None:
        """Publish `board()` (the monitor's board document) and retry what waits, every PUBLISH_SECONDS."""
        self._board_of = board
        self._publisher.start(PUBLISH_SECONDS, now=True)

    def facts(self, facts: list[Fact], when: float | None = None) -> None:
        """Store what the events said about calls (call-back results are the dialler's: it knows whose). `when`:
        the epoch Asterisk gave for them (queue_log rows), else now."""
        at = self.now() if when is None else datetime.fromtimestamp(when, self.rules().timezone)
        for fact in facts:
            event = _seat_answered(fact, at, self.rules()) if isinstance(fact, Dialled) else _event(fact, at)
            if event is not None:
                self._events.append(replace(event, host=host_name(event.uniqueid, self.host)))
            if isinstance(fact, Fallback):
                self._stubs.append(self._fallback_stub(fact, at))
        self._flush()

    def catch_up(self, queue_log: Path, since: float, until: float) -> Deferred[int]:
        """Store what Asterisk's queue_log says happened from `since` to `until`, while no monitor was connected:
        read in a thread, then recorded like live facts at the times Asterisk logged them (the store keeps a fact
        seen live too only once). Fires with the number of facts; a file that cannot be read is logged, not raised:
        the live board goes on without it."""
        reading = self._run(_read_missed, queue_log, since, until)

        def learnt(rows: list[Row]) -> int:
            for row in rows:
                self.facts([row.fact], row.at)
            span = f"{_clock(since, self.rules())} to {_clock(until, self.rules())}"
            log.info("queue_log %s: %d fact(s) from %s, while no monitor was connected", queue_log, len(rows), span)
            self._queue_log_unread = False
            return len(rows)

        def unreadable(failure: Any) -> int:
            if self._queue_log_unread:
                return 0
            self._queue_log_unread = True  # said once: a missing file is set-up, not news at every reconnect
            error = failure.value
            why = error.strerror if isinstance(error, OSError) and error.strerror else failure.getErrorMessage()
            log.warning(
                "queue_log %s: %s: callers who gave up while no monitor was connected are not on the call-back list",
                queue_log,
                why,
            )
            return 0

        return reading.addCallbacks(learnt, unreadable)

    def record(self, events: list[CallEvent]) -> None:
        """Store call events made elsewhere (the dialler's attempts), with the same no-loss handling."""
        self._events.extend(events)
        self._flush()

    def now(self) -> datetime:
        """In the zone of the rules in use: the one the stubs, the figures and the call-back hours are read in."""
        return datetime.fromtimestamp(self.clock.seconds(), self.rules().timezone)

    def stop(self) -> Deferred[None]:
        """Fires once what was learnt is written (or, with the store down, has been tried once more)."""
        if self._publisher.running:
            self._publisher.stop()
        self._flush()
        return self._writing or succeed(None)

    def _tick(self) -> None:
        self._board = self._board_of() or None
        self._flush()

    def _flush(self) -> None:
        if self._writing is not None or not (self._events or self._stubs or self._board):
            return
        events, stubs, board = self._events, self._stubs, self._board
        self._events, self._stubs, self._board = [], [], None
        self._writing = self._run(self._write, events, stubs, board)
        self._writing.addCallbacks(self._written, self._failed, errbackArgs=(events, stubs))

    def _write(self, events: list[CallEvent], stubs: list[Stub], board: dict[str, Any] | None) -> None:
        """In a thread. Stubs first: an event never lands for a call whose fallback stub could not be made."""
        if stubs and None in self.book.record(stubs):
            raise StoreUnavailable("fallback stubs could be written neither to the store nor to the spool")
        stubs.clear()  # recorded (in the store or the spool): not again if the events fail below
        if events:
            self.book.store.add_events(events)
        if board is not None:
            self.book.store.put_board(self.name, board)

    def _written(self, result: None) -> None:
        self._writing = None
        if self._failing:
            self._failing = False
            log.warning("ticket store %s is back: the monitor's facts are written again", self.book.store.name)
        self._flush()

    def _failed(self, failure: Any, events: list[CallEvent], stubs: list[Stub]) -> None:
        self._writing = None
        self._events[:0] = events
        self._stubs[:0] = stubs
        if not self._failing:
            self._failing = True
            log.error(
                "ALARM ticket store: %s: %d call fact(s) kept in memory and retried",
                failure.getErrorMessage(),
                len(self._events),
            )

    def _fallback_stub(self, fact: Fallback, at: datetime) -> Stub:
        """The stub of a call the dialplan carried on without the engine. When the engine did make one (it was
        cut off mid-call), the store keeps the engine's: this one is revision 0, never newer."""
        caller = fact.caller if fact.caller.isdigit() else ""
        facts = CallFacts(
            dialed=fact.line,
            at=at,
            caller=caller or None,
            presentation=Presentation.ALLOWED if caller else Presentation.UNKNOWN,
        )
        channel = Channel(fact.uniqueid, fact.linkedid, fact.channel, host_name(fact.uniqueid, self.host))
        rules = self.rules()
        self._deadlines = clock_for(rules, self._deadlines)
        stub = plan_stub(route(facts, rules), facts, channel, self.book.counter.engine, self._deadlines)
        return stub.evolve(outcome=StubOutcome.UNFINISHED)


def _read_missed(queue_log: Path, since: float, until: float) -> list[Row]:
    """In a thread: the file is Asterisk's and may be large; it is read as a stream, line by line."""
    with queue_log.open(encoding="utf-8", errors="replace") as lines:
        return missed(lines, since, until)


def _clock(epoch: float, rules: Rules) -> str:
    return datetime.fromtimestamp(epoch, rules.timezone).strftime("%Y-%m-%d %H:%M:%S")


def _seat_answered(fact: Dialled, at: datetime, rules: Rules) -> CallEvent | None:
    """A department's seat answered a caller the dialplan carried without the engine (a Dial in the seat's own
    generated context): the call was handed on to that seat, as the engine's stub says when it dials the seat
    itself (a Dial in the engine's context, which the engine records). `agent` is what Asterisk's
    DIALEDPEERNUMBER holds for the seat's dial string: what follows the technology (`12328@dept-transport`)."""
    if fact.status != "ANSWER":
        return None
    name = next((name for name in rules.seats if names.destination(name) == fact.context), None)
    if name is None:
        return None
    peer = rules.seats[name].dial.partition("/")[2]
    return CallEvent(fact.uniqueid, EventKind.TRANSFERRED, at, agent=peer, detail=f"to {name} ({fact.to})")


def _event(fact: Fact, at: datetime) -> CallEvent | None:
    match fact:
        case Answered():
            return CallEvent(fact.uniqueid, EventKind.ANSWERED, at, fact.queue, fact.interface, fact.hold_seconds)
        case Abandoned():
            return CallEvent(
                fact.uniqueid, EventKind.ABANDONED, at, fact.queue, wait=fact.hold_seconds, position=fact.position
            )
        case Transferred():
            return CallEvent(fact.uniqueid, EventKind.TRANSFERRED, at, detail=f"{fact.how} to {fact.to or '?'}")
        case Fallback():
            return CallEvent(fact.uniqueid, EventKind.FALLBACK, at, detail=fact.stage)
        case HungUp():
            return CallEvent(fact.uniqueid, EventKind.HANGUP, at, detail=fact.cause)
    return None


def board_document(name: str, board: QueueBoard, now: float, link: dict[str, Any], snapshots: int) -> dict[str, Any]:
    """What the store keeps of one monitor for dashboards and `ivr queues`."""
    return {"monitor": name, "updated": now, "link": link, "snapshots": snapshots, "queues": board.as_json(now)}
