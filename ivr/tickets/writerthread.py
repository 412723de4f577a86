"""The one thread that writes the engine's stubs, fed by a queue.

Twisted's thread pool costs more than the write it carries for a small job: each job passes its context tracker,
a condition variable and a pool worker chosen for it, and comes back through a Deferred chain of its own. The
ticket writer sends its jobs one after another anyway (a batch of opening stubs, a batch of closing stubs), and
SQLite takes one writer at a time, so one thread blocked on a queue does the same work with one wake-up each way.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.python.failure import Failure

Job = tuple[Callable[..., Any], tuple[Any, ...], Deferred[Any]]


class WriterThread:
    """`run(f, *args)`: f runs in this thread, in the order given; the Deferred fires on the reactor."""

    def __init__(self, reactor: IReactorFromThreads, name: str = "ivr-ticket-writer") -> None:
        self._reactor = reactor
        self._name = name
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def __call__(self, function: Callable[..., Any], *args: Any) -> Deferred[Any]:
        done: Deferred[Any] = Deferred()
        if self._thread is None:  # started with the first job: an engine that never writes has no thread
            # A daemon: the engine's stop waits for every write before the reactor ends, so it is idle by then.
            self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
            self._thread.start()
        self._jobs.put((function, args, done))
        return done

    def _work(self) -> None:
        while True:
            function, args, done = self._jobs.get()
            try:
                result = function(*args)
            except Exception:
                self._reactor.callFromThread(done.errback, Failure())
            else:
                self._reactor.callFromThread(done.callback, result)
