"""route(): a call's facts and the rules in, a Plan out. No clock, no sockets, no database.

Every plan ends in a person or a spoken instruction (the fallback chains are checked to end in an announcement
when the rules are loaded), and emergency numbers never get a plan at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ivr.calendar.workdays import WorkingDays
from ivr.router.plan import (
    Answer,
    DialSeat,
    EmergencyNumberRefused,
    Flag,
    Hangup,
    Phase,
    Plan,
    Play,
    QueueCall,
    SetVariable,
    Step,
)
from ivr.rules.model import PROMPT_LANGUAGE, Announcement, Line, Mode, Queue, Rules, Seat
from ivr.rules.numbering import candidates

# Short ASCII tags shown on the agent's phone after the original line's number, e.g. "12396 merged".
TAGS = {Mode.MAIN: "hotline", Mode.ABSORBED: "merged", Mode.DUAL_TRANSFER: "transfer", Mode.DUAL_MERGED: "line"}


class Presentation(StrEnum):
    """Whether the caller's number may be shown (and called back)."""

    ALLOWED = "allowed"
    WITHHELD = "withheld"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CallFacts:
    """What is known about a call when it arrives. `at` must carry a time zone."""

    dialed: str
    at: datetime
    redirecting: str | None = None
    caller: str | None = None
    presentation: Presentation = Presentation.ALLOWED
    trunk: str | None = None
    down: frozenset[str] = field(default_factory=frozenset)


def route(facts: CallFacts, rules: Rules) -> Plan:
    """The plan for this call; raises EmergencyNumberRefused for 110/119/120/122 in any form."""
    if facts.at.tzinfo is None:
        raise ValueError("the time of a call must carry a time zone")
    at = facts.at.astimezone(rules.timezone)
    flags: list[Flag] = []
    line = _lookup(facts.dialed, rules, facts.trunk, refuse_emergency=True)
    if (line is None or line.mode is Mode.MAIN) and facts.redirecting:
        # A carrier that already rewrote the call to 12345 may leave the original line only in the
        # redirecting number (Diversion / agi_rdnis). A call handed over from an emergency line stays 12345.
        original = _lookup(facts.redirecting, rules, facts.trunk, refuse_emergency=False)
        if original is not None and original.mode is not Mode.MAIN:
            line = original
            flags.append(Flag.VIA_REDIRECT)
    if line is None:
        line = rules.main
        flags.append(Flag.UNKNOWN_NUMBER)
    if facts.presentation is Presentation.WITHHELD:
        flags.append(Flag.CALLER_WITHHELD)
    elif facts.presentation is Presentation.UNKNOWN or not facts.caller or facts.caller == "unknown":
        flags.append(Flag.CALLER_UNKNOWN)

    steps: list[Step] = [
        Answer(),
        SetVariable("__IVR_LINE", line.number),
        SetVariable("__IVR_DEPT", line.department.id),
        SetVariable("__IVR_MODE", line.mode.value),
        # The CDR does not see channel variables, and the agent's phone shows only the caller id name.
        SetVariable("CDR(userfield)", f"line={line.number};dept={line.department.id};mode={line.mode.value}"),
        SetVariable("CALLERID(name)", f"{line.number} {TAGS[line.mode]}"),
        # Asterisk plays a prompt from the sounds folder of the channel's language: recordings/zh/ is deployed there.
        SetVariable("CHANNEL(language)", PROMPT_LANGUAGE),
    ]
    phase = _phase(line, at)
    if phase is Phase.AFTER and line.transition is not None:
        steps.extend(_play(rules, line.transition.after.prompts))
        if not line.transition.after.connect:
            steps.append(Hangup())
            return Plan(facts.dialed, line, tuple(steps), phase, tuple(flags))
    else:
        steps.extend(_play(rules, line.prompts))
    steps.extend(_chain(line, rules, at, facts.down, flags))
    return Plan(facts.dialed, line, tuple(steps), phase, tuple(flags))


def _lookup(raw: str, rules: Rules, trunk: str | None, refuse_emergency: bool) -> Line | None:
    """The first form of `raw` that is a line or an emergency number decides, most literal form first."""
    for form in candidates(raw, rules.numbering, trunk):
        service = rules.emergency.numbers.get(form)
        if service is not None:
            if refuse_emergency:
                raise EmergencyNumberRefused(raw, form, service)
            return None
        line = rules.line_for(form)
        if line is not None:
            return line
    return None


def _phase(line: Line, at: datetime) -> Phase | None:
    if line.transition is None:
        return None
    if at < line.transition.starts:
        return Phase.BEFORE
    if at < line.transition.ends:
        return Phase.DURING
    return Phase.AFTER


def _play(rules: Rules, prompts: tuple[str, ...]) -> list[Step]:
    return [Play(name, rules.prompts[name].text_zh) for name in prompts]


def working_day(rules: Rules, at: datetime) -> bool:
    """Whether `at` (in the rules' zone) falls on an official working day: holidays and make-up workdays of the
    official calendar, with the rules file's overrides."""
    return WorkingDays(rules.calendar.overrides).is_working_day(at.date())


def _chain(line: Line, rules: Rules, at: datetime, down: frozenset[str], flags: list[Flag]) -> list[Step]:
    """Steps for the line's destination and every fallback after it, ending in an announcement and a hang-up.
    Every queue is answered by 12345 agents (the hotline's or its experts), so each asks for the line's rating."""
    steps: list[Step] = []
    name = line.destination
    visited: set[str] = set()
    while name not in visited:
        visited.add(name)
        destination = rules.destination(name)
        if isinstance(destination, Announcement):
            steps.extend(_play(rules, destination.prompts))
            steps.append(Hangup())
            return steps
        if isinstance(destination, Queue):
            if name in down:
                flags.append(Flag.DESTINATION_DOWN)
            else:
                steps.append(QueueCall(name, destination.queue, destination.timeout, line.rating))
        elif isinstance(destination, Seat):
            working = working_day(rules, at) if destination.hours.on_working_days else None
            if not destination.hours.is_open(at, working):
                flags.append(Flag.SEAT_CLOSED)
            elif name in down:
                flags.append(Flag.DESTINATION_DOWN)
            else:
                if destination.prompt:
                    steps.extend(_play(rules, (destination.prompt,)))
                steps.append(DialSeat(name, destination.dial, destination.ring_timeout))
            if destination.unavailable_prompt:
                steps.extend(_play(rules, (destination.unavailable_prompt,)))
        name = destination.fallback
    raise AssertionError(f"fallback loop through {name!r} passed validation")
