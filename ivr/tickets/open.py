"""The `--store` URL that picks a ticket store, apart from the interface so the stores need not import their opener.

- `sqlite:///PATH` (default `sqlite:///tickets.db`, a path in the working folder; `sqlite:////var/lib/...` for an
  absolute one): one host, no server; the engine writes while `ivr tickets` reads (WAL).
- `redis://HOST:PORT/DB`: several engines on several hosts share it; it also delivers the stubs to the
  department systems through streams. The password comes from IVR_REDIS_PASSWORD or IVR_REDIS_PASSWORD_FILE,
  never from the URL, which shows in `ps` and in logs.
- `redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE/DB`: the same, on whichever server the sentinels name the
  primary of SERVICE; the sentinels' own password, if they have one, from IVR_REDIS_SENTINEL_PASSWORD(_FILE).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ivr.secrets import secret_from_environment
from ivr.tickets.redis import RedisStore
from ivr.tickets.redisurl import parse_redis_url
from ivr.tickets.sqlite import SqliteStore
from ivr.tickets.store import TicketStore

DEFAULT_STORE = "sqlite:///tickets.db"
REDIS_PASSWORD = "IVR_REDIS_PASSWORD"
SENTINEL_PASSWORD = "IVR_REDIS_SENTINEL_PASSWORD"


def open_store(url: str, environ: Mapping[str, str] | None = None) -> TicketStore:
    """The store a `--store` URL names; ValueError for a URL that names none, or that holds a password."""
    if url.startswith("sqlite:///"):
        return SqliteStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("redis://", "redis+sentinel://")):
        address = parse_redis_url(url, f"{REDIS_PASSWORD} or {REDIS_PASSWORD}_FILE")
        password = secret_from_environment(REDIS_PASSWORD, environ) or None
        sentinels = secret_from_environment(SENTINEL_PASSWORD, environ) if address.service else ""
        return RedisStore(address, password, sentinels or None)
    raise ValueError(f"{url!r}: expected sqlite:///PATH, redis://HOST:PORT/DB or redis+sentinel://HOST:PORT/SERVICE/DB")
