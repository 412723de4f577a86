"""The suite started as a background job (SIGINT ignored, as `sh bin/test > log &` or nohup leave it): the tests
that interrupt a child still stop it, since the children get the default dispositions (tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

WATCH = "tests/ami/test_monitor.py::test_queues_watch_prints_again_until_interrupted"


def test_a_test_that_interrupts_its_child_passes_with_sigint_ignored():
    started_in_the_background = (
        "import signal, subprocess, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        f"sys.exit(subprocess.call([sys.executable, '-m', 'pytest', '-p', 'no:xdist', '-p', 'no:cacheprovider', "
        f"'{WATCH}']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", started_in_the_background], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-2000:]
