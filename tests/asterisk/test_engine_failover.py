"""Two engines in the dialplan's list (engine.agi_url), on a real Asterisk 22: engine A first, engine B next, both
writing to one Redis ticket store. A stopped, A refusing (its session cap), A SIGKILLed with several calls in
flight, and both down: every call reaches a person (judged by Asterisk's AMI events and queue_log), none is routed
twice (B is asked only when A set no IVR_STAGE; no queue joined twice, no prompt heard twice), and each call has
exactly one stub in the store. No monitor runs, so a call neither engine saw has no stub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.asterisk import failover
from tests.asterisk.judge import account
from tests.asterisk.site import Call, Site
from tests.asterisk.switch import JUDGE
from tests.asterisk.test_engine_faults import (
    EDIT_RULES,
    QUEUE,
    carried_by_the_dialplan_alone,
    fallbacks,
    hang_up_citizen,
    kill,
    log_off,
    stubs,
)
from tests.serve.engine import Engine, restart_engine
from tests.tickets.redisserver import RedisServer, free_port

IN_FLIGHT = 4  # calls inside engine A's sessions when it is killed
AFTER_KILL = 3  # calls placed once it is dead


@dataclass
class Pair:
    """The site (its own engine is A) and engine B, the second of the dialplan's list."""

    site: Site
    folder: Path
    port: int
    b: Engine | None = None

    @property
    def a(self) -> Engine:
        assert self.site.engine is not None
        return self.site.engine

    def start_a(self, *extra: str) -> None:
        self.site.start_engine("--engine-id", "ea", *extra)

    def start_b(self) -> None:
        self.b = restart_engine(
            self.folder,
            self.port,
            "--store",
            self.site.store,
            "--spool",
            str(self.folder / "spool"),
            "--drain-seconds",
            "2",
            "--engine-id",
            "eb",
            rules=self.site.rules,
        )

    @property
    def names(self) -> dict[int, str]:
        return {self.site.engine_port: "a", self.port: "b"}


@pytest.fixture(scope="module")
def pair(asterisk_prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    redis_server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    port = free_port()
    site = Site(tmp_path_factory.mktemp("site"), asterisk_prefix, edit=EDIT_RULES, backups=(port,))
    site.shared_store = redis_server.url
    found = Pair(site, tmp_path_factory.mktemp("engine-b"), port)
    try:
        site.build()
        found.start_a()
        found.start_b()
        assert site.switch is not None
        site.switch.start()
        yield found
    finally:
        site.stop()
        if found.b is not None:
            found.b.stop()
        if site.switch is not None:
            site.switch.remove()
        redis_server.stop()


@pytest.fixture(autouse=True)
def both_running(pair: Pair) -> Iterator[None]:
    """Whatever a test did to the engines, the next one starts with both running as usual."""
    yield
    if pair.a.process.poll() is not None:
        pair.start_a()
    assert pair.b is not None
    if pair.b.process.poll() is not None:
        pair.start_b()


def routed_once(pair: Pair, call: Call) -> list[str]:
    """Routed once, reached an agent, one stub; the engines tried ("a", or "a" then "b")."""
    tried = failover.routed_once(pair.site, call, ["a", "b"], pair.names)
    assert len(stubs(pair.site, call)) == 1, stubs(pair.site, call)
    return tried


def agents(site: Site, count: int, does: str = "answer:2") -> list[str]:
    return [site.agent(QUEUE, f"80{n:02d}", does) for n in range(1, count + 1)]


# --- the cases ------------------------------------------------------------------------------------------------------


def test_engine_a_stopped_engine_b_routes_every_call(pair):
    site = pair.site
    assert pair.a.stop() == 0
    logged_in = agents(site, 2)
    try:
        calls = [site.call("12345", hold=16), site.call("12396", hold=16)]  # the main line and an absorbed one
        for call in calls:
            site.hung_up(call)
        for call in calls:
            assert failover.engines_tried(pair.site, call, pair.names) == ["a", "b"]
            assert fallbacks(site, call) == [], "engine B carried the call to its end"
            routed_once(pair, call)
            (stub,) = stubs(site, call)
            assert stub["engine"] == "eb" and stub["outcome"] == "answered"
    finally:
        log_off(site, logged_in)


def test_engine_a_at_its_session_cap_hands_the_next_call_to_engine_b(pair):
    site = pair.site
    assert pair.a.stop() == 0
    pair.start_a("--max-sessions", "1")
    logged_in = agents(site, 1, "hold")
    try:
        first = site.call("12345", hold=600)
        site.ami.wait_event("AgentConnect", 60, first.since, Uniqueid=first.inbound)  # its session is in EXEC Queue
        logged_in += [site.agent(QUEUE, "8002", "answer:2")]
        second = site.call("12345", hold=16)
        site.hung_up(second)
        assert "refused: 1 sessions already (--max-sessions)" in pair.a.log_text()
        assert failover.engines_tried(pair.site, second, pair.names) == ["a", "b"]
        assert fallbacks(site, second) == []
        routed_once(pair, second)
        assert account(site, second).answered_by == logged_in[1]
        assert stubs(site, second)[0]["engine"] == "eb"
        hang_up_citizen(site, first)
        site.hung_up(first)
        assert failover.engines_tried(pair.site, first, pair.names) == ["a"]
        routed_once(pair, first)
        assert stubs(site, first)[0]["engine"] == "ea"
    finally:
        log_off(site, logged_in)
        assert pair.a.stop() == 0


def test_engine_a_killed_with_calls_in_flight_no_call_is_lost_or_routed_twice(pair):
    site = pair.site
    logged_in = agents(site, IN_FLIGHT + AFTER_KILL)
    try:
        before = [site.call("12345", hold=16) for _ in range(IN_FLIGHT)]
        for call in before:  # each is inside one of engine A's sessions, the first past its prelude
            site.ami.wait_event("AGIExecStart", 60, call.since, Uniqueid=call.inbound)
        site.ami.wait_command(
            before[0].inbound, "SET VARIABLE IVR_STAGE", 60, before[0].since, "the first call's stage"
        )
        kill(site)
        after = [site.call("12345", hold=16) for _ in range(AFTER_KILL)]
        for call in before + after:
            site.hung_up(call)
        for call in before + after:
            routed_once(pair, call)
        for call in after:
            assert failover.engines_tried(pair.site, call, pair.names) == ["a", "b"]
            assert fallbacks(site, call) == [] and stubs(site, call)[0]["engine"] == "eb"
        cut = [call for call in before if failover.engines_tried(pair.site, call, pair.names) == ["a"]]
        assert cut, "the kill found no call inside engine A"
        for call in cut:  # the dialplan carried on from the stage A left; A's opening stub is the call's one
            (fallback,) = fallbacks(site, call)
            assert fallback["Stage"] != ""
            assert stubs(site, call)[0]["engine"] == "ea"
    finally:
        log_off(site, logged_in)


def test_both_engines_down_the_dialplan_alone_carries_the_call(pair):
    site = pair.site
    assert pair.a.stop() == 0
    assert pair.b is not None and pair.b.stop() == 0
    logged_in = agents(site, 1)
    try:
        call = site.call("12345", hold=60)
        site.hung_up(call)
        assert failover.engines_tried(pair.site, call, pair.names) == ["a", "b"]
        carried_by_the_dialplan_alone(site, call, {"FAILURE"})
    finally:
        log_off(site, logged_in)


def doctor_engines(pair: Pair) -> list[tuple[str, str]]:
    """`ivr doctor --engine A --engine B` on the site, as an admin runs it after `ivr deploy`: its engine checks."""
    site = pair.site
    assert site.switch is not None
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        "IVR_ADMIN_AMI_USER": JUDGE,
        "IVR_ADMIN_AMI_SECRET": site.switch.judge_secret,
    }
    engines = [option for port in pair.names for option in ("--engine", f"agi://127.0.0.1:{port}")]
    where = ("--rules", str(site.rules), "--ami-port", str(site.switch.ami_port), "--store", site.store)
    result = subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "doctor", "--json", *where, *engines],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return [(f["status"], f["says"]) for f in json.loads(result.stdout) if f["check"] == "engine"]


def test_doctor_calls_every_engine_of_the_list(pair):
    a, b = (f"agi://127.0.0.1:{port}" for port in pair.names)
    assert [(status, a in says or b in says) for status, says in doctor_engines(pair)] == [("ok", True)] * 2
    assert pair.b is not None and pair.b.stop() == 0
    (first, second) = doctor_engines(pair)
    assert first[0] == "ok" and a in first[1]
    assert second[0] == "FAIL" and f"did not reach the engine at {b}" in second[1]
