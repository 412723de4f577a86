"""Where a Redis store is: one server (`redis://HOST:PORT/DB`), or the primary that Sentinel names
(`redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE/DB`), asked again after every failover.

Pure: the URL in, the addresses out, so `ivr serve`, `ivr monitor`, `ivr web` and `ivr tickets` read it alike and
its mistakes are one line. A password is never part of the URL (command lines show in `ps`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.hosts import host_port

SENTINEL_SCHEME = "redis+sentinel://"
REDIS_PORT = 6379
SENTINEL_PORT = 26379


@dataclass(frozen=True)
class RedisAddress:
    """One server (`service` "") or the sentinels that name the primary of `service`; `db` the database number."""

    hosts: tuple[tuple[str, int], ...]
    service: str
    db: int

    @property
    def name(self) -> str:
        """The URL as logs may show it."""
        hosts = ",".join(f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for host, port in self.hosts)
        if self.service:
            return f"{SENTINEL_SCHEME}{hosts}/{self.service}/{self.db}"
        return f"redis://{hosts}/{self.db}"


def parse_redis_url(url: str, password_hint: str) -> RedisAddress:
    """ValueError, saying what is wrong, for a URL that is not a Redis store's or holds a password (`password_hint`
    says where the password goes instead)."""
    sentinel = url.startswith(SENTINEL_SCHEME)
    if not sentinel and not url.startswith("redis://"):
        raise ValueError(f"{url!r}: expected redis://HOST:PORT/DB or {SENTINEL_SCHEME}HOST:PORT,.../SERVICE/DB")
    location, _, path = url.split("://", 1)[1].partition("/")
    if "@" in location:
        raise ValueError(f"put the Redis password in {password_hint}, not in the URL")
    hosts = tuple(host_port(part, SENTINEL_PORT if sentinel else REDIS_PORT) for part in location.split(","))
    parts = path.split("/") if path else []
    if sentinel:
        if not parts or not parts[0]:
            raise ValueError(f"{url!r}: name the Sentinel service after the sentinels: …/SERVICE/DB")
        service, parts = parts[0], parts[1:]
    else:
        if len(hosts) != 1:
            raise ValueError(f"{url!r}: one Redis server; several are for {SENTINEL_SCHEME}")
        service = ""
    if len(parts) > 1 or (parts and not parts[0].isdigit() and parts[0] != ""):
        raise ValueError(f"{url!r}: the database is a number after the last '/' (e.g. /0)")
    return RedisAddress(hosts, service, int(parts[0]) if parts and parts[0] else 0)
