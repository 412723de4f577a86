"""What `ivr deliver` needs of a store: each data link's stub events in the order they were written, taken by one
deliverer at a time (a lease per link, so two deliverers never send the same event), and the record of what was
delivered, what waits for another attempt and what was parked as failed.

An event is made in the store's own write of the stub (SQLite: the outbox row in the stub's transaction; Redis:
the stream entry in the stub's script), so a stub is never stored without its delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Event:
    """One stub event of one data link, as the store holds it."""

    key: str  # the store's id of the event (SQLite: the outbox row; Redis: the stream entry), for `retry`
    link: str
    ticket: str
    revision: int
    event: str  # created or updated
    written: float  # when the stub was stored, seconds since the epoch: the delay a department sees counts from it
    since: float  # when its attempts began counting against the link's retry time (written, or the last retry)
    stub: dict[str, Any]
    attempts: int = 0
    error: str = ""  # the last attempt's failure, or why it was parked
    failed: bool = False


@dataclass(frozen=True)
class LinkCounts:
    pending: int
    failed: int
    oldest_pending: float | None  # when the oldest pending event was written


class Outbox(Protocol):
    """Every method may raise StoreUnavailable; the deliverer tries again later."""

    def take(self, link: str, owner: str, lease_seconds: float, limit: int) -> list[Event] | None:
        """Up to `limit` pending events of `link` in order, oldest first, if `owner` holds its lease (taken now if
        free or expired, and renewed for `lease_seconds`); None while another deliverer holds it."""
        ...

    def delivered(self, event: Event) -> None: ...

    def attempted(self, event: Event, error: str) -> None:
        """An attempt failed and will be made again: counted, with its error, for `ivr deliveries`."""
        ...

    def park(self, event: Event, error: str) -> None:
        """No more attempts: the event is listed as failed until `retry`; the link's later events go on."""
        ...

    def listing(self, links: Sequence[str], failed_only: bool) -> list[Event]:
        """Pending (unless `failed_only`) and failed events of `links`, by link then in order."""
        ...

    def retry(self, links: Sequence[str], keys: Sequence[str]) -> int:
        """Parked events of `links` (only those of `keys`, if any) pending again, their retry time starting now;
        how many."""
        ...

    def counts(self, links: Sequence[str]) -> dict[str, LinkCounts]: ...
