"""`ivr deploy` and `ivr doctor` on a real Asterisk 22 that starts with the admin's own files only: no #include
lines, no ivr/ folder, no AMI secret file, no prompts in sounds/zh (Site(deployed=False)). The engine runs; deploy
is given an admin AMI user with only the rights docs/deploy.md asks for, the monitor's secret file to create, and
the engine's pid to SIGHUP. Then doctor, and one broken thing at a time, each named by doctor with exit 1 and
mended by what its line says to do."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.ami.protocol import Message
from tests.asterisk.ami import Ami
from tests.asterisk.site import Site
from tests.asterisk.switch import MONITOR
from tests.conftest import ROOT
from tests.serve.engine import save

HOTLINE = "hotline-12345"
ADMIN_SECRET = "lab-admin-secret"
# The admin's own AMI user with only the rights docs/deploy.md asks for.
ADMIN_USER = f"""
[ivr-admin]
secret = {ADMIN_SECRET}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = call,user
write = system,command,originate,reporting
"""


def lab_rules(text: str) -> str:
    """The lab is in working hours now (today a working day, all day), and its calendar covers the next 40
    working days: the year after is declared complete (test data; an admin copies the State Council's schedule)."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    years = sorted({today.year, (today + timedelta(days=120)).year})
    workdays = f'["{today}", "{today + timedelta(days=1)}"]'
    edited = (
        text.replace('working_hours: {from: "09:00", to: "17:30"}', 'working_hours: {from: "00:00", to: "23:59"}')
        .replace("    years: []", f"    years: {years}")
        .replace("    workdays: []", f"    workdays: {workdays}")
    )
    assert edited.count("00:00") > text.count("00:00") and workdays in edited
    return edited


@pytest.fixture(scope="module")
def lab(asterisk_prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp("deploy"), asterisk_prefix, edit=lab_rules, deployed=False)
    site.build()
    (site.folder / "recordings" / "zh").symlink_to(ROOT / "recordings" / "zh")
    with (etc(site) / "manager.conf").open("a", encoding="utf-8") as manager:
        manager.write(ADMIN_USER)
    site.start()
    try:
        yield site
    finally:
        site.stop()
        if site.switch is not None:
            site.switch.remove()


def etc(site: Site) -> Path:
    assert site.switch is not None
    return site.switch.folder / "etc"


def sounds(site: Site) -> Path:
    assert site.switch is not None
    return site.switch.sounds


def environment(site: Site) -> dict[str, str]:
    assert site.switch is not None
    return {
        **os.environ,
        "IVR_ADMIN_AMI_USER": "ivr-admin",
        "IVR_ADMIN_AMI_SECRET": ADMIN_SECRET,
        "IVR_AMI_USER": MONITOR,
        "IVR_AMI_SECRET_FILE": str(site.folder / "secrets" / "ami-secret"),
        "IVR_AMI_PORT": str(site.switch.ami_port),
    }


def ivr(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", *args, "--rules", str(site.rules)],
        capture_output=True,
        text=True,
        cwd=site.folder,
        env=environment(site),
        timeout=120,
    )


def deploy(site: Site, *extra: str) -> subprocess.CompletedProcess[str]:
    assert site.engine is not None
    return ivr(
        site,
        "deploy",
        "--asterisk-etc",
        str(etc(site)),
        "--sounds",
        str(sounds(site)),
        "--engine",
        f"agi://127.0.0.1:{site.engine_port}",
        "--reload",
        str(site.engine.process.pid),
        *extra,
    )


def doctor(site: Site) -> tuple[int, dict[str, dict[str, str]], str]:
    """Exit code, the findings by check, and the text an admin reads."""
    common = ("--engine", f"agi://127.0.0.1:{site.engine_port}", "--store", site.store)
    spool = ("--spool", str(site.folder / "spool"))
    text = ivr(site, "doctor", *common, *spool, "--sounds", str(sounds(site)))
    listed = ivr(site, "doctor", *common, *spool, "--json")
    assert "Traceback" not in text.stderr + listed.stderr, text.stderr + listed.stderr
    assert text.returncode == listed.returncode, (text.stdout, listed.stdout)
    findings = {f["check"]: f for f in json.loads(listed.stdout)}
    assert len(text.stdout.splitlines()) >= len(findings)  # one line a check (the text also compares prompt bytes)
    return text.returncode, findings, text.stdout


def failing(findings: dict[str, dict[str, str]]) -> dict[str, str]:
    return {check: f["says"] for check, f in findings.items() if f["status"] != "ok"}


def login_agents(site: Site) -> None:
    """One agent in every queue, as at the start of a shift."""
    assert site.switch is not None
    queues = {m.get("Queue") for m in site.ami.listed("QueueSummary") if m.get("Queue")}
    for number, queue in enumerate(sorted(q for q in queues if q), start=1):
        site.agent(queue, f"10{number:02d}", "ring")


def test_deploy_takes_an_empty_asterisk_to_all_checks_ok(lab: Site) -> None:
    # Before: Asterisk knows nothing of the rules.
    code, findings, _ = doctor(lab)
    assert code == 1 and "dialplan ivr-inbound" in failing(findings)
    assert failing(findings)["engine"] == "Asterisk could not run the test call in ivr-doctor: run `ivr deploy`"
    dry = deploy(lab, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"+++ {etc(lab) / 'extensions.conf'}" in dry.stdout and '+#include "ivr/ivr-extensions.conf"' in dry.stdout
    assert "would reload: manager, pbx_config, app_queue" in dry.stdout
    assert not (etc(lab) / "ivr").exists() and not (lab.folder / "secrets" / "ami-secret").exists()

    done = deploy(lab)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reloaded manager" in done.stdout and "reloaded pbx_config" in done.stdout
    assert f"sent SIGHUP to pid {lab.engine.process.pid}" in done.stdout  # type: ignore[union-attr]
    secret = lab.folder / "secrets" / "ami-secret"
    assert secret.stat().st_mode & 0o777 == 0o600 and (etc(lab) / "ivr-ami-secret.conf").stat().st_mode & 0o777 == 0o600
    assert secret.read_text().strip() not in done.stdout + done.stderr
    login_agents(lab)
    code, findings, text = doctor(lab)
    assert code == 0 and failing(findings) == {}, text
    assert {"asterisk", "modules", "dialplan", "engine", "clock", "time zone", "prompts", "monitor login"} <= set(
        findings
    )
    assert findings["hosts"]["says"] == "this Asterisk is 'local' to the engine and the monitor"
    assert f"queue {HOTLINE}" in findings and "monitor events" in findings and "calendar" in findings

    # The engine answered the test calls (two doctor runs) without a stub.
    assert lab.engine is not None and lab.engine.log_text().count("result=doctor") >= 2
    with sqlite3.connect(lab.folder / "tickets.db") as db:
        assert db.execute("SELECT count(*) FROM tickets").fetchone() == (0,)


def test_a_second_deploy_changes_nothing(lab: Site) -> None:
    before = {p: p.stat().st_mtime_ns for p in etc(lab).rglob("*") if p.is_file()}
    again = deploy(lab)
    assert again.returncode == 0, again.stderr
    assert "nothing to change" in again.stdout and "reloaded" not in again.stdout
    assert {p: p.stat().st_mtime_ns for p in etc(lab).rglob("*") if p.is_file()} == before
    text = (etc(lab) / "extensions.conf").read_text()
    assert text.count('#include "ivr/ivr-extensions.conf"') == 1


def broken(lab: Site, check: str) -> str:
    code, findings, text = doctor(lab)
    fails = failing(findings)
    assert code == 1 and check in fails, text
    return fails[check]


def mended(lab: Site) -> None:
    code, _, text = doctor(lab)
    assert code == 0, text


def test_a_removed_include_is_found_and_deploy_puts_it_back(lab: Site) -> None:
    extensions = etc(lab) / "extensions.conf"
    extensions.write_text(extensions.read_text().replace('#include "ivr/ivr-extensions.conf"', ""))
    assert lab.switch is not None
    lab.switch.cli("dialplan reload")
    assert "#included in extensions.conf" in broken(lab, "dialplan ivr-inbound")
    assert deploy(lab).returncode == 0
    mended(lab)


def test_a_deleted_prompt_is_found(lab: Site) -> None:
    (sounds(lab) / "zh" / "welcome.alaw").unlink()
    assert "zh/welcome.alaw" in broken(lab, "prompts")
    assert "copy" in deploy(lab, "--dry-run").stdout
    assert deploy(lab).returncode == 0
    mended(lab)


def test_a_queue_without_agents_is_found(lab: Site) -> None:
    members = [m for m in lab.ami.listed("QueueStatus", Queue=HOTLINE) if m.event == "QueueMember"]
    for member in members:
        lab.logoff(HOTLINE, member.get("Location") or "")
    assert members and "no agent logged in during working hours" in broken(lab, f"queue {HOTLINE}")
    for member in members:  # the shift starts again
        lab.agent(HOTLINE, (member.get("Location") or "").removeprefix("Local/").split("@")[0], "ring")
    mended(lab)


def test_a_stopped_engine_is_found(lab: Site) -> None:
    assert lab.engine is not None
    lab.engine.stop()
    try:
        assert "did not reach the engine" in broken(lab, "engine")
    finally:
        lab.start_engine()
    mended(lab)


def test_a_wrong_monitor_secret_is_found_and_deploy_gives_asterisk_the_new_one(lab: Site) -> None:
    secret = lab.folder / "secrets" / "ami-secret"
    secret.write_text("not-the-secret-asterisk-has\n")
    assert "refused" in broken(lab, "monitor login")
    done = deploy(lab)
    assert "reloaded manager" in done.stdout and "reloaded pbx_config" not in done.stdout, done.stdout
    mended(lab)


def test_rules_changed_without_deploy_are_found(lab: Site) -> None:
    text = lab.rules.read_text(encoding="utf-8")
    save(lab.rules, text.replace("timeout: 600", "timeout: 580", 1))
    assert "timeout: 580" in lab.rules.read_text(encoding="utf-8")
    says = broken(lab, f"dialplan ivr-to-{HOTLINE}")
    assert "run `ivr deploy`" in says
    done = deploy(lab)
    assert "reloaded pbx_config" in done.stdout and "reloaded app_queue" not in done.stdout, done.stdout
    mended(lab)


def test_the_monitor_user_sees_the_doctor_call(lab: Site) -> None:
    """What `monitor events` reads, seen by a client logged in as the monitor with the secret deploy made."""
    assert lab.switch is not None
    watcher = Ami(lab.switch.ami_port, MONITOR, (lab.folder / "secrets" / "ami-secret").read_text().strip())
    try:
        code, _, text = doctor(lab)
        assert code == 0, text
        seen: list[Message] = [m for m in watcher.events if m.get("UserEvent") == "IvrDoctor"]
        assert seen, "the monitor's user got no IvrDoctor UserEvent"
        told = {value.partition("=")[0] for key, value in seen[-1].fields if key == "ChanVariable"}
        assert told == {"IVR_LINE", "TICKET_ID"}
    finally:
        watcher.close()


def test_an_ami_user_without_its_event_filters_is_found(lab: Site) -> None:
    """The installed ivr-manager.conf edited by hand (its eventfilter lines gone) and manager reloaded: the monitor's
    user now gets every channel's events; doctor names it, deploy puts the file back and reloads manager."""
    installed = etc(lab) / "ivr" / "ivr-manager.conf"
    installed.write_text("".join(line for line in installed.read_text().splitlines(True) if "eventfilter" not in line))
    assert lab.switch is not None
    lab.switch.cli("manager reload")
    says = broken(lab, "monitor events")
    assert "also gets" in says and "Newchannel" in says
    done = deploy(lab)
    assert "reloaded manager" in done.stdout and "reloaded pbx_config" not in done.stdout, done.stdout
    mended(lab)
