"""The manager.conf include: the AMI user of `ivr monitor`, allowed only what a read-only monitor needs.

The secret is never in the generated file: it comes from a file the admin creates beside manager.conf, pulled in
with #tryinclude. Without that file the user exists but has no secret, and Asterisk refuses every login as it;
the other AMI users keep working.

`channelvars` is read by Asterisk 22 in [general] only (main/manager.c, __init_manager: in a user's section it is
an unknown option, ignored without a word), and applies to every AMI user. So the file adds it to the admin's own
[general] with `[general](+)`: each channelvars line of [general] replaces the one before (load_channelvars), and the
added line comes after the admin's own, so it is the one in force.
"""

from __future__ import annotations

from ivr.dialplan.conf import Conf
from ivr.rules.model import Rules

USER = "ivr-monitor"
SECRET_FILE = "ivr-ami-secret.conf"
# system: Shutdown; call: Hangup, the transfers, OriginateResponse; agent: the queue events; user: UserEvent
# (IvrFallback, IvrCallback).
READ = "system,call,agent,user"
# reporting: CoreShowChannels; QueueStatus and QueueSummary need no class; originate only with automatic call-backs.
WRITE = "reporting"
# The events ivr/ami/ reads (board.py's handlers and the client's Shutdown), no other. A list action's items
# (QueueStatus's QueueParams, QueueMember, QueueEntry) and the FullyBooted sent at login are written to the session
# directly and pass no filter.
EVENTS = (
    "Shutdown",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentConnect",
    "AgentComplete",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
    "QueueMemberStatus",
    "BlindTransfer",
    "AttendedTransfer",
    "Hangup",
    # A department's seat answering a caller the dialplan carried without the engine.
    "DialEnd",
    "UserEvent",
    # The dialler's Originate (Async) ends with it: Failure when no agent took the call-back in time.
    "OriginateResponse",
)
CHANNEL_VARIABLES = ("IVR_LINE", "TICKET_ID")


def write_manager(conf: Conf, rules: Rules) -> None:
    conf.section(
        "general",
        "Added to your own [general], which must come before the #include of this file (else Asterisk drops the\n"
        "rest of this file: no ivr-monitor user). IVR_LINE and TICKET_ID on every AMI user's channel events: this\n"
        "line replaces a channelvars of your own [general]; to add variables of yours, list them after the\n"
        f"#include in [general](+) channelvars = {','.join(CHANNEL_VARIABLES)},YOURS.",
        options="+",
    )
    conf.setting("channelvars", ",".join(CHANNEL_VARIABLES))
    conf.section(
        USER,
        f"The AMI user of `ivr monitor`. Needs [general] enabled = yes (and bindaddr = 127.0.0.1) in your own\n"
        f"manager.conf. The secret: create {SECRET_FILE} in Asterisk's configuration folder, readable by\n"
        "Asterisk only, holding one line `secret = ...`; give the monitor the same secret through its environment.",
    )
    conf.raw(f'#tryinclude "{SECRET_FILE}"')
    conf.setting("deny", "0.0.0.0/0.0.0.0")
    conf.setting("permit", "127.0.0.1/255.255.255.255")
    conf.setting("read", READ)
    conf.setting("write", WRITE + (",originate" if rules.callbacks.automatic else ""))
    conf.comment("Only the events the monitor reads (structured filters: Asterisk 22.1 and later).")
    for event in EVENTS:
        conf.raw(f"eventfilter(action(include),name({event})) =")
