"""The Redis store's outbox: each data link's stream (written by the stub's own script), read through the link's
consumer group by the deliverer that holds the link's lease, as the one consumer `ivr-deliver`: what it read and
did not acknowledge stays in the group's pending list, so a deliverer that takes over reads it again first.

Beside the stream: `deliver:lease:LINK` (the lease), `deliver:attempts:LINK` (entry id -> attempts and the last
error) and `deliver:failed:LINK` (entry id -> the parked event, acknowledged in the group).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis

from ivr.tickets.outbox import Event, LinkCounts

T = TypeVar("T")
CONSUMER = "ivr-deliver"
SCAN = 10_000  # at most this many pending events are listed per link
LEASE = """
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


class RedisOutbox:
    def __init__(self, client: redis.Redis, prefix: str, call: Callable[[Callable[[], Any]], Any]) -> None:
        """`call` runs an operation, turning Redis errors into StoreUnavailable (the store's own)."""
        self.client = client
        self.prefix = prefix
        self._call = call
        self._lease = client.register_script(LEASE)

    def take(self, link: str, owner: str, lease_seconds: float, limit: int) -> list[Event] | None:
        def take() -> list[Event] | None:
            if not self._lease(keys=[self._key("lease", link)], args=[owner, int(lease_seconds * 1000)]):
                return None
            entries = self._read(link, "0", limit)  # read before and not acknowledged: first, in order
            if len(entries) < limit:
                entries += self._read(link, ">", limit - len(entries))
            gone = [entry_id for entry_id, fields in entries if not fields]  # trimmed from the stream meanwhile
            if gone:
                self.client.xack(self._stream(link), link, *gone)
            kept = [(entry_id, fields) for entry_id, fields in entries if fields]
            return self._events(link, kept)

        return self._call(take)

    def delivered(self, event: Event) -> None:
        def done() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.xack(self._stream(event.link), event.link, event.key)
            pipe.hdel(self._key("attempts", event.link), event.key)
            pipe.execute()

        self._call(done)

    def attempted(self, event: Event, error: str) -> None:
        record = json.dumps({"attempts": event.attempts + 1, "error": error}, ensure_ascii=False)
        self._call(lambda: self.client.hset(self._key("attempts", event.link), event.key, record))

    def park(self, event: Event, error: str) -> None:
        record = {
            "event": event.event,
            "id": event.ticket,
            "revision": event.revision,
            "written": event.written,
            "since": event.since,
            "stub": event.stub,
            "attempts": event.attempts + 1,
            "error": error,
        }

        def park() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(self._key("failed", event.link), event.key, json.dumps(record, ensure_ascii=False))
            pipe.xack(self._stream(event.link), event.link, event.key)
            pipe.hdel(self._key("attempts", event.link), event.key)
            pipe.execute()

        self._call(park)

    def listing(self, links: Sequence[str], failed_only: bool) -> list[Event]:
        def listing() -> list[Event]:
            found: list[Event] = []
            for link in links:
                if not failed_only:
                    found += self._events(link, self._pending(link))
                found += self._failed(link)
            return found

        return self._call(listing)

    def retry(self, links: Sequence[str], keys: Sequence[str]) -> int:
        def retry() -> int:
            count = 0
            for link in links:
                failed = self.client.hgetall(self._key("failed", link))
                for key in sorted(k for k in failed if not keys or k in keys):
                    record = json.loads(failed[key])
                    pipe = self.client.pipeline(transaction=True)
                    pipe.xadd(
                        self._stream(link),
                        {
                            "event": record["event"],
                            "id": record["id"],
                            "line": record["stub"].get("line", ""),
                            "revision": record["revision"],
                            "stub": json.dumps(record["stub"], ensure_ascii=False),
                            "written": record["written"],
                        },
                    )
                    pipe.hdel(self._key("failed", link), key)
                    pipe.execute()
                    count += 1
            return count

        return self._call(retry)

    def counts(self, links: Sequence[str]) -> dict[str, LinkCounts]:
        def counts() -> dict[str, LinkCounts]:
            found = {}
            for link in links:
                pending = self._pending(link, limit=1)
                total = self._pending_count(link)
                oldest = _written(pending[0][0], pending[0][1]) if pending else None
                found[link] = LinkCounts(total, int(self.client.hlen(self._key("failed", link))), oldest)
            return found

        return self._call(counts)

    # --- reading the stream ------------------------------------------------------------------------------

    def _read(self, link: str, start: str, count: int) -> list[tuple[str, dict[str, str]]]:
        try:
            reply = self.client.xreadgroup(link, CONSUMER, {self._stream(link): start}, count=count)
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # no stub of this link yet: its stream and group do not exist
                return []
            raise
        return [(entry_id, fields or {}) for _, entries in reply for entry_id, fields in entries]

    def _group(self, link: str) -> dict[str, Any] | None:
        try:
            groups = self.client.xinfo_groups(self._stream(link))
        except redis.ResponseError:
            return None
        return next((g for g in groups if g["name"] == link), None)

    def _pending(self, link: str, limit: int = SCAN) -> list[tuple[str, dict[str, str]]]:
        """Read and not acknowledged, then not yet read: in order."""
        group = self._group(link)
        if group is None:
            return []
        stream = self._stream(link)
        ids = [p["message_id"] for p in self.client.xpending_range(stream, link, "-", "+", limit)]
        entries: list[tuple[str, dict[str, str]]] = []
        for entry_id in ids:
            entries += [(i, f) for i, f in self.client.xrange(stream, entry_id, entry_id) if f]
        if len(entries) < limit:
            entries += self.client.xrange(stream, f"({group['last-delivered-id']}", "+", count=limit - len(entries))
        return entries

    def _pending_count(self, link: str) -> int:
        group = self._group(link)
        if group is None:
            return 0
        lag = group.get("lag")
        if lag is None:  # Redis cannot tell after some trims: count what follows the last read entry
            lag = len(self.client.xrange(self._stream(link), f"({group['last-delivered-id']}", "+"))
        return int(group["pending"]) + int(lag)

    def _events(self, link: str, entries: list[tuple[str, dict[str, str]]]) -> list[Event]:
        if not entries:
            return []
        attempts = self.client.hmget(self._key("attempts", link), [entry_id for entry_id, _ in entries])
        events = []
        for (entry_id, fields), record in zip(entries, attempts, strict=True):
            tried = json.loads(record) if record else {"attempts": 0, "error": ""}
            events.append(
                Event(
                    key=entry_id,
                    link=link,
                    ticket=fields["id"],
                    revision=int(fields["revision"]),
                    event=fields["event"],
                    written=_written(entry_id, fields),
                    since=_milliseconds(entry_id),
                    stub=json.loads(fields["stub"]),
                    attempts=int(tried["attempts"]),
                    error=str(tried["error"]),
                )
            )
        return events

    def _failed(self, link: str) -> list[Event]:
        failed = self.client.hgetall(self._key("failed", link))
        events = []
        for key in sorted(failed, key=_order):
            r = json.loads(failed[key])
            events.append(
                Event(key, link, r["id"], int(r["revision"]), r["event"], float(r["written"]), float(r["since"]),
                      r["stub"], int(r["attempts"]), r["error"], failed=True)
            )  # fmt: skip
        return events

    def _stream(self, link: str) -> str:
        return f"{self.prefix}stream:{link}"

    def _key(self, kind: str, link: str) -> str:
        return f"{self.prefix}deliver:{kind}:{link}"


def _milliseconds(entry_id: str) -> float:
    return int(entry_id.partition("-")[0]) / 1000


def _written(entry_id: str, fields: dict[str, str]) -> float:
    """When the stub was stored: the entry's own time, or for an entry sent again, the first one's."""
    return float(fields["written"]) if "written" in fields else _milliseconds(entry_id)


def _order(entry_id: str) -> tuple[int, int]:
    first, _, second = entry_id.partition("-")
    return int(first), int(second or 0)
