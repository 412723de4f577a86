"""Wiring of the monitor to the runtime: the AMI connection, the recorder's timer, the dialler, a clean stop."""

from __future__ import annotations

import logging
from pathlib import Path

from ivr.ami.client import AmiMonitor, Credentials
from ivr.ami.dialler import Dialler
from ivr.ami.recorder import Recorder, board_document
from ivr.hosts import address_name
from ivr.rules.model import Rules
from ivr.runtime import service as runtime
from ivr.runtime.rulesholder import RulesHolder
from ivr.runtime.service import reactor
from ivr.tickets.book import TicketBook
from ivr.tickets.store import StoreUnavailable

log = logging.getLogger("ivr.ami")
CONNECT_SECONDS = 5.0
# How far back queue_log is read after a gap: a day (today's figures, the call-back list); a monitor that never ran
# before, or was stopped for longer, starts there too. queue_log counts whole seconds, hence the slack.
CATCH_UP_SECONDS = 24 * 3600.0
QUEUE_LOG_SLACK = 2.0


def last_watched(book: TicketBook, name: str) -> float | None:
    """When the last run of the monitor called `name` last saw Asterisk's events: its board's last update while
    the link was up, or when the link went down. None when there is no such board (or no store to ask)."""
    try:
        document = book.store.boards().get(name)
    except StoreUnavailable:
        return None
    if not document:
        return None
    updated = float(document.get("updated") or 0.0)
    link = document.get("link") or {}
    return updated if link.get("up") else min(updated, float(link.get("since") or updated))


def monitor(
    host: str,
    port: int,
    name: str,
    credentials: Credentials,
    holder: RulesHolder[Rules],
    book: TicketBook,
    queue_log: Path | None = None,
    asterisk: str = "",
) -> int:
    """Run until SIGTERM or SIGINT; SIGHUP or a change of the rules file reloads the rules (`follow`). After each
    time no events could be seen, what Asterisk's `queue_log` says happened meanwhile is stored too. `asterisk`:
    the name of the Asterisk host watched (ivr.hosts), "" to name it by its AMI address."""

    def rules() -> Rules:
        return holder.current

    previous = last_watched(book, name)  # before this run's board replaces the last one's

    def caught_up(since: float | None) -> None:
        if queue_log is None:
            return
        until = reactor.seconds()
        if since is None:  # this run's first link: the gap began when the last run stopped watching
            since = previous if previous is not None else 0.0
        recorder.catch_up(queue_log, max(since, until - CATCH_UP_SECONDS) - QUEUE_LOG_SLACK, until)

    asterisk = asterisk or address_name(host)
    recorder = Recorder(book, rules, name, reactor, host=asterisk)
    ami = AmiMonitor(
        credentials,
        reactor,
        on_facts=lambda facts: (recorder.facts(facts), dialler.facts(facts)),
        on_link_up=caught_up,
    )
    dialler = Dialler(rules, ami, recorder, reactor)
    reactor.connectTCP(host, port, ami, timeout=CONNECT_SECONDS)
    log.info(
        "ivr monitor %s: Asterisk %s, AMI at %s:%d as %s, rules %s, tickets %s (fallback stubs as %s), "
        "automatic call-backs %s, queue_log %s",
        name,
        asterisk,
        host,
        port,
        credentials.username,
        holder.path,
        book.store.name,
        book.counter.engine,
        "on" if rules().callbacks.automatic else "off",
        queue_log or "not read (a caller who gives up while no monitor is connected is not on the call-back list)",
    )

    def document() -> dict[str, object]:
        return board_document(name, ami.board, reactor.seconds(), ami.link(), ami.snapshots)

    def stop() -> object:
        ami.stopTrying()
        dialler.stop()
        return recorder.stop()

    return runtime.run(
        f"ivr monitor {name}",
        log,
        holder,
        start=[lambda: recorder.start(document), dialler.start],
        stop=stop,
        close=book.close,
    )
