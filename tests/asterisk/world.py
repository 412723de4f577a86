"""The world around the project, written as the test's own dialplan (`world.conf`): the citizens' phones, the
agents' phones, the departments' seats, the emergency services and the carrier. Nothing here stands in for a
context the project generates. What each phone does comes from a global variable the test sets over AMI, so one
running Asterisk plays every case without a reload."""

from __future__ import annotations

from collections.abc import Iterable

# A citizen's call is an Originate of Local/NUMBER@ivr-inbound (the ;2 half is the inbound call the carrier
# delivers); the ;1 half is the citizen's phone and runs [citizen] once the call is answered.
# CITIZEN_HOLD: seconds before the citizen hangs up. CITIZEN_HEARD: a file recording what the citizen hears.
CITIZEN = """\
[citizen]
exten => s,1,ExecIf($["${CITIZEN_HEARD}" != ""]?MixMonitor(${CITIZEN_HEARD}))
 same => n,Wait(${CITIZEN_HOLD})
 same => n,Hangup()
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

# A department's seat, rung as Local/NUMBER@CONTEXT (the rules' dial strings with Local for PJSIP). SEAT_NUMBER:
#   answer:S (the default, S=5)  busy  noanswer (rings forever)  unreachable (no route: CHANUNAVAIL)
SEATS = """\
[seat]
exten => _X.,1,Set(DO=${GLOBAL(SEAT_${EXTEN})})
 same => n,Set(DO=${IF($["${DO}" = ""]?answer:5:${DO})})
 same => n,Goto(seat-${CUT(DO,:,1)},s,1)

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


def world(seat_contexts: Iterable[str]) -> str:
    """world.conf for a site whose seats are rung in these contexts."""
    departments = "".join(f"\n[{context}]\ninclude => seat\n" for context in sorted(set(seat_contexts)))
    return "\n".join([CITIZEN, AGENTS, SEATS, OUTSIDE]) + departments
