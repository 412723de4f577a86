"""One data link's deliveries, one step at a time: take the pending events (if this deliverer holds the link's
lease), send them in order, record each answer. The time is given to `step`, so tests drive the retries with their
own clock instead of waiting for them.

Order: the link's events go strictly one after the other, so a ticket's `updated` never overtakes its `created`;
while an event waits for another attempt, the events after it wait too (the department is usually down for all of
them). A parked event no longer holds the others up.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from ivr.deliver import payload
from ivr.deliver.https import Answer, Unreachable
from ivr.deliver.signing import signature
from ivr.deliver.verdict import Verdict, backoff, verdict
from ivr.rules.model import DataLink, Delivery
from ivr.tickets.outbox import Event, Outbox
from ivr.tickets.store import StoreUnavailable

log = logging.getLogger("ivr.deliver")
BATCH = 100  # events taken at a time
IDLE_SECONDS = 0.02  # how soon a link with nothing to send looks again: the most a new event waits for it
BUSY_SECONDS = 5.0  # how soon a link whose lease another deliverer holds is tried again
STORE_SECONDS = 1.0  # how soon after the store failed


def lease_seconds(delivery: Delivery) -> float:
    """Long enough for a few attempts that all time out, so a working deliverer renews it before it runs out."""
    return 3 * delivery.timeout + 10


class LinkSender:
    def __init__(
        self,
        link: DataLink,
        outbox: Outbox,
        post: Callable[[bytes, dict[str, str]], Answer],
        secret: bytes,
        owner: str,
        rng: random.Random | None = None,
        elapsed: Callable[[], float] = time.monotonic,
    ) -> None:
        if link.delivery is None:
            raise ValueError(f"data link {link.id} has no delivery")
        self.link = link
        self.delivery: Delivery = link.delivery
        self.outbox = outbox
        self.post = post
        self.secret = secret
        self.owner = owner
        self.rng = rng or random.Random()
        self.elapsed = elapsed  # a batch stops well before the lease it took could run out
        self.failures = 0  # failed attempts in a row
        self.not_before = 0.0  # no attempt before this time (the backoff)
        self.store_down = False
        self.last_error = ""
        self.stopping = False  # set by the service's stop: no new attempt begins
        # Events the department took (2xx) whose record the store refused (down): recorded, not sent, once it is back.
        self.unrecorded: set[str] = set()

    def step(self, now: float) -> float:
        """Send what can be sent now; the seconds until the next step is worth taking."""
        if now < self.not_before:
            return self.not_before - now
        lease = lease_seconds(self.delivery)
        try:
            events = self.outbox.take(self.link.id, self.owner, lease, BATCH)
            if events is None:
                return BUSY_SECONDS
            started = self.elapsed()
            for event in events:
                if self.stopping:
                    return IDLE_SECONDS
                # A take leaves at least half the lease (the store renews it when less is left): an attempt begins
                # only if it ends, even timing out, a second before that half is used up. Then take again.
                if self.elapsed() - started + self.delivery.timeout > lease / 2 - 1:
                    return 0.0
                if not self._send(event, now):
                    return self.not_before - now
        except StoreUnavailable as exc:
            if not self.store_down:
                log.warning("ALARM data link %s: ticket store unavailable: %s; deliveries wait", self.link.id, exc)
            self.store_down = True
            return STORE_SECONDS
        if self.store_down:
            log.info("data link %s: ticket store is back", self.link.id)
            self.store_down = False
        return 0.0 if len(events) == BATCH else IDLE_SECONDS

    def _send(self, event: Event, now: float) -> bool:
        """One event to its end or to a retry; False when the link must wait (the backoff)."""
        if event.event not in self.delivery.events or event.key in self.unrecorded:
            self.outbox.delivered(event)  # not a kind this department takes, or it has it already
            self.unrecorded.discard(event.key)
            return True
        if self.failures and now - event.since >= self.delivery.retry_seconds:
            self._park(event, self._too_late(self.last_error))  # the link is failing: no attempt of its own
            return True
        body = payload.body(event, self.delivery)
        timestamp = int(time.time())
        headers = payload.headers(event, timestamp, signature(self.secret, timestamp, body))
        try:
            answer = self.post(body, headers)
        except Unreachable as exc:
            return self._failed(event, str(exc), now)
        outcome = verdict(answer.status)
        if outcome is Verdict.DELIVERED:
            self.failures = 0
            try:
                self.outbox.delivered(event)
            except StoreUnavailable:
                self.unrecorded.add(event.key)
                raise
            return True
        if outcome is Verdict.PARK:
            self._park(event, answer.line)
            return True
        return self._failed(event, answer.line, now)

    def _failed(self, event: Event, error: str, now: float) -> bool:
        self.last_error = error
        if now - event.since >= self.delivery.retry_seconds:
            self.failures += 1
            self._park(event, self._too_late(error))
            return True
        self.outbox.attempted(event, error)
        self.failures += 1
        delay = backoff(self.failures, self.rng)
        self.not_before = now + delay
        if self.failures == 1:
            log.warning("data link %s: %s (ticket %s); trying again with backoff", self.link.id, error, event.ticket)
        return False

    def _too_late(self, error: str) -> str:
        return f"not delivered within {self.delivery.retry_seconds // 3600} h; last: {error}"

    def _park(self, event: Event, error: str) -> None:
        self.outbox.park(event, error)
        log.warning(
            "ALARM data link %s: %s of ticket %s parked as failed: %s (`ivr deliveries retry %s` sends it again)",
            self.link.id,
            event.event,
            event.ticket,
            error,
            event.key,
        )
