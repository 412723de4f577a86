"""`ivr deploy` as an admin runs it, without a switch (tests/asterisk/test_deploy_doctor.py runs it on a real
Asterisk): --dry-run shows every change and writes nothing, and every refusal is one line that says why, with
nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from ivr.deploy.apply import monitor_secret, write
from ivr.deploy.plan import Change
from tests.conftest import ROOT, SHIPPED_RULES, SMALL_RULES
from tests.tickets.redisserver import free_port


def admin_folders(tmp_path: Path, manager: str = "[general]\nenabled = yes\n") -> tuple[Path, Path]:
    etc, sounds = tmp_path / "etc", tmp_path / "sounds"
    etc.mkdir()
    (etc / "extensions.conf").write_text("[general]\nstatic = yes\n")
    (etc / "manager.conf").write_text(manager)
    return etc, sounds


def deploy(tmp_path: Path, *args: str, rules: Path = SHIPPED_RULES, **env: str) -> subprocess.CompletedProcess[str]:
    etc, sounds = tmp_path / "etc", tmp_path / "sounds"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    environment.update({"IVR_AMI_SECRET_FILE": str(tmp_path / "secret" / "ami-secret"), **env})
    where = ("--rules", str(rules), "--asterisk-etc", str(etc), "--sounds", str(sounds), "--reload", "1")
    return subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "deploy", *where, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_dry_run_shows_every_change_and_writes_nothing(tmp_path):
    admin_folders(tmp_path)
    before = snapshot(tmp_path)
    result = deploy(tmp_path, "--dry-run")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"create {tmp_path / 'secret' / 'ami-secret'} (mode 600" in out
    assert f"create {tmp_path / 'etc' / 'ivr-ami-secret.conf'} (mode 600, the AMI secret)" in out
    assert f"+++ {tmp_path / 'etc' / 'ivr' / 'ivr-extensions.conf'}" in out and "+[ivr-doctor]" in out
    assert f"--- {tmp_path / 'etc' / 'extensions.conf'}" in out and '+#include "ivr/ivr-extensions.conf"' in out
    assert f"+++ {tmp_path / 'etc' / 'queues.conf'}" in out and "+[general]" in out
    assert f"copy {tmp_path / 'sounds' / 'zh' / 'welcome.wav'}" in out
    assert "would reload: manager, pbx_config, app_queue" in out
    assert "would reload the engine and monitor: 1" in out
    assert snapshot(tmp_path) == before


def test_the_secret_never_shows(tmp_path):
    admin_folders(tmp_path)
    result = deploy(tmp_path, "--dry-run", IVR_AMI_SECRET="do-not-print-me")
    assert result.returncode == 0 and "do-not-print-me" not in result.stdout + result.stderr


def test_without_the_admins_ami_login_nothing_is_written(tmp_path):
    admin_folders(tmp_path)
    before = snapshot(tmp_path)
    result = deploy(tmp_path)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "IVR_ADMIN_AMI_USER and IVR_ADMIN_AMI_SECRET" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda text: text.replace("timeout: 300", "timeout: soon"), "timeout"),
        (lambda text: text.replace("version: 1", "version: 1\nunknown_section: 1"), "unknown_section"),
    ],
)
def test_rules_ivr_check_refuses_are_refused_in_one_line(tmp_path, write_rules, edit, says):
    admin_folders(tmp_path)
    before = snapshot(tmp_path / "etc")
    result = deploy(tmp_path, rules=write_rules(edit(SMALL_RULES)))
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("ivr deploy: refused, nothing written: ") and says in result.stderr
    assert snapshot(tmp_path / "etc") == before and not (tmp_path / "sounds").exists()


def test_missing_recordings_are_refused(tmp_path, write_rules):
    """The small rules' manifest has no recordings beside it: `ivr check` names each missing file."""
    admin_folders(tmp_path)
    result = deploy(tmp_path, rules=write_rules())
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert ".wav" in result.stderr and "more: run ivr check" in result.stderr


def test_an_asterisk_without_ami_is_refused(tmp_path):
    admin_folders(tmp_path, manager="[admin]\nsecret = x\n")
    result = deploy(tmp_path, IVR_ADMIN_AMI_USER="admin", IVR_ADMIN_AMI_SECRET="x")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "manager.conf has no [general] section, so AMI is off" in result.stderr
    assert not (tmp_path / "etc" / "ivr").exists()


def test_a_missing_asterisk_folder_is_one_line(tmp_path):
    result = deploy(tmp_path)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "--asterisk-etc" in result.stderr and "no such folder" in result.stderr


def test_an_asterisk_that_cannot_be_reached_gets_nothing(tmp_path):
    """Logged in first: with AMI down (a port nothing listens on), not one file is written."""
    admin_folders(tmp_path)
    before = snapshot(tmp_path / "etc")
    result = deploy(tmp_path, "--ami-port", str(free_port()), IVR_ADMIN_AMI_USER="admin", IVR_ADMIN_AMI_SECRET="x")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("ivr deploy: nothing written: AMI at 127.0.0.1:")
    assert snapshot(tmp_path / "etc") == before and not (tmp_path / "sounds").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file away")
def test_new_files_belong_to_whoever_owns_their_folder(tmp_path):
    """Asterisk runs as `asterisk` and reads its configuration folder; the monitor runs as `ivr` and reads its
    secret's folder: what deploy (as root) writes there is theirs, the secrets readable by them only."""
    etc, keys = tmp_path / "etc", tmp_path / "keys"
    etc.mkdir()
    keys.mkdir()
    os.chown(etc, 65534, 65534)
    os.chown(keys, 65533, 65533)
    secret = monitor_secret({"IVR_AMI_SECRET_FILE": str(keys / "ami-secret")}, create=True)
    assert (keys / "ami-secret").stat().st_uid == 65533 and (keys / "ami-secret").stat().st_mode & 0o777 == 0o600
    changes = [
        Change("etc", "ivr-ami-secret.conf", None, f"secret = {secret}\n".encode(), None, private=True),
        Change("etc", "ivr/ivr-queues.conf", None, b"[general](+)\n", None),
    ]
    assert write(changes, {"etc": etc}, datetime.now()) is None
    for path in (etc / "ivr-ami-secret.conf", etc / "ivr", etc / "ivr" / "ivr-queues.conf"):
        assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534), path
    assert (etc / "ivr-ami-secret.conf").stat().st_mode & 0o777 == 0o600
    assert (etc / "ivr" / "ivr-queues.conf").stat().st_mode & 0o777 == 0o644
