"""The Redis store's own parts: streams per data link read with consumer groups, and the password."""

from __future__ import annotations

import json

import pytest

from ivr.tickets.open import open_store
from ivr.tickets.redis import stream_key
from ivr.tickets.store import StoreUnavailable
from ivr.tickets.stub import Stub
from tests.tickets.calls import call, numbered, stubs_of
from tests.tickets.redisserver import RedisServer

LINES = {
    "12348": "12348-system",
    "12315": "12315-system",
    "12317": "12317-system",
    "96301": "tourism-complaint-and-returns",
}


def read_group(client, link, consumer="c1"):
    """Everything the link's consumer group has not yet delivered, acknowledged as a department system would."""
    entries = []
    while True:
        got = client.xreadgroup(link, consumer, {stream_key(link): ">"}, count=100)
        if not got:
            return entries
        for entry_id, fields in got[0][1]:
            entries.append(fields)
            client.xack(stream_key(link), link, entry_id)


def test_each_data_link_group_receives_each_of_its_stubs_once(redis_server):
    store = open_store(redis_server.url, environ={})
    numbers = [*LINES, "12345", "12396", *LINES]  # two calls on each linked line, two on lines without a link
    written = []
    for n, number in enumerate(numbers, start=1):
        opening, closing = stubs_of(call(n, number))
        store.put([numbered(opening, n)])
        store.put([numbered(closing, n), numbered(opening, n)])  # the closing, then a replayed opening
        written.append(numbered(opening, n))
    client = redis_server.client()
    for number, link in LINES.items():
        entries = read_group(client, link)
        created = [e["id"] for e in entries if e["event"] == "created"]
        assert created == [s.id for s in written if s.line == number], f"{link}: each stub once, in order"
        assert [e["event"] for e in entries] == ["created", "updated"] * 2, "the replayed opening is not sent"
        assert all(Stub.from_json(json.loads(e["stub"])).data_link == link for e in entries)
        assert read_group(client, link, "c2") == [], "a group delivers an entry to one consumer only"
    every = read_group(client, "all")
    assert [e["id"] for e in every if e["event"] == "created"] == [s.id for s in written]


def test_a_department_that_connects_late_still_gets_every_stub(redis_server):
    store = open_store(redis_server.url, environ={})
    for n in range(1, 4):
        store.put([numbered(stubs_of(call(n, "12315"))[0], n)])
    client = redis_server.client()
    assert client.xinfo_groups(stream_key("12315-system"))[0]["name"] == "12315-system"
    assert len(read_group(client, "12315-system", "joined-later")) == 3


@pytest.fixture
def secured(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"), extra=("--requirepass", "s3cret-pass")).start()
    yield server
    server.stop()


def test_password_from_the_environment_or_a_file(secured, tmp_path):
    stub = numbered(stubs_of(call(1))[0], 1)
    open_store(secured.url, environ={"IVR_REDIS_PASSWORD": "s3cret-pass"}).put([stub])
    (tmp_path / "password").write_text("s3cret-pass\n")
    from_file = open_store(secured.url, environ={"IVR_REDIS_PASSWORD_FILE": str(tmp_path / "password")})
    assert from_file.get(stub.id) == stub
    assert "s3cret" not in from_file.name


def test_a_wrong_password_or_none_is_unavailable_and_never_shown(secured):
    for environ in ({}, {"IVR_REDIS_PASSWORD": "wrong-s3cret"}):
        with pytest.raises(StoreUnavailable) as refused:
            open_store(secured.url, environ=environ).get("12345-20261126-e1-000001")
        assert "s3cret" not in str(refused.value)


def test_a_server_that_is_down_is_unavailable_at_once(tmp_path):
    stopped = RedisServer(tmp_path)  # never started: nothing listens on its port
    with pytest.raises(StoreUnavailable, match="Connection refused"):
        open_store(stopped.url, environ={}).put([numbered(stubs_of(call(1))[0], 1)])
