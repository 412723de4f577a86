"""What `ivr doctor` concludes from what it read off a live deployment: one Finding per check, each saying what is
wrong and what to do. No I/O: the probe (ivr.doctor.probe) asks Asterisk, the engine and the store, and hands
the answers here, so every verdict is a table test.

Asterisk's dialplan is compared as `ShowDialPlan` lists it (`ListDialplan` events: context, extension, priority,
label, application, data), with what the rules generate now: a context the switch runs differently from the
rules is named, whether the files were never deployed, deployed but not reloaded, or edited by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from ivr.ami.protocol import Message
from ivr.calendar.workdays import WorkingDays, uncovered_warning
from ivr.dialplan.parsed import Contexts, Priority
from ivr.hosts import confusions
from ivr.rules.model import Rules

ASTERISK_MAJOR = 22
CLOCK_TOLERANCE = 2.0  # seconds between Asterisk's and the engine's clocks
WORKING_DAYS_AHEAD = 40
DEPLOY = "run `ivr deploy`"


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    says: str

    def line(self) -> str:
        return f"{self.status.value:<4}  {self.check}: {self.says}"


def ok(check: str, says: str) -> Finding:
    return Finding(check, Status.OK, says)


def fail(check: str, says: str) -> Finding:
    return Finding(check, Status.FAIL, says)


def asterisk_version(version: str) -> Finding:
    """The generated AMI user's structured event filters need 22.1 (docs/asterisk.md)."""
    parts = version.split(".")
    numbers = [int(p) for p in parts[:2] if p.isdigit()]
    if len(numbers) == 2 and (numbers[0] > ASTERISK_MAJOR or (numbers[0] == ASTERISK_MAJOR and numbers[1] >= 1)):
        return ok("asterisk", f"Asterisk {version}")
    return fail("asterisk", f"Asterisk {version or '(no version)'}: the generated files need Asterisk 22.1 or later")


def modules(needed: Sequence[str], loaded: Mapping[str, bool]) -> Finding:
    missing = [name for name in needed if not loaded.get(name)]
    if missing:
        return fail(
            "modules",
            f"not loaded: {' '.join(missing)}: load them (modules.conf) and restart Asterisk",
        )
    return ok("modules", f"{len(needed)} modules the generated files need are loaded")


@dataclass(frozen=True)
class Listed:
    """One priority as Asterisk lists it."""

    extension: str
    priority: int
    label: str
    app: str
    data: str


def listed_dialplan(events: Iterable[Message]) -> dict[str, list[Listed]]:
    """ShowDialPlan's ListDialplan events by context (includes and hints left out: the generator writes none)."""
    found: dict[str, list[Listed]] = {}
    for event in events:
        if event.event != "ListDialplan" or not (event.get("Priority") or "").isdigit():
            continue
        found.setdefault(event.get("Context") or "", []).append(
            Listed(
                event.get("Extension") or "",
                int(event.get("Priority") or 0),
                event.get("ExtensionLabel") or "",
                event.get("Application") or "",
                event.get("AppData") or "",
            )
        )
    return found


def _expected(extensions: Mapping[str, list[Priority]]) -> list[Listed]:
    return [
        Listed(name, number, p.label, p.app, p.data)
        for name, priorities in extensions.items()
        for number, p in enumerate(priorities, start=1)
    ]


def _first(items: Sequence[str]) -> str:
    """A long list in a one-line finding: its first item and how many more."""
    return items[0] + (f" and {len(items) - 1} more" if items[1:] else "")


def _show(entry: Listed) -> str:
    return f"{entry.extension},{entry.priority},{entry.app}({entry.data})"


def dialplan(generated: Contexts, loaded: Mapping[str, list[Listed]]) -> list[Finding]:
    findings = []
    for context, extensions in generated.items():
        check = f"dialplan {context}"
        if context not in loaded:
            findings.append(
                fail(check, f"not loaded: is ivr/ivr-extensions.conf #included in extensions.conf? {DEPLOY}")
            )
            continue
        expected = sorted(_expected(extensions), key=lambda e: (e.extension, e.priority))
        have = sorted(loaded[context], key=lambda e: (e.extension, e.priority))
        if expected == have:
            continue
        missing = [e for e in expected if e not in have]
        extra = [e for e in have if e not in expected]
        parts = []
        if missing:
            parts.append(f"the rules give {_first([_show(e) for e in missing])}")
        if extra:
            parts.append(f"Asterisk runs {_first([_show(e) for e in extra])}")
        findings.append(fail(check, f"differs from the rules: {'; '.join(parts)}: {DEPLOY}"))
    if not findings:
        priorities = sum(len(p) for extensions in generated.values() for p in extensions.values())
        findings.append(ok("dialplan", f"{len(generated)} contexts, {priorities} priorities loaded as the rules give"))
    return findings


@dataclass(frozen=True)
class QueueState:
    """QueueStatus for one queue: its QueueParams event (None: no such queue) and its members' events."""

    params: Message | None
    members: Sequence[Message]


def queue(name: str, expected: Mapping[str, str], state: QueueState, working_hours: bool) -> list[Finding]:
    """`expected`: QueueParams fields (Strategy, ServiceLevel, ...) as the generated queues.conf sets them."""
    check = f"queue {name}"
    if state.params is None:
        return [fail(check, f"not loaded: is ivr/ivr-queues.conf #included in queues.conf? {DEPLOY}")]
    wrong = [
        f"{key} {state.params.get(key)} (the rules give {value})"
        for key, value in expected.items()
        if (state.params.get(key) or "").lower() != value.lower()
    ]
    if wrong:
        return [fail(check, f"settings differ: {', '.join(wrong)}: {DEPLOY} (it reloads app_queue)")]
    members = len(state.members)
    if members == 0 and working_hours:
        return [
            Finding(
                check,
                Status.WARN,
                "no agent logged in during working hours: callers go straight to the fallback",
            )
        ]
    paused = sum(1 for m in state.members if m.get("Paused") == "1")
    return [ok(check, f"{members} members logged in ({paused} paused)")]


def calendar(rules: Rules, today: date) -> Finding:
    """The next WORKING_DAYS_AHEAD working days, counted on the calendar the deadlines use, fall in covered years."""
    days = WorkingDays(rules.calendar.overrides)
    day = days.add_working_days(today, WORKING_DAYS_AHEAD)
    uncovered = [year for year in range(today.year, day.year + 1) if not days.covers(year)]
    if uncovered:
        return Finding("calendar", Status.WARN, uncovered_warning(uncovered[0]))
    return ok("calendar", f"the next {WORKING_DAYS_AHEAD} working days (to {day}) are on the official calendar")


# The format Asterisk's sound index lists for each file of a prompt: a .wav (8 kHz, 16 bit) is read as slin.
INDEXED_AS = {"wav": "slin", "alaw": "alaw"}


def prompts(names: Sequence[str], formats: Mapping[str, set[str]], stale: Sequence[str]) -> Finding:
    """`formats`: what Asterisk's sound index finds of each prompt in zh (`core show sound`); `stale`: files whose
    bytes differ from recordings/."""
    missing = [
        f"zh/{name}.{kind}"
        for name in names
        for kind, found in INDEXED_AS.items()
        if found not in formats.get(name, ())
    ]
    if missing:
        return fail("prompts", f"Asterisk has no {_first(missing)}: {DEPLOY}")
    if stale:
        return fail("prompts", f"{_first(stale)} differs from recordings/: {DEPLOY}")
    return ok("prompts", f"{len(names)} prompts in zh, both formats")


def engine(event: Message | None, url: str) -> Finding:
    if event is None:
        return fail("engine", f"the test call (context ivr-doctor) never reported: {DEPLOY}")
    status = event.get("AgiStatus") or ""
    if status != "SUCCESS" or not event.get("Engine"):
        return fail(
            "engine",
            f"Asterisk did not reach the engine at {url} (AGISTATUS {status or 'unset'}): is `ivr serve` running "
            "there, and does its --allow let this Asterisk in?",
        )
    return ok("engine", f"Asterisk reached the engine at {url} and the engine answered without a stub")


def engine_reply(event: Message) -> tuple[str, str]:
    """The engine's clock and its name for this Asterisk host, from the test call's `Engine` field."""
    clock, _, host = (event.get("Engine") or "").partition(" ")
    return clock, host


def hosts(engine_name: str, monitor_name: str, others: Mapping[str, str]) -> list[Finding]:
    """Stubs are keyed by the host name the engine gives, facts by the one the monitor gives (ivr.hosts): they must
    agree. `others`: the Asterisk hosts sharing the store, by where they were asked, with this one among them."""
    if engine_name != monitor_name:
        return [
            fail(
                "hosts",
                f"the engine names this Asterisk {engine_name!r}, the monitor {monitor_name!r}: the monitor's facts "
                "never complete the engine's stubs; set systemname in asterisk.conf, or give both the same name "
                "(the engine's --allow NAME=ADDRESS, the monitor's --asterisk-name NAME)",
            )
        ]
    clashes = confusions(others)
    if clashes:
        return [fail("hosts", clash) for clash in clashes]
    more = f", named apart from {len(others) - 1} other host{'s' if len(others) > 2 else ''}" if len(others) > 1 else ""
    return [ok("hosts", f"this Asterisk is {engine_name!r} to the engine and the monitor{more}")]


def clock(event: Message) -> Finding:
    """The engine's clock against Asterisk's before and after the AGI (their midpoint, with half the gap allowed)."""
    try:
        before, after = (float(event.get(key) or "") for key in ("Before", "After"))
        engine_at = float(engine_reply(event)[0])
    except ValueError:
        return fail("clock", "Asterisk or the engine did not tell its time")
    gap = engine_at - (before + after) / 2
    if abs(gap) > CLOCK_TOLERANCE + (after - before) / 2:
        return fail("clock", f"the engine's clock is {gap:+.1f} s off Asterisk's: run NTP (chrony) on both hosts")
    return ok("clock", f"the engine's clock is within {abs(gap) * 1000:.0f} ms of Asterisk's")


def time_zone(event: Message, rules: Rules, moment: datetime) -> Finding:
    offset = moment.astimezone(rules.timezone).strftime("%z")
    told = event.get("Offset") or ""
    if told != offset:
        return fail(
            "time zone",
            f"Asterisk reads {rules.timezone.key} as {told or 'nothing'}, not {offset}: its office-hours checks run "
            "on the wrong hours; install tzdata on the Asterisk host",
        )
    return ok("time zone", f"Asterisk reads {rules.timezone.key} as {offset}, as the rules")


def monitor_events(seen: Sequence[Message], uniqueid: str, wanted: Sequence[str], variables: Sequence[str]) -> Finding:
    """What the monitor's own AMI login saw of the test call's channel `uniqueid` (its UserEvent and its Hangup,
    both events the monitor reads): those with the channel variables, and nothing the monitor does not read (the
    event filters loaded; without them a busy switch floods the monitor with every channel's events)."""
    mine = [m for m in seen if m.get("Uniqueid") == uniqueid]
    names = {m.event for m in mine}
    if not {"UserEvent", "Hangup"} <= names:
        return fail(
            "monitor events",
            "the monitor's AMI user did not get the test call's UserEvent and Hangup: check the eventfilter lines "
            f"of ivr/ivr-manager.conf are loaded ({DEPLOY}: it reloads manager)",
        )
    unwanted = sorted(name for name in names if name not in wanted)
    if unwanted:
        return fail(
            "monitor events",
            f"the monitor's AMI user also gets {', '.join(unwanted)}: the event filters of ivr/ivr-manager.conf "
            f"are not loaded ({DEPLOY}: it reloads manager)",
        )
    told = {value.partition("=")[0] for m in mine for key, value in m.fields if key.partition("(")[0] == "ChanVariable"}
    missing = [name for name in variables if name not in told]
    if missing:
        return fail(
            "monitor events",
            f"events come without {', '.join(missing)}: channelvars must be in manager.conf's [general] ({DEPLOY})",
        )
    return ok("monitor events", f"the monitor's AMI user gets only the events it reads, with {', '.join(variables)}")


def spool(folder: str, pending: int) -> Finding:
    if pending:
        return fail(
            f"spool {folder}",
            f"{pending} stubs wait for the store: it was down or is; they go in when the engine writes again",
        )
    return ok(f"spool {folder}", "empty")
