"""The `ivr` command as an admin runs it: a real process, its exit code and its output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def ivr(*args: str, stdin: str = "", cwd: Path = ROOT, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """`path` replaces PATH, to run without Graphviz's programs."""
    env = {**os.environ, "TZ": "UTC"}
    env.pop("IVR_RULES", None)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
