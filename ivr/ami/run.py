"""Wiring of the monitor to a real reactor: the AMI connection, the recorder's timer, rules reloads, a clean stop."""

from __future__ import annotations

import logging

from twisted.internet import reactor as _reactor

from ivr.ami.client import AmiMonitor, Credentials
from ivr.ami.dialler import Dialler
from ivr.ami.recorder import Recorder, board_document
from ivr.rules.model import Rules
from ivr.serve.rulesholder import RulesHolder, follow
from ivr.tickets.book import TicketBook

log = logging.getLogger("ivr.ami")
reactor = _reactor  # typed as Any by Twisted; one name for the global reactor
CONNECT_SECONDS = 5.0


def monitor(
    host: str, port: int, name: str, credentials: Credentials, holder: RulesHolder[Rules], book: TicketBook
) -> int:
    """Run until SIGTERM or SIGINT; SIGHUP or a change of the rules file reloads the rules (`follow`)."""

    def rules() -> Rules:
        return holder.current

    recorder = Recorder(book, rules, name, reactor)
    ami = AmiMonitor(credentials, reactor, on_facts=lambda facts: (recorder.facts(facts), dialler.facts(facts)))
    dialler = Dialler(rules, ami, recorder, reactor)
    reactor.connectTCP(host, port, ami, timeout=CONNECT_SECONDS)
    log.info(
        "ivr monitor %s: AMI at %s:%d as %s, rules %s, tickets %s (fallback stubs as %s), automatic call-backs %s",
        name,
        host,
        port,
        credentials.username,
        holder.path,
        book.store.name,
        book.counter.engine,
        "on" if rules().callbacks.automatic else "off",
    )
    follow(holder, reactor)

    def document() -> dict[str, object]:
        return board_document(name, ami.board, reactor.seconds(), ami.link(), ami.snapshots)

    def stop() -> object:
        ami.stopTrying()
        dialler.stop()
        return recorder.stop()

    reactor.callWhenRunning(recorder.start, document)
    reactor.callWhenRunning(dialler.start)
    reactor.addSystemEventTrigger("before", "shutdown", stop)
    reactor.run()
    book.close()
    return 0
