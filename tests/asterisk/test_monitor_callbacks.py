"""Automatic call-backs (回拨) on a real Asterisk 22, with `ivr monitor` logged in as the generated AMI user: two
citizens give up in hotline-12345 while its agents ring, Asterisk confirms it (QueueCallerAbandon), the monitor's
dialler originates a call-back for each through a free agent (the generated `ivr-callback` context waits in the
queue with QUEUE_PRIO; once the agent answers, `ivr-callback-dial` rings the citizen over the carrier presenting
12345), one citizen answers (hearing the call-back greeting, then the agent) and one lets it ring. While
those two are in progress, a third citizen gives up and the third agent, free, calls them back. What each agent
does comes from the caller's number (world.py's agents-for-caller): ring for the citizens, so they give up; answer
and stay for a call-back, which shows the agent 12345. Asterisk's own record (the Originate's channels, AgentConnect,
DialBegin/DialEnd, the generated UserEvent(IvrCallback), the world's WorldCalledBack, queue_log) is the judge of
what `ivr callbacks list`, `ivr tickets show` and `ivr queues` say.

The changes to the shipped rules: call-backs automatic, at any hour (the test runs whenever CI does). The retry
pause stays 30 min (the least is 1 min, too slow for a test), so the unanswered call-back's entry stays waiting
for its second attempt: only the first attempt's outcome and the list's state are checked."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from ivr.ami.protocol import Message
from tests.ami.monitor import wait_for
from tests.asterisk import audio
from tests.asterisk.site import Call, Site
from tests.conftest import ROOT

HOTLINE = "hotline-12345"
AGENTS = tuple(f"Local/800{n}@agents-for-caller/n" for n in (1, 2, 3))
ANSWERS = "13900000201"  # answers the call-back
LETS_IT_RING = "13900000202"  # does not
LATER = "13900000203"  # gives up while the first two are being called back; answers
RETRY_MINUTES = 30
CALL_BACK_SECONDS = 150  # a bound: the abandon, the dialler's 5 s check, the queue, 45 s of ringing


def EDIT_RULES(text: str) -> str:
    """Call-backs on, at any hour (the site fixture's hook for a variant of the shipped rules)."""
    shipped = '  automatic: false              # turn on once `dial` names the carrier route and the agents are told\n  hours:\n    - {days: mon-fri, from: "09:00", to: "17:30"}\n'  # noqa: E501
    assert shipped in text
    return text.replace(shipped, "  automatic: true\n  hours: 7x24\n")


@dataclass(frozen=True)
class CalledBack:
    """One citizen's call that gave up, and Asterisk's record of the call-back the monitor originated for it."""

    call: Call
    ticket: str
    ended: Message  # UserEvent(IvrCallback) of ivr-callback-dial's h extension
    rung: Message  # the world's UserEvent(WorldCalledBack): the citizen's phone rang

    @property
    def dialled(self) -> str:
        """The Originate's ;1 half: it ran ivr-callback-dial once an agent answered its ;2 half."""
        return self.ended.get("Channel") or ""

    @property
    def queued(self) -> str:
        """The Originate's ;2 half: it waited in the queue."""
        return self.dialled.replace(";1", ";2")


@pytest.fixture(scope="module")
def backs(site: Site) -> dict[str, CalledBack]:
    """Both citizens give up while the agents ring; the monitor calls each back; both call-backs end."""
    assert site.switch is not None
    since = site.ami.mark()
    monitor = site.start_monitor()
    wait_for("the monitor logged in", lambda: "AMI link up" in monitor.log_text(), timeout=30)
    wait_for("the monitor's board of hotline-12345", lambda: HOTLINE in _boards(site), timeout=30)
    site.world(f"FOR_{ANSWERS}", "ring")
    site.world(f"FOR_{LETS_IT_RING}", "ring")
    site.world("FOR_12345", "hold")  # what a call-back shows the agent: the agent answers and stays until it ends
    site.world(f"FOR_{LATER}", "ring")
    site.world(f"CALLBACK_{ANSWERS}", "answer:40")
    site.world(f"CALLBACK_{LATER}", "answer:15")
    site.world(f"CALLBACK_HEARD_{ANSWERS}", str(site.switch.spy / "called-back.wav"))
    site.world(f"CALLBACK_{LETS_IT_RING}", "noanswer")
    for agent in AGENTS:
        response = site.ami.action("QueueAdd", Queue=HOTLINE, Interface=agent, MemberName=agent)
        assert response.response == "Success", response
    calls = {caller: site.call("12369", hold=6, caller=caller) for caller in (ANSWERS, LETS_IT_RING)}
    for call in calls.values():
        site.hung_up(call)
    # Both call-backs are with their agents (the citizens rung): the third agent is free, and a third citizen
    # gives up while it rings for them.
    for caller in (ANSWERS, LETS_IT_RING):
        site.ami.wait_event("UserEvent", CALL_BACK_SECONDS, since, UserEvent="WorldCalledBack", Number=caller)
    calls[LATER] = site.call("12369", hold=6, caller=LATER)
    site.hung_up(calls[LATER])
    tickets = {caller: site.ticket_of(call)["id"] for caller, call in calls.items()}
    found = {}
    for caller, call in calls.items():
        ended = site.ami.wait_event(
            "UserEvent", CALL_BACK_SECONDS, since, UserEvent="IvrCallback", Ticket=tickets[caller]
        )
        rung = site.ami.wait_event("UserEvent", 1, since, UserEvent="WorldCalledBack", Number=caller)
        found[caller] = CalledBack(call, tickets[caller], ended, rung)
    wait_for("both attempts on the call-back list", lambda: all(e["attempts"] for e in _list(site).values()))
    return found


def _boards(site: Site) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "queues", "--json", "--store", site.store, "--rules", str(site.rules)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    shown = json.loads(done.stdout) if done.stdout.strip() else {}  # nothing before the monitor's first write
    return {q["queue"]: q for q in shown.get("queues", [])}


def _list(site: Site) -> dict[str, dict[str, Any]]:
    """`ivr callbacks list --all --json` by ticket."""
    shown = site.ivr(
        "callbacks", "list", "--all", "--json", "--unmask", "--store", site.store, "--rules", str(site.rules)
    )
    return {entry["ticket"]: entry for entry in json.loads(shown)}


def _at(site: Site, event: str, **fields: str) -> int:
    """Where in Asterisk's event history the one such event is."""
    found = [
        i for i, m in enumerate(site.ami.events) if m.event == event and all(m.get(k) == v for k, v in fields.items())
    ]
    assert len(found) == 1, (event, fields, len(found))
    return found[0]


def _asterisk_called_back(site: Site, back: CalledBack, status: str) -> None:
    """Asterisk's record of one call-back: the citizen gave up first, then the Originate waited in the queue with
    QUEUE_PRIO, an agent answered it seeing whom it calls back, and only then was the citizen rung, presenting
    12345, over the carrier; the dial ended with `status`."""
    line, queued, dialled = back.call.number, back.queued, back.dialled
    abandoned = _at(site, "QueueCallerAbandon", Uniqueid=back.call.inbound, Queue=HOTLINE)
    originated = _at(site, "Newchannel", Channel=dialled)
    assert abandoned < originated
    assert _at(site, "Newchannel", Channel=queued) > originated
    # The Originate's variable, which the Local channel hands to its ;2 half, where Queue() reads it.
    assert _at(site, "VarSet", Channel=dialled, Variable="QUEUE_PRIO", Value="10") > originated
    assert _at(site, "VarSet", Channel=queued, Variable="QUEUE_PRIO", Value="10") < _at(
        site, "QueueCallerJoin", Channel=queued
    )
    joined = site.ami.events[_at(site, "QueueCallerJoin", Channel=queued)]
    assert (joined.get("Queue"), joined.get("CallerIDNum")) == (HOTLINE, "12345")
    connect = site.ami.events[agent_at := _at(site, "AgentConnect", Channel=queued)]
    assert connect.get("Queue") == HOTLINE
    assert connect.get("DestChannel", "").startswith(tuple(agent.removesuffix("/n") for agent in AGENTS))
    assert connect.get("DestConnectedLineName") == f"回拨 {back.ticket} {line}"  # what the agent's phone shows
    assert connect.get("DestConnectedLineNum") == "12345"
    begin = [m for m in site.ami.select("DialBegin") if m.get("Channel") == dialled]
    assert [m.get("DestChannel", "").split("-")[0] for m in begin] == [f"Local/{back.rung.get('Number')}@pstn"]
    dial_at = _at(site, "DialBegin", Channel=dialled)
    assert agent_at < dial_at  # the agent first, then the citizen
    assert back.rung.get("CallerID") == "12345"  # the citizen's phone shows the hotline's number
    dial_end = [m for m in site.ami.select("DialEnd") if m.get("Channel") == dialled]
    assert [m.get("DialStatus") for m in dial_end] == [status]
    assert (back.ended.get("Ticket"), back.ended.get("DialStatus")) == (back.ticket, status)
    queued_id = site.ami.events[_at(site, "Newchannel", Channel=queued)].get("Uniqueid")
    logged = [row[4] for row in site.switch.queue_log() if row[1] == queued_id]  # type: ignore[union-attr]
    assert logged[:2] == ["ENTERQUEUE", "CONNECT"] and logged[2] in ("COMPLETECALLER", "COMPLETEAGENT"), logged


def _project_listed(site: Site, back: CalledBack, status: str) -> dict[str, Any]:
    """The stub as `ivr tickets show` reads it and the entry of `ivr callbacks list`: the original call, abandoned
    as Asterisk confirmed, with the one attempt and the result Asterisk reported."""
    stub = json.loads(site.ivr("tickets", "show", back.ticket, "--json", "--store", site.store))
    assert stub["outcome"] == "abandoned"
    steps = [(s["what"], s["detail"]) for s in stub["route"] if s["what"].startswith("ami:")]
    assert steps[0][0] == "ami:abandoned" and steps[0][1].startswith(f"{HOTLINE} at position ")
    assert [s for s in steps if s[0] == "ami:callback"] == [("ami:callback", status)]
    entry = _list(site)[back.ticket]
    assert entry["caller"] == back.rung.get("Number")
    assert [a["result"] for a in entry["attempts"]] == [status]
    return entry


def test_an_answered_call_back_reaches_the_citizen_through_an_agent(site: Site, backs: dict[str, CalledBack]) -> None:
    back = backs[ANSWERS]
    _asterisk_called_back(site, back, "ANSWER")
    # The citizen heard the call-back greeting, then talked with the agent: both in one bridge.
    called = back.rung.get("Uniqueid") or ""
    assert site.switch is not None
    site.ami.wait_event("MixMonitorStop", 30, 0, Uniqueid=called)
    recording = audio.read_wav(site.switch.spy / "called-back.wav")
    greeting = audio.read_wav(ROOT / "recordings" / "zh" / "callback-greeting.wav")
    assert [h.name for h in audio.heard_in_order(recording, {"callback-greeting": greeting})] == ["callback-greeting"]
    phone = back.rung.get("Channel", "").replace(";2", ";1")
    bridges = {m.get("Channel"): m.get("BridgeUniqueid") for m in site.ami.select("BridgeEnter")}
    assert bridges.get(phone) is not None and bridges.get(phone) == bridges.get(back.dialled)
    entry = _project_listed(site, back, "ANSWER")
    assert entry["state"] == "done"


def test_an_unanswered_call_back_waits_for_its_retry(site: Site, backs: dict[str, CalledBack]) -> None:
    back = backs[LETS_IT_RING]
    _asterisk_called_back(site, back, "NOANSWER")
    entry = _project_listed(site, back, "NOANSWER")
    assert entry["state"] == "waiting"
    tried = datetime.fromisoformat(entry["attempts"][0]["at"])
    assert datetime.fromisoformat(entry["next_at"]) == tried + timedelta(minutes=RETRY_MINUTES)


def test_call_backs_are_no_calls_of_their_own(site: Site, backs: dict[str, CalledBack]) -> None:
    """A call-back is the hotline calling out: no stub of its own, and today's figures count the citizens' calls
    as queue_log does for them (entered, abandoned); once both call-backs ended, both agents are free again and
    nobody waits. The monitor's log names the citizens masked."""
    stubs = json.loads(site.ivr("tickets", "list", "--json", "--store", site.store, "--unmask"))
    assert sorted(s["id"] for s in stubs) == sorted(b.ticket for b in backs.values())
    inbound = {b.call.inbound for b in backs.values()}
    assert site.switch is not None
    rows = [r for r in site.switch.queue_log() if r[1] in inbound and r[2] == HOTLINE]
    entered = sum(r[4] == "ENTERQUEUE" for r in rows)
    gave_up = [int(r[7]) for r in rows if r[4] == "ABANDON"]
    board = wait_for(
        "both agents free again on the board",
        lambda: (b := _boards(site).get(HOTLINE)) and b["staff"]["free"] == len(AGENTS) and b,
    )
    today = board["today"]
    assert (today["offered"], today["answered"], today["abandoned"]) == (entered, 0, len(gave_up)) == (3, 0, 3)
    assert today["longest_wait"] == max(gave_up)
    assert board["waiting"] == []
    log = site.monitor.log_text() if site.monitor is not None else ""
    assert "call-back of" in log and ANSWERS not in log and LETS_IT_RING not in log


def test_a_call_back_with_its_agent_does_not_hold_another_free_one(site: Site, backs: dict[str, CalledBack]) -> None:
    """While two call-backs talk or ring with their agents, a third citizen gives up and the third agent is free:
    the dialler calls them back at once, not once one of the first two has ended. (The dialler counted every
    call-back in flight against the free agents, though the board already counts an answered one's agent busy:
    two call-backs in progress kept the third agent idle.)"""
    back = backs[LATER]
    _asterisk_called_back(site, back, "ANSWER")
    originated = _at(site, "Newchannel", Channel=back.dialled)
    for earlier in (ANSWERS, LETS_IT_RING):
        assert originated < _at(site, "UserEvent", UserEvent="IvrCallback", Ticket=backs[earlier].ticket)
    assert _project_listed(site, back, "ANSWER")["state"] == "done"
