"""The `--store` URL that picks a ticket store, apart from the interface so the stores need not import their opener.

- `sqlite:///PATH` (default `sqlite:///tickets.db`, a path in the working folder; `sqlite:////var/lib/...` for an
  absolute one): one host, no server; the engine writes while `ivr tickets` reads (WAL).
- `redis://HOST:PORT/DB`: several engines on several hosts share it; it also delivers the stubs to the
  department systems through streams. The password comes from IVR_REDIS_PASSWORD or IVR_REDIS_PASSWORD_FILE,
  never from the URL, which shows in `ps` and in logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ivr.secrets import secret_from_environment
from ivr.tickets.redis import RedisStore
from ivr.tickets.sqlite import SqliteStore
from ivr.tickets.store import TicketStore

DEFAULT_STORE = "sqlite:///tickets.db"
REDIS_PASSWORD = "IVR_REDIS_PASSWORD"


def open_store(url: str, environ: Mapping[str, str] | None = None) -> TicketStore:
    """The store a `--store` URL names; ValueError for a URL that names none, or that holds a password."""
    if url.startswith("sqlite:///"):
        return SqliteStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith("redis://"):
        parts = urlsplit(url)
        if parts.password is not None or parts.username is not None:
            raise ValueError(f"put the Redis password in {REDIS_PASSWORD} or {REDIS_PASSWORD}_FILE, not in the URL")
        return RedisStore(url, secret_from_environment(REDIS_PASSWORD, environ) or None)
    raise ValueError(f"{url!r}: expected sqlite:///PATH or redis://HOST:PORT/DB")
