"""The layout of docs/servers.md in one bounded soak (`-m soak`, a few minutes): two real Asterisk servers, each
with its engine and its monitor, each dialplan listing its own engine first and the other host's next; one Redis
primary with its replica and three sentinels as the one ticket store; `ivr web` reading through the sentinels.
Calls flow on both switches in waves; engine A is SIGKILLed in the middle of a wave (switch A's new calls go to
engine B) and restarted, then the Redis primary is SIGKILLed in the middle of a wave (engines and monitors spool
while the sentinels promote the replica). Afterwards every call reached an agent, was routed once, and has exactly
one stub, answered; the wallboard counts every call. With -s it prints the figures for docs/reliability.md."""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.asterisk import failover
from tests.asterisk.site import Call, Site
from tests.asterisk.test_engine_faults import EDIT_RULES, QUEUE, fallbacks
from tests.tickets.sentinels import SentinelSet, wait_until
from tests.web.server import get, start_web

pytestmark = pytest.mark.soak

WAVE = 4  # calls per switch in a wave
AGENTS = 2 * WAVE  # per switch: a wave and the calls placed after a kill all find an agent
NUMBERS = ("12345", "12396")  # the main line and an absorbed one


@pytest.fixture(scope="module")
def layout(asterisk_prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    sentinels = SentinelSet(tmp_path_factory.mktemp("redis")).start()
    sites = {name: Site(tmp_path_factory.mktemp(name), asterisk_prefix, edit=EDIT_RULES) for name in ("a", "b")}
    sites["a"].backups, sites["b"].backups = (sites["b"].engine_port,), (sites["a"].engine_port,)
    web = None
    try:
        for name, site in sites.items():
            site.shared_store = sentinels.url
            site.build()
            site.start_engine("--engine-id", f"e{name}")
            assert site.switch is not None
            site.switch.start()
            site.start_monitor("--name", f"m{name}", "--engine-id", f"m{name}")
            for n in range(1, AGENTS + 1):
                site.agent(QUEUE, f"80{n:02d}", "answer:2")
        web = start_web(tmp_path_factory.mktemp("web"), sentinels.url, sites["a"].rules)
        yield {"sentinels": sentinels, "sites": sites, "web": web}
    finally:
        if web is not None:
            web.stop()
        for site in sites.values():
            site.stop()
            if site.switch is not None:
                site.switch.remove()
        sentinels.stop()


def test_two_hosts_two_engines_one_sentinel_store_through_an_engine_kill_and_a_primary_kill(layout):
    sentinels: SentinelSet = layout["sentinels"]
    sites: dict[str, Site] = layout["sites"]
    a, b = sites["a"], sites["b"]
    names = {a.engine_port: "ea", b.engine_port: "eb"}
    order = {"a": ["ea", "eb"], "b": ["eb", "ea"]}
    placed: list[tuple[str, Call]] = []
    started = time.monotonic()

    def wave(*on: str) -> list[tuple[str, Call]]:
        calls = [(name, sites[name].call(NUMBERS[i % 2], hold=16)) for i in range(WAVE) for name in on]
        placed.extend(calls)
        return calls

    def in_engines(calls: list[tuple[str, Call]]) -> None:
        """Each call is inside an engine's session, the first one past its prelude (a stage set)."""
        for name, call in calls:
            sites[name].ami.wait_event("AGIExecStart", 60, call.since, Uniqueid=call.inbound)
        name, first = calls[0]
        sites[name].ami.wait_command(first.inbound, "SET VARIABLE IVR_STAGE", 60, first.since, "the first call's stage")

    def ended(calls: list[tuple[str, Call]]) -> None:
        for name, call in calls:
            sites[name].hung_up(call)

    ended(wave("a", "b"))

    # Engine A SIGKILLed with switch A's calls inside it; switch A's next calls go to engine B.
    flowing = wave("a", "b")
    in_engines([c for c in flowing if c[0] == "a"])
    assert a.engine is not None
    a.engine.process.kill()
    assert a.engine.process.wait(timeout=10) == -signal.SIGKILL
    ended(flowing + wave("a"))
    a.start_engine("--engine-id", "ea")  # as systemd's Restart=always

    # The Redis primary SIGKILLed with calls inside both engines; calls go on while the sentinels elect.
    flowing = wave("a", "b")
    in_engines(flowing)
    sentinels.primary.kill()
    ended(flowing + wave("a", "b"))
    wait_until("the sentinels promoted the replica", sentinels.failed_over, timeout=60)
    ended(wave("a", "b"))

    tried = {id(call): failover.routed_once(sites[name], call, order[name], names) for name, call in placed}
    by_uniqueid = settled(a, [call for _, call in placed])
    base = f"http://127.0.0.1:{layout['web'].port}"
    wait_until("the wallboard counts every call", lambda: calls_shown(base) == len(placed), timeout=60)
    elapsed = time.monotonic() - started

    handed = [call for _, call in placed if len(tried[id(call)]) == 2]
    carried = [call for name, call in placed if fallbacks(sites[name], call)]
    assert handed, "no call went to the other host's engine"
    assert all(by_uniqueid[call.inbound]["engine"] == "eb" for call in handed)
    print(
        f"\ntwo hosts: {len(placed)} calls ({sum(n == 'a' for n, _ in placed)} on A, "
        f"{sum(n == 'b' for n, _ in placed)} on B) in {elapsed:.0f} s; {len(handed)} handed to the other host's "
        f"engine, {len(carried)} carried on by the dialplan after the kill; {len(by_uniqueid)} stubs, one per call, "
        "all answered"
    )
    for site in (a, b):
        for who, process in (("engine", site.engine), ("monitor", site.monitor)):
            assert process is not None
            print(f"{who} of {site.folder.name}: {spooled(process.log_text())}")


def settled(site: Site, calls: list[Call]) -> dict[str, dict[str, Any]]:
    """Once every spool is replayed and every monitor has written: each call's one stub, answered."""
    wanted = {call.inbound for call in calls}
    found: dict[str, list[dict[str, Any]]] = {}

    def done() -> bool:
        found.clear()
        for stub in json.loads(site.ivr("tickets", "list", "--json", "--store", site.store, "--unmask")):
            found.setdefault(stub["uniqueid"], []).append(stub)
        return set(found) >= wanted and all(s[0]["outcome"] == "answered" for u, s in found.items() if u in wanted)

    wait_until("one answered stub for every call", done, timeout=90)
    doubled = {uniqueid: stubs for uniqueid, stubs in found.items() if len(stubs) > 1}
    assert doubled == {}, doubled
    assert set(found) == wanted, set(found) - wanted
    return {uniqueid: stubs[0] for uniqueid, stubs in found.items()}


def calls_shown(base: str) -> int:
    state = json.loads(get(base + "/state.json")[2])
    return sum(line["calls"] for line in state["lines"])


def spooled(log: str) -> str:
    """How long an engine or monitor wrote nowhere but its spool or memory (its first ALARM to its `is back` line),
    and what it then wrote."""
    stamp = r"^(\S+ \S+) \w+ \S+ "
    down = re.search(stamp + r"ALARM ticket store", log, re.MULTILINE)
    back = re.search(stamp + r"ticket store \S+ is back: (.*)$", log, re.MULTILINE)
    if not (down and back):
        return "never without the store"
    seconds = (datetime.fromisoformat(back[1]) - datetime.fromisoformat(down[1])).total_seconds()
    return f"without the store for {seconds:.1f} s, then {back[2]}"
