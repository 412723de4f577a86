"""The book: the store while it takes writes, the spool when it does not, replayed in order, never doubled; when
even the spool's disk refuses, the call goes on without a ticket id and an ALARM says so."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import sqlite3
from dataclasses import replace

import pytest

from ivr.tickets.book import TicketBook
from ivr.tickets.ids import Counter
from ivr.tickets.spool import Spool
from ivr.tickets.sqlite import SqliteStore
from ivr.tickets.store import Query, StoreUnavailable
from tests.tickets.calls import call, stubs_of


class Outage:
    """The SQLite store, or a store that is down: the same interface."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.name = store.name
        self.down = False

    def put(self, stubs):
        if self.down:
            raise StoreUnavailable(f"{self.name}: down for the test")
        return self.store.put(stubs)

    def get(self, ticket_id):
        return self.store.get(ticket_id)

    def find(self, query):
        return self.store.find(query)

    def tidy(self):
        if self.down:
            raise StoreUnavailable(f"{self.name}: down for the test")
        self.store.tidy()

    def close(self):
        self.store.close()


class FullDisk(Spool):
    def append(self, stubs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def open_book(folder, spool=Spool):
    return TicketBook(
        Outage(SqliteStore(folder / "tickets.db")), spool(folder / "spool"), Counter(folder / "spool", "e1")
    )


@pytest.fixture
def book(tmp_path):
    opened = open_book(tmp_path)
    yield opened
    opened.close()


def openings(first, count):
    return [stubs_of(call(n))[0] for n in range(first, first + count)]


def test_stubs_are_numbered_and_stored(book):
    ids = [book.record([stub])[0] for stub in openings(1, 3)]
    assert ids == [f"12345-20261126-e1-{n:06d}" for n in (1, 2, 3)]
    assert [s.id for s in book.store.find(Query())] == ids
    assert not book.spool.pending


def test_closing_stubs_reserve_the_next_numbers_so_new_calls_never_wait_for_the_counter(tmp_path):
    book = TicketBook(SqliteStore(tmp_path / "tickets.db"), Spool(tmp_path / "spool"), Counter(tmp_path, "e1", block=4))
    counter_file = tmp_path / "counter-e1.json"
    opened = [book.record([stub])[0] for stub in openings(1, 3)]  # numbers 1..3 of the block 1..4
    day = stubs_of(call(1))[0].day
    assert json.loads(counter_file.read_text()) == {day: 4}
    book.record([replace(stubs_of(call(n))[1], id=opened[n - 1]) for n in (1, 2)])  # two calls end
    assert json.loads(counter_file.read_text()) == {day: 8}, "reserved with the closing stubs, ahead of need"
    ids = [book.record([stub])[0] for stub in openings(4, 5)]
    assert ids == [f"12345-{day}-e1-{n:06d}" for n in range(4, 9)]
    assert json.loads(counter_file.read_text()) == {day: 8}, "none of these calls waited for a reservation"
    book.close()


def test_closing_stubs_move_the_log_into_the_database_file_and_a_failure_there_loses_nothing(book, tmp_path):
    """SQLite's own checkpoint runs inside whichever commit fills its log, an opening stub's as likely as any: the
    book has it done with the closing stubs instead, which no call waits for."""
    opened = [book.record([stub])[0] for stub in openings(1, 3)]
    shutil.copy(tmp_path / "tickets.db", tmp_path / "before.db")
    assert _rows(tmp_path / "before.db") == 0, "the opening stubs are in the log (tickets.db-wal) only"
    book.record([replace(stubs_of(call(1))[1], id=opened[0])])
    shutil.copy(tmp_path / "tickets.db", tmp_path / "after.db")
    assert _rows(tmp_path / "after.db") == 3, "copied into the database file with the closing stub"
    book.store.down = True  # the upkeep fails: the closing stubs go to the spool as ever, nothing is lost
    assert book.record([replace(stubs_of(call(2))[1], id=opened[1])]) == [opened[1]]
    assert book.spool.pending


def _rows(database):
    """The stubs a copy of the database file alone holds (as a backup that leaves out the log would keep)."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'tickets'").fetchone():
            return 0
        return db.execute("SELECT count(*) FROM tickets").fetchone()[0]


def test_an_outage_goes_to_the_spool_and_is_replayed_in_order(book, caplog):
    book.record([openings(1, 1)[0]])
    book.store.down = True
    with caplog.at_level(logging.ERROR, logger="ivr.tickets"):
        spooled = [book.record([stub])[0] for stub in openings(2, 3)]
    assert all(spooled), "each call still gets its id: the spool is durable"
    alarms = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALARM ticket store unavailable")]
    assert len(alarms) == 1, "once per outage, not once per call"
    book.store.down = False
    later = book.record([openings(5, 1)[0]])[0]  # the store is back, but the spool is not empty yet
    assert book.spool.pending and book.store.get(later) is None, "after the spooled ones, not before"
    assert book.replay() == 4
    assert [s.id for s in book.store.find(Query())] == [f"12345-20261126-e1-{n:06d}" for n in range(1, 6)]
    assert not book.spool.pending


def test_a_replay_cut_short_never_doubles_a_stub(book, tmp_path):
    book.store.down = True
    for opening, closing in (stubs_of(call(n)) for n in range(1, 4)):
        opening_id = book.record([opening])[0]
        book.record([replace(closing, id=opening_id)])
    book.store.down = False
    stubs, _ = book.spool.read(100)
    book.store.put(stubs[:3])  # the engine was killed after these reached the store, before the spool was cleared
    assert book.replay() == 6
    found = book.store.find(Query())
    assert len(found) == 3 and {s.revision for s in found} == {1}


def test_when_store_and_spool_both_refuse_the_call_goes_on_and_its_closing_stub_lands_later(tmp_path, caplog):
    book = open_book(tmp_path, spool=FullDisk)
    opening, closing = stubs_of(call(1))
    book.store.down = True
    with caplog.at_level(logging.ERROR, logger="ivr.tickets"):
        assert book.record([opening]) == [None]
    assert any(
        "No space left on device" in r.getMessage() and "without a ticket id" in r.getMessage() for r in caplog.records
    )
    book.store.down = False
    [late] = book.record([closing])  # the end of the call: numbered now, since the opening never landed
    assert late is not None and book.store.get(late).outcome.value == "answered"
    book.close()


def test_an_id_taken_by_another_engine_is_renumbered_with_an_alarm(book, caplog):
    first = book.record([openings(1, 1)[0]])[0]
    book.counter._blocks.clear()
    book.counter.path.write_text("{}")  # another engine with the same id numbered from 1 too
    with caplog.at_level(logging.ERROR, logger="ivr.tickets"):
        second = book.record([openings(2, 1)[0]])[0]
    assert second not in (None, first)
    assert any("is engine id e1 used by two engines" in r.getMessage() for r in caplog.records)
