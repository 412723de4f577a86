"""A real `ivr monitor` process against the loopback AMI peer, and `ivr queues --json` to read what it stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.ami.peer import LAB_USER
from tests.serve.engine import Engine


def start_monitor(
    folder: Path,
    ami_port: int,
    store: str,
    secret: str,
    rules: Path,
    login: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
) -> Engine:
    """`ivr monitor` on `ami_port`; its AMI login is the lab user and `secret` unless `login` gives the environment
    an admin would (IVR_AMI_USER, IVR_AMI_SECRET_FILE); `extra`: more options (the last of one wins, e.g. --name).
    A restart in the same folder appends to the same log."""
    log = folder / "monitor.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_AMI_")}
    env.update(login if login is not None else {"IVR_AMI_USER": LAB_USER, "IVR_AMI_SECRET": secret})
    spool = str(folder / "monitor-spool")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ivr.cli.main",
            "monitor",
            "--ami-port",
            str(ami_port),
            "--store",
            store,
            "--rules",
            str(rules),
            "--name",
            "m1",
            "--spool",
            spool,
            *extra,
        ],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=folder,
        env=env,
    )
    return Engine(process, ami_port, log, rules)


def queues(store: str, rules: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "queues", "--json", "--store", store, "--rules", str(rules)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll until `check()` is truthy (a hang guard, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.1)
