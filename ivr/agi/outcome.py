"""The one outcome table: what the end of a Queue or Dial means for the call. Nothing else reads QUEUESTATUS,
DIALSTATUS, ABANDONED or ANSWEREDTIME.

What a real Asterisk 22 reports (see the captured transcripts):
- answered, then the agent hung up, no `c` option: EXEC returns -1, QUEUESTATUS unset, ANSWEREDTIME set, the
  caller still alive;
- answered with `c`: EXEC returns 0, QUEUESTATUS=CONTINUE;
- caller hung up in the queue: EXEC returns -1, HANGUP, QUEUESTATUS unset, ABANDONED=TRUE, ANSWEREDTIME=0;
- empty queue or timeout: EXEC returns 0, QUEUESTATUS=JOINEMPTY/LEAVEEMPTY/TIMEOUT, and for LEAVEEMPTY and
  TIMEOUT also ABANDONED=TRUE although the caller is still there, and ANSWEREDTIME=0;
- Dial failures: EXEC returns 0 with DIALSTATUS=BUSY/NOANSWER/CONGESTION/CHANUNAVAIL;
- answered, then the agent handed the caller on with the blind-transfer key (seen on a real switch): EXEC returns
  0 with no QUEUESTATUS, with `c` or without, ANSWEREDTIME=0, MEMBERINTERFACE set, then HANGUP: the bridge ended
  with an async goto to the transfer's extension (apps/app_queue.c: try_calling() returns 1, no end_bridge_callback).
So ABANDONED alone never means the caller left; a seen HANGUP, or EXEC returning -1 without an answer, does.
And ANSWEREDTIME alone never means an agent answered: Queue() sets it to 0 whenever it ends unanswered
(apps/app_queue.c, at `stop:`; the AMI captures show the VarSet, the AGI captures never read it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    ANSWERED_AGENT_HUNG_UP = "answered-agent-hung-up"
    ANSWERED_CALLER_HUNG_UP = "answered-caller-hung-up"
    ANSWERED_CONTINUE = "answered-continue"
    ANSWERED_TRANSFERRED = "answered-transferred"  # the agent handed the caller on (linkage: 110, 95598 ...)
    ABANDONED = "abandoned"
    QUEUE_FAILED = "queue-failed"
    SEAT_FAILED = "seat-failed"

    @property
    def answered(self) -> bool:
        return self in (
            Outcome.ANSWERED_AGENT_HUNG_UP,
            Outcome.ANSWERED_CALLER_HUNG_UP,
            Outcome.ANSWERED_CONTINUE,
            Outcome.ANSWERED_TRANSFERRED,
        )

    @property
    def next_step(self) -> bool:
        """The plan goes on to its next step (the fallback); every other outcome ends the plan."""
        return self in (Outcome.QUEUE_FAILED, Outcome.SEAT_FAILED)


QUEUE_FAILURES = frozenset(
    {"TIMEOUT", "FULL", "JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL", "LEAVEUNAVAIL", "UNKNOWN", "WITHDRAW"}
)
# Refused at the door: the caller never entered the queue (app_queue writes no queue_log row, raises no
# QueueCallerJoin), so it was never offered to it.
QUEUE_NOT_JOINED = frozenset({"JOINEMPTY", "FULL", "JOINUNAVAIL"})
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
    member: str = ""  # MEMBERINTERFACE: Queue sets it (setinterfacevar=yes) only when an agent is connected

    @property
    def answered(self) -> bool:
        if self.status in ("ANSWER", "CONTINUE"):
            return True
        if self.status in (QUEUE_FAILURES if self.app == "Queue" else SEAT_FAILURES):
            return False
        if self.app == "Queue" and self.answered_time == "0":
            # Queue's "never answered" value, also what a conversation under a second reads: the agent tells.
            return bool(self.member)
        return bool(self.answered_time)


def decide(ending: Ending) -> Outcome:
    """The outcome table. Any status not listed is a failure of this step, so the caller gets the next one."""
    if ending.answered:
        if ending.status == "CONTINUE" and not ending.hangup_seen:
            return Outcome.ANSWERED_CONTINUE
        if ending.app == "Queue" and not ending.status and ending.exec_result == 0:
            # A conversation that ended in a hang-up returns -1 (CONTINUE with `c`): this one was transferred.
            return Outcome.ANSWERED_TRANSFERRED
        return Outcome.ANSWERED_CALLER_HUNG_UP if ending.hangup_seen else Outcome.ANSWERED_AGENT_HUNG_UP
    if ending.hangup_seen or ending.exec_result == -1 or ending.status == "CANCEL":
        return Outcome.ABANDONED
    return Outcome.QUEUE_FAILED if ending.app == "Queue" else Outcome.SEAT_FAILED
