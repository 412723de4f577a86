"""Carrying out `ivr deploy`'s changes on disk: what is there now, a backup of every file replaced, each file
written beside and renamed (a reload never reads half a file), new files owned like the folder's own
configuration so Asterisk (often running as `asterisk`) can read them, the secret readable by its owner only."""

from __future__ import annotations

import difflib
import os
import secrets
import shutil
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from ivr.deploy.plan import GENERATED_FOLDER, Change, Present
from ivr.dialplan.build import INCLUDED_FROM
from ivr.dialplan.manager import SECRET_FILE
from ivr.secrets import secret_from_environment

BACKUP_FOLDER = "ivr-backup"
MONITOR_SECRET = "IVR_AMI_SECRET"


def present(etc: Path, sounds: Path, generated: Iterable[str], prompts: Iterable[str]) -> Present:
    wanted = [SECRET_FILE, *(f"{GENERATED_FOLDER}/{name}" for name in generated), *INCLUDED_FROM.values()]
    return Present(
        {name: _text(etc / name) for name in wanted},
        {name: _bytes(sounds / name) for name in prompts},
    )


def _text(path: Path) -> str | None:
    data = _bytes(path)
    return None if data is None else data.decode("utf-8", errors="replace")


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def describe(change: Change, roots: dict[str, Path]) -> str:
    """For --dry-run: a unified diff of a text file, one line for a prompt or the secret (never its value)."""
    target = roots[change.root] / change.path
    if change.private:
        return f"{'create' if change.before is None else 'replace'} {target} (mode 600, the AMI secret)\n"
    if change.root == "sounds":
        return f"{'copy' if change.before is None else 'replace'} {target} ({len(change.after)} bytes)\n"
    before = (change.before or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
    after = change.after.decode("utf-8").splitlines(keepends=True)
    label = "/dev/null" if change.before is None else str(target)
    return "".join(difflib.unified_diff(before, after, label, str(target)))


def write(changes: list[Change], roots: dict[str, Path], now: datetime) -> Path | None:
    """Write every change; return the backup folder (ETC/ivr-backup/STAMP/ROOT/PATH), None if nothing was
    replaced."""
    backup = roots["etc"] / BACKUP_FOLDER / now.strftime("%Y%m%dT%H%M%S")
    backed_up = False
    for change in changes:
        target = roots[change.root] / change.path
        if change.before is not None:
            copy = backup / change.root / change.path
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, copy)
            backed_up = True
        _replace(target, change.after, change.private, roots[change.root])
    return backup if backed_up else None


def _replace(target: Path, data: bytes, private: bool, root: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    os.chmod(partial, 0o600 if private else 0o644)
    _own_like_folder(partial, root)
    if target.parent != root:
        _own_like_folder(target.parent, root)
    os.replace(partial, target)


def _own_like_folder(path: Path, folder: Path) -> None:
    """Run as root, a new file belongs to whoever owns its folder: Asterisk (user `asterisk`) reads its own
    configuration folder, the monitor (user `ivr`) its secret's."""
    if os.geteuid() == 0:
        owner = folder.stat()
        os.chown(path, owner.st_uid, owner.st_gid)


def monitor_secret(environ: Mapping[str, str], create: bool) -> str:
    """The monitor's AMI secret, as the monitor reads it (IVR_AMI_SECRET or IVR_AMI_SECRET_FILE). A secret file
    named but missing is made here when `create` (random, mode 600): the first deploy needs no openssl step, and
    Asterisk's copy (ivr-ami-secret.conf) is then written from it. Not creating, a missing file gives ""."""
    name = environ.get(f"{MONITOR_SECRET}_FILE", "")
    if not environ.get(MONITOR_SECRET) and name and not Path(name).exists():
        if not create:
            return ""
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(24) + "\n")
        _own_like_folder(path, path.parent)
    found = secret_from_environment(MONITOR_SECRET, environ)
    if not found:
        raise ValueError(
            f"set {MONITOR_SECRET}_FILE (the monitor's AMI secret file, made if missing) or {MONITOR_SECRET}"
        )
    return found
