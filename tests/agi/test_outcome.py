"""The outcome table, row by row: every way a Queue or Dial can end, as a real Asterisk 22 reported it."""

from __future__ import annotations

import pytest

from ivr.agi.outcome import QUEUE_FAILURES, SEAT_FAILURES, Ending, Outcome, decide

ROWS = [
    # app, exec result, status, ABANDONED, ANSWEREDTIME, HANGUP seen -> outcome   (captured in)
    ("Queue", -1, "", "", "5", False, Outcome.ANSWERED_AGENT_HUNG_UP),  # agi-02
    ("Queue", 0, "CONTINUE", "", "5", False, Outcome.ANSWERED_CONTINUE),  # agi-02b
    ("Queue", -1, "", "", "5", True, Outcome.ANSWERED_CALLER_HUNG_UP),
    ("Queue", -1, "", "TRUE", "", True, Outcome.ABANDONED),  # agi-08, agi-09
    ("Queue", -1, "", "TRUE", "", False, Outcome.ABANDONED),  # agi-08 before its HANGUP line arrived
    ("Queue", 0, "JOINEMPTY", "", "", False, Outcome.QUEUE_FAILED),  # agi-07a
    ("Queue", 0, "LEAVEEMPTY", "TRUE", "", False, Outcome.QUEUE_FAILED),  # agi-07b: ABANDONED yet still there
    ("Queue", 0, "TIMEOUT", "TRUE", "", False, Outcome.QUEUE_FAILED),  # agi-07c
    ("Queue", 0, "UNKNOWN", "", "", False, Outcome.QUEUE_FAILED),  # agi-07d
    ("Queue", 0, "FULL", "", "", False, Outcome.QUEUE_FAILED),
    ("Queue", 0, "WITHDRAW", "", "", False, Outcome.QUEUE_FAILED),
    ("Queue", 0, "SOMETHINGNEW", "", "", False, Outcome.QUEUE_FAILED),  # a status not listed: next step
    ("Queue", 0, "TIMEOUT", "TRUE", "", True, Outcome.ABANDONED),  # timed out, then the caller hung up
    ("Queue", None, "", "", "", False, Outcome.QUEUE_FAILED),  # EXEC answered 520/510: next step
    ("Dial", 0, "BUSY", "", "", False, Outcome.SEAT_FAILED),  # agi-03
    ("Dial", 0, "NOANSWER", "", "", False, Outcome.SEAT_FAILED),  # agi-03
    ("Dial", 0, "CONGESTION", "", "", False, Outcome.SEAT_FAILED),  # agi-03
    ("Dial", 0, "CHANUNAVAIL", "", "", False, Outcome.SEAT_FAILED),  # agi-03
    ("Dial", 0, "DONTCALL", "", "", False, Outcome.SEAT_FAILED),
    ("Dial", 0, "TORTURE", "", "", False, Outcome.SEAT_FAILED),
    ("Dial", 0, "INVALIDARGS", "", "", False, Outcome.SEAT_FAILED),
    ("Dial", -1, "CANCEL", "", "", True, Outcome.ABANDONED),
    ("Dial", 0, "CANCEL", "", "", False, Outcome.ABANDONED),
    ("Dial", -1, "ANSWER", "", "5", False, Outcome.ANSWERED_AGENT_HUNG_UP),
    ("Dial", -1, "ANSWER", "", "5", True, Outcome.ANSWERED_CALLER_HUNG_UP),
]


@pytest.mark.parametrize(("app", "result", "status", "abandoned", "answered", "hangup", "expected"), ROWS)
def test_outcome_table(app, result, status, abandoned, answered, hangup, expected):
    assert decide(Ending(app, result, status, abandoned, answered, hangup)) is expected


def test_only_failures_go_on_to_the_next_step():
    assert {o for o in Outcome if o.next_step} == {Outcome.QUEUE_FAILED, Outcome.SEAT_FAILED}
    assert {o for o in Outcome if o.answered} == {
        Outcome.ANSWERED_AGENT_HUNG_UP,
        Outcome.ANSWERED_CALLER_HUNG_UP,
        Outcome.ANSWERED_CONTINUE,
    }


@pytest.mark.parametrize("status", sorted(QUEUE_FAILURES))
def test_every_listed_queue_failure_goes_on(status):
    assert decide(Ending("Queue", 0, status)).next_step


@pytest.mark.parametrize("status", sorted(SEAT_FAILURES - {"CANCEL"}))
def test_every_listed_seat_failure_goes_on(status):
    assert decide(Ending("Dial", 0, status)).next_step
