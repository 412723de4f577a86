"""The one outcome table: what the end of a Queue or Dial means for the call. Nothing else reads QUEUESTATUS,
DIALSTATUS, ABANDONED or ANSWEREDTIME.

What a real Asterisk 22 reports (see the captured transcripts):
- answered, then the agent hung up, no `c` option: EXEC returns -1, QUEUESTATUS unset, ANSWEREDTIME set, the
  caller still alive;
- answered with `c`: EXEC returns 0, QUEUESTATUS=CONTINUE;
- caller hung up in the queue: EXEC returns -1, HANGUP, QUEUESTATUS unset, ABANDONED=TRUE;
- empty queue or timeout: EXEC returns 0, QUEUESTATUS=JOINEMPTY/LEAVEEMPTY/TIMEOUT, and for LEAVEEMPTY and
  TIMEOUT also ABANDONED=TRUE although the caller is still there;
- Dial failures: EXEC returns 0 with DIALSTATUS=BUSY/NOANSWER/CONGESTION/CHANUNAVAIL.
So ABANDONED alone never means the caller left; a seen HANGUP, or EXEC returning -1 without an answer, does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    ANSWERED_AGENT_HUNG_UP = "answered-agent-hung-up"
    ANSWERED_CALLER_HUNG_UP = "answered-caller-hung-up"
    ANSWERED_CONTINUE = "answered-continue"
    ABANDONED = "abandoned"
    QUEUE_FAILED = "queue-failed"
    SEAT_FAILED = "seat-failed"

    @property
    def answered(self) -> bool:
        return self in (Outcome.ANSWERED_AGENT_HUNG_UP, Outcome.ANSWERED_CALLER_HUNG_UP, Outcome.ANSWERED_CONTINUE)

    @property
    def next_step(self) -> bool:
        """The plan goes on to its next step (the fallback); every other outcome ends the plan."""
        return self in (Outcome.QUEUE_FAILED, Outcome.SEAT_FAILED)


QUEUE_FAILURES = frozenset(
    {"TIMEOUT", "FULL", "JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL", "LEAVEUNAVAIL", "UNKNOWN", "WITHDRAW"}
)
SEAT_FAILURES = frozenset(
    {"BUSY", "NOANSWER", "CHANUNAVAIL", "CONGESTION", "CANCEL", "DONTCALL", "TORTURE", "INVALIDARGS"}
)


@dataclass(frozen=True)
class Ending:
    """What Asterisk told us when a Queue or Dial returned. Empty strings mean 'not set'."""

    app: str  # "Queue" or "Dial"
    exec_result: int | None
    status: str = ""
    abandoned: str = ""
    answered_time: str = ""
    hangup_seen: bool = False

    @property
    def answered(self) -> bool:
        return bool(self.answered_time) or self.status in ("ANSWER", "CONTINUE")


def decide(ending: Ending) -> Outcome:
    """The outcome table. Any status not listed is a failure of this step, so the caller gets the next one."""
    if ending.answered:
        if ending.status == "CONTINUE" and not ending.hangup_seen:
            return Outcome.ANSWERED_CONTINUE
        return Outcome.ANSWERED_CALLER_HUNG_UP if ending.hangup_seen else Outcome.ANSWERED_AGENT_HUNG_UP
    if ending.hangup_seen or ending.exec_result == -1 or ending.status == "CANCEL":
        return Outcome.ABANDONED
    return Outcome.QUEUE_FAILED if ending.app == "Queue" else Outcome.SEAT_FAILED
