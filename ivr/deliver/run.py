"""`ivr deliver` on the runtime: one sender per delivering data link, each stepping in a thread (the store and the
department are blocking I/O), one step at a time; the senders follow the rules as they are reloaded."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from twisted.internet import task, threads
from twisted.internet.defer import Deferred, DeferredList

from ivr.deliver.https import Department
from ivr.deliver.sender import LinkSender
from ivr.rules.deliverysection import plain_http
from ivr.rules.model import DataLink, Rules
from ivr.runtime import service as runtime
from ivr.runtime.rulesholder import RulesHolder
from ivr.runtime.service import reactor
from ivr.tickets.store import TicketStore

log = logging.getLogger("ivr.deliver")
SYNC_SECONDS = 1.0  # how soon a reload's new, changed or removed delivery is followed


def delivering(rules: Rules) -> dict[str, DataLink]:
    return {name: link for name, link in rules.data_links.items() if link.delivery is not None}


class Deliverer:
    def __init__(
        self, holder: RulesHolder[Rules], store: TicketStore, owner: str, secret: Callable[[str], str]
    ) -> None:
        """`secret(variable)` reads a link's secret (from the environment or its file); "" when there is none."""
        self.holder = holder
        self.outbox = store.deliveries()
        self.owner = owner
        self.secret = secret
        self.senders: dict[str, LinkSender] = {}
        self.running: dict[str, Deferred[object]] = {}  # the step in a thread now, per link
        self.looping: set[str] = set()  # links whose steps follow each other: one chain per link, ever
        self.stopping = False
        self._missing: set[str] = set()

    def sync(self) -> None:
        """Senders for the links the current rules deliver, each started once; a changed delivery restarts its."""
        links = delivering(self.holder.current)
        for name in list(self.senders):
            if links.get(name) != self.senders[name].link:
                del self.senders[name]
        for name, link in links.items():
            if name in self.senders or link.delivery is None:
                continue
            secret = self.secret(link.delivery.secret_env)
            if not secret:
                if name not in self._missing:
                    log.error("ALARM data link %s: no secret in %s or %s_FILE: not delivered", name,
                              link.delivery.secret_env, link.delivery.secret_env)  # fmt: skip
                self._missing.add(name)
                continue
            self._missing.discard(name)
            department = Department(link.delivery)
            self.senders[name] = LinkSender(link, self.outbox, department.post, secret.encode(), self.owner)
            log.info("data link %s: delivering to %s", name, link.delivery.url)
            if name not in self.looping:
                self.looping.add(name)
                self._step(name)

    def _step(self, name: str) -> None:
        """One step of the link's current sender (a reload may have replaced it), then the next after its wait."""
        sender = self.senders.get(name)
        if sender is None or self.stopping:
            self.looping.discard(name)
            return
        stepping: Deferred[float] = threads.deferToThread(sender.step, reactor.seconds())

        def next_step(wait: object) -> None:
            self.running.pop(name, None)
            delay = wait if isinstance(wait, float) else 1.0
            if not isinstance(wait, float):
                log.error("data link %s: %s", name, getattr(wait, "value", wait))
            reactor.callLater(delay, self._step, name)

        self.running[name] = stepping
        stepping.addBoth(next_step)

    def stop(self) -> Deferred[object]:
        """Sending ends after the event in flight: what is recorded as delivered was delivered."""
        self.stopping = True
        for sender in self.senders.values():
            sender.stopping = True
        return DeferredList(list(self.running.values()))


def deliver(holder: RulesHolder[Rules], store: TicketStore, owner: str, secret: Callable[[str], str]) -> int:
    deliverer = Deliverer(holder, store, owner, secret)
    links: Mapping[str, DataLink] = delivering(holder.current)
    log.info(
        "ivr deliver %s: tickets %s, rules %s, data links %s",
        owner,
        store.name,
        holder.path,
        ", ".join(f"{n} -> {link.delivery.url}" for n, link in links.items() if link.delivery) or "none delivering",
    )
    for name, link in links.items():
        if link.delivery is not None and plain_http(link.delivery):
            log.warning("data link %s is delivered over plain http (%s): for tests only", name, link.delivery.url)
    return runtime.run(
        f"ivr deliver {owner}",
        log,
        holder,
        start=[lambda: _every(SYNC_SECONDS, deliverer.sync)],
        stop=deliverer.stop,
        close=store.close,
    )


def _every(seconds: float, work: Callable[[], None]) -> None:
    loop = task.LoopingCall(work)
    loop.clock = reactor
    loop.start(seconds)
