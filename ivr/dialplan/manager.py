"""The manager.conf include: the AMI user of `ivr monitor`, allowed only what a read-only monitor needs.

The secret is never in the generated file: it comes from a file the admin creates beside manager.conf, pulled in
with #tryinclude. Without that file the user exists but has no secret, and Asterisk refuses every login as it;
the other AMI users keep working.
"""

from __future__ import annotations

from ivr.dialplan.conf import Conf
from ivr.rules.model import Rules

USER = "ivr-monitor"
SECRET_FILE = "ivr-ami-secret.conf"
# system: FullyBooted, Shutdown; call: Hangup, DialEnd, the transfers; agent: the queue events; user:
# UserEvent(IvrFallback).
READ = "system,call,agent,user"
# reporting: CoreShowChannels; QueueStatus and QueueSummary need no class; originate only with automatic call-backs.
WRITE = "reporting"
EVENTS = (
    "FullyBooted",
    "Shutdown",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
    "AgentDump",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
    "QueueMemberStatus",
    "DialEnd",
    "BlindTransfer",
    "AttendedTransfer",
    "Hangup",
    "UserEvent",
)
CHANNEL_VARIABLES = ("IVR_LINE", "TICKET_ID")


def write_manager(conf: Conf, rules: Rules) -> None:
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
    conf.setting("channelvars", ",".join(CHANNEL_VARIABLES))
