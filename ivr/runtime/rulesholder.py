"""The rules a long-running command works with (`ivr serve`, `ivr monitor`), reloaded on SIGHUP or when the file
changes, so an admin's edit takes effect without a restart.

Each valid rule set is turned once, off the call path, into what its user needs (the engine: per-command limits;
the monitor: the rules themselves). What already started keeps what it was given: a call keeps the rules (and so
the plan) it started with. An invalid file never replaces valid rules: the old ones stay, and the problems are
logged once, not on every check of the file or every SIGHUP.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, Generic, TypeVar

from twisted.internet import task, threads
from twisted.internet.defer import Deferred

from ivr.rules.loader import load_rules
from ivr.rules.model import Rules
from ivr.rules.yamlsource import RulesError

log = logging.getLogger("ivr.rules")
WATCH_SECONDS = 2.0
T = TypeVar("T")


class RulesHolder(Generic[T]):
    def __init__(self, path: Path, build: Callable[[Rules], T]) -> None:
        """`build` makes, from each valid rule set, what the user reads as `current`. RulesError propagates: a
        command never starts on invalid rules."""
        self.path = path
        self._build = build
        self.current = build(load_rules(path))
        self._signature = self._stat()
        self._reported = ""

    def _stat(self) -> tuple[float, int, int]:
        """The rules file as it is on disk now. (The prompt manifest is read again on every reload, but only a
        change of the rules file itself, or SIGHUP, triggers one.)"""
        try:
            st = os.stat(self.path)
        except OSError:
            return (0.0, 0, 0)
        return (st.st_mtime, st.st_size, st.st_ino)

    def changed(self) -> bool:
        return self._stat() != self._signature

    def reload(self) -> bool:
        """Load the file again; True when new rules are now in use. Safe to run in a thread."""
        signature = self._stat()
        try:
            rules = load_rules(self.path)
        except RulesError as exc:
            self._signature = signature
            text = str(exc)
            if text != self._reported:
                self._reported = text
                log.error("rules reload refused, the previous rules stay in use: %d problem(s)", len(exc.problems))
                for problem in exc.problems:
                    log.error("%s", problem)
            return False
        self.current = self._build(rules)
        self._signature = signature
        self._reported = ""
        log.info("rules reloaded from %s: %d routable numbers", self.path, len(rules.lines))
        return True


class Reloads:
    """One load at a time: a reload asked for while one runs is done once after it, so loads never pile up in the
    thread pool the ticket writes share, and never finish out of order (an older load landing last would put
    older rules back)."""

    def __init__(self, holder: RulesHolder[Any], run: Callable[..., Deferred[Any]] = threads.deferToThread) -> None:
        """`run(f)` runs f in a thread and returns a Deferred of its result (tests run it when they say)."""
        self.holder = holder
        self._run = run
        self._running = False
        self._again = False

    def ask(self) -> None:
        if self._running:
            self._again = True
            return
        self._running = True
        loading = self._run(self.holder.reload)
        loading.addErrback(lambda f: log.error("rules reload failed: %s", f.value))
        loading.addBoth(self._finished)

    def _finished(self, _: object) -> None:
        self._running = False
        if self._again:
            self._again = False
            self.ask()


def follow(holder: RulesHolder[Any], reactor: Any) -> None:
    """Reload on SIGHUP and whenever the file has changed (checked every WATCH_SECONDS). Loading runs in a thread:
    a large file, or a slow disk, never holds up the reactor's calls."""
    reloads = Reloads(holder)

    def on_sighup(signum: int, frame: FrameType | None) -> None:
        reactor.callFromThread(reloads.ask)

    signal.signal(signal.SIGHUP, on_sighup)
    watch = task.LoopingCall(lambda: reloads.ask() if holder.changed() else None)
    watch.clock = reactor
    watch.start(WATCH_SECONDS, now=False)
