"""The set-up scripts of bin/test. bin/asterisk gives the tests and CI their Asterisk: it reuses a finished build of
the same tarball, never a half-finished one, prefers an Asterisk the admin names, and refuses a source that is not
the pinned one, each refusal in one line. bin/packages names the exact apt-get command when it may not install."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = ROOT / "bin" / "asterisk"


def run(env: dict[str, str], script: Path = SCRIPT, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IVR_ASTERISK")}
    return subprocess.run(["sh", str(script), *args], capture_output=True, text=True, env={**clean, **env}, timeout=60)


def fake_source(folder: Path, content: bytes = b"not really asterisk") -> tuple[Path, str]:
    tarball = folder / "asterisk-22.10.1.tar.gz"
    tarball.write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    (folder / "asterisk-22.10.1.tar.gz.sha256").write_text(f"{sha}  asterisk-22.10.1.tar.gz\n")
    return tarball, sha


def finished_build(cache: Path, sha: str) -> Path:
    prefix = cache / sha
    (prefix / "sbin").mkdir(parents=True)
    (prefix / "sbin" / "asterisk").write_text("#!/bin/sh\n")
    (prefix / "sbin" / "asterisk").chmod(0o755)
    (prefix / ".complete").touch()
    return prefix


def test_a_finished_build_of_the_same_tarball_is_reused(tmp_path):
    _, sha = fake_source(tmp_path)
    prefix = finished_build(tmp_path / "cache", sha)
    done = run({"IVR_ASTERISK_SOURCE": str(tmp_path), "IVR_ASTERISK_CACHE": str(tmp_path / "cache")})
    assert (done.returncode, done.stdout.strip()) == (0, str(prefix))


def test_a_build_of_another_tarball_is_not_reused(tmp_path):
    _, sha = fake_source(tmp_path)
    finished_build(tmp_path / "cache", "0" * 64)
    (tmp_path / "cache" / sha).mkdir()  # half-finished: no .complete, so it is built again (and fails: no source)
    done = run({"IVR_ASTERISK_SOURCE": str(tmp_path), "IVR_ASTERISK_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 1 and done.stdout == ""
    assert "the Asterisk build failed" in done.stderr.splitlines()[-1]


def test_a_tarball_that_does_not_match_its_checksum_is_refused(tmp_path):
    tarball, _ = fake_source(tmp_path)
    tarball.write_bytes(b"changed after the checksum was taken")
    done = run({"IVR_ASTERISK_SOURCE": str(tarball), "IVR_ASTERISK_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 1
    assert done.stderr.strip() == f"bin/asterisk: {tarball} does not match {tarball}.sha256"
    assert not (tmp_path / "cache").exists()


def test_an_asterisk_the_admin_names_is_used_as_it_is(tmp_path):
    prefix = finished_build(tmp_path, "x")
    done = run({"IVR_ASTERISK_PREFIX": str(prefix), "IVR_ASTERISK_SOURCE": str(tmp_path / "nowhere")})
    assert (done.returncode, done.stdout.strip()) == (0, str(prefix))
    missing = run({"IVR_ASTERISK_PREFIX": str(tmp_path / "none")})
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"bin/asterisk: IVR_ASTERISK_PREFIX={tmp_path / 'none'} has no sbin/asterisk"


def test_no_source_is_one_line(tmp_path):
    done = run({"IVR_ASTERISK_SOURCE": str(tmp_path / "nowhere"), "IVR_ASTERISK_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "not found" in done.stderr


def test_packages_names_the_command_when_it_may_not_install(tmp_path):
    (tmp_path / "id").write_text("#!/bin/sh\necho 1000\n")  # not root
    (tmp_path / "id").chmod(0o755)
    env = {"PATH": f"{tmp_path}:{os.environ['PATH']}"}
    done = run(env, ROOT / "bin" / "packages", "sox", "no-such-package-ivr")
    assert done.returncode == 1
    assert done.stderr == "bin/packages: missing Debian packages; run: sudo apt-get install -y no-such-package-ivr\n"
    assert run(env, ROOT / "bin" / "packages", "sox").returncode == 0, "nothing missing: nothing to do"


def test_without_an_asterisk_the_run_says_so_in_one_line_and_fails_under_ci(tmp_path):
    test = ROOT / "tests" / "asterisk" / "test_configuration.py"
    env = {**os.environ, "IVR_ASTERISK_MISSING": "none here", "CI": ""}
    env.pop("IVR_ASTERISK_PREFIX", None)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)]
    local = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    ci = subprocess.run(command, capture_output=True, text=True, env={**env, "CI": "true"}, cwd=ROOT, timeout=120)
    line = "NO REAL ASTERISK: the tests marked asterisk were skipped: none here"
    assert local.returncode == 0 and local.stdout.count(line) == 1, local.stdout
    assert ci.returncode == 1 and f"{line} (CI: this run fails)" in ci.stdout, ci.stdout


def test_ci_runs_exactly_the_readmes_test_command_with_its_arguments():
    """A step only .ci/run knows is a step a new user misses: CI is `sh bin/test`, the README's second command."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    steps = [line for line in script if line.strip() and not line.startswith("#")]
    assert steps == ["set -eu", 'cd "$(dirname "$0")/.."', 'exec sh bin/test "$@"']
    first_block = (ROOT / "README.md").read_text(encoding="utf-8").split("```")[1]
    assert "\nsh bin/test " in first_block and "\nsh bin/run " in first_block
