"""A real redis-server on a free loopback port, in a folder of its own, started and stopped by the tests.

No snapshots and no append-only file unless a test asks for one (`durable`): a test that kills Redis and starts
it again needs what was written before the kill to still be there, as on a production server.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

DURABLE = ("--appendonly", "yes", "--appendfsync", "always")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisServer:
    folder: Path
    port: int = field(default_factory=free_port)
    extra: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, password: str | None = None) -> redis.Redis:
        return redis.Redis(port=self.port, password=password, decode_responses=True)

    def start(self) -> RedisServer:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is missing: apt-get install redis-server (.ci/run installs it)")
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.folder), *self.extra]
        path = self.folder / "redis.log"
        # A restart appends to the same log: only what this start writes can say it is ready.
        started_at = path.stat().st_size if path.exists() else 0
        with path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)
        deadline = time.monotonic() + 10
        while b"Ready to accept connections" not in path.read_bytes()[started_at:]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"redis-server did not start:\n{path.read_text()[started_at:]}")
            time.sleep(0.02)
        return self

    def kill(self) -> None:
        """As a crash: SIGKILL, nothing flushed but what was already on disk."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
