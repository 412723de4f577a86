"""A Redis primary, its replica and three sentinels, all real `redis-server` processes on free loopback ports in
folders of their own, started and stopped by the tests. The sentinels decide quickly (the primary is down after
1 s without an answer, a failover may take 2 s), so a test sees a failover in a few seconds without any sleep of
its own: it waits for what the sentinels say."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.tickets.redisserver import DURABLE, RedisServer, free_port

SERVICE = "tickets"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 2000


@dataclass
class Sentinel:
    folder: Path
    primary_port: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Sentinel:
        conf = self.folder / "sentinel.conf"  # the sentinel rewrites it with what it learns: its own, writable
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.folder}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {SERVICE} 1\n",
            encoding="utf-8",
        )
        log = (self.folder / "sentinel.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", str(conf), "--sentinel"], stdout=log, stderr=subprocess.STDOUT, cwd=self.folder
        )
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class SentinelSet:
    folder: Path
    primary: RedisServer = field(init=False)
    replica: RedisServer = field(init=False)
    sentinels: list[Sentinel] = field(default_factory=list)

    def __post_init__(self) -> None:
        for sub in ("primary", "replica", "s1", "s2", "s3"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        self.primary = RedisServer(self.folder / "primary", extra=DURABLE)
        self.replica = RedisServer(
            self.folder / "replica", extra=(*DURABLE, "--replicaof", "127.0.0.1", str(self.primary.port))
        )

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def start(self) -> SentinelSet:
        self.primary.start()
        self.replica.start()
        replication = self.replica.client().info
        wait_until("the replica in sync", lambda: replication("replication")["master_link_status"] == "up")
        self.sentinels = [Sentinel(self.folder / f"s{n}", self.primary.port).start() for n in (1, 2, 3)]
        wait_until("every sentinel knows the replica and the two other sentinels", self._all_known)
        return self

    def primary_port(self) -> int:
        """The primary's port as the first sentinel that answers says it."""
        for sentinel in self.sentinels:
            try:
                _, port = sentinel.client().sentinel_get_master_addr_by_name(SERVICE)
                return int(port)
            except redis.RedisError:
                continue
        raise AssertionError("no sentinel answers")

    def failed_over(self) -> bool:
        """Every sentinel names the replica the primary now, and the replica says so itself."""
        ports = set()
        for sentinel in self.sentinels:
            _, port = sentinel.client().sentinel_get_master_addr_by_name(SERVICE)
            ports.add(int(port))
        role = self.replica.client().info("replication")["role"]
        return ports == {self.replica.port} and role == "master"

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.stop()
        self.replica.stop()
        self.primary.stop()

    def _all_known(self) -> bool:
        try:
            for sentinel in self.sentinels:
                master = sentinel.client().sentinel_master(SERVICE)
                if int(master["num-slaves"]) != 1 or int(master["num-other-sentinels"]) != 2:
                    return False
        except (redis.RedisError, KeyError):
            return False
        return True


def wait_until(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll until `check()` holds (a hang guard, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)
