"""A real `ivr serve` process on a free loopback port, for tests that go over real sockets."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT, SHIPPED_RULES

LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


@dataclass
class Engine:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    rules: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, needle: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.log_text():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{needle!r} never appeared in the engine log:\n{self.log_text()}")
            time.sleep(0.05)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def copy_rules(folder: Path) -> Path:
    shutil.copy(SHIPPED_RULES, folder / "routing_rules.yaml")
    shutil.copytree(
        ROOT / "recordings", folder / "recordings", ignore=shutil.ignore_patterns("*.wav", "*.alaw"), dirs_exist_ok=True
    )
    return folder / "routing_rules.yaml"


def start_engine(folder: Path, *extra: str, rules: Path | None = None) -> Engine:
    """`ivr serve` on a free port (or the `--port` in `extra`), with the shipped rules unless `rules` is given. A
    restart in the same folder appends to the same log: only what this start writes can say it listens."""
    rules = rules or copy_rules(folder)
    log = folder / "engine.log"
    started_at = log.stat().st_size if log.exists() else 0
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "ivr.cli.main", "serve", "--port", "0", "--rules", str(rules), *extra],
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    deadline = time.monotonic() + 30
    while True:
        match = LISTENING.search(log.read_bytes()[started_at:].decode("utf-8", "replace"))
        if match:
            return Engine(process, int(match.group(1)), log, rules)
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"ivr serve did not start:\n{log.read_text()}")
        time.sleep(0.05)


def restart_engine(folder: Path, port: int, *extra: str, rules: Path | None = None) -> Engine:
    """The engine again on the same port, store and spool: as systemd's Restart=always does."""
    for _ in range(100):  # the kernel may hold the port for a moment after the kill
        try:
            return start_engine(folder, "--port", str(port), *extra, rules=rules)
        except AssertionError as exc:
            if "Address already in use" not in str(exc):
                raise
            time.sleep(0.1)
    raise AssertionError(f"port {port} stayed busy")


def save(path: Path, text: str) -> None:
    """As an editor saves: the whole new file at once, so a file watch never reads half of it."""
    part = path.with_name(path.name + ".part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)
