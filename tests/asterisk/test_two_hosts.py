"""Two real Asterisk servers, each with its engine and its monitor, all sharing one Redis ticket store, as a centre
with more than one server runs them. Neither server has a `systemname`, so both number their channels alike; the
test gives both citizens the same channel ids (an Originate's ChannelId), which makes the collision certain instead
of likely. Each engine's allowlist names its Asterisk (`ast-a=127.0.0.1`), each monitor is told the same name
(`--asterisk-name`): one caller gives up on host A, the other is answered on host B, and each has a stub of its
own that only its own host's monitor completed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ami.monitor import wait_for
from tests.asterisk.site import Site
from tests.asterisk.switch import JUDGE, MONITOR
from tests.tickets.redisserver import RedisServer

QUEUE = "hotline-12345"
SAME = 90001  # the channel number both switches give their citizen's call


@pytest.fixture(scope="module")
def sites(asterisk_prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Site]]:
    redis_server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    sites = {name: Site(tmp_path_factory.mktemp(name), asterisk_prefix) for name in ("a", "b")}
    try:
        for name, site in sites.items():
            site.shared_store = redis_server.url
            site.build()
            assert site.switch is not None and sites["a"].switch is not None
            site.switch.use_judge_secret(sites["a"].switch.judge_secret)  # one admin login on every host
            site.start_engine("--allow", f"ast-{name}=127.0.0.1", "--engine-id", f"e{name}")
            assert site.switch is not None
            site.switch.start()
            site.start_monitor("--name", f"m{name}", "--asterisk-name", f"ast-{name}", "--engine-id", f"m{name}")
        yield sites
    finally:
        for site in sites.values():
            site.stop()
            if site.switch is not None:
                site.switch.remove()
        redis_server.stop()


def stubs_of(site: Site, uniqueid: str) -> list[dict[str, Any]]:
    listed = json.loads(site.ivr("tickets", "list", "--json", "--store", site.store))
    return [stub for stub in listed if stub["uniqueid"] == uniqueid]


def test_the_same_uniqueid_on_two_hosts_is_two_tickets_each_completed_by_its_own_monitor(sites: dict[str, Site]):
    a, b = sites["a"], sites["b"]
    waits = a.agent(QUEUE, "8001", "ring")
    answers = b.agent(QUEUE, "8001", "answer:2")
    try:
        on_a, on_b = a.call("12345", n=SAME), b.call("12345", n=SAME)
        assert on_a.inbound == on_b.inbound
        a.ami.wait_event("QueueCallerJoin", 60, on_a.since, Uniqueid=on_a.inbound)
        a.hang_up(on_a)  # host A's citizen gives up in the queue
        a.hung_up(on_a)
        b.hung_up(on_b)  # host B's citizen was answered, rated nothing, and the dialplan hung up
        abandoned = a.ami.wait_event("QueueCallerAbandon", 10, on_a.since, Uniqueid=on_a.inbound)
        connected = b.ami.wait_event("AgentConnect", 10, on_b.since, Uniqueid=on_b.inbound)

        def settled() -> dict[str, dict[str, Any]] | None:
            found = {stub["host"]: stub for stub in stubs_of(a, on_a.inbound)}
            closed = len(found) == 2 and all(stub["revision"] == 1 for stub in found.values())
            routes = [[s["what"] for s in stub["route"]] for stub in found.values()]
            monitored = all(any(what.startswith("ami:") for what in route) for route in routes)
            return found if closed and monitored else None

        found = wait_for("both stubs closed and completed by their monitors", settled, timeout=60)
        assert sorted(found) == ["ast-a", "ast-b"]
        stub_a, stub_b = found["ast-a"], found["ast-b"]
        assert stub_a["id"] != stub_b["id"]
        assert (stub_a["engine"], stub_b["engine"]) == ("ea", "eb"), "each host's own engine wrote its stub"
        tickets = [a.call_line(on_a)["ticket"], b.call_line(on_b)["ticket"]]
        assert tickets == [stub_a["id"], stub_b["id"]], "each call carried its own TICKET_ID"
        assert stub_a["outcome"] == "abandoned" and stub_b["outcome"] == "answered"
        monitored_a, monitored_b = (
            [(s["what"], s["detail"]) for s in stub["route"] if s["what"] in ("ami:abandoned", "ami:answered")]
            for stub in (stub_a, stub_b)
        )
        assert [what for what, _ in monitored_a] == ["ami:abandoned"], "host B's answer never reached A's stub"
        assert f"at position {abandoned.get('Position')} " in monitored_a[0][1]
        assert [what for what, _ in monitored_b] == ["ami:answered"], "host A's abandon never reached B's stub"
        assert stub_b["answered_by"] == connected.get("Interface")
    finally:
        a.logoff(QUEUE, waits)
        b.logoff(QUEUE, answers)


def doctor_hosts(site: Site, other: Site, *extra: str) -> dict[str, str]:
    """`ivr doctor` on `site`, told of the other switch: its `hosts` verdict, status by message."""
    assert site.switch is not None and other.switch is not None
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        "IVR_ADMIN_AMI_USER": JUDGE,
        "IVR_ADMIN_AMI_SECRET": site.switch.judge_secret,
        "IVR_AMI_USER": MONITOR,
        "IVR_AMI_SECRET_FILE": str(site.folder / "ami-secret"),
    }
    where = ("--ami-port", str(site.switch.ami_port), "--store", site.store, "--spool", str(site.folder / "spool"))
    engine = ("--engine", f"agi://127.0.0.1:{site.engine_port}")
    others = ("--other-asterisk", f"127.0.0.1:{other.switch.ami_port}")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ivr.cli.main",
            "doctor",
            "--json",
            "--rules",
            str(site.rules),
            *where,
            *engine,
            *others,
            *extra,
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    findings = json.loads(result.stdout)
    assert findings and (result.returncode == 0) == all(f["status"] == "ok" for f in findings)
    return {f["says"]: f["status"] for f in findings if f["check"] == "hosts"}


def test_doctor_finds_an_engine_and_a_monitor_that_name_the_host_differently(sites: dict[str, Site]):
    """The engine of host A names it `ast-a` (its --allow); a monitor started without --asterisk-name would name
    it `local` (its loopback AMI address), and its facts would never complete the engine's stubs."""
    a, b = sites["a"], sites["b"]
    named = doctor_hosts(a, b, "--asterisk-name", "ast-a")
    assert named == {"this Asterisk is 'ast-a' to the engine and the monitor, named apart from 1 other host": "ok"}
    [(says, status)] = doctor_hosts(a, b).items()
    assert status == "FAIL" and "the engine names this Asterisk 'ast-a', the monitor 'local'" in says
