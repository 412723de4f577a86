"""The satisfaction rating (好差评) after a 12345 agent hangs up: one question, one digit, asked at most twice.

Queue runs with option `c`, so when the agent hangs up the caller comes back to the engine (QUEUESTATUS=CONTINUE,
agi-02b). CONTINUE is also reported when the caller hung up during the conversation; then a HANGUP has been seen
and nobody is asked. GET DATA answers as captured in agi-01b: `200 result=3` for a digit, `200 result= (timeout)`
for none; `200 result=-1` and a HANGUP when the caller hangs up during the question. Pure: reads one Reply.
"""

from __future__ import annotations

from enum import StrEnum

from ivr.agi.protocol import Reply
from ivr.rules.model import RATING_PROMPTS

QUESTION, THANKS = RATING_PROMPTS
TIMEOUT_MS = 5000
ATTEMPTS = 2


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically-satisfied"
    DISSATISFIED = "dissatisfied"
    NOT_RATED = "not-rated"


class NotRated(StrEnum):
    """Why a call the rating applies to has none."""

    CALLER_HUNG_UP = "caller-hung-up"
    TIMED_OUT = "timed-out"
    INVALID = "invalid"
    TRANSFERRED = "transferred"  # the agent passed the call on (outcome answered-transferred; the monitor's event)


DIGITS = {"1": Rating.SATISFIED, "2": Rating.BASICALLY_SATISFIED, "3": Rating.DISSATISFIED}


def read(reply: Reply) -> Rating | NotRated:
    """What one GET DATA reply means: a rating, or why there is none this time."""
    if reply.code != 200 or reply.result_int == -1:
        return NotRated.CALLER_HUNG_UP
    if reply.data == "timeout" or reply.result == "":
        return NotRated.TIMED_OUT
    return DIGITS.get(reply.result, NotRated.INVALID)
