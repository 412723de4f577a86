"""The queues.conf include: every queue of the rules, with call-centre settings instead of Asterisk's defaults.

Members are not written here: agents log in as dynamic members (kept over restarts by persistentmembers), or the
admin adds static ones with `[NAME](+)` and `member =>` lines after the include.
"""

from __future__ import annotations

from ivr.dialplan.conf import Conf
from ivr.rules.model import COMFORT_PROMPT, Rules

# Asterisk 22 treats a queue as empty for joinempty/leavewhenempty when no member is in a listed state. `no` (and
# the default) leaves out unavailable members, so an agent's phone that is switched off at 3 a.m. would let callers
# join and wait the whole timeout: listing it makes Queue() return JOINEMPTY at once and the fallback run.
EMPTY_WHEN = "paused,penalty,unavailable,invalid"
# A caller waiting in a queue hears the music on hold, and this often the comfort prompt (queue-comfort).
COMFORT_EVERY = 30

SETTINGS: tuple[tuple[str, str | int, str], ...] = (
    ("strategy", "leastrecent", "the agent idle longest is rung first"),
    # app_queue's default (autofill_default = 0) rings for the caller at the head of the queue only: on a real
    # Asterisk, citizens calling at once while 8 agents were free waited for each other, one ringing phone at a time.
    ("autofill", "yes", "as many waiting callers are rung at once as agents are free, not only the first"),
    ("ringinuse", "no", "an agent already on a call is not rung"),
    ("joinempty", EMPTY_WHEN, "no agent who could answer: JOINEMPTY at once, the fallback runs"),
    ("leavewhenempty", EMPTY_WHEN, "the last agent leaves: waiting callers go on to the fallback"),
    ("timeout", 15, "seconds one agent's phone rings before the next is tried"),
    ("retry", 2, "seconds before ringing again when every agent was tried"),
    ("timeoutpriority", "app", "the Queue() timeout of the rules ends the wait even while a phone rings"),
    ("servicelevel", 15, "answered within 15 s counts as within service level (GB/T 33358-2016)"),
    ("setinterfacevar", "yes", "MEMBERINTERFACE and MEMBERNAME on the caller's channel: which agent answered"),
    ("musicclass", "default", "music on hold while waiting (musiconhold.conf [default])"),
    ("announce-frequency", 0, "no position or hold-time announcements: Asterisk has no Mandarin sounds for them"),
    ("periodic-announce", COMFORT_PROMPT, "the comfort prompt, from the caller's zh/ sounds, between the music"),
    ("periodic-announce-frequency", COMFORT_EVERY, "seconds of waiting between two comfort prompts"),
    ("announce-to-first-user", "yes", "without it app_queue never comforts the caller at the head of the queue"),
    ("announce-position", "no", ""),
    ("announce-holdtime", "no", ""),
)


TEMPLATE = "ivr-queue"


def write_queues(conf: Conf, rules: Rules) -> None:
    conf.section(
        "general",
        "Added to your own [general], which must come before the #include of this file. A value your [general]\n"
        "sets itself wins: remove persistentmembers there. Dynamic members (agents logged in) survive a restart.",
        options="+",
    )
    conf.setting("persistentmembers", "yes")
    conf.section(TEMPLATE, "Every queue below inherits these (a template is not a queue itself).", options="!")
    for key, value, why in SETTINGS:
        conf.setting(key, value, note=why)
    written: set[str] = set()
    for queue in rules.queues.values():
        if queue.queue in written:
            continue
        written.add(queue.queue)
        users = [q.name for q in rules.queues.values() if q.queue == queue.queue]
        conf.section(queue.queue, f"{queue.name_zh} ({queue.name_en}); used by {', '.join(users)}.", options=TEMPLATE)
