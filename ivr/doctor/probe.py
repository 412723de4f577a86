"""`ivr doctor`'s questions to a live deployment: Asterisk through AMI (as the admin's user, and as the monitor's
to see what the monitor would see), the engine through a real test call Asterisk places into the generated
ivr-doctor context, the ticket store and the spools on this host. Each answer goes to ivr.doctor.checks."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ivr.ami.blocking import AmiUnavailable, BlockingAmi
from ivr.ami.protocol import Message
from ivr.calendar.deadlines import in_working_hours
from ivr.dialplan import doctor as doctor_context
from ivr.dialplan.build import EXTENSIONS
from ivr.dialplan.manager import CHANNEL_VARIABLES, EVENTS
from ivr.dialplan.modules import needed
from ivr.dialplan.parsed import parse
from ivr.dialplan.queues import SETTINGS
from ivr.doctor import checks
from ivr.doctor.checks import DEPLOY, Finding, QueueState, fail, ok
from ivr.hosts import address_name, host_name
from ivr.prompts.files import sounds_files
from ivr.rules.model import PROMPT_LANGUAGE, Rules
from ivr.tickets.open import open_store
from ivr.tickets.spool import FILE as SPOOL_FILE
from ivr.tickets.store import StoreUnavailable

TEST_CALL_SECONDS = 15.0
LATE_SECONDS = 2.0  # how long a UserEvent may come after the Originate's own answer
# QueueParams fields of AMI QueueStatus, and the template setting each shows.
QUEUE_PARAMS = {"Strategy": "strategy", "ServiceLevel": "servicelevel"}


@dataclass(frozen=True)
class Login:
    host: str
    port: int
    username: str
    secret: str


@dataclass(frozen=True)
class Deployment:
    """Where the doctor looks: the rules and what they generate, the admin's and the monitor's AMI logins (the
    monitor's None with why), the sounds folder when it is local, the store and the spools on this host."""

    rules: Rules
    generated: dict[str, str]
    admin: Login
    monitor: Login | str
    sounds: Path | None
    store: str
    spools: Sequence[Path]
    asterisk_name: str = ""  # the monitor's --asterisk-name (IVR_ASTERISK_NAME), "" when it names by address
    others: Sequence[tuple[str, int]] = ()  # the other Asterisk hosts sharing the store


def examine(deployment: Deployment, now: datetime) -> list[Finding]:
    rules = deployment.rules
    findings = [checks.calendar(rules, now.astimezone(rules.timezone).date())]
    findings.extend(_store(deployment.store))
    findings.extend(_spool(folder) for folder in deployment.spools)
    admin = deployment.admin
    try:
        ami = BlockingAmi(admin.host, admin.port, admin.username, admin.secret)
    except AmiUnavailable as exc:
        return [fail("asterisk", str(exc)), *findings]
    with ami:
        return [*_asterisk(ami, deployment, now), *findings]


def _asterisk(ami: BlockingAmi, deployment: Deployment, now: datetime) -> list[Finding]:
    rules = deployment.rules
    settings = ami.action("CoreSettings").response
    text = deployment.generated[EXTENSIONS]
    contexts = parse(text)
    names = needed(contexts, text)
    found = [checks.asterisk_version(settings.get("AsteriskVersion") or "")]
    found.append(checks.modules(names, {name: ami.action("ModuleCheck", Module=name).ok for name in names}))
    found.extend(checks.dialplan(contexts, checks.listed_dialplan(ami.action("ShowDialPlan").items)))
    found.extend(_queues(ami, rules, now))
    found.append(_prompts(ami, rules, deployment.sounds))
    found.extend(_test_call(ami, deployment, now))
    return found


def _queues(ami: BlockingAmi, rules: Rules, now: datetime) -> list[Finding]:
    template = {key: str(value) for key, value, _ in SETTINGS}
    expected = {field: template[key] for field, key in QUEUE_PARAMS.items()}
    working = in_working_hours(rules, now)
    found = []
    for name in dict.fromkeys(queue.queue for queue in rules.queues.values()):
        items = ami.action("QueueStatus", Queue=name).items
        params = next((m for m in items if m.event == "QueueParams" and m.get("Queue") == name), None)
        members = [m for m in items if m.event == "QueueMember" and m.get("Queue") == name]
        found.extend(checks.queue(name, expected, QueueState(params, members), working))
    return found


def _prompts(ami: BlockingAmi, rules: Rules, sounds: Path | None) -> Finding:
    """What Asterisk's own index of its sounds folder finds (`core show sound`: it reads the folder afresh), and,
    when the folder is local, whether each file is still the one in recordings/."""
    formats = {}
    for name in rules.prompts:
        output = ami.action("Command", Command=f"core show sound {name}").response.get_all("Output")
        formats[name] = sound_formats(output).get(PROMPT_LANGUAGE, set())
    stale = []
    if sounds is not None:
        for path, data in sounds_files(rules.prompts, rules.recordings).items():
            there = sounds / path
            if there.exists() and there.read_bytes() != data:
                stale.append(path)
    return checks.prompts(list(rules.prompts), formats, stale)


def sound_formats(output: Sequence[str]) -> dict[str, set[str]]:
    """`core show sound NAME`'s lines (` Language zh:` then `  Format: wav` ...) as language -> formats."""
    found: dict[str, set[str]] = {}
    language = ""
    for line in output:
        text = line.strip()
        if text.startswith("Language ") and text.endswith(":"):
            language = text.removeprefix("Language ").removesuffix(":").strip()
            found.setdefault(language, set())
        elif text.startswith("Format:") and language:
            found[language].update(text.removeprefix("Format:").split())
    return found


def _test_call(ami: BlockingAmi, deployment: Deployment, now: datetime) -> list[Finding]:
    """Asterisk calls the ivr-doctor context on a Local channel, once per engine the dialplan may try (each in its
    own extension): every engine must be reachable, or a failover would find it down when it is needed. Its
    UserEvent comes to both AMI logins. The channels keep the uniqueids Asterisk gives them (with its systemname,
    if set), so each engine names the host as it names a citizen's call; a token in a channel variable finds the
    event."""
    monitor, said = _monitor(deployment.monitor)
    try:
        found: list[Finding] = []
        for number, url in enumerate(deployment.rules.engine.agi_urls, 1):
            found.extend(_engine_call(ami, monitor if number == 1 else None, deployment, now, number, url))
        return found + said
    finally:
        if monitor is not None:
            monitor.close()


def _engine_call(
    ami: BlockingAmi, monitor: BlockingAmi | None, deployment: Deployment, now: datetime, number: int, url: str
) -> list[Finding]:
    """One test call, to the engine at `url` (extension `number` of the ivr-doctor context)."""
    token = secrets.token_hex(8)

    def ours(event: Message) -> bool:
        return event.get("UserEvent") == doctor_context.EVENT and event.get("Token") == token

    placed = ami.action(
        "Originate",
        Channel=f"Local/{number}@{doctor_context.CONTEXT}",
        Application="Wait",
        Data="1",
        Async="true",
        Timeout=str(int(TEST_CALL_SECONDS * 1000)),
        Variable=f"{doctor_context.TOKEN}={token}",
    )
    if not placed.ok:
        reason = placed.response.get("Message") or "refused"
        return [fail("engine", f"Asterisk refused the test call: {reason}")]

    def unplaced(event: Message) -> bool:
        return (
            event.event == "OriginateResponse"
            and event.get("ActionID") == placed.action_id
            and event.get("Response") == "Failure"
        )

    event = ami.wait_event(lambda e: ours(e) or unplaced(e), TEST_CALL_SECONDS, "the test call's UserEvent")
    if event is not None and not ours(event):
        # The call ended unanswered: the UserEvent, if any, may still be on its way (another stasis topic).
        event = ami.wait_event(ours, LATE_SECONDS, "the test call's UserEvent")
        if event is None:
            return [fail("engine", f"Asterisk could not run the test call in {doctor_context.CONTEXT}: {DEPLOY}")]
    found = [checks.engine(event, url)]
    if event is not None and found[0].status is checks.Status.OK:
        found.append(checks.clock(event))
        found.append(checks.time_zone(event, deployment.rules, now))
        found.extend(_hosts(ami, deployment, event))
    if monitor is not None and event is not None:
        found.append(_monitor_view(monitor, event.get("Uniqueid") or ""))
    return found


def _monitor_view(monitor: BlockingAmi, uniqueid: str) -> Finding:
    """Waits for the test channel's Hangup on the monitor's login (the last event it should get of the call)."""
    monitor.wait_event(lambda m: m.event == "Hangup" and m.get("Uniqueid") == uniqueid, 5.0, "the Hangup")
    return checks.monitor_events(monitor.events, uniqueid, EVENTS, CHANNEL_VARIABLES)


def _hosts(ami: BlockingAmi, deployment: Deployment, event: Message) -> list[Finding]:
    """The engine's name for this Asterisk against the monitor's (as `ivr monitor` would name it, from the same
    settings), and every host's name against the others' (their systemname, else their address)."""
    engine_name = checks.engine_reply(event)[1]
    uniqueid = event.get("Uniqueid") or ""
    given = deployment.asterisk_name or address_name(deployment.admin.host)
    monitor_name = host_name(uniqueid, given)
    names = {f"{deployment.admin.host}:{deployment.admin.port}": engine_name}
    for host, port in deployment.others:
        try:
            with BlockingAmi(host, port, deployment.admin.username, deployment.admin.secret) as other:
                told = other.action("CoreSettings").response.get("SystemName") or ""
        except AmiUnavailable as exc:
            return [fail("hosts", f"{exc}: cannot tell its name from this one's")]
        names[f"{host}:{port}"] = told or address_name(host)
    return checks.hosts(engine_name, monitor_name, names)


def _monitor(login: Login | str) -> tuple[BlockingAmi | None, list[Finding]]:
    if isinstance(login, str):
        return None, [fail("monitor login", login)]
    try:
        session = BlockingAmi(login.host, login.port, login.username, login.secret)
    except AmiUnavailable as exc:
        return None, [
            fail(
                "monitor login",
                f"{exc}: the secret in IVR_AMI_SECRET_FILE must be the one in Asterisk's ivr-ami-secret.conf "
                "(`ivr deploy` writes it from the file)",
            )
        ]
    return session, [ok("monitor login", f"{login.username} logs in")]


def _store(url: str) -> list[Finding]:
    try:
        store = open_store(url)
    except ValueError as exc:
        return [fail("store", str(exc))]
    try:
        store.check_writable()
    except StoreUnavailable as exc:
        return [fail("store", f"not writable: {exc}")]
    finally:
        store.close()
    return [ok("store", f"{store.name} takes writes")]


def _spool(folder: Path) -> Finding:
    path = folder / SPOOL_FILE
    try:
        with path.open("rb") as handle:
            pending = sum(1 for _ in handle)
    except FileNotFoundError:
        pending = 0
    return checks.spool(str(folder), pending)
