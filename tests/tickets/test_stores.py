"""Both stores behind the one interface: idempotent per call, newer revisions win, listing by time, line and
outcome. The Redis store runs against a real redis-server."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ivr.agi.simulator import QueueBehaviour
from ivr.hosts import LOCAL
from ivr.tickets.completion import CallEvent, EventKind
from ivr.tickets.open import open_store
from ivr.tickets.sqlite import SqliteStore
from ivr.tickets.store import Query, StoreUnavailable
from ivr.tickets.stub import Stub, StubOutcome
from tests.tickets.calls import NOW, call, numbered, stubs_of


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'tickets.db'}")
    else:
        opened = open_store(request.getfixturevalue("redis_server").url, environ={})
    yield opened
    opened.close()


def test_a_stub_is_written_and_read_back(store):
    opening = numbered(stubs_of(call(1, "96301"))[0], 1)
    assert store.put([opening]) == [opening.id]
    assert store.get(opening.id) == opening
    assert store.get("12345-20261126-e1-999999") is None


def test_writing_the_same_call_again_never_doubles_it(store):
    opening, _ = stubs_of(call(1))
    first = numbered(opening, 1)
    assert store.put([first]) == [first.id]
    assert store.put([first]) == [first.id], "a replay of the same write"
    again = numbered(opening, 2)  # the same call (uniqueid) numbered anew, e.g. a second AGI session
    assert store.put([again]) == [first.id], "the call keeps its first id"
    assert [s.id for s in store.find(Query())] == [first.id]
    assert store.get(again.id) is None


def test_the_newer_revision_wins_whatever_the_order(store):
    opening, closing = stubs_of(call(1))
    store.put([numbered(opening, 1)])
    store.put([numbered(closing, 1), numbered(opening, 1)])  # a replay that repeats the opening after the closing
    stored = store.get(numbered(opening, 1).id)
    assert stored.revision == 1 and stored.outcome is StubOutcome.ANSWERED
    assert store.find(Query(outcome="in-progress")) == []
    assert [s.id for s in store.find(Query(outcome="answered"))] == [stored.id]


def test_a_closing_stub_whose_opening_never_landed_is_written_once(store):
    opening, closing = stubs_of(call(1))
    closed = numbered(closing, 1)
    assert store.put([closed]) == [closed.id], "the opening stub was lost (a store down, a spool refused)"
    assert store.put([closed]) == [closed.id], "a replay of the same write"
    assert store.put([numbered(opening, 1)]) == [closed.id], "a late opening stub changes nothing"
    assert [(s.id, s.revision) for s in store.find(Query())] == [(closed.id, 1)]


def test_the_closing_stub_of_a_renumbered_call_lands_under_its_first_id(store):
    opening, closing = stubs_of(call(1))
    store.put([numbered(opening, 1)])
    assert store.put([numbered(closing, 7)]) == [numbered(opening, 1).id]
    stored = store.get(numbered(opening, 1).id)
    assert stored.outcome is StubOutcome.ANSWERED and stored.id == numbered(opening, 1).id


def test_an_id_that_belongs_to_another_call_is_not_written(store):
    store.put([numbered(stubs_of(call(1))[0], 1)])
    other = numbered(stubs_of(call(2))[0], 1)
    assert store.put([other]) == [None]
    assert store.get(other.id).uniqueid == stubs_of(call(1))[0].uniqueid


def test_listing_by_time_line_and_outcome(store):
    plans = [
        (call(1, "12345"), 0),
        (call(2, "12396"), 10),
        (call(3, "12345", queues={"hotline-12345": QueueBehaviour.TIMEOUT}), 20),
        (call(4, "12333"), 24 * 60),  # the next day
    ]
    written = []
    for n, (simulated, minutes) in enumerate(plans, start=1):
        _, closing = stubs_of(simulated, NOW + timedelta(minutes=minutes))
        written.append(numbered(closing, n))
    store.put(list(reversed(written)))
    assert store.find(Query()) == written, "oldest first"
    assert store.find(Query(line="12345")) == [written[0], written[2]]
    assert store.find(Query(outcome="instructed")) == [written[2]]
    assert store.find(Query(outcome="transferred", line="12333")) == [written[3]]
    window = Query(since=NOW + timedelta(minutes=10), until=NOW + timedelta(minutes=20))
    assert store.find(window) == [written[1]], "since included, until not"
    assert store.find(Query(since=NOW + timedelta(hours=1), line="12345")) == []


def test_reading_a_store_nobody_wrote_is_an_error_not_an_empty_list(tmp_path):
    with pytest.raises(StoreUnavailable, match="no ticket store there"):
        SqliteStore(tmp_path / "typo.db").find(Query())
    assert not (tmp_path / "typo.db").exists()


@pytest.mark.parametrize(
    "url", ["redis://:secret@127.0.0.1:6379/0", "redis://user:secret@127.0.0.1/0", "mysql://x", "tickets.db"]
)
def test_urls_that_name_no_store_or_hold_a_password_are_refused(url):
    with pytest.raises(ValueError) as refused:
        open_store(url, environ={})
    assert "secret" not in str(refused.value)


def test_call_events_complete_the_stub_whichever_lands_first_and_are_kept_once(store):
    opening, closing = stubs_of(call(1, "12345", queues={"hotline-12345": QueueBehaviour.CALLER_HANGUP}))
    first = numbered(opening, 1)
    gave_up = CallEvent(first.uniqueid, EventKind.ABANDONED, NOW + timedelta(seconds=40), "hotline-12345", "", 33, 2)
    store.put([first])
    store.add_events([gave_up])
    store.add_events([gave_up])  # a second monitor, or a replay
    assert store.get(first.id).outcome is StubOutcome.IN_PROGRESS, "the engine may still route the call on"
    store.put([numbered(closing, 1)])
    stored = store.get(first.id)
    assert (stored.outcome, stored.queue_wait) == (StubOutcome.ABANDONED, 33)
    assert [s.what for s in stored.route].count("ami:abandoned") == 1
    assert [s.id for s in store.find(Query(outcome="abandoned"))] == [first.id]


def test_boards_of_several_monitors_are_kept_side_by_side(store):
    store.put_board("m1", {"updated": 1.0, "queues": {}})
    store.put_board("m2", {"updated": 2.0, "queues": {}})
    store.put_board("m1", {"updated": 3.0, "queues": {}})
    assert store.boards() == {"m1": {"updated": 3.0, "queues": {}}, "m2": {"updated": 2.0, "queues": {}}}


def test_two_hosts_handing_out_the_same_uniqueid_get_a_ticket_each_and_their_own_facts(store):
    """Two fresh Asterisk servers number their channels alike: each host's call keeps its own stub, and what the
    monitor of one host reports never completes the other host's."""
    opening, _ = stubs_of(call(1, "12345", queues={"hotline-12345": QueueBehaviour.CALLER_HANGUP}))
    on_a, on_b = numbered(replace(opening, host="ast-a"), 1), numbered(replace(opening, host="ast-b"), 2)
    assert store.put([on_a, on_b]) == [on_a.id, on_b.id]
    assert store.put([numbered(replace(opening, host="ast-a"), 3)]) == [on_a.id], "host A's call asking again"
    gave_up = CallEvent(opening.uniqueid, EventKind.ABANDONED, NOW + timedelta(seconds=40), "hotline-12345", "", 33, 2)
    store.add_events([replace(gave_up, host="ast-b")])
    assert [s.what for s in store.get(on_a.id).route if s.what.startswith("ami:")] == []
    assert [s.what for s in store.get(on_b.id).route if s.what.startswith("ami:")] == ["ami:abandoned"]
    assert sorted((s.host, s.id) for s in store.find(Query())) == [("ast-a", on_a.id), ("ast-b", on_b.id)]


def test_stubs_and_facts_written_before_hosts_were_named_read_on_as_the_local_hosts(store):
    """A store an older engine and monitor wrote holds stubs and facts without a host, keyed by the uniqueid: they
    are the `local` host's, whose keys are still the bare uniqueid, so today's writes of the same call find them."""
    opening, closing = stubs_of(call(1, "12345", queues={"hotline-12345": QueueBehaviour.CALLER_HANGUP}))
    old = numbered(opening, 1)
    old_json = old.as_json()
    del old_json["host"]
    assert Stub.from_json(old_json).host == ""
    store.put([Stub.from_json(old_json)])
    old_fact = CallEvent.from_json(
        {k: v for k, v in CallEvent(old.uniqueid, EventKind.HANGUP, NOW, detail="16").as_json().items() if k != "host"}
    )
    store.add_events([old_fact])
    assert store.put([numbered(replace(closing, host=LOCAL), 5)]) == [old.id], "the call's closing stub, today"
    stored = store.get(old.id)
    assert stored.revision == 1 and "ami:hangup" in [s.what for s in stored.route]
