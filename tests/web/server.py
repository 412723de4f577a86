"""A real `ivr web` process on a free loopback port, and plain HTTP reads of it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from tests.serve.engine import Engine

LISTENING = re.compile(r"wallboard on http://127\.0\.0\.1:(\d+)/")


def start_web(folder: Path, store: str, rules: Path, *extra: str, env: Mapping[str, str] | None = None) -> Engine:
    log = folder / "web.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "ivr.cli.main", "web", "--port", "0", "--store", store, "--rules", str(rules), *extra],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=folder,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 30
    while True:
        match = LISTENING.search(log.read_text(encoding="utf-8", errors="replace"))
        if match:
            return Engine(process, int(match.group(1)), log, rules)
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"ivr web did not start:\n{log.read_text()}")
        time.sleep(0.05)


def get(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body; an HTTP error status is an answer here, not an exception."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=dict(headers or {})), timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
