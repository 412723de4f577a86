"""`ivr doctor`'s verdicts from what it read, as tables: each broken case is named with what to do, each healthy
one is ok. The real switch gives these inputs in tests/asterisk/test_deploy_doctor.py."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime

import pytest

from ivr.ami.protocol import Message
from ivr.calendar.deadlines import in_working_hours
from ivr.dialplan.build import EXTENSIONS, build
from ivr.dialplan.modules import needed
from ivr.dialplan.parsed import parse
from ivr.doctor import checks
from ivr.doctor.checks import Listed, QueueState, Status
from ivr.doctor.probe import sound_formats
from ivr.rules.loader import load_rules
from ivr.rules.model import CalendarOverrides
from tests.conftest import SHIPPED_RULES

RULES = load_rules(SHIPPED_RULES)
TEXT = build(RULES)[EXTENSIONS]
CONTEXTS = parse(TEXT)


def message(**fields: str) -> Message:
    return Message(tuple(fields.items()))


def loaded_as_generated() -> dict[str, list[Listed]]:
    return {
        context: [
            Listed(name, number, p.label, p.app, p.data)
            for name, priorities in extensions.items()
            for number, p in enumerate(priorities, start=1)
        ]
        for context, extensions in CONTEXTS.items()
    }


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("22.10.1", Status.OK),
        ("22.1.0", Status.OK),
        ("23.0.0", Status.OK),
        ("22.0.0", Status.FAIL),
        ("20.5.1", Status.FAIL),
        ("", Status.FAIL),
    ],
)
def test_asterisk_22_1_or_later(version, status):
    assert checks.asterisk_version(version).status is status


def test_the_modules_the_generated_files_need():
    names = needed(CONTEXTS, TEXT)
    assert {"res_agi.so", "app_queue.so", "pbx_config.so", "func_strings.so", "app_userevent.so"} <= set(names)
    assert checks.modules(names, dict.fromkeys(names, True)).status is Status.OK
    missing = checks.modules(names, {**dict.fromkeys(names, True), "res_agi.so": False})
    assert missing.status is Status.FAIL and "res_agi.so" in missing.says


def test_a_dialplan_loaded_as_generated_is_ok():
    [finding] = checks.dialplan(CONTEXTS, loaded_as_generated())
    assert finding.status is Status.OK and f"{len(CONTEXTS)} contexts" in finding.says


def test_a_missing_context_names_the_include():
    loaded = loaded_as_generated()
    del loaded["ivr-inbound"]
    [finding] = checks.dialplan(CONTEXTS, loaded)
    assert finding.check == "dialplan ivr-inbound" and finding.status is Status.FAIL
    assert "#included in extensions.conf" in finding.says


def test_a_stale_context_shows_both_sides():
    loaded = loaded_as_generated()
    queue = loaded["ivr-to-hotline-12345"]
    loaded["ivr-to-hotline-12345"] = [replace(queue[0], data="hotline-12345,t,,,300"), *queue[1:]]
    [finding] = checks.dialplan(CONTEXTS, loaded)
    assert finding.check == "dialplan ivr-to-hotline-12345"
    assert "the rules give s,1,Queue(hotline-12345,t,,,600)" in finding.says
    assert "Asterisk runs s,1,Queue(hotline-12345,t,,,300)" in finding.says and "ivr deploy" in finding.says


def test_listed_dialplan_reads_showdialplan_events():
    events = [
        message(
            Event="ListDialplan",
            Context="ivr-doctor",
            Extension="s",
            Priority="1",
            Application="Set",
            AppData="IVR_DOCTOR=",
            Registrar="pbx_config",
        ),
        message(Event="ListDialplan", Context="ivr-doctor", IncludeContext="other", Registrar="pbx_config"),
        message(Event="ShowDialPlanComplete", EventList="Complete"),
    ]
    assert checks.listed_dialplan(events) == {"ivr-doctor": [Listed("s", 1, "", "Set", "IVR_DOCTOR=")]}


EXPECTED = {"Strategy": "leastrecent", "ServiceLevel": "15"}
PARAMS = message(Event="QueueParams", Queue="hotline-12345", Strategy="leastrecent", ServiceLevel="15")
MEMBER = message(Event="QueueMember", Queue="hotline-12345", Paused="0")
PAUSED = message(Event="QueueMember", Queue="hotline-12345", Paused="1")


@pytest.mark.parametrize(
    ("state", "working", "status", "says"),
    [
        (
            QueueState(PARAMS, [MEMBER, replace(MEMBER, fields=(("Paused", "1"),))]),
            True,
            Status.OK,
            "2 members logged in (1 paused)",
        ),
        (QueueState(PARAMS, []), True, Status.WARN, "no agent logged in during working hours"),
        (QueueState(PARAMS, []), False, Status.OK, "0 members"),
        (QueueState(None, []), False, Status.FAIL, "#included in queues.conf"),
        (QueueState(message(Strategy="ringall", ServiceLevel="15"), [MEMBER]), True, Status.FAIL, "Strategy ringall"),
    ],
)
def test_queues(state, working, status, says):
    [finding] = checks.queue("hotline-12345", EXPECTED, state, working)
    assert finding.status is status and says in finding.says


def test_working_hours_follow_the_official_calendar():
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=RULES.timezone)
    assert in_working_hours(RULES, monday)
    assert not in_working_hours(RULES, monday.replace(hour=18))
    assert not in_working_hours(RULES, datetime(2026, 10, 1, 10, 0, tzinfo=RULES.timezone))  # National Day


def test_the_calendar_must_cover_the_next_40_working_days():
    assert checks.calendar(RULES, date(2026, 6, 1)).status is Status.OK
    december = checks.calendar(RULES, date(2026, 12, 7))  # 40 working days reach February 2027
    assert december.status is Status.WARN and "2027 is not covered" in december.says
    covered = replace(RULES, calendar=replace(RULES.calendar, overrides=CalendarOverrides(years=frozenset({2027}))))
    assert checks.calendar(covered, date(2026, 12, 7)).status is Status.OK


def test_prompts_as_asterisk_indexes_them():
    output = ["Indexed Information for welcome:", "  Language zh:", "    Format: slin", "    Format: alaw"]
    formats = {"welcome": sound_formats(output)["zh"]}
    assert checks.prompts(["welcome"], formats, []).status is Status.OK
    missing = checks.prompts(["welcome", "all-busy"], {"welcome": {"slin"}}, [])
    assert missing.status is Status.FAIL and "zh/welcome.alaw and 2 more" in missing.says
    stale = checks.prompts(["welcome"], formats, ["zh/welcome.wav"])
    assert stale.status is Status.FAIL and "zh/welcome.wav differs from recordings/" in stale.says
    assert sound_formats([]) == {}


DOCTOR = message(
    Event="UserEvent",
    UserEvent="IvrDoctor",
    AgiStatus="SUCCESS",
    Engine="1000.500 ast-a",
    Before="1000.100",
    After="1000.900",
    Zone="Asia/Shanghai",
    Offset="+0800",
)


def with_fields(**fields: str) -> Message:
    return Message(tuple((k, fields.get(k, v)) for k, v in DOCTOR.fields))


def test_the_engine_answered():
    assert checks.engine(DOCTOR, "agi://127.0.0.1:4573").status is Status.OK
    down = checks.engine(with_fields(AgiStatus="FAILURE", Engine=""), "agi://127.0.0.1:4573")
    assert down.status is Status.FAIL and "did not reach the engine at agi://127.0.0.1:4573" in down.says
    assert "never reported" in checks.engine(None, "agi://x").says


@pytest.mark.parametrize(
    ("engine", "status"),
    [("1000.500 local", Status.OK), ("1002.8 local", Status.OK), ("1003.5 a", Status.FAIL), ("997.0 a", Status.FAIL)],
)
def test_clocks_within_two_seconds(engine, status):
    assert checks.clock(with_fields(Engine=engine)).status is status


def test_asterisk_reads_the_rules_time_zone():
    at = datetime(2026, 12, 7, 10, 0, tzinfo=RULES.timezone)
    assert checks.time_zone(DOCTOR, RULES, at).status is Status.OK
    utc = checks.time_zone(with_fields(Offset="+0000"), RULES, at)
    assert utc.status is Status.FAIL and "as +0000, not +0800" in utc.says and "tzdata" in utc.says


def test_the_monitor_gets_the_events_it_reads_with_its_channel_variables():
    variables = (("ChanVariable", "IVR_LINE="), ("ChanVariable", "TICKET_ID="))
    user = Message((*DOCTOR.fields, ("Uniqueid", "1.2"), *variables))
    hangup = message(Event="Hangup", Uniqueid="1.2", **{"Cause-txt": "Normal Clearing"})
    hangup = Message((*hangup.fields, *variables))
    other = message(Event="Hangup", Uniqueid="9.9")
    wanted = ("UserEvent", "Hangup")
    assert checks.monitor_events([user, other, hangup], "1.2", wanted, ("IVR_LINE", "TICKET_ID")).status is Status.OK
    bare = [Message(tuple(f for f in m.fields if f[0] != "ChanVariable")) for m in (user, hangup)]
    without = checks.monitor_events(bare, "1.2", wanted, ("IVR_LINE", "TICKET_ID"))
    assert without.status is Status.FAIL and "without IVR_LINE, TICKET_ID" in without.says
    flooded = checks.monitor_events([message(Event="Newchannel", Uniqueid="1.2"), user, hangup], "1.2", wanted, ())
    assert flooded.status is Status.FAIL and "also gets Newchannel" in flooded.says
    nothing = checks.monitor_events([other], "1.2", wanted, ("IVR_LINE",))
    assert nothing.status is Status.FAIL and "eventfilter" in nothing.says


def test_a_spool_with_stubs_waiting():
    assert checks.spool("/var/lib/ivr12345/tickets-spool", 0).status is Status.OK
    waiting = checks.spool("/var/lib/ivr12345/tickets-spool", 3)
    assert waiting.status is Status.FAIL and "3 stubs wait for the store" in waiting.says


def test_the_engine_and_the_monitor_name_the_host_alike():
    assert checks.engine_reply(DOCTOR) == ("1000.500", "ast-a")
    [same] = checks.hosts("ast-a", "ast-a", {"10.0.0.11:5038": "ast-a"})
    assert same.status is Status.OK and "'ast-a' to the engine and the monitor" in same.says
    [apart] = checks.hosts("ast-a", "local", {"127.0.0.1:5038": "ast-a"})
    assert apart.status is Status.FAIL and "the engine names this Asterisk 'ast-a', the monitor 'local'" in apart.says


def test_two_asterisk_hosts_named_alike():
    """A cloned Asterisk keeps its systemname: both hosts' uniqueids then read alike."""
    [clash] = checks.hosts("ast", "ast", {"10.0.0.11:5038": "ast", "10.0.0.12:5038": "ast"})
    assert clash.status is Status.FAIL and "10.0.0.11:5038, 10.0.0.12:5038 are all named 'ast'" in clash.says
    [two] = checks.hosts("ast-a", "ast-a", {"10.0.0.11:5038": "ast-a", "10.0.0.12:5038": "ast-b"})
    assert two.status is Status.OK and "named apart from 1 other host" in two.says


def test_a_wrong_other_asterisk_is_one_line():
    environment = {**os.environ, "IVR_ADMIN_AMI_USER": "admin", "IVR_ADMIN_AMI_SECRET": "x"}
    result = subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "doctor", "--rules", str(SHIPPED_RULES), "--other-asterisk", "ast-b:x"],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert result.returncode == 2 and result.stderr.splitlines() == [
        "ivr doctor: --other-asterisk 'ast-b:x': 'x' is not a TCP port"
    ]
