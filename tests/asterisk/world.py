"""The world around the project, written as the test's own dialplan (`world.conf`): the citizens' phones, the
agents' phones, the departments' seats, the emergency services and the carrier. Nothing here stands in for a
context the project generates. What each phone does comes from a global variable the test sets over AMI, so one
running Asterisk plays every case without a reload."""

from __future__ import annotations

from collections.abc import Iterable

# A citizen's call is an Originate of Local/NUMBER@ivr-inbound (the ;2 half is the inbound call the carrier
# delivers); the ;1 half is the citizen's phone and runs [citizen] once the call is answered.
# CITIZEN_HOLD: seconds before the citizen hangs up. CITIZEN_HEARD: a file recording what the citizen hears:
# MixMonitor's r() keeps only what the phone reads (the switch's audio), not what it sends; a .wav name gives
# 8 kHz 16-bit mono PCM, the prompts' own format. Frames are written as they come, so a pause in what the switch
# sends is not in the file: it holds what was heard, in order, not when (times come from AMI). Such a phone also
# sends 100 ms of silence when answered, as a real phone's first RTP: Asterisk's ANSWER waits up to 500 ms for
# the caller's first media frame (main/channel.c, __ast_answer). It sends nothing after: over Local, a phone that
# keeps sending (Playtones(0)) gets no music on hold in a queue. Whichever side hangs up, the phone's hangup
# handler stops the recording: StopMixMonitor closes the file, then raises MixMonitorStop
# (apps/app_mixmonitor.c, stop_mixmonitor_full), which Site.recording waits for. Without it MixMonitor's own
# thread closes the file some time after the channel's Hangup event, and a test reading at the Hangup may find
# the file unfinished.
CITIZEN = """\
[citizen]
exten => s,1,ExecIf($["${CITIZEN_HEARD}" != ""]?Playtones(!0/100))
 same => n,ExecIf($["${CITIZEN_HEARD}" != ""]?MixMonitor(,r(${CITIZEN_HEARD})))
 same => n,ExecIf($["${CITIZEN_HEARD}" != ""]?Set(CHANNEL(hangup_handler_push)=citizen-heard,s,1))
 same => n,Wait(${CITIZEN_HOLD})
 same => n,Hangup()

[citizen-heard]
exten => s,1,StopMixMonitor()
 same => n,Return()
"""

# Queue members are Local/NNNN@agents/n. AGENT_NNNN (global) says what the phone does when rung:
#   answer:S     answers, talks S seconds, hangs up first
#   hold         answers and waits for the caller to hang up
#   ring         rings and never answers
#   transfer:S:N answers, talks S seconds, then blind-transfers the caller to N with the DTMF key (#)
AGENTS = """\
[agents]
exten => _8XXX,1,Set(DO=${GLOBAL(AGENT_${EXTEN})})
 same => n,Goto(agent-${CUT(DO,:,1)},s,1)

[agent-answer]
exten => s,1,Answer()
 same => n,Wait(${CUT(DO,:,2)})
 same => n,Hangup()

[agent-hold]
exten => s,1,Answer()
 same => n,Wait(3600)
 same => n,Hangup()

[agent-ring]
exten => s,1,Ringing()
 same => n,Wait(3600)
 same => n,Hangup()

[agent-transfer]
exten => s,1,Answer()
 same => n,Wait(${CUT(DO,:,2)})
 same => n,SendDTMF(#${CUT(DO,:,3)})
 same => n,Wait(3600)
 same => n,Hangup()
"""

# Agents whose phone does what the *caller's* global says: members Local/8NNN@agents-for-caller/n read
# FOR_<caller's number> (answer:S / hold / ring / transfer:S:N, as above). app_queue gives the member channel the
# caller's number as connected line, which the Local channel crosses over to its ;2 half's caller id. So several
# citizens can wait in one queue at once, each meeting the agent behaviour its test needs whichever agent
# Asterisk rings.
AGENTS_FOR_CALLER = """\
[agents-for-caller]
exten => _8XXX,1,Set(DO=${GLOBAL(FOR_${CALLERID(num)})})
 same => n,Goto(agent-${CUT(DO,:,1)},s,1)
"""

# An agent who is slow to pick up (AGENT_NNNN = late:R:S): rings R seconds, answers, talks S seconds, hangs up
# first. The caller hears the queue's music on hold until the answer. R under the queue's ring timeout (15 s).
AGENT_LATE = """\
[agent-late]
exten => s,1,Ringing()
 same => n,Wait(${CUT(DO,:,2)})
 same => n,Answer()
 same => n,Wait(${CUT(DO,:,3)})
 same => n,Hangup()
"""

# An agent who hands the caller on with an attended transfer (AGENT_NNNN or FOR_<caller> = atxfer:S:N): answers,
# talks S seconds, keys the world's features.conf atxfer key (*2, switch.py: Asterisk has no default atxfer key,
# main/features_config.c) and N, talks to N a moment, then hangs up: with atxferdropcall=no (the default) the
# transferer's hang-up completes the transfer (main/bridge_basic.c), as an agent's phone put down does.
AGENT_ATXFER = """\
[agent-atxfer]
exten => s,1,Answer()
 same => n,Wait(${CUT(DO,:,2)})
 same => n,SendDTMF(*2${CUT(DO,:,3)})
 same => n,Wait(5)
 same => n,Hangup()
"""

# A department's seat, rung as Local/NUMBER@CONTEXT (the rules' dial strings with Local for PJSIP). SEAT_NUMBER:
#   answer:S (the default, S=5)  busy  noanswer (rings forever)  unreachable (no route: CHANUNAVAIL)
SEATS = """\
[seat]
exten => _X.,1,Set(DO=${GLOBAL(SEAT_${EXTEN})})
 same => n,GotoIf($["${DO}" != ""]?go)
 same => n,Set(DO=answer:5)
 same => n(go),Goto(seat-${CUT(DO,:,1)},s,1)

[seat-answer]
exten => s,1,Answer()
 same => n,Wait(${CUT(DO,:,2)})
 same => n,Hangup()

[seat-busy]
exten => s,1,Busy(5)

[seat-noanswer]
exten => s,1,Ringing()
 same => n,Wait(3600)

[seat-unreachable]
exten => s,1,Hangup(20)
"""

# The admin's own contexts the rules name: emergency.context and linkage.outbound_context. Each answer is an
# event the judge reads: which number the caller was handed to.
OUTSIDE = """\
[emergency-out]
exten => _X.,1,UserEvent(WorldReached,Where: emergency,Number: ${EXTEN})
 same => n,Answer()
 same => n,Wait(3600)
 same => n,Hangup()

[pstn-out]
exten => _X.,1,UserEvent(WorldReached,Where: pstn,Number: ${EXTEN})
 same => n,Answer()
 same => n,Wait(3600)
 same => n,Hangup()
"""

# The carrier the call-back dialler rings citizens through (the rules' callbacks.dial, PJSIP rewritten to Local):
# Local/NUMBER@pstn-carrier is the citizen's phone. UserEvent(WorldCalledBack) says who was rung and which number
# the phone displayed. CALLBACK_NUMBER (global):  answer:S (the default, S=20)  noanswer (rings forever)  busy.
# CALLBACK_HEARD_NUMBER (global, a .wav path): the answering phone records what it hears, as [citizen] does.
CALLED_BACK = """\
[pstn-carrier]
exten => _X.,1,UserEvent(WorldCalledBack,Number: ${EXTEN},CallerID: ${CALLERID(num)})
 same => n,Set(DO=${GLOBAL(CALLBACK_${EXTEN})})
 same => n,Set(HEARD=${GLOBAL(CALLBACK_HEARD_${EXTEN})})
 same => n,GotoIf($["${DO}" != ""]?go)
 same => n,Set(DO=answer:20)
 same => n(go),Goto(called-${CUT(DO,:,1)},s,1)

[called-answer]
exten => s,1,ExecIf($["${HEARD}" != ""]?MixMonitor(,r(${HEARD})))
 same => n,ExecIf($["${HEARD}" != ""]?Set(CHANNEL(hangup_handler_push)=citizen-heard,s,1))
 same => n,Answer()
 same => n,ExecIf($["${HEARD}" != ""]?Playtones(!0/100))
 same => n,Wait(${CUT(DO,:,2)})
 same => n,Hangup()

[called-noanswer]
exten => s,1,Ringing()
 same => n,Wait(3600)

[called-busy]
exten => s,1,Busy(5)
"""


def world(seat_contexts: Iterable[str]) -> str:
    """world.conf for a site whose seats are rung in these contexts."""
    departments = "".join(f"\n[{context}]\ninclude => seat\n" for context in sorted(set(seat_contexts)))
    parts = [CITIZEN, AGENTS, AGENTS_FOR_CALLER, AGENT_LATE, AGENT_ATXFER, SEATS, OUTSIDE, CALLED_BACK]
    return "\n".join(parts) + departments
