"""The writer thread: stub writes run in a thread of their own, in the order given, and their results and errors
come back only through the reactor (never a Deferred fired from the writer's thread)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from ivr.tickets.writerthread import WriterThread

WAIT_SECONDS = 10.0  # only a bound for a broken thread: the test does not measure time


class Reactor:
    """callFromThread as the reactor has it: the call is queued and run on the reactor's thread (here, the
    test's own), when the test turns it."""

    def __init__(self) -> None:
        self.calls: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()

    def callFromThread(self, function: Callable[..., Any], *args: Any) -> None:
        self.calls.put((function, args))

    def turn(self) -> None:
        function, args = self.calls.get(timeout=WAIT_SECONDS)
        function(*args)


def test_jobs_run_in_one_other_thread_in_order_and_answer_on_the_reactor() -> None:
    reactor = Reactor()
    run = WriterThread(reactor)
    ran: list[tuple[int, str]] = []
    release = threading.Event()

    def job(n: int) -> int:
        release.wait(WAIT_SECONDS)
        ran.append((n, threading.current_thread().name))
        return n * 10

    answers: list[int] = []
    for n in range(3):
        run(job, n).addCallback(answers.append)
    assert answers == [], "nothing answers before the reactor turns"
    release.set()
    for _ in range(3):
        reactor.turn()
    assert answers == [0, 10, 20]
    assert [n for n, _ in ran] == [0, 1, 2]
    assert {name for _, name in ran} == {"ivr-ticket-writer"}, "one thread, not the test's"


def test_an_error_comes_back_as_a_failure_and_the_thread_goes_on() -> None:
    reactor = Reactor()
    run = WriterThread(reactor)

    def broken() -> None:
        raise OSError("disk full")

    errors: list[str] = []
    run(broken).addErrback(lambda failure: errors.append(failure.getErrorMessage()))
    answers: list[str] = []
    run(str.upper, "next").addCallback(answers.append)
    reactor.turn()
    reactor.turn()
    assert errors == ["disk full"] and answers == ["NEXT"]
