"""The life of every long-running command (`ivr serve`, `ivr monitor`, `ivr web`), in one place so a new service
is a few lines and none of them differs in how it starts, reloads or stops.

The rules follow SIGHUP and changes of the file; systemd hears READY=1 once the reactor runs, a watchdog ping from
a reactor timer (so a stalled reactor is restarted) and STOPPING=1 when the stop begins. SIGTERM and SIGINT stop the
reactor (Twisted's own handlers); the command's stop runs before the reactor's threads end, so whatever it still
writes in a thread is written; then its resources are closed and one line says it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import reactor as _reactor
from twisted.internet import task

from ivr.runtime import systemd
from ivr.runtime.rulesholder import RulesHolder, follow

reactor = _reactor  # typed as Any by Twisted; one name for the global reactor


def run(
    title: str,
    log: logging.Logger,
    holder: RulesHolder[Any],
    start: Sequence[Callable[[], object]] = (),
    stop: Callable[[], object] = lambda: None,
    close: Callable[[], object] = lambda: None,
) -> int:
    """Run the reactor until SIGTERM or SIGINT: `start` once it runs, `stop` (which may return a Deferred the
    shutdown waits for) before it ends, `close` after; 0 for the exit code."""
    follow(holder, reactor)
    interval = systemd.watchdog_interval()
    if interval:
        task.LoopingCall(systemd.notify, "WATCHDOG=1").start(interval)

    def stopping() -> object:
        systemd.notify("STOPPING=1")
        return stop()

    reactor.addSystemEventTrigger("before", "shutdown", stopping)
    for begin in start:
        reactor.callWhenRunning(begin)
    reactor.callWhenRunning(systemd.notify, "READY=1")
    reactor.run()
    close()
    log.info("%s stopped", title)
    return 0
