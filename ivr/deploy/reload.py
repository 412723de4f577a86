"""After the files: Asterisk reloads through AMI only the modules whose files changed, and the engine and the
monitor reread the rules (SIGHUP, by pid or through systemd's ExecReload, which sends the same)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from ivr.ami.blocking import BlockingAmi
from ivr.deploy.plan import Reload

SYSTEMD = Path("/run/systemd/system")  # present only when systemd runs the machine (sd_booted)
DEFAULT_UNITS = ("ivr-serve", "ivr-monitor")


def reload_asterisk(ami: BlockingAmi, modules: list[Reload]) -> list[str]:
    """One line per module: what Asterisk answered."""
    said = []
    for module in modules:
        answer = ami.action("Reload", Module=module.value)
        message = answer.response.get("Message") or ""
        if not answer.ok:
            raise ReloadFailed(f"Asterisk refused to reload {module.value}: {message}")
        said.append(f"reloaded {module.value} ({message})" if message else f"reloaded {module.value}")
    return said


class ReloadFailed(Exception):
    """Asterisk, or a service, refused a reload: the files are written, the switch may run the old ones."""


def default_targets() -> list[str]:
    return list(DEFAULT_UNITS) if SYSTEMD.is_dir() else []


def reload_service(target: str) -> str:
    """`target`: a pid (sent SIGHUP) or a systemd unit (`systemctl reload`)."""
    if target.isdigit():
        try:
            os.kill(int(target), signal.SIGHUP)
        except ProcessLookupError:
            raise ReloadFailed(f"--reload {target}: no such process") from None
        except PermissionError:
            raise ReloadFailed(f"--reload {target}: not allowed to signal it") from None
        return f"sent SIGHUP to pid {target}"
    done = subprocess.run(["systemctl", "reload", target], capture_output=True, text=True)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise ReloadFailed(f"systemctl reload {target}: {why}")
    return f"systemctl reload {target}"
