"""The recorder: what the monitor learns lands in a real SQLite store as call events, fallback stubs and the
board; a store that fails loses nothing. Transfers and IvrFallback arrive as AMI messages shaped like the captured
ones (a captured UserEvent with our dialplan's fields; a BlindTransfer with the fields Asterisk documents)."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from twisted.internet import task
from twisted.internet.defer import maybeDeferred

from ivr.ami.board import Fallback, QueueBoard, Transferred
from ivr.ami.protocol import Message
from ivr.ami.recorder import Recorder
from ivr.tickets.book import TicketBook
from ivr.tickets.store import Query, StoreUnavailable
from ivr.tickets.stub import StubOutcome
from tests.ami.peer import captured_user_event
from tests.tickets.calls import RULES, call, stubs_of


def ivr_fallback() -> Message:
    """A UserEvent as the generated dialplan's UserEvent(IvrFallback, ...) sends it."""
    return Message(
        captured_user_event(
            "IvrFallback",
            [
                ("Line", "12396"),
                ("Stage", "queue:hotline-12345"),
                ("AgiStatus", "FAILURE"),
                ("QueueStatus", ""),
                ("DialStatus", ""),
            ],
        )
    )


def blind_transfer(result: str = "Success") -> Message:
    return Message(
        (
            ("Event", "BlindTransfer"),
            ("Result", result),
            ("TransfererUniqueid", "1795849802.6"),
            ("TransfereeUniqueid", "1795849801.5"),
            ("IsExternal", "No"),
            ("Context", "ivr-linkage"),
            ("Extension", "12396"),
        )
    )


def recorder(tmp_path: Path, clock: task.Clock, rules=lambda: RULES) -> Recorder:
    book = TicketBook.open(f"sqlite:///{tmp_path / 'tickets.db'}", tmp_path / "spool", "m1")
    return Recorder(book, rules, "m1", clock, run=maybeDeferred)


def test_board_reads_transfers_and_fallbacks_and_ignores_failed_transfers():
    board = QueueBoard()
    assert board.apply(blind_transfer(), 0.0) == [Transferred("1795849801.5", "blind", "12396@ivr-linkage")]
    assert board.apply(blind_transfer("Fail"), 0.0) == []
    (fallback,) = board.apply(ivr_fallback(), 0.0)
    assert fallback == Fallback(
        "1795849801.5", "1795849801.4", "Local/1002@from-pstn-00000002;2", "13800138000", "12396",
        "queue:hotline-12345", "FAILURE",
    )  # fmt: skip


def test_a_fallback_call_gets_a_stub_numbered_by_the_monitor_and_a_transfer_completes_it(tmp_path):
    clock = task.Clock()
    clock.advance(1795849801)
    rec = recorder(tmp_path, clock)
    board = QueueBoard()
    rec.facts(board.apply(ivr_fallback(), clock.seconds()))
    rec.facts(board.apply(blind_transfer(), clock.seconds()))
    (stub,) = rec.book.store.find(Query())
    assert stub.id.endswith("-m1-000001") and stub.engine == "m1"
    assert (stub.line, stub.department, stub.caller) == ("12396", RULES.lines["12396"].department.id, "13800138000")
    assert stub.outcome is StubOutcome.TRANSFERRED
    assert stub.stage == "fallback:queue:hotline-12345"
    assert [s.what for s in stub.route] == ["ami:fallback", "ami:transferred"]


def test_the_monitor_of_one_host_completes_only_that_hosts_stubs(tmp_path):
    """Host B's engine routed a call whose uniqueid host A's dialplan also carried without an engine: A's monitor
    makes A's fallback stub and its transfer completes that one; B's stub stays as B's engine wrote it."""
    clock = task.Clock()
    clock.advance(1795849801)
    book = TicketBook.open(f"sqlite:///{tmp_path / 'tickets.db'}", tmp_path / "spool", "m1")
    opening, _ = stubs_of(call(0, "12396"))
    on_b = replace(opening, id="12345-20261126-e2-000001", host="ast-b")
    assert on_b.uniqueid == "1795849801.5"
    book.store.put([on_b])
    monitor_a = Recorder(book, lambda: RULES, "m-a", clock, run=maybeDeferred, host="ast-a")
    board = QueueBoard()
    monitor_a.facts(board.apply(ivr_fallback(), clock.seconds()))
    monitor_a.facts(board.apply(blind_transfer(), clock.seconds()))
    by_host = {stub.host: stub for stub in book.store.find(Query())}
    assert by_host["ast-a"].engine == "m1" and by_host["ast-a"].outcome is StubOutcome.TRANSFERRED
    assert by_host["ast-b"] == on_b


def test_after_a_reload_fallback_stubs_follow_the_new_rules(tmp_path):
    """The monitor's holder gives new rules: the next fallback call is routed and timed by them."""
    clock = task.Clock()
    clock.advance(1795849801)
    moved = replace(RULES.lines["12396"], department=RULES.departments["housing"])
    reloaded = replace(RULES, lines={**RULES.lines, "12396": moved}, timezone=ZoneInfo("Asia/Urumqi"))
    current = [RULES]
    rec = recorder(tmp_path, clock, rules=lambda: current[0])
    current[0] = reloaded
    rec.facts(QueueBoard().apply(ivr_fallback(), clock.seconds()))
    (stub,) = rec.book.store.find(Query())
    assert stub.department == "housing"
    assert rec.now().tzinfo == ZoneInfo("Asia/Urumqi")


class FailingStore:
    """The real store, unreachable until `back` is set."""

    def __init__(self, store):
        self.store, self.back, self.name = store, False, store.name

    def __getattr__(self, name):
        if not self.back:
            raise StoreUnavailable(f"{self.name}: connection refused")
        return getattr(self.store, name)


def test_a_store_outage_keeps_the_facts_and_logs_one_alarm(tmp_path, caplog):
    clock = task.Clock()
    clock.advance(1795849801)
    rec = recorder(tmp_path, clock)
    real = rec.book.store
    rec.book.store = FailingStore(real)
    board = QueueBoard()
    with caplog.at_level(logging.ERROR, logger="ivr.ami"):
        rec.facts(board.apply(blind_transfer(), clock.seconds()))
        rec.start(lambda: {"monitor": "m1"})
        for _ in range(3):
            clock.advance(1.0)
    assert [r.getMessage() for r in caplog.records if "ALARM" in r.getMessage()] == [
        f"ALARM ticket store: {real.name}: connection refused: 1 call fact(s) kept in memory and retried"
    ]
    rec.book.store.back = True
    clock.advance(1.0)
    assert real.boards() == {"m1": {"monitor": "m1"}}
    rec.stop()
    with sqlite3.connect(tmp_path / "tickets.db") as db:
        kept = db.execute("SELECT uniqueid, key FROM call_events").fetchall()
    assert kept == [("1795849801.5", "transferred")], "the kept fact was written once the store was back"


def dial_end(context: str, status: str, line: str = "12328") -> Message:
    """A DialEnd as Asterisk 22 sends it with the generated channelvars (fields of ami-02's, the caller's
    ChanVariable as manager.conf's channelvars adds it)."""
    return Message(
        (
            ("Event", "DialEnd"),
            ("Channel", "Local/12328@ivr-inbound-00000003;2"),
            ("Context", context),
            ("Uniqueid", "inbound-00007"),
            ("Linkedid", "citizen-00007"),
            ("ChanVariable", f"IVR_LINE={line}"),
            ("DestChannel", "Local/12328@dept-transport-00000005;1"),
            ("DialStatus", status),
        )
    )


def test_a_seat_that_answers_a_caller_the_dialplan_carried_hands_the_call_on(tmp_path):
    """The engine was down: its fallback stub said `unfinished` for ever although the department's seat took the
    call. Only a Dial in a seat's generated context counts: the engine records its own (ivr-engine), a queue's ring
    of an agent is no seat, a seat that did not answer changes nothing."""
    clock = task.Clock()
    clock.advance(1795849801)
    rec = recorder(tmp_path, clock)
    board = QueueBoard()
    fallback = ivr_fallback().fields
    fallback = tuple((k, {"Line": "12328", "Uniqueid": "inbound-00007", "Stage": ""}.get(k, v)) for k, v in fallback)
    rec.facts(board.apply(Message(fallback), clock.seconds()))
    for ignored in (
        dial_end("ivr-engine", "ANSWER"),
        dial_end("ivr-to-hotline-12345", "ANSWER"),
        dial_end("ivr-to-seat-12328", "BUSY"),
        dial_end("ivr-to-seat-12328", "ANSWER", line=""),
    ):
        rec.facts(board.apply(ignored, clock.seconds()))
    (stub,) = rec.book.store.find(Query())
    assert stub.outcome is StubOutcome.UNFINISHED
    rec.facts(board.apply(dial_end("ivr-to-seat-12328", "ANSWER"), clock.seconds()))
    (stub,) = rec.book.store.find(Query())
    assert stub.outcome is StubOutcome.TRANSFERRED
    assert stub.answered_by == RULES.seats["seat-12328"].dial.partition("/")[2], "as DIALEDPEERNUMBER says it"
    assert [(s.what, s.detail) for s in stub.route if s.what == "ami:transferred"] == [
        ("ami:transferred", "to seat-12328 (Local/12328@dept-transport-00000005;1)")
    ]
