"""The local spool: append-only, fsynced, read back in order, cut clean after a crash, owned by one engine."""

from __future__ import annotations

import pytest

from ivr.tickets.spool import FILE, Spool, SpoolBusy
from tests.tickets.calls import call, numbered, stubs_of

STUBS = [numbered(stubs_of(call(n))[0], n) for n in range(1, 6)]


def test_stubs_come_back_in_the_order_written(tmp_path):
    spool = Spool(tmp_path)
    assert not spool.pending
    spool.append(STUBS[:2])
    spool.append(STUBS[2:])
    assert spool.pending
    first, end = spool.read(3)
    assert first == STUBS[:3]
    spool.replayed(end)
    rest, end = spool.read(10)
    assert rest == STUBS[3:]
    spool.replayed(end)
    assert not spool.pending
    assert (tmp_path / FILE).stat().st_size == 0, "emptied once everything is in the store"


def test_stubs_written_during_a_replay_are_kept(tmp_path):
    spool = Spool(tmp_path)
    spool.append(STUBS[:2])
    _, end = spool.read(10)
    spool.append(STUBS[2:3])  # a call while the replay writes to the store
    spool.replayed(end)
    assert spool.pending
    assert spool.read(10)[0] == STUBS[2:3]


def test_a_write_cut_short_by_a_crash_is_dropped_on_reopening(tmp_path):
    spool = Spool(tmp_path)
    spool.append(STUBS[:2])
    spool.close()
    with (tmp_path / FILE).open("ab") as handle:
        handle.write(b'{"id": "12345-2026')  # never fsynced whole, never acknowledged
    again = Spool(tmp_path)
    assert again.read(10)[0] == STUBS[:2]
    again.append(STUBS[2:3])
    assert again.read(10)[0] == STUBS[:3]


def test_one_engine_per_spool_folder(tmp_path):
    spool = Spool(tmp_path)
    with pytest.raises(SpoolBusy, match="in use by another engine"):
        Spool(tmp_path)
    spool.close()
    Spool(tmp_path).close()
