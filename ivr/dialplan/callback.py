"""The call-back contexts `ivr monitor` originates into (automatic call-backs, see ivr/ami/dialler.py).

`ivr-callback`: the Local channel the monitor originates waits in the queue, QUEUE_PRIO set by the Originate, so
it is answered before callers who wait (it never races them: it waits its turn at the head). Option r: the agent
side hears ringing, and the channel is answered only when an agent takes it. `ivr-callback-dial`: once an agent
answered, ring the citizen's number (the Originate's extension) presenting 12345, and play the citizen the
call-back greeting when they answer (Dial option A), before the agent speaks; the `h` extension reports how
it ended in UserEvent(IvrCallback), which the monitor stores on the stub as the attempt's result.
"""

from __future__ import annotations

from ivr.dialplan.conf import Conf
from ivr.rules.model import CALLBACK_PROMPT, Rules

CONTEXT = "ivr-callback"
DIAL_CONTEXT = "ivr-callback-dial"
EXTENSION = "callback"
MAIN_NUMBER = "12345"
RING_SECONDS = 45  # how long `ivr-callback-dial` rings the citizen


def write_callback(conf: Conf, rules: Rules) -> None:
    settings = rules.callbacks
    queue = rules.queues[settings.queue]
    conf.section(CONTEXT, f"A call-back waiting for a 12345 agent in {queue.queue} (QUEUE_PRIO from the Originate).")
    conf.exten(EXTENSION, f"Queue(${{IVR_CALLBACK_QUEUE}},r,,,{queue.timeout})")
    conf.same("Hangup()")
    conf.section(DIAL_CONTEXT, "An agent took the call-back: ring the citizen, presenting 12345.")
    if not settings.dial:
        conf.exten("_X.", "Hangup()", note="callbacks.dial is not set in the rules: nothing to ring with")
        return
    dial = settings.dial.replace("{number}", "${EXTEN}")
    conf.exten("_X.", f'Set(CALLERID(all)="{MAIN_NUMBER}" <{MAIN_NUMBER}>)')
    # A() plays on the citizen's channel, in that channel's language (the carrier's, often Asterisk's default en):
    # named with its folder, the greeting is found in sounds/zh/ whatever that language is.
    conf.same(f"Dial({dial},{RING_SECONDS},A(zh/{CALLBACK_PROMPT}))")
    conf.same("Hangup()")
    conf.exten("h", "UserEvent(IvrCallback,Ticket: ${TICKET_ID},DialStatus: ${DIALSTATUS})")
