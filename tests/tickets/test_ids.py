"""Ticket ids: the scheme, and a counter that never hands a number out twice, across restarts and days."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ivr.tickets.ids import Counter, check_engine_id, ticket_id

DAY = date(2026, 11, 28)


def test_id_scheme():
    assert ticket_id(DAY, "e1", 42) == "12345-20261128-e1-000042"
    assert ticket_id(DAY, "e1", 1_234_567) == "12345-20261128-e1-1234567", "past a million a day it grows"


@pytest.mark.parametrize("bad", ["", "E1", "e-1", "e_1", "x" * 17, "引擎"])
def test_engine_ids_that_would_break_the_scheme_are_refused(bad):
    with pytest.raises(ValueError, match="engine id"):
        check_engine_id(bad)


def test_numbers_continue_after_a_restart_without_repeating(tmp_path):
    first = Counter(tmp_path, "e1", block=10)
    handed = [first.next_id(DAY) for _ in range(3)]
    assert handed == [ticket_id(DAY, "e1", n) for n in (1, 2, 3)]
    again = Counter(tmp_path, "e1", block=10)  # a crash: the rest of the reserved block is skipped
    assert again.next_id(DAY) == ticket_id(DAY, "e1", 11)
    assert json.loads((tmp_path / "counter-e1.json").read_text()) == {"20261128": 20}


def test_reservation_is_on_disk_before_a_number_of_it_is_used(tmp_path):
    counter = Counter(tmp_path, "e1", block=2)
    for expected in range(1, 6):
        assert counter.next_id(DAY) == ticket_id(DAY, "e1", expected)
        reserved = json.loads((tmp_path / "counter-e1.json").read_text())["20261128"]
        assert reserved >= expected


def test_the_next_block_reserved_ahead_continues_the_numbers_and_is_on_disk(tmp_path):
    counter = Counter(tmp_path, "e1", block=10)
    handed = [counter.next_id(DAY) for _ in range(5)]  # 6..10 left: half a block, nothing to do yet
    counter.reserve_ahead(DAY)
    assert json.loads((tmp_path / "counter-e1.json").read_text()) == {"20261128": 10}
    handed.append(counter.next_id(DAY))  # 7..10 left: less than half
    counter.reserve_ahead(DAY)
    assert json.loads((tmp_path / "counter-e1.json").read_text()) == {"20261128": 20}, "on disk before any is used"
    handed += [counter.next_id(DAY) for _ in range(10)]
    assert handed == [ticket_id(DAY, "e1", n) for n in range(1, 17)], "no gap, no repeat across the two blocks"
    assert Counter(tmp_path, "e1", block=10).next_id(DAY) == ticket_id(DAY, "e1", 21), "a crash skips the rest"


def test_each_day_starts_at_one_and_a_late_call_of_yesterday_keeps_counting(tmp_path):
    counter = Counter(tmp_path, "e1", block=5)
    yesterday = date(2026, 11, 27)
    assert counter.next_id(yesterday).endswith("-000001")
    assert counter.next_id(DAY).endswith("-000001")
    assert counter.next_id(yesterday).endswith("-000002"), "received before midnight, numbered after it"


def test_engines_count_on_their_own(tmp_path):
    assert Counter(tmp_path, "e1").next_id(DAY) != Counter(tmp_path, "e2").next_id(DAY)


def test_a_counter_file_that_is_not_one_stops_numbering(tmp_path):
    (tmp_path / "counter-e1.json").write_text("garbage")
    with pytest.raises(OSError, match="not a ticket counter"):
        Counter(tmp_path, "e1").next_id(DAY)
