"""Asterisk's queue_log read back for a gap: rows as the real Asterisk 22.10.1 of tests/asterisk wrote them
(test_queues.py and test_monitor_paths.py, 2026-12-06), and the recorder storing them at Asterisk's times."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from twisted.internet import task

from ivr.ami.board import Abandoned, Transferred
from ivr.ami.queuelog import Row, missed
from tests.ami.test_recorder import recorder

CAPTURED = [
    "1796601561|NONE|NONE|NONE|QUEUESTART|",
    "1796601562|MANAGER|hotline-12345|Local/8001@agents-for-caller/n|ADDMEMBER|PAUSED",
    "1796601563|inbound-00004|hotline-12345|NONE|ENTERQUEUE||13900000111|1",
    "1796601563|inbound-00004|hotline-12345|Local/8006@agents-for-caller/n|CONNECT|0|1796601563.40|0",
    "1796601566|inbound-00013|hotline-12345|Local/8010@agents-for-caller/n|BLINDTRANSFER|110|ivr-linkage|0|3|2",
    "1796601568|inbound-00003|hotline-12345|NONE|ABANDON|1|1|5",
    "1796601582|inbound-00017|expert-12348|NONE|EXITWITHTIMEOUT|1|1|5",
    "1796601592|inbound-00018|expert-12320|NONE|EXITEMPTY|1|1|15",
    "1796601625|inbound-00024|hotline-12345|Local/8035@agents-for-caller/n|ATTENDEDTRANSFER|BRIDGE|"
    "3fc06f0f-a90e-4588-a0e4-1070487b879d|0|9|1",
]


def test_the_rows_of_a_gap_are_the_facts_the_live_events_would_have_given():
    assert missed(CAPTURED, 0, 2e9) == [
        Row(1796601566, Transferred("inbound-00013", "blind", "110@ivr-linkage")),
        Row(1796601568, Abandoned("inbound-00003", "hotline-12345", 1, 5)),
        Row(1796601582, Abandoned("inbound-00017", "expert-12348", 1, 5)),
        Row(1796601592, Abandoned("inbound-00018", "expert-12320", 1, 15)),
        Row(1796601625, Transferred("inbound-00024", "attended", "3fc06f0f-a90e-4588-a0e4-1070487b879d")),
    ]


def test_only_the_gap_both_ends_included():
    assert [r.at for r in missed(CAPTURED, 1796601568, 1796601582)] == [1796601568, 1796601582]
    assert missed(CAPTURED, 1796601626, 2e9) == []


def test_what_is_not_a_row_is_skipped():
    junk = ["", "garbage", "abc|inbound-1|q|NONE|ABANDON|1|1|5", "1796601568|inbound-00003|hotline-12345|NO", "\n"]
    partial = "1796601568|inbound-00009|hotline-12345|NONE|ABANDON|1|1"  # the last line, half written
    assert missed([*junk, partial], 0, 2e9) == [Row(1796601568, Abandoned("inbound-00009", "hotline-12345", 1, 0))]


def test_the_recorder_stores_a_gap_at_asterisks_times_and_once(tmp_path: Path, caplog):
    """A stub the engine left abandoned gets Asterisk's confirmation from the file; read twice (the slack of two
    gaps overlapping), it is stored once."""
    clock = task.Clock()
    clock.advance(1796601600)
    rec = recorder(tmp_path, clock)
    queue_log = tmp_path / "queue_log"
    queue_log.write_text("\n".join(CAPTURED) + "\n", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="ivr.ami"):
        counted = [rec.catch_up(queue_log, 1796601567, 1796601600) for _ in range(2)]
    assert [d.result for d in counted] == [3, 3]
    with sqlite3.connect(tmp_path / "tickets.db") as db:
        kept = db.execute("SELECT uniqueid, key FROM call_events ORDER BY uniqueid").fetchall()
    assert kept == [
        ("inbound-00003", "abandoned:hotline-12345:"),
        ("inbound-00017", "abandoned:expert-12348:"),
        ("inbound-00018", "abandoned:expert-12320:"),
    ]
    assert "queue_log " in caplog.text and "3 fact(s) from 2026-12-07 07:59:27 to" in caplog.text


def test_an_unreadable_queue_log_is_logged_and_counts_nothing(tmp_path: Path, caplog):
    rec = recorder(tmp_path, task.Clock())
    with caplog.at_level(logging.WARNING, logger="ivr.ami"):
        assert [rec.catch_up(tmp_path / "no-such-file", 0, 1).result for _ in range(3)] == [0, 0, 0]
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1, "once, not at every reconnect"
    assert warned[0].endswith(": No such file or directory: callers who gave up while no monitor was connected are "
                              "not on the call-back list")  # fmt: skip
