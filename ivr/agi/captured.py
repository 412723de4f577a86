"""Lines exactly as a real Asterisk 22.10.1 sent them over FastAGI (tests check every one of them against
`tests/data/asterisk-transcripts/`). The simulator speaks only these, so it cannot invent protocol."""

from __future__ import annotations

import re

OK = "200 result=0"
SET_OK = "200 result=1"
MINUS_ONE = "200 result=-1"
DEAD_CHANNEL = "511 Command Not Permitted on a dead channel or intercept routine"
INVALID = "510 Invalid or unknown command"
HANGUP = "HANGUP"
STREAM_PLAYED = "200 result=0 endpos=11234"
STREAM_MISSING = "200 result=-1 endpos=0"
STREAM_HUNG_UP = "200 result=-1 endpos=28000"
UNSET = "200 result=0"
GET_DATA_TIMEOUT = "200 result= (timeout)"

# Values Asterisk returned to GET VARIABLE in the captures, as `200 result=1 (VALUE)`.
VALUES = frozenset(
    {
        "13800138000",
        "5",
        "0",
        "TRUE",
        "BUSY",
        "NOANSWER",
        "CONGESTION",
        "CHANUNAVAIL",
        "JOINEMPTY",
        "LEAVEEMPTY",
        "TIMEOUT",
        "UNKNOWN",
        "CONTINUE",
    }
)

# The one value not in an AGI capture: a department seat that answers. The capture has Dial answering only on the
# AMI side (`DialStatus: ANSWER` in ami-03); the line keeps the captured GET VARIABLE format.
SYNTHESIZED_VALUES = frozenset({"ANSWER"})

# Values of the agi-02 call that only its AMI side shows (ami-02-queue-connect): the agent's interface, which
# MEMBERINTERFACE holds with `setinterfacevar=yes` (the lab's queues.conf had it off), and the linkedid of the
# `;2` channel the AGI ran on, the uniqueid of its `;1` half.
AMI_VALUES = frozenset({"Local/agent1@agents", "1795849801.4"})
# Any uniqueid or linkedid, shaped as every captured one is (seconds since the epoch, a dot, a counter): a run of
# simulated calls needs one per call. An Asterisk with `systemname` set puts `NAME-` before it
# (channel_internal_api.c, "%s-%li.%d"): the shape several hosts' calls have.
CHANNEL_ID = re.compile(r"(?:[A-Za-z0-9._:-]+-)?[0-9]{10}\.[0-9]{1,9}")

# The environment block of agi-02-queue-connect, in Asterisk's order; the simulator substitutes per call only the
# values marked None.
ENVIRONMENT = (
    ("agi_network", "yes"),
    ("agi_network_script", None),
    ("agi_request", None),
    ("agi_channel", None),
    ("agi_language", "en"),
    ("agi_type", "Local"),
    ("agi_uniqueid", None),
    ("agi_version", "22.10.1"),
    ("agi_callerid", None),
    ("agi_calleridname", "PSTN Caller"),
    ("agi_callingpres", None),
    ("agi_callingani2", "0"),
    ("agi_callington", "0"),
    ("agi_callingtns", "0"),
    ("agi_dnid", "unknown"),
    ("agi_rdnis", None),
    ("agi_context", "from-pstn"),
    ("agi_extension", None),
    ("agi_priority", "2"),
    ("agi_enhanced", "0.0"),
    ("agi_accountcode", ""),
    ("agi_threadid", "140091138766528"),
)


def value(text: str) -> str:
    if text not in VALUES | SYNTHESIZED_VALUES | AMI_VALUES and not CHANNEL_ID.fullmatch(text):
        raise ValueError(f"no captured GET VARIABLE reply carries {text!r}")
    return f"200 result=1 ({text})"


def digits(keys: str) -> str:
    """GET DATA's reply for the keys a caller pressed, in the format of agi-01b's `200 result=12`. The only reply
    line not captured verbatim: the lab pressed 1 and 2 (and 5 and 7, for other commands), not every digit."""
    if not DTMF.fullmatch(keys):
        raise ValueError(f"{keys!r} is not something a caller can press")
    return f"200 result={keys}"


DTMF = re.compile(r"[0-9*#]{1,32}")
