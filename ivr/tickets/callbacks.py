"""The call-back list (回拨): citizens who gave up waiting, and whether, how and when they may be called back.

Only what Asterisk confirmed counts: a stub abandoned in a queue with the monitor's `ami:abandoned` step, or hung
up in a prompt with its `ami:hangup` step. An AGI session can be forged by anyone who reaches the engine's port;
an AMI event cannot, so a forged session never causes a call. Attempts and "done" marks are call events on the
stub (`ami:callback`, `ami:callback-done`), so the list is worked out afresh from the store each time, and several
monitors or leads never disagree about it. Pure: the stubs, the rules and `now` are given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ivr.router.decide import Presentation
from ivr.rules.model import Callbacks, Numbering
from ivr.tickets.stub import RouteStep, Stub, StubOutcome

ATTEMPT = "ami:callback"
DONE = "ami:callback-done"
ANSWERED = "ANSWER"  # the DIALSTATUS of a call-back the citizen picked up
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_FIXED = re.compile(r"0[1-9][0-9]{8,10}")  # area code with its 0, then the local number
_LOCAL = re.compile(r"[2-9][0-9]{6,7}")  # a local number of the city, dialled without its area code
_SEPARATORS = str.maketrans("", "", " -().\t")


class State(StrEnum):
    DUE = "due"  # may be dialled now
    WAITING = "waiting"  # an attempt failed; the next not before `next_at`
    DONE = "done"  # the citizen answered a call-back, or an agent marked it done
    REACHED = "reached-agent"  # the citizen called again and reached an agent meanwhile
    DUPLICATE = "duplicate"  # a newer call-back for the same number within the window
    NOT_DIALLABLE = "not-diallable"  # withheld, unknown, or not a national number: listed, never dialled
    GAVE_UP = "gave-up"  # every attempt made


@dataclass(frozen=True)
class Callback:
    stub: Stub
    why: str  # in words: where the caller gave up
    number: str  # what would be dialled ("" when nothing may be)
    attempts: tuple[RouteStep, ...]
    state: State
    next_at: datetime | None = None
    note: str = ""


def diallable(stub: Stub, numbering: Numbering) -> str:
    """The national number to ring for this caller, or "" when none may be rung."""
    if stub.presentation is not Presentation.ALLOWED or not stub.caller:
        return ""
    number = stub.caller.strip().translate(_SEPARATORS)
    for prefix in (*numbering.international_prefixes, "+"):
        if number.startswith(prefix + numbering.country_code):
            national = number[len(prefix + numbering.country_code) :]
            number = national if _MOBILE.fullmatch(national) else "0" + national
            break
    if _MOBILE.fullmatch(number) or _FIXED.fullmatch(number) or _LOCAL.fullmatch(number):
        return number
    return ""


def confirmed_gave_up(stub: Stub) -> RouteStep | None:
    """Asterisk's own word that this caller gave up, if it gave one."""
    wanted = {StubOutcome.ABANDONED: "ami:abandoned", StubOutcome.HUNG_UP_IN_PROMPT: "ami:hangup"}.get(stub.outcome)
    return next((s for s in reversed(stub.route) if s.what == wanted), None)


def callback_list(stubs: Sequence[Stub], rules: Callbacks, numbering: Numbering, now: datetime) -> list[Callback]:
    """Every confirmed give-up among `stubs` (oldest first), with its state at `now`."""
    by_time = sorted(stubs, key=lambda s: s.received)
    reached: dict[str, datetime] = {}  # number -> last time a call from it reached a person
    for stub in by_time:
        if stub.outcome in (StubOutcome.ANSWERED, StubOutcome.TRANSFERRED):
            number = diallable(stub, numbering) or stub.caller
            reached[number] = max(reached.get(number, stub.received), stub.received)
    entries = [_entry(stub, gave_up, numbering) for stub in by_time if (gave_up := confirmed_gave_up(stub))]
    newest: dict[str, datetime] = {}
    answered: dict[str, datetime] = {}
    for entry in entries:
        if entry.number:
            newest[entry.number] = max(newest.get(entry.number, entry.stub.received), entry.stub.received)
            for attempt in entry.attempts:
                if attempt.detail.startswith(ANSWERED):
                    answered[entry.number] = max(answered.get(entry.number, attempt.at), attempt.at)
    window = timedelta(hours=rules.window_hours)
    return [_state(entry, rules, now, window, reached, newest, answered) for entry in entries]


def _entry(stub: Stub, gave_up: RouteStep, numbering: Numbering) -> Callback:
    why = f"abandoned in {gave_up.detail}" if gave_up.what == "ami:abandoned" else "hung up during a prompt"
    attempts = tuple(s for s in stub.route if s.what == ATTEMPT)
    done = next((s for s in stub.route if s.what == DONE), None)
    state = State.DONE if done else State.DUE
    return Callback(stub, why, diallable(stub, numbering), attempts, state, note=done.detail if done else "")


def _state(
    entry: Callback,
    rules: Callbacks,
    now: datetime,
    window: timedelta,
    reached: dict[str, datetime],
    newest: dict[str, datetime],
    answered: dict[str, datetime],
) -> Callback:
    number, received = entry.number, entry.stub.received

    def became(state: State, next_at: datetime | None = None) -> Callback:
        return Callback(entry.stub, entry.why, entry.number, entry.attempts, state, next_at, entry.note)

    if entry.state is State.DONE or any(a.detail.startswith(ANSWERED) for a in entry.attempts):
        return became(State.DONE)
    if reached.get(number or entry.stub.caller, received) > received:
        return became(State.REACHED)
    if not number:
        return became(State.NOT_DIALLABLE)
    if newest[number] > received and newest[number] - received < window:
        return became(State.DUPLICATE)
    if answered.get(number) and now - answered[number] < window:
        return became(State.DONE)
    if len(entry.attempts) >= rules.max_attempts:
        return became(State.GAVE_UP)
    if entry.attempts:
        next_at = entry.attempts[-1].at + timedelta(minutes=rules.retry_minutes)
        if now < next_at:
            return became(State.WAITING, next_at)
    return became(State.DUE)
