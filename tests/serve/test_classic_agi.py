"""`ivr agi`: the classic stdin/stdout entry routes like the FastAGI service, and survives SIGHUP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from ivr.agi.simulator import AsteriskSimulator, SimulatedCall
from tests.conftest import ROOT, SHIPPED_RULES


def start() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ivr.cli.main", "agi", "--rules", str(SHIPPED_RULES)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )


def read_command(process: subprocess.Popen[bytes]) -> bytes:
    assert process.stdout is not None
    return process.stdout.readline()


def test_classic_agi_routes_a_call_to_its_end():
    process = start()
    simulator = AsteriskSimulator(SimulatedCall("12333", caller="13912345678"))
    process.stdin.write(simulator.open())
    process.stdin.flush()
    while line := read_command(process):
        process.stdin.write(simulator.receive(line))
        process.stdin.flush()
    assert process.wait(timeout=30) == 0
    stderr = process.stderr.read().decode()
    assert simulator.variables["IVR_STAGE"] == "done"
    assert "EXEC Dial PJSIP/12333@dept-hr-social-security,25" in [text for d, text in simulator.wire if d == ">>"]
    assert "caller=139****5678" in stderr and "13912345678" not in stderr, "no unmasked environment on stderr"


def test_sighup_is_a_hangup_not_a_death():
    """Asterisk tells a local AGI script about a hang-up with SIGHUP; the process must not die of it, and no
    EXEC or STREAM FILE may follow, even though the reply to the prompt said it played."""
    process = start()
    simulator = AsteriskSimulator(SimulatedCall("12396"))
    process.stdin.write(simulator.open())
    process.stdin.flush()
    sent = []
    while line := read_command(process):
        sent.append(line.decode().rstrip("\n"))
        reply = simulator.receive(line)
        if line.startswith(b"STREAM FILE") and not simulator.dead:
            # The prompt played to its end, then the caller hung up: only SIGHUP says so, no HANGUP line.
            os.kill(process.pid, signal.SIGHUP)
            time.sleep(0.3)  # let the signal land before the reply: the order Asterisk produces
            simulator.dead = True
        process.stdin.write(reply)
        process.stdin.flush()
    assert process.wait(timeout=30) == 0, process.stderr.read().decode()
    after = sent[sent.index(next(c for c in sent if c.startswith("STREAM FILE"))) + 1 :]
    assert not any(c.startswith(("EXEC", "STREAM", "ANSWER")) for c in after), after
    assert "result=hung-up-in-prompt" in process.stderr.read().decode()
