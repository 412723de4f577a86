"""The dialplan interpreter (tests/dialplan/interpreter.py) against the real switch: every behaviour it models is put
to both as the same case, and both must take the same path. The interpreter carries the large exhaustive tables of
tests/dialplan, which would take hours on Asterisk; this module is what keeps it honest.

A case starts a channel in a context at an extension, with variables preset (Originate of Local/EXTEN@CONTEXT; its
;2 half runs the dialplan). On the switch the path is Asterisk's own account: one AMI Newexten event per priority
(context, extension, priority, application, data after substitution, and the channel state), VarSet for every
variable set, UserEvent, and PLAYBACKSTATUS for each Playback. The interpreter runs the same text from the same
place with the same variables and a world saying what the switch's queues and seats do, and must give the same
steps, values and events. Where the two differed, the switch was right and the interpreter was mended.

Two kinds of case:
- the interpreter's generic semantics on a small dialplan of this module's own (PROBE, loaded beside world.conf):
  exact extensions before patterns, `i`, running off the end, `${…}` and `$[…]` (quoted strings, numbers, `=~`,
  `|`, `&`), GotoIf's condition, Gosub arguments, Playback answering and its language, GotoIfTime (the end minute,
  ranges across midnight and weekdays, the zone), and two patterns for one number;
- the generated dialplan's own behaviour, with the engine stopped (AGI refused: AGISTATUS=FAILURE) or the engine's
  leavings preset: every inbound form (separators, `+`, trunk prefixes, an unknown number, no number, a number
  nothing matches), the emergency numbers, the transition prompts by ${EPOCH}, a seat's opening hours, and every
  IVR_STAGE branch of ivr-line-NNNNN with the statuses the outcome table reads, against a world where queues are
  empty, time out or answer and seats are busy, do not answer, cannot be reached or answer.
All cases run at once on the module's one site."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.ami.protocol import Message
from ivr.dialplan.build import EXTENSIONS
from tests.asterisk.site import Site
from tests.dialplan.interpreter import (
    DAY_NAMES,
    QUEUE_NOT_JOINED,
    Call,
    Channel,
    Dialplan,
    DialplanError,
    Step,
    World,
    run,
    unreachable,
)

ZONE = ZoneInfo("Asia/Shanghai")
HOTLINE = ("all-busy", "emergency-advisory")  # the final instruction when no queue or seat answers
NOBODY = "JOINEMPTY"  # a queue nobody is logged in to (joinempty in ivr-queues.conf)


def _hm(minute: int) -> str:
    minute %= 24 * 60
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _hours(start: int, end: int) -> str:
    """The rules' `hours:` for every day from minute `start` to minute `end` of the day (now-relative, across
    midnight split in two spans), so which seat is open does not change while the module runs."""
    start, end = start % (24 * 60), end % (24 * 60)
    spans = [(start, end)] if start < end else [(start, 24 * 60), (0, end)]
    return "    hours:\n" + "".join(
        f'      - {{days: mon-sun, from: "{_hm(a)}", to: "{_hm(b) if b < 24 * 60 else "24:00"}"}}\n'
        for a, b in spans
        if a < b
    )


def EDIT_RULES(text: str) -> str:
    """A queue that times out and a seat that rings out in 5 s (the rules' least) instead of minutes; seat-12329
    open from two hours ago to two hours ahead and seat-12320 from four to eight hours ahead (GotoIfTime in their
    contexts: one open, one closed now); 12349 in its transition until 2099 (the ${EPOCH} branch before the end;
    12396's transition is over)."""
    local = datetime.now(ZONE)
    now = local.hour * 60 + local.minute
    # seat-12333 keeps office hours over Monday to Friday, all day, and today is made special by calendar.overrides:
    # a weekday becomes a holiday (closed), a weekend day a make-up workday (open): the generated ivr-day context
    # (STRFTIME, Gosub, Return's GOSUB_RETVAL) decides on the switch.
    special = "holidays" if local.weekday() < 5 else "workdays"
    text = text.replace(f"    {special}: []", f"    {special}: [{local.date()}]", 1)
    edits = [
        ("    queue: expert-12320\n", "    timeout: 180\n", "    timeout: 5\n"),
        ("  seat-12333:\n", "    ring_timeout: 25\n", "    ring_timeout: 5\n"),
        ("  seat-12333:\n", "    hours: 7x24", '    hours: [{days: mon-fri, from: "00:00", to: "24:00"}]'),
        ("  seat-12329:\n", "    hours: 7x24\n", _hours(now - 120, now + 120)),
        ("  seat-12320:\n", "    hours: 7x24\n", _hours(now + 240, now + 480)),
        ('  "12349":\n', "      ends: 2021-11-30", "      ends: 2099-12-31"),
    ]
    for anchor, old, new in edits:
        at = text.index(anchor)
        where = text.index(old, at)
        text = text[:where] + new + text[where + len(old) :]
    return text


# The switch's world for the generated dialplan, as the interpreter is told it: what each queue and seat does.
AGENTS = {"expert-12333": ("8001", "answer:1"), "expert-12320": ("8002", "ring")}
SEATS = {"12348": "unreachable", "12333": "noanswer", "12329": "busy", "12328": "answer:1", "12320": "answer:1"}
QUEUE_RESULTS = {"expert-12333": "ANSWER", "expert-12320": "TIMEOUT"}
CALLED_BACK = {"13900000001": "answer:15", "13900000002": "busy"}  # phones behind pstn-carrier (the greeting: 12 s)
SEAT_RESULTS = {
    "Local/13900000001@pstn-carrier": "ANSWER",
    "Local/13900000002@pstn-carrier": "BUSY",
    "Local/12348@dept-justice": "CHANUNAVAIL",
    "Local/12333@dept-hr-social-security": "NOANSWER",
    "Local/12329@dept-provident-fund": "BUSY",
    "Local/12328@dept-transport": "ANSWER",
    "Local/12320@dept-health": "ANSWER",
}
QUEUES = ("hotline-12345", "expert-12348", "expert-12333", "expert-12329", "expert-12320")

# The module's own dialplan: one context per generic behaviour. Expressions and conditions get an extension each.
EXPRESSIONS = [
    ('"TIMEOUT" =~ "^(TIMEOUT|FULL)$"', "TIMEOUT"),
    ('"BUSY" =~ "^(TIMEOUT|FULL)$"', ""),
    ('"xTIMEOUT" =~ "TIMEOUT"', "7"),  # a search, not anchored: the length matched
    ('"abc" =~ "^b"', "0"),
    ('"b" =~ "(a)|b"', "1"),  # the group took no part: the length matched, not its text
    ('"" != "" | "CONTINUE" = "CONTINUE"', "1"),
    ('"a" != "" & "b" = "c"', "0"),
    ("1638288000 >= 1638287999", "1"),
    ("10 > 9", "1"),
    ('"10" > "9"', "0"),  # quoted: strings
    ("010 = 10", "1"),
    ('"010" = "10"', "0"),
    ("9.5 > 10", "0"),
    ('"a" = a', "0"),  # the quotes are part of the string
    ('"abc"', '"abc"'),
    ('"" | x', '""'),  # "" is two characters: true
    ('"x" & ""', '"x"'),
    ("05 | x", "5"),  # looked at as a number
    ('"queue:x" = "queue:x"', "1"),
    ('"a" = "a" = 1', "1"),  # left to right
    ('"x" =~ "x" = 1', "1"),  # =~ binds tighter than =
    ('( "a" = "a" ) & 2', "1"),
]
CONDITIONS = [("", "no"), ("0", "no"), ("00", "no"), ("1", "yes"), ("-1", "yes"), ("abc", "yes"), ("0abc", "no")]
CONDITIONS += [(" ", "yes"), (" 0", "no"), (" 7", "yes")]

PROBE = (
    """
[probe-exact]
exten => _X.,1,Set(TOOK=pattern)
 same => n,Hangup()
exten => 110,1,Set(TOOK=exact)
 same => n,Hangup()

[probe-invalid]
exten => s,1,Goto(12x,1)
exten => i,1,Set(BAD=${INVALID_EXTEN})
 same => n,Hangup()

[probe-no-i]
exten => s,1,Set(BEFORE=1)
 same => n,Goto(12x,1)

[probe-fall-off]
exten => s,1,Set(LAST=1)

[probe-two-a]
exten => _X.,1,Set(TOOK=_X.)
exten => _1X.,1,Set(TOOK=_1X.)

[probe-two-b]
exten => _1X.,1,Set(TOOK=_1X.)
exten => _X.,1,Set(TOOK=_X.)

[probe-substitute]
exten => _+X.,1,Set(DIGITS=${FILTER(+0123456789,${EXTEN})})
 same => n,Set(SEMI=a\\;b)
 same => n,Set(NONE=${NOT_SET})
 same => n,Set(NAME=DIGITS)
 same => n,Set(INDIRECT=${${NAME}})
 same => n,Set(LANG=${CHANNEL(language)})
 same => n,Set(CHANNEL(language)=zh)
 same => n,Set(LANG=${CHANNEL(language)})
 same => n,Set(CDR(userfield)=a=1\\;b=${PRESET})
 same => n,Set(FIELD=${CDR(userfield)})
 same => n,Set(CALLERID(name)=probe)
 same => n,Set(WHO=${CALLERID(name)})
 same => n,Set(__HANDED_DOWN=${PRESET})
 same => n,Set(EMPTY=)
 same => n,UserEvent(Probe,Digits: ${DIGITS},Field: ${FIELD},Empty: ${EMPTY})
 same => n,Hangup()

[probe-gosub]
exten => s,1,Gosub(probe-sub,s,1(one,,three))
 same => n,Set(AFTER=${ARG1}|${IN2})
 same => n,Gosub(probe-sub,t,1)
 same => n,Hangup()

[probe-sub]
exten => s,1,Set(IN=${ARG1}-${ARG2}-${ARG3}-${ARG4})
 same => n,Gosub(probe-sub,t,1(inner))
 same => n,Set(IN2=${ARG1})
 same => n,Return()
exten => t,1,Set(IN3=${ARG1})
 same => n,Return()

[probe-play]
exten => s,1,Playback(welcome)
 same => n,Set(CHANNEL(language)=zh)
 same => n,Playback(welcome)
 same => n,Hangup()

[probe-agi]
exten => s,1,AGI(${HOLD})
 same => n,Set(AFTER=1)

[probe-clock]
exten => s,1,GotoIfTime(${T},${D},*,*,${Z}?open)
 same => n,Set(R=closed)
 same => n,Hangup()
 same => n(open),Set(R=open)
 same => n,Hangup()

[probe-expr]
"""
    + "".join(f"exten => {n},1,Set(R=$[{e}])\n same => n,Hangup()\n" for n, (e, _) in enumerate(EXPRESSIONS, 1))
    + "\n[probe-if]\n"
    + "".join(
        f"exten => {n},1,GotoIf({c}?yes)\n same => n,Set(R=no)\n same => n,Hangup()\n"
        " same => n(yes),Set(R=yes)\n same => n,Hangup()\n"
        for n, (c, _) in enumerate(CONDITIONS, 1)
    )
)


@dataclass(frozen=True)
class Case:
    """One call put to both. `expect`: variables the call must end with; `ending`, `played`, `where`: how it ends
    (the interpreter's Call), for the cases where that is the point."""

    name: str
    context: str
    exten: str = "s"
    preset: dict[str, str] = field(default_factory=dict)
    generated: bool = False  # the generated dialplan (else PROBE)
    hangs_up: bool = False  # the caller hangs up while the engine (AGI) has the call
    expect: dict[str, str] = field(default_factory=dict)
    ending: str = ""
    played: tuple[str, ...] | None = None
    where: tuple[str, str] | None = None
    queues: dict[str, str] = field(default_factory=dict)  # what a queue does for this case alone (LEAVE_CASES)


def _stage(stage: str, **statuses: str) -> dict[str, str]:
    """What an engine that answered and went away leaves for the fallback: its stage and the statuses it saw."""
    return {"IVR_STAGE": stage, "AGISTATUS": "SUCCESS", **statuses}


PROBE_CASES = [
    Case("exact-before-a-pattern", "probe-exact", "110", expect={"TOOK": "exact"}, ending="hangup"),
    Case("a-pattern-for-the-rest", "probe-exact", "111", expect={"TOOK": "pattern"}, ending="hangup"),
    Case("unknown-extension-goes-to-i", "probe-invalid", expect={"BAD": "12x", "INVALID_EXTEN": "12x"}),
    Case("unknown-extension-without-i-ends", "probe-no-i", ending="invalid"),
    Case("past-the-last-priority", "probe-fall-off", ending="fell-off"),
    Case(
        "substitution",
        "probe-substitute",
        "+86-871-12345",
        preset={"PRESET": "p"},
        expect={"DIGITS": "+8687112345", "SEMI": "a;b", "NONE": "", "INDIRECT": "+8687112345", "LANG": "zh"},
    ),
    Case("gosub-arguments", "probe-gosub", expect={"IN": "one--three-", "IN2": "one", "IN3": "", "AFTER": "|one"}),
    Case("hang-up-during-agi-ends-the-dialplan", "probe-agi", hangs_up=True, ending="gone"),
    Case("playback-answers-in-the-channel-language", "probe-play", ending="hangup", played=("welcome", "welcome")),
    *[Case(f"expression-{n}", "probe-expr", str(n), expect={"R": v}) for n, (_, v) in enumerate(EXPRESSIONS, 1)],
    *[Case(f"condition-{n}", "probe-if", str(n), expect={"R": v}) for n, (_, v) in enumerate(CONDITIONS, 1)],
]

TWO_PATTERNS = [
    Case("two-patterns-general-first", "probe-two-a", "123"),
    Case("two-patterns-specific-first", "probe-two-b", "123"),
]

GENERATED_CASES = [
    # The inbound contexts with the engine stopped: the static plan of the line the number belongs to.
    Case("inbound-12345", "ivr-inbound", "12345", generated=True, played=("welcome", *HOTLINE), ending="hangup"),
    Case("inbound-separators", "ivr-inbound", "0871.12345", generated=True, played=("welcome", *HOTLINE)),
    Case(
        "inbound-a-dash-counts-for-nothing", "ivr-inbound", "0871-12345", generated=True, played=("welcome", *HOTLINE)
    ),
    Case("inbound-plus-form", "ivr-inbound", "+86-871-12345", generated=True, played=("welcome", *HOTLINE)),
    Case("inbound-unknown-number", "ivr-inbound", "99999", generated=True, played=("welcome", *HOTLINE)),
    Case("inbound-no-number", "ivr-inbound", "s", generated=True, played=("welcome", *HOTLINE)),
    Case(
        "inbound-matches-nothing-then-i",
        "ivr-inbound",
        "5*",
        generated=True,
        played=("welcome", *HOTLINE),
        expect={"INVALID_EXTEN": "5"},
    ),
    Case("inbound-trunk-prefix", "ivr-inbound-ip-longdistance", "17951+8612385", generated=True, played=HOTLINE),
    Case(
        "inbound-absorbed-after",
        "ivr-inbound",
        "12396",
        generated=True,
        played=("stopped-12396", "connecting-12345", *HOTLINE),
    ),
    Case("inbound-absorbed-during", "ivr-inbound", "12349", generated=True, played=("transition-12349", *HOTLINE)),
    Case("emergency-110", "ivr-inbound", "110", generated=True, ending="external", where=("emergency-out", "110")),
    Case("emergency-separators", "ivr-inbound", "0871.120", generated=True, where=("emergency-out", "120")),
    Case("emergency-dashes", "ivr-inbound", "0871-1-2-2", generated=True, where=("emergency-out", "122")),
    Case("emergency-trunk", "ivr-inbound-ip-longdistance", "17909-119", generated=True, where=("emergency-out", "119")),
    # After the engine, by IVR_STAGE.
    Case("stage-done", "ivr-line-12345", preset=_stage("done"), generated=True, ending="hangup", played=()),
    Case("stage-prompt", "ivr-line-12345", preset=_stage("prompt"), generated=True, played=HOTLINE),
    Case(
        "stage-unknown",
        "ivr-line-12348",
        preset=_stage("no-such-stage"),
        generated=True,
        played=("transfer-dept", "dept-unavailable", *HOTLINE),
        expect={"DIALSTATUS": "CHANUNAVAIL", "QUEUESTATUS": NOBODY},
    ),
    Case(
        "stage-queue-continue",
        "ivr-line-12345",
        preset=_stage("queue:hotline-12345", QUEUESTATUS="CONTINUE"),
        generated=True,
        played=(),
        ending="hangup",
    ),
    Case(
        "stage-queue-answered",
        "ivr-line-12348",
        preset=_stage("queue:expert-12348", ANSWEREDTIME="42"),
        generated=True,
        played=(),
    ),
    Case(
        "stage-queue-timed-out",  # as Queue() leaves it: ANSWEREDTIME=0 with TIMEOUT
        "ivr-line-12348",
        preset=_stage("queue:expert-12348", QUEUESTATUS="TIMEOUT", ANSWEREDTIME="0"),
        generated=True,
        played=HOTLINE,
    ),
    Case(
        "stage-queue-again-times-out",
        "ivr-line-12320",
        preset=_stage("queue:expert-12320"),
        generated=True,
        played=HOTLINE,
        expect={"QUEUESTATUS": NOBODY, "ANSWEREDTIME": ""},
    ),
    Case(
        "stage-dial-answered",
        "ivr-line-12333",
        preset=_stage("dial:seat-12333", DIALSTATUS="ANSWER"),
        generated=True,
        played=(),
    ),
    Case(
        "stage-dial-no-answer-then-an-agent",
        "ivr-line-12333",
        preset=_stage("dial:seat-12333", DIALSTATUS="NOANSWER"),
        generated=True,
        played=("dept-unavailable",),
        ending="person",
    ),
    Case(
        "stage-dial-unknown-status-again",
        "ivr-line-12329",
        preset=_stage("dial:seat-12329", DIALSTATUS="SOMETHING-NEW"),
        generated=True,
        played=("transfer-dept", "dept-unavailable", *HOTLINE),
        expect={"DIALSTATUS": "BUSY"},
    ),
    Case(
        "plan-seat-answers",
        "ivr-line-12328",
        preset={"AGISTATUS": "FAILURE"},
        generated=True,
        played=("transfer-dept",),
        ending="person",
    ),
    Case(
        "plan-seat-closed",
        "ivr-line-12320",
        preset={"AGISTATUS": "FAILURE"},
        generated=True,
        played=("dept-unavailable", *HOTLINE),
        expect={"QUEUESTATUS": NOBODY},
    ),
    # Office hours over Monday to Friday on a day calendar.overrides made special (EDIT_RULES): a weekday holiday
    # closes the seat, a make-up weekend day opens it (it rings out: noanswer); either way an expert answers.
    Case(
        "office-hours-on-a-special-day",
        "ivr-to-seat-12333",
        generated=True,
        played=("dept-unavailable",) if datetime.now(ZONE).weekday() < 5 else ("transfer-dept", "dept-unavailable"),
        ending="person",
    ),
    # The agents' transfer key (the blind transfer lands in ivr-linkage): an emergency line and a utility. (A number
    # the context lacks cannot be a Local channel's: Asterisk refuses to create it, so only the interpreter has it.)
    Case("linkage-emergency", "ivr-linkage", "119", generated=True, ending="external", where=("emergency-out", "119")),
    Case("linkage-utility", "ivr-linkage", "95598", generated=True, ending="external", where=("pstn-out", "95598")),
    # Call-backs: the queued half waits for an agent (nobody here), the dialled half rings the citizen through the
    # carrier and its h extension tells the monitor how the citizen's phone answered.
    Case(
        "callback-queue-nobody",
        "ivr-callback",
        "callback",
        preset={"IVR_CALLBACK_QUEUE": "expert-12329"},
        generated=True,
        ending="hangup",
        expect={"QUEUESTATUS": NOBODY},
    ),
    Case(
        "callback-citizen-answers",
        "ivr-callback-dial",
        "13900000001",
        preset={"TICKET_ID": "12345-20261206-e1-000001"},
        generated=True,
        ending="person",
    ),
    Case(
        "callback-citizen-busy",
        "ivr-callback-dial",
        "13900000002",
        preset={"TICKET_ID": "12345-20261206-e1-000002"},
        generated=True,
        ending="hangup",
        expect={"DIALSTATUS": "BUSY"},
    ),
]

# The last agent of a queue leaving while a caller waits (leavewhenempty: paused counts as gone): QUEUESTATUS
# LEAVEEMPTY, and the fallback goes on to the next queue. Run after the others, alone, with an agent of its own
# that rings and is paused once Asterisk says the caller joined.
LEAVING = ("expert-12348", "8003")
LEAVE_CASES = [
    Case(
        "plan-expert-leaves-while-the-caller-waits",
        "ivr-line-12348",
        preset={"AGISTATUS": "FAILURE"},
        generated=True,
        played=("transfer-dept", "dept-unavailable", *HOTLINE),
        expect={"QUEUESTATUS": NOBODY},
        queues={LEAVING[0]: "LEAVEEMPTY"},
    ),
]


def clock_cases(epoch: float) -> list[Case]:
    """GotoIfTime around the minute `epoch` falls in: ranges ending, starting or only at this minute, a minute
    before or after it, ranges across midnight, weekday ranges and lists, and the zone."""

    def at(zone: ZoneInfo) -> tuple[int, int]:
        local = datetime.fromtimestamp(epoch, zone)
        return local.hour * 60 + local.minute, (local.weekday() + 1) % 7  # DAY_NAMES counts from Sunday

    m, w = at(ZONE)
    u, uw = at(ZoneInfo("UTC"))

    def day(offset: int, today: int = w) -> str:
        return DAY_NAMES[(today + offset) % 7]

    table = [
        ("end-minute-counts", f"{_hm(m - 1)}-{_hm(m)}", day(0), ZONE.key, "open"),
        ("start-minute", f"{_hm(m)}-{_hm(m + 1)}", day(0), ZONE.key, "open"),
        ("one-minute", f"{_hm(m)}-{_hm(m)}", day(0), ZONE.key, "open"),
        ("ended-a-minute-ago", f"{_hm(m - 2)}-{_hm(m - 1)}", day(0), ZONE.key, "closed"),
        ("starts-next-minute", f"{_hm(m + 1)}-{_hm(m + 2)}", day(0), ZONE.key, "closed"),
        ("across-midnight", f"{_hm(m + 1)}-{_hm(m)}", day(0), ZONE.key, "open"),
        ("across-midnight-not-now", f"{_hm(m + 1)}-{_hm(m - 1)}", day(0), ZONE.key, "closed"),
        ("another-zone", f"{_hm(m - 1)}-{_hm(m)}", day(0, uw), "UTC", "closed"),
        ("its-own-zone", f"{_hm(u - 1)}-{_hm(u)}", day(0, uw), "UTC", "open"),
        ("weekday-range", f"{_hm(m)}-{_hm(m)}", f"{day(-1)}-{day(1)}", ZONE.key, "open"),
        ("weekday-range-around", f"{_hm(m)}-{_hm(m)}", f"{day(1)}-{day(-1)}", ZONE.key, "closed"),
        ("weekday-list", f"{_hm(m)}-{_hm(m)}", f"{day(2)}&{day(0)}", ZONE.key, "open"),
        ("another-day", f"{_hm(m)}-{_hm(m)}", day(1), ZONE.key, "closed"),
    ]
    return [
        Case(f"clock-{name}", "probe-clock", preset={"T": t, "D": d, "Z": z}, expect={"R": r})
        for name, t, d, z, r in table
    ]


CLOCK_NAMES = [case.name for case in clock_cases(time.time())]


@dataclass
class Observed:
    """What the switch said about one case's channel (the ;2 half)."""

    trace: list[Step] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)  # the last VarSet of each, leading underscores dropped
    user_events: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    playback: list[str] = field(default_factory=list)  # PLAYBACKSTATUS after each Playback
    results: list[str] = field(default_factory=list)  # each Queue's or Dial's status, ANSWER when a person answered
    entered: list[str] = field(default_factory=list)  # the queues queue_log says the caller entered (ENTERQUEUE)
    epoch: float = 0.0  # when the first priority ran (the events' Timestamp: manager.conf timestampevents)

    @property
    def connected(self) -> bool:
        return "ANSWER" in self.results


@dataclass
class Outcome:
    case: Case
    preset: dict[str, str]  # the variables the call started with
    observed: Observed


_UNESCAPE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unescaped(value: str) -> str:
    """VarSet's Value is C-escaped by the manager (ast_escape_c: quotes, backslashes, control characters)."""
    return re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m[1], m[1]), value)


def _echo(newexten: Message, trace: list[Step]) -> bool:
    """A Newexten that is no step: with any manager channelvars, every variable set publishes a channel snapshot
    (main/stasis_channels.c, ast_channel_publish_varset), and Gosub sets ARGn after moving to the subroutine's
    priority 0, Return restores the caller's LOCAL variables after moving back: each snapshot is sent as a Newexten
    at the new place still naming the Gosub or Return that moved there."""
    app, data = newexten.get("Application") or "", newexten.get("AppData") or ""
    return bool(trace) and app in ("Gosub", "GosubIf", "Return") and (trace[-1].app, trace[-1].data) == (app, data)


def observe(events: list[Message]) -> Observed:
    """One channel's events in the order Asterisk sent them: a Newexten starts each step; the QUEUESTATUS or
    DIALSTATUS set during a Queue or Dial step, or an AgentConnect (a queue's caller answered), is its result."""
    seen = Observed(epoch=float(events[0].get("Timestamp") or 0) if events else 0.0)
    result: str | None = None
    for m in events:
        if m.event == "Newexten" and _echo(m, seen.trace):
            continue
        if m.event == "Newexten":
            if result is not None:
                seen.results.append(result)
            app = m.get("Application") or ""
            result = "" if app in ("Queue", "Dial") else None
            seen.trace.append(
                Step(
                    m.get("Context") or "",
                    m.get("Extension") or "",
                    int(m.get("Priority") or 0),
                    app,
                    m.get("AppData") or "",
                    m.get("ChannelState") == "6",
                )
            )
        elif m.event == "VarSet":
            name, value = (m.get("Variable") or "").lstrip("_"), _unescaped(m.get("Value") or "")
            seen.variables[name] = value
            if name == "PLAYBACKSTATUS":
                seen.playback.append(value)
            if name in ("QUEUESTATUS", "DIALSTATUS") and value and result is not None:
                result = value
        elif m.event == "AgentConnect" and result is not None:
            result = "ANSWER"
        elif m.event == "UserEvent" and m.get("UserEvent") != "WorldReached":  # the world's emergency-out
            seen.user_events.append((m.get("UserEvent") or "", dict(m.fields)))
    if result is not None:
        seen.results.append(result)
    return seen


class HoldingAgi:
    """A FastAGI server that takes the call and sends no command, so the caller can hang up while the "engine"
    has it; it closes its side when Asterisk says HANGUP (res_agi waits for that before it returns)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"agi://127.0.0.1:{self.server.getsockname()[1]}/hold"
        self.holding = threading.Event()
        threading.Thread(target=self._serve, name="holding-agi", daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self.server.accept()
                with connection:
                    self._hold(connection)

    def _hold(self, connection: socket.socket) -> None:
        received = b""
        while data := connection.recv(4096):
            received += data
            if b"\n\n" in received:  # the AGI environment, ended by an empty line: the call is ours
                self.holding.set()
            if b"HANGUP" in received:
                return

    def close(self) -> None:
        self.server.close()


class Runner:
    def __init__(self, site: Site, agi: HoldingAgi) -> None:
        self.site = site
        self.agi = agi
        self.count = 0

    def preset(self, case: Case) -> dict[str, str]:
        return {**case.preset, **({"HOLD": self.agi.url} if case.hangs_up else {})}

    def start(self, case: Case) -> tuple[str, int]:
        self.count += 1
        uniqueid = f"vs{self.count}-dialplan"
        since = self.site.ami.mark()
        preset = self.preset(case)
        response = self.site.ami.action(
            "Originate",
            Channel=f"Local/{case.exten}@{case.context}",
            Application="Wait",
            Data="300",
            Timeout="300000",
            Async="true",
            ChannelId=f"vs{self.count}-caller",
            OtherChannelId=uniqueid,
            Variable=",".join(f"{k}={v}" for k, v in preset.items()),
        )
        assert response.response == "Success", response
        return uniqueid, since

    def finish(self, case: Case, uniqueid: str, since: int) -> Observed:
        ami = self.site.ami
        if case.where:  # the world's emergency-out answers and holds: hang up once the call is there
            reached = ami.wait_event("UserEvent", 60, since, Uniqueid=uniqueid, UserEvent="WorldReached")
            ami.action("Hangup", Channel=reached.get("Channel") or "")
        if case.hangs_up:  # the caller hangs up while the AGI holds the call
            agi = ami.wait_event("Newexten", 60, since, Uniqueid=uniqueid, Application="AGI")
            assert self.agi.holding.wait(60), "Asterisk never connected to the holding AGI"
            ami.action("Hangup", Channel=agi.get("Channel") or "")
        ami.wait_event("Hangup", 180, since, Uniqueid=uniqueid)
        with ami.changed:
            seen = observe([m for m in ami.events[since:] if m.get("Uniqueid") == uniqueid])
        assert self.site.switch is not None
        seen.entered = [
            row[2] for row in self.site.switch.queue_log() if row[1:2] == [uniqueid] and row[4:5] == ["ENTERQUEUE"]
        ]
        return seen


@pytest.fixture(scope="module")
def outcomes(site: Site, request: pytest.FixtureRequest) -> dict[str, Outcome]:
    """Every case on the switch, all at once: the clock cases first (a batch whose minute changed while it ran
    is run again, designed for the new minute), then the rest."""
    assert site.engine is not None and site.switch is not None
    site.engine.stop()  # AGI is refused from now on: AGISTATUS=FAILURE, as the interpreter's `unreachable`
    for line, does in SEATS.items():
        site.world(f"SEAT_{line}", does)
    for number, does in CALLED_BACK.items():
        site.world(f"CALLBACK_{number}", does)
    for queue, (agent, does) in AGENTS.items():
        site.agent(queue, agent, does)
    site.switch.load_dialplan("probe.conf", PROBE)
    agi = HoldingAgi()
    request.addfinalizer(agi.close)
    runner = Runner(site, agi)
    done: dict[str, Outcome] = {}
    for _ in range(3):
        designed = time.time()
        batch = [(case, runner.start(case)) for case in clock_cases(designed)]
        results = {case.name: Outcome(case, runner.preset(case), runner.finish(case, *ids)) for case, ids in batch}
        if all(r.observed.epoch // 60 == designed // 60 for r in results.values()):
            done.update(results)
            break
    else:
        raise AssertionError("the minute changed during each of three runs of the clock cases")
    started = [(case, runner.start(case)) for case in PROBE_CASES + TWO_PATTERNS + GENERATED_CASES]
    for case, ids in started:
        done[case.name] = Outcome(case, runner.preset(case), runner.finish(case, *ids))
    queue, agent = LEAVING
    interface = site.agent(queue, agent, "ring")
    for case in LEAVE_CASES:
        uniqueid, since = runner.start(case)
        site.ami.wait_event("QueueCallerJoin", 60, since, Uniqueid=uniqueid, Queue=queue)
        paused = site.ami.action("QueuePause", Queue=queue, Interface=interface, Paused="true")
        assert paused.response == "Success", paused
        done[case.name] = Outcome(case, runner.preset(case), runner.finish(case, uniqueid, since))
        site.ami.action("QueuePause", Queue=queue, Interface=interface, Paused="false")
    site.logoff(queue, interface)
    return done


@pytest.fixture(scope="module")
def generated(site: Site) -> Dialplan:
    assert site.switch is not None
    return Dialplan.parse((site.switch.generated / EXTENSIONS).read_text(encoding="utf-8"))


def interpret(outcome: Outcome, generated: Dialplan) -> Call:
    case, epoch = outcome.case, int(outcome.observed.epoch)
    if case.generated:
        queues = {q: case.queues.get(q, QUEUE_RESULTS.get(q, NOBODY)) for q in QUEUES}
        world = World(epoch, queues=queues, seats=SEAT_RESULTS)
        plan = generated
    else:
        world, plan = World(epoch, engine=caller_hangs_up if case.hangs_up else unreachable), Dialplan.parse(PROBE)
    return run(plan, case.context, case.exten, world, Channel(variables=dict(outcome.preset)))


def caller_hangs_up(channel: Channel, args: list[str]) -> None:
    """The caller hangs up while the engine has the call: res_agi says AGISTATUS=HANGUP and AGI returns -1."""
    channel.variables["AGISTATUS"] = "HANGUP"
    channel.alive = False


def assert_same_path(call: Call, observed: Observed) -> None:
    """The same priorities with the same data in the same channel state; a Goto out of the file (the world's
    emergency-out) ends the interpreter's path where the switch's enters that context."""
    if call.ending == "external":
        assert observed.trace[: len(call.trace)] == call.trace
        entered = observed.trace[len(call.trace)]
        assert (entered.context, entered.exten) == call.where
    else:
        assert observed.trace == call.trace


def assert_same_values(call: Call, observed: Observed, preset: dict[str, str]) -> None:
    """Every variable the interpreter holds at the end, as the switch's last VarSet left it (functions such as
    CDR(userfield) raise no VarSet; ANSWEREDTIME of a person who answered is a real duration on the switch)."""
    for name, value in call.channel.variables.items():
        if "(" in name or (name == "ANSWEREDTIME" and call.ending == "person"):
            continue
        assert observed.variables.get(name, preset.get(name, "")) == value, name
    mine = [(e.name, dict(h.split(": ", 1) for h in e.detail)) for e in call.of("userevent")]
    assert [name for name, _ in observed.user_events] == [name for name, _ in mine]
    for (_, fields), (name, headers) in zip(observed.user_events, mine, strict=True):
        assert {k: fields.get(k) for k in headers} == headers, name


ALL_NAMES = CLOCK_NAMES + [case.name for case in PROBE_CASES + GENERATED_CASES + LEAVE_CASES]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_the_interpreter_and_the_switch_take_the_same_path(name, outcomes, generated):
    outcome = outcomes[name]
    case, observed = outcome.case, outcome.observed
    call = interpret(outcome, generated)
    assert_same_path(call, observed)
    assert_same_values(call, observed, outcome.preset)
    assert observed.results == [event.detail[-1] for event in call.events if event.kind in ("queue", "dial")]
    queues = [event for event in call.of("queue") if event.detail[-1] not in QUEUE_NOT_JOINED]
    assert observed.entered == [event.name for event in queues]
    for variable, value in case.expect.items():
        assert observed.variables.get(variable, outcome.preset.get(variable, "")) == value, variable
    assert (call.ending == "person") == observed.connected
    if case.ending:
        assert call.ending == case.ending
    if case.where:
        assert call.ending == "external" and call.where == case.where
    if case.played is not None:
        assert tuple(call.played) == case.played
        assert call.ending in ("hangup", "person")
    # Playback in the channel's language: the prompts exist only in sounds/zh.
    languages = [event.detail[0] for event in call.of("play")]
    assert observed.playback == ["SUCCESS" if language == "zh" else "FAILED" for language in languages]


def test_two_patterns_for_one_number_asterisk_ranks_them_and_the_interpreter_refuses(outcomes):
    """Asterisk takes the more specific pattern whichever the file lists first (its own ranking, which the
    generator must not rely on); the interpreter refuses such a dialplan instead of guessing."""
    for case in TWO_PATTERNS:
        assert outcomes[case.name].observed.variables["TOOK"] == "_1X."
        with pytest.raises(DialplanError, match="several patterns"):
            run(Dialplan.parse(PROBE), case.context, case.exten, World(0))
