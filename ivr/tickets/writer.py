"""The ticket book on Twisted: every write runs in a thread, never on the reactor.

Stubs are written by one thread of their own (ivr.tickets.writerthread) in the engine; the spool's replay, which
may wait on a store that hangs, runs in Twisted's thread pool so that it never holds an opening stub back.

A call's opening stub is written at once and the session waits for it (the durability point); opening stubs
arriving meanwhile are batched: while one batch is being written, the next collects, so a burst of calls starting
together costs one commit. Openings go first: a closing stub waits while any opening stub is waiting or being
written, and up to CLOSINGS_WAIT for the ones that follow it, so that calls ending one after another cost one
commit, not one each, and a new call's opening stub rarely queues behind a finished call's commit (a SIGKILL
loses the closing stubs still in memory, as it always did). A closing stub waits for its call's opening stub,
whose id it takes, even when the session stopped waiting for it. The spool is replayed from a timer. `stop()`
waits for every write before the engine exits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from twisted.internet import task, threads
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.python.failure import Failure

from ivr.agi.executor import PlanExecutor
from ivr.calendar.deadlines import DeadlineClock, clock_for
from ivr.tickets.book import TicketBook
from ivr.tickets.fromcall import opening_stub
from ivr.tickets.stub import Stub

log = logging.getLogger("ivr.tickets")
REPLAY_SECONDS = 2.0
CLOSINGS_WAIT = 0.1
Runner = Callable[..., Deferred[Any]]


class TicketWriter:
    def __init__(
        self, book: TicketBook, clock: IReactorTime, run: Runner, replay: Runner = threads.deferToThread
    ) -> None:
        """`run(f, *args)` runs a stub write in a thread and returns a Deferred of its result (tests run it in
        place); `replay` runs the spool's replay."""
        self.book = book
        self._clock = clock
        self._run = run
        self._run_replay = replay
        self._closing: list[Stub] = []
        self._closings_due = 0.0  # when the oldest closing stub waiting is written at the latest
        self._closings_timer: IDelayedCall | None = None
        self._stopping = False
        self._openings: list[tuple[Stub, Deferred[str | None]]] = []
        self._openings_in_flight = False
        self._waiting: dict[str, list[Stub]] = {}  # by call key: closing stubs whose opening stub is in flight
        self._writing = 0  # opening stubs and batches in flight
        self._batch_in_flight = False
        self._replay_in_flight = False
        self._idle: list[Deferred[None]] = []
        self._deadlines: DeadlineClock | None = None
        self._replayer = task.LoopingCall(self._replay)
        self._replayer.clock = clock

    def start(self) -> None:
        """Replay what an earlier run left in the spool, then check again every REPLAY_SECONDS."""
        self._replayer.start(REPLAY_SECONDS, now=True)

    def opening(self, executor: PlanExecutor, host: str) -> Stub:
        """The stub of a call just routed, from the Asterisk `host` (no I/O: built on the reactor)."""
        self._deadlines = clock_for(executor.rules, self._deadlines)
        return opening_stub(executor, self.book.counter.engine, self._deadlines, host)

    def create(self, stub: Stub) -> Deferred[str | None]:
        """The id once the stub is durable, or None when nothing could take it (the book logged an ALARM). The
        caller may cancel it (stop waiting): the write goes on all the same. Opening stubs that arrive while one
        batch is being written go together in the next (group commit): a burst of calls costs a few commits, not
        one fsync per call, so each call gets its TICKET_ID well within the session's wait."""
        self._waiting[stub.call] = []
        answer: Deferred[str | None] = Deferred()
        self._openings.append((stub, answer))
        self._flush_openings()
        return answer

    def _flush_openings(self) -> None:
        if self._openings_in_flight or not self._openings:
            return
        batch, self._openings = self._openings, []
        self._openings_in_flight = True
        self._writing += 1
        written = self._run(self.book.record, [stub for stub, _ in batch])
        written.addErrback(self._failed, f"{len(batch)} opening stub(s)")
        written.addCallback(self._batch_opened, batch)
        written.addBoth(self._openings_done)

    def _batch_opened(self, ids: list[str | None] | None, batch: list[tuple[Stub, Deferred[str | None]]]) -> None:
        for (stub, answer), ticket_id in zip(batch, ids or [None] * len(batch), strict=True):
            self._opened(ticket_id, stub.call, answer)

    def _openings_done(self, result: object) -> object:
        self._openings_in_flight = False
        self._flush_openings()
        self._flush()
        return self._done(result)

    def finish(self, stub: Stub) -> None:
        """The closing stub of a call, written with the next batch once its opening stub is settled."""
        if stub.call in self._waiting:
            self._waiting[stub.call].append(stub)
            return
        self._add_closing(stub)

    def stop(self) -> Deferred[None]:
        """Fires when nothing is being written or waiting to be."""
        if self._replayer.running:
            self._replayer.stop()
        self._stopping = True
        self._flush()
        if self._idle_now():
            return succeed(None)
        idle: Deferred[None] = Deferred()
        self._idle.append(idle)
        return idle

    def _add_closing(self, stub: Stub) -> None:
        if not self._closing:
            self._closings_due = self._clock.seconds() + CLOSINGS_WAIT
        self._closing.append(stub)
        self._flush()

    def _flush(self) -> None:
        """The closing stubs waiting, once no opening stub is waiting or being written, and they are due."""
        if self._batch_in_flight or not self._closing or self._openings or self._openings_in_flight:
            return
        early = self._closings_due - self._clock.seconds()
        if not self._stopping and early > 0:
            # A timer brings them back when due. One armed for an earlier batch that went before its timer ran
            # fires early and arms the next: never a batch left with no timer for it.
            if self._closings_timer is None or not self._closings_timer.active():
                self._closings_timer = self._clock.callLater(early, self._flush)
            return
        batch, self._closing = self._closing, []
        self._batch_in_flight = True
        self._writing += 1
        written = self._run(self.book.record, batch)
        written.addErrback(self._failed, f"{len(batch)} closing stub(s)")
        written.addBoth(self._batch_done)

    def _batch_done(self, result: object) -> object:
        self._batch_in_flight = False
        self._flush()
        return self._done(result)

    def _opened(self, ticket_id: str | None, call: str, answer: Deferred[str | None]) -> str | None:
        if not answer.called:  # a session that gave up waiting cancelled it
            answer.callback(ticket_id)
        for closing in self._waiting.pop(call, []):
            self._add_closing(closing.evolve(id=ticket_id or closing.id))
        return ticket_id

    def _idle_now(self) -> bool:
        return not self._writing and not self._closing and not self._waiting and not self._openings

    def _done(self, result: object) -> object:
        self._writing -= 1
        if self._idle_now():
            idle, self._idle = self._idle, []
            for waiter in idle:
                waiter.callback(None)
        return result

    def _failed(self, failure: Failure, what: str) -> None:
        log.error("ALARM ticket %s not written: %s", what, failure.getErrorMessage())

    def _replay(self) -> None:
        if self._replay_in_flight or not self.book.spool.pending:
            return
        self._replay_in_flight = True
        replayed = self._run_replay(self.book.replay)
        replayed.addErrback(self._failed, "spool replay")
        replayed.addBoth(self._replayed)

    def _replayed(self, result: object) -> None:
        self._replay_in_flight = False
