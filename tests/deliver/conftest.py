"""A department's HTTPS receiver in a process of its own, on a free loopback port, with a certificate the test made."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.tickets.open import open_store
from ivr.tickets.store import TicketStore
from tests.deliver.certificate import Certificates, make_certificates
from tests.tickets.redisserver import DURABLE, RedisServer, free_port

SECRET = "department-shared-secret"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Department:
    """One department's receiver; `start` again after `stop` (a restart) on the same port and log."""

    certificates: Certificates
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/ivr/tickets"

    def start(self, *behaviour: str) -> Department:
        command = [sys.executable, "-m", "tests.deliver.receiver", str(self.port), str(self.certificates.certificate)]
        command += [str(self.certificates.key), str(self.log), SECRET, *behaviour]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "listening"
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def requests(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def stored(self) -> list[dict[str, object]]:
        """What the department accepted (2xx), in the order it came."""
        return [r for r in self.requests() if r["status"] == 200]

    def duplicates(self) -> dict[str, int]:
        """Idempotency keys accepted more than once: what the department's own dedup would absorb."""
        counts = Counter(str(r["key"]) for r in self.stored())
        return {key: n for key, n in counts.items() if n > 1}


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path)


@pytest.fixture
def department(tmp_path: Path, certificates: Certificates) -> Iterator[Callable[[], Department]]:
    made: list[Department] = []

    def make() -> Department:
        found = Department(certificates, tmp_path / f"received-{len(made)}.jsonl")
        made.append(found)
        return found

    yield make
    for one in made:
        one.stop()


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TicketStore]:
    """Each test runs on both stores: the embedded SQLite file and a real redis-server."""
    if request.param == "sqlite":
        found = open_store(f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'tickets.db'}")
        yield found
        found.close()
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"), extra=DURABLE).start()
    found = open_store(server.url)
    found.redis_server = server  # type: ignore[attr-defined]
    yield found
    found.close()
    server.stop()


def rules_with_delivery(folder: Path, receiver) -> Path:
    """The shipped rules, 12348's system delivered to the test's department."""
    text = (ROOT / "routing_rules.yaml").read_text(encoding="utf-8")
    text = text.replace("prompt_manifest: recordings/", f"prompt_manifest: {ROOT}/recordings/", 1)
    delivery = (
        f"    delivery:\n      url: {receiver.url}\n      secret_env: IVR_SECRET_12348\n"
        f"      ca_file: {receiver.certificates.ca}\n      timeout: 2\n"
    )
    text = text.replace(
        "    name_en: 12348 public legal service system\n",
        "    name_en: 12348 public legal service system\n" + delivery,
        1,
    )
    path = folder / "routing_rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path
