"""The Redis store through Sentinel (`redis+sentinel://`), against real processes: a primary, its replica and three
sentinels. `ivr tickets` reads through the sentinels; and a real `ivr serve` goes on through the primary's SIGKILL
while calls flow: the stubs of the outage go to its spool and, once the sentinels have promoted the replica, to the
new primary, every call with exactly one stub, each in the streams once and in call order."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from ivr.serve.callclient import call_engine
from ivr.tickets.open import open_store
from ivr.tickets.redis import stream_key
from ivr.tickets.redisurl import RedisAddress, parse_redis_url
from tests.serve.engine import start_engine
from tests.tickets.calls import call, numbered, stubs_of
from tests.tickets.sentinels import SentinelSet, wait_until
from tests.tickets.test_engine import NUMBERS, settled, tickets
from tests.web.server import get, start_web

HINT = "IVR_REDIS_PASSWORD"


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://10.0.0.5:6380/2", RedisAddress((("10.0.0.5", 6380),), "", 2)),
        ("redis://10.0.0.5", RedisAddress((("10.0.0.5", 6379),), "", 0)),
        (
            "redis+sentinel://10.0.0.5:26379,10.0.0.6,[fd00::7]:26380/tickets/1",
            RedisAddress((("10.0.0.5", 26379), ("10.0.0.6", 26379), ("fd00::7", 26380)), "tickets", 1),
        ),
        ("redis+sentinel://10.0.0.5/tickets", RedisAddress((("10.0.0.5", 26379),), "tickets", 0)),
    ],
)
def test_a_redis_url_names_one_server_or_the_sentinels_of_a_service(url, address):
    assert parse_redis_url(url, HINT) == address
    assert parse_redis_url(address.name, HINT) == address, "the name logs show is the same store's URL"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("redis+sentinel://10.0.0.5:26379/", "name the Sentinel service"),
        ("redis+sentinel://:secret@10.0.0.5/tickets/0", "not in the URL"),
        ("redis+sentinel://10.0.0.5:99999/tickets/0", "'99999' is not a TCP port"),
        ("redis+sentinel://10.0.0.5,/tickets/0", "a host is missing"),
        ("redis://10.0.0.5,10.0.0.6/0", "several are for redis+sentinel://"),
        ("redis+sentinel://10.0.0.5/tickets/zero", "the database is a number"),
    ],
)
def test_a_bad_redis_url_is_one_clear_line_without_its_password(url, why):
    with pytest.raises(ValueError, match=re.escape(why)) as refused:
        parse_redis_url(url, HINT)
    assert "secret" not in str(refused.value)


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    started = SentinelSet(tmp_path / "redis").start()
    yield started
    started.stop()


def test_ivr_tickets_reads_the_primary_the_sentinels_name(sentinels):
    opening = numbered(stubs_of(call(1, "12333"))[0], 1)
    store = open_store(sentinels.url, environ={})
    assert store.name == sentinels.url
    store.put([opening])
    assert sentinels.primary.client().exists(f"ivr:ticket:{opening.id}") == 1
    listed = json.loads(tickets("list", "--json", "--store", sentinels.url))
    assert [s["id"] for s in listed] == [opening.id]


def test_the_primary_killed_while_calls_flow_loses_no_stub_and_doubles_none(sentinels, tmp_path):
    """`ivr web` reads through the same sentinels all along: once the failover is over, its page counts every call."""
    engine = start_engine(tmp_path, "--store", sentinels.url)
    (tmp_path / "web").mkdir()
    web = start_web(tmp_path / "web", sentinels.url, engine.rules)
    try:
        ids: list[str] = []
        n = 0

        def one_call() -> None:
            nonlocal n
            n += 1
            simulated = call(n, NUMBERS[n % len(NUMBERS)])
            ids.append(call_engine("127.0.0.1", engine.port, simulated).variables["__TICKET_ID"])

        for _ in range(5):
            one_call()
        sentinels.primary.kill()

        def replayed() -> bool:
            one_call()  # calls go on flowing until the engine has written its spool to the new primary
            return sentinels.failed_over() and "stubs replayed from the spool" in engine.log_text()

        wait_until("the failover, and the spool replayed to the new primary", replayed, timeout=60)
        for _ in range(5):
            one_call()
        assert ids == sorted(ids) and len(set(ids)) == n, "every call had its id, through the failover"
        store = open_store(sentinels.url, environ={})
        found = settled(store, n)
        assert [s.uniqueid for s in found] == [call(k).uniqueid for k in range(1, n + 1)], "one stub per call, in order"
        assert [s.id for s in found] == ids
        client = sentinels.replica.client()  # the primary now
        created = [e["id"] for _, e in client.xrange(stream_key("all")) if e["event"] == "created"]
        assert created == ids, "the department streams got each stub once, in order"
        updated = [e["id"] for _, e in client.xrange(stream_key("all")) if e["event"] == "updated"]
        assert sorted(updated) == ids, "and each closing stub once"
        base = f"http://127.0.0.1:{web.port}"
        wait_until("the wallboard counts every call", lambda: calls_shown(base) == n)
        report(engine.log_text(), n)
    finally:
        assert engine.stop() == 0
        assert web.stop() == 0


def calls_shown(base: str) -> int:
    state = json.loads(get(base + "/state.json")[2])
    return sum(line["calls"] for line in state["lines"])


def report(log: str, calls: int) -> None:
    """How long the engine spooled (its ALARM to its `is back` line) and how many stubs it replayed: printed for
    docs/reliability.md (run with -s), never asserted."""
    stamp = r"^(\S+ \S+) \w+ \S+ "
    down = re.search(stamp + r"ALARM ticket store unavailable", log, re.MULTILINE)
    back = re.search(stamp + r"ticket store \S+ is back: (\d+) stubs replayed", log, re.MULTILINE)
    assert down and back, log
    seconds = (datetime.fromisoformat(back[1]) - datetime.fromisoformat(down[1])).total_seconds()
    print(f"\nsentinel failover: {calls} calls, spooled for {seconds:.1f} s, {back[2]} stubs replayed")
