"""Classic AGI: Asterisk runs `ivr agi` per call and talks over stdin/stdout, on the same executor.

A local AGI script learns of a hang-up from SIGHUP, not from a HANGUP line: the handler only records it, and it
reaches the executor as a Hangup event before the next reply is handled, so no EXEC or STREAM FILE follows.
pyst2 is not used: it raises on `result=-1` (the normal end of a Queue), on 511, and writes the unmasked
environment to stderr.
"""

from __future__ import annotations

import logging
import os
import signal
from datetime import datetime
from types import FrameType
from typing import BinaryIO

from ivr.agi.executor import CLOSE, Command, PlanExecutor
from ivr.agi.protocol import AgiParser, Event, Hangup
from ivr.rules.model import Rules

log = logging.getLogger("ivr.agi")


class _SighupFlag:
    def __init__(self) -> None:
        self.raised = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.raised = True


def run_classic(rules: Rules, stdin_fd: int, stdout: BinaryIO, now: datetime | None = None) -> int:
    sighup = _SighupFlag()
    signal.signal(signal.SIGHUP, sighup)
    parser = AgiParser()
    pending: list[Event] = []
    while not pending:
        data = os.read(stdin_fd, 65536)
        if not data:
            log.error("stdin closed before the AGI environment was complete")
            return 1
        pending = parser.feed(data)
    executor, action = PlanExecutor.begin(pending, rules, now or datetime.now(rules.timezone))
    delivered_hangup = False
    while action is not CLOSE:
        if isinstance(action, Command):
            stdout.write(action.encode())
            stdout.flush()
        data = os.read(stdin_fd, 65536)
        if not data:
            break  # Asterisk went away: nothing more to say to it
        events = parser.feed(data)
        if sighup.raised and not delivered_hangup:
            delivered_hangup = True
            events.insert(0, Hangup())
        action = executor.feed(events)
    log.info("call %s", " ".join(f"{k}={v}" for k, v in executor.summary().items()))
    return 0
