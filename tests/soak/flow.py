"""Calls flowing through a real `ivr serve` while a test breaks something, and the checks every fault test makes.

`drive` is `ivr.serve.callclient.call_engine` that keeps the Asterisk side when the connection drops, because a
fault test needs what the call had seen by then (its TICKET_ID, its IVR_STAGE); `CallFlow` runs a few of them
at once in threads, call after call, until told to stop. `right_plan` checks a call against the same call carried
out in-process by the plan executor and the simulator: the same commands in the same order. A killed engine
closes its connections as a finished one does (the kernel sends FIN), so `finished` only says the connection
ended without an error; the commands say whether the plan was carried out.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ivr.agi.simulator import AsteriskSimulator, SimulatedCall, simulate
from ivr.rules.loader import load_rules
from ivr.tickets.store import Query, TicketStore
from tests.conftest import SHIPPED_RULES
from tests.tickets.calls import call

RULES = load_rules(SHIPPED_RULES)
# One of each kind: main, absorbed, dual-transfer (a seat), dual-merged, absorbed with a data link.
NUMBERS = ["12345", "12396", "12333", "12315", "96301"]


@dataclass
class Driven:
    """One call as the Asterisk side saw it: the connection ended cleanly (`finished`) or with an error."""

    simulator: AsteriskSimulator
    finished: bool
    problem: str = ""

    @property
    def ticket_id(self) -> str | None:
        return self.simulator.variables.get("__TICKET_ID")

    @property
    def uniqueid(self) -> str:
        return self.simulator.call.uniqueid


def drive(port: int, simulated: SimulatedCall, timeout: float = 15.0, source: str = "127.0.0.1") -> Driven:
    """One call against the engine on `port`; `timeout` is a hang guard on each read, not a measure."""
    simulator = AsteriskSimulator(simulated)
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    except OSError as exc:
        return Driven(simulator, False, f"connect: {exc}")
    with sock:
        try:
            sock.sendall(simulator.open())
            while data := sock.recv(65536):
                if reply := simulator.receive(data):
                    sock.sendall(reply)
        except OSError as exc:  # reset by a killed engine, or the hang guard
            return Driven(simulator, False, f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(OSError):
            sock.sendall(simulator.engine_closed())
    return Driven(simulator, True)


def sent_and_planned(driven: Driven, now: datetime | None = None) -> tuple[list[str], list[str]]:
    """The commands the engine sent, and those the plan executor sends for the same call in-process."""
    ticket = driven.ticket_id
    expected = simulate(RULES, driven.simulator.call, now or datetime.now(RULES.timezone), record=lambda _: ticket)
    return [line for direction, line in driven.simulator.wire if direction == ">>"], expected.commands


def right_plan(driven: Driven) -> bool:
    """The call went through its whole plan: exactly the commands the executor sends in-process."""
    sent, planned = sent_and_planned(driven)
    return driven.finished and sent == planned


def on_plan_so_far(driven: Driven) -> bool:
    """A call cut off part-way: whatever the engine sent was the start of the plan, nothing else."""
    sent, planned = sent_and_planned(driven)
    return sent == planned[: len(sent)]


@dataclass
class CallFlow:
    """`threads` callers, each placing call after call on `port()` until `stop()`; every call has its own ids."""

    port: Callable[[], int]
    threads: int = 4
    first: int = 1
    done: list[Driven] = field(default_factory=list)
    _numbers: itertools.count[int] = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._numbers = itertools.count(self.first)

    def start(self) -> CallFlow:
        self._workers = [threading.Thread(target=self._caller) for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def _caller(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                n = next(self._numbers)
            driven = drive(self.port(), call(n, NUMBERS[n % len(NUMBERS)]))
            with self._lock:
                self.done.append(driven)
            if not driven.finished:
                self._stop.wait(0.05)  # the engine is down: Asterisk's next call comes a moment later

    def count(self) -> int:
        with self._lock:
            return len(self.done)

    def wait_for(self, calls: int, guard: float = 60.0) -> None:
        """Until `calls` more calls have ended (hang guard: `guard` seconds)."""
        target = self.count() + calls
        for _ in range(int(guard / 0.02)):
            if self.count() >= target:
                return
            self._stop.wait(0.02)
        raise AssertionError(f"{target - self.count()} of {calls} calls did not end within {guard:.0f} s")

    def stop(self) -> list[Driven]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)
        assert not any(worker.is_alive() for worker in self._workers), "a caller thread hung"
        return sorted(self.done, key=lambda driven: driven.uniqueid)


def stubs_by_uniqueid(store: TicketStore) -> dict[str, int]:
    """How many stubs each call has in the store: exactly one is the promise."""
    counts: dict[str, int] = {}
    for stub in store.find(Query()):
        counts[stub.uniqueid] = counts.get(stub.uniqueid, 0) + 1
    return counts
