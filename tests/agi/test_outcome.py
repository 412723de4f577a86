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
    # Asterisk 22's Queue() sets ANSWEREDTIME=0 whenever it ends unanswered (seen on a real switch):
    ("Queue", 0, "TIMEOUT", "TRUE", "0", False, Outcome.QUEUE_FAILED),
    ("Queue", 0, "LEAVEEMPTY", "TRUE", "0", False, Outcome.QUEUE_FAILED),
    ("Queue", -1, "", "TRUE", "0", True, Outcome.ABANDONED),  # the caller gave up: no MEMBERINTERFACE
    ("Queue", 0, "SOMETHINGNEW", "", "0", False, Outcome.QUEUE_FAILED),
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


@pytest.mark.parametrize(
    ("hangup", "expected"), [(False, Outcome.ANSWERED_AGENT_HUNG_UP), (True, Outcome.ANSWERED_CALLER_HUNG_UP)]
)
def test_a_conversation_under_a_second_is_answered_by_its_agent(hangup, expected):
    """ANSWEREDTIME is whole seconds, so a conversation under one reads 0 too; MEMBERINTERFACE says who took it."""
    assert decide(Ending("Queue", -1, "", "", "0", hangup, "Local/8001@agents/n")) is expected


AGENT = "Local/8001@agents/n"


@pytest.mark.parametrize(
    "hung_up",
    [Ending("Queue", 0, "CONTINUE", "", "3", True, AGENT), Ending("Queue", -1, "", "", "3", True, AGENT)],
    ids=["with-c", "without-c"],
)
def test_an_agents_blind_transfer_is_told_from_a_caller_hanging_up(hung_up):
    """As a real Asterisk 22 ended the Queue of a caller the agent sent to 110 with `#110`: EXEC 0, no QUEUESTATUS,
    ANSWEREDTIME=0, the agent in MEMBERINTERFACE, then the HANGUP of the async goto. A hang-up in the conversation
    returns -1, or CONTINUE with `c` (tests/asterisk/test_queues.py judges both by queue_log and AgentComplete)."""
    assert decide(Ending("Queue", 0, "", "", "0", True, AGENT)) is Outcome.ANSWERED_TRANSFERRED
    assert decide(hung_up) is Outcome.ANSWERED_CALLER_HUNG_UP


def test_only_failures_go_on_to_the_next_step():
    assert {o for o in Outcome if o.next_step} == {Outcome.QUEUE_FAILED, Outcome.SEAT_FAILED}
    assert {o for o in Outcome if o.answered} == {
        Outcome.ANSWERED_AGENT_HUNG_UP,
        Outcome.ANSWERED_CALLER_HUNG_UP,
        Outcome.ANSWERED_CONTINUE,
        Outcome.ANSWERED_TRANSFERRED,
    }


@pytest.mark.parametrize("status", sorted(QUEUE_FAILURES))
def test_every_listed_queue_failure_goes_on(status):
    assert decide(Ending("Queue", 0, status)).next_step


@pytest.mark.parametrize("status", sorted(SEAT_FAILURES - {"CANCEL"}))
def test_every_listed_seat_failure_goes_on(status):
    assert decide(Ending("Dial", 0, status)).next_step
