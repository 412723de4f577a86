"""`ivr monitor` on a real Asterisk 22, logged in as the generated AMI user exactly as an admin sets it up (the
#include of ivr-manager.conf, the secret file, the monitor's environment: Site.start_monitor), with no other
manager.conf help. What that user really receives is read by a second AMI client logged in AS `ivr-monitor` while
calls run: a queued call answered by an agent, a caller who gives up, a call the dialplan carries alone with the
engine stopped (UserEvent IvrFallback). The judge (read=all) sees the same moments; between two UserEvents the
judge raises, the user's stream must be exactly the judge's events of the names the monitor reads, and nothing else.

Also what the user may do (the actions the monitor sends; Originate only with `callbacks.automatic: true`), where
Asterisk reads `channelvars` (main/manager.c: [general] only) and what an admin's own manager.conf does to it, and
that the monitor's own board (`ivr queues --json`) shows a waiting caller with the original line, the position and
the wait Asterisk gives.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ivr.ami.board import _HANDLERS, channel_variable
from ivr.ami.protocol import Message, format_action
from ivr.dialplan.manager import EVENTS
from tests.ami.monitor import queues, wait_for
from tests.asterisk.ami import Ami
from tests.asterisk.site import Call, Site
from tests.asterisk.switch import MONITOR

HOTLINE = "hotline-12345"
# The list items of QueueStatus: written to the session directly, never filtered (app_queue.c, astman_append).
LISTED = {"QueueParams", "QueueMember", "QueueEntry"}
# What board.py and client.py read of each event: every one must be there as the user receives it.
READS = {
    "QueueCallerJoin": ("Uniqueid", "Queue", "Position"),
    "QueueCallerLeave": ("Uniqueid", "Queue"),
    "QueueCallerAbandon": ("Uniqueid", "Queue", "Position", "HoldTime"),
    "AgentConnect": ("Uniqueid", "Queue", "Interface", "MemberName", "HoldTime"),
    # No Uniqueid when app_queue's stasis handler runs after the caller's channel is gone (seen under CI's load):
    # the caller's fields are left out whole; the board then ignores the event.
    "AgentComplete": ("Reason",),
    "Hangup": ("Uniqueid", "Cause-txt"),
    "QueueMemberAdded": ("Queue", "Interface", "MemberName", "Status", "Paused"),
    "QueueMemberPause": ("Queue", "Interface", "MemberName", "Status", "Paused"),
    "QueueMemberStatus": ("Queue", "Interface", "MemberName", "Status", "Paused"),
    "QueueMemberRemoved": ("Queue", "Interface"),
}
FALLBACK_READS = ("Uniqueid", "Linkedid", "Channel", "CallerIDNum", "Line", "Stage", "AgiStatus")


def manager_conf(site: Site) -> Path:
    assert site.switch is not None
    return site.switch.folder / "etc" / "manager.conf"


def installed_include(site: Site) -> Path:
    assert site.switch is not None
    return site.switch.folder / "etc" / "ivr" / "ivr-manager.conf"


def as_monitor(site: Site) -> Ami:
    """A second AMI client logged in as the generated user, with the secret of the switch's ivr-ami-secret.conf."""
    assert site.switch is not None
    return Ami(site.switch.ami_port, MONITOR, site.switch.monitor_secret)


def sync(site: Site, watcher: Ami, tag: str) -> tuple[int, int]:
    """A UserEvent the judge raises: the place of it in the judge's stream and in the watcher's (both read the
    same event queue, so what lies between two such marks is comparable event for event). Asterisk copies the
    action's ActionID into the event (manager.c, action_userevent): one of its own, so neither client files the
    event as the answer to an action of theirs."""
    site.ami.sock.sendall(format_action("UserEvent", f"m1-sync-{tag}", [("UserEvent", "M1Sync"), ("Tag", tag)]))
    judged = site.ami.wait_event("UserEvent", 10, 0, UserEvent="M1Sync", Tag=tag)
    seen = watcher.wait_event("UserEvent", 10, 0, UserEvent="M1Sync", Tag=tag)
    return site.ami.events.index(judged), watcher.events.index(seen)


def board(site: Site) -> dict[str, Any]:
    """`ivr queues --json`; an empty view until the monitor has written its first board (no store yet)."""
    try:
        return queues(site.store, site.rules)
    except json.JSONDecodeError:
        return {"monitors": [], "queues": []}


def waiting(site: Site, queue: str) -> list[dict[str, Any]]:
    view = board(site)
    return next((q["waiting"] for q in view["queues"] if q["queue"] == queue), [])


@dataclass
class Morning:
    """What happened while the watcher listened, and what the monitor's board said meanwhile."""

    watcher: Ami
    judge_span: tuple[int, int] = (0, 0)  # the judge's events between the two syncs
    watcher_span: tuple[int, int] = (0, 0)
    waited: Call | None = None  # 12396, waits at position 1, gives up
    answered: Call | None = None  # 12345, waits at position 2, then answered by agent 8002
    fallback: Call | None = None  # 12345 with the engine stopped
    view_two_waiting: list[dict[str, Any]] = field(default_factory=list)
    view_after_abandon: list[dict[str, Any]] = field(default_factory=list)
    status_two_waiting: list[Message] = field(default_factory=list)  # QueueStatus's QueueEntry items, meanwhile

    def judged(self, site: Site) -> list[Message]:
        start, end = self.judge_span
        return site.ami.events[start + 1 : end]

    def received(self) -> list[Message]:
        start, end = self.watcher_span
        return self.watcher.events[start + 1 : end]


@pytest.fixture(scope="module")
def morning(site: Site) -> Iterator[Morning]:
    site.start_monitor()
    wait_for("the monitor's board up", lambda: any(m["up"] for m in board(site)["monitors"]))
    watched = Morning(as_monitor(site))
    judge_start, watcher_start = sync(site, watched.watcher, "start")
    ringing = site.agent(HOTLINE, "8001", "ring")
    try:
        watched.waited = site.call("12396", hold=120, caller="13900000201")
        site.ami.wait_event("QueueCallerJoin", 60, watched.waited.since, Uniqueid=watched.waited.inbound)
        watched.answered = site.call("12345", hold=120, caller="13900000202")
        site.ami.wait_event("QueueCallerJoin", 60, watched.answered.since, Uniqueid=watched.answered.inbound)
        mine = {watched.waited.inbound, watched.answered.inbound}
        watched.view_two_waiting = wait_for(
            "both callers on the monitor's board",
            lambda: (w := waiting(site, HOTLINE)) and {c["uniqueid"] for c in w} >= mine and w,
        )
        watched.status_two_waiting = [
            m for m in site.ami.listed("QueueStatus", Queue=HOTLINE) if m.event == "QueueEntry"
        ]
        site.hang_up(watched.waited)  # gives up at position 1
        site.ami.wait_event("QueueCallerAbandon", 30, watched.waited.since, Uniqueid=watched.waited.inbound)
        watched.view_after_abandon = wait_for(
            "the caller who gave up gone from the board",
            lambda: (w := waiting(site, HOTLINE)) and watched.waited.inbound not in {c["uniqueid"] for c in w} and w,
        )
        site.hung_up(watched.waited)
        answering = site.agent(HOTLINE, "8002", "answer:2")
        site.hung_up(watched.answered)
        site.ami.action("QueuePause", Queue=HOTLINE, Interface=ringing, Paused="true")
        site.ami.wait_event("QueueMemberPause", 10, watched.answered.since, Interface=ringing, Paused="1")
        assert site.engine is not None and site.engine.stop() == 0
        try:
            watched.fallback = site.call("12345", hold=120, caller="13900000203")
            site.hung_up(watched.fallback)
        finally:
            site.start_engine()
        site.logoff(HOTLINE, answering)
    finally:
        site.logoff(HOTLINE, ringing)
    site.ami.wait_event("QueueMemberRemoved", 10, judge_start, Interface=ringing)
    judge_end, watcher_end = sync(site, watched.watcher, "end")
    watched.judge_span, watched.watcher_span = (judge_start, judge_end), (watcher_start, watcher_end)
    try:
        yield watched
    finally:
        watched.watcher.close()


def test_the_generated_filter_names_every_event_the_monitors_code_reads_and_no_other(site):
    installed = installed_include(site).read_text(encoding="utf-8")
    filtered = set(re.findall(r"^eventfilter\(action\(include\),name\((\w+)\)\) =$", installed, re.MULTILINE))
    handled = (set(_HANDLERS) - LISTED) | {"Shutdown"}  # board.py's handlers, and client.py's Shutdown
    assert filtered == handled == set(EVENTS)


def test_the_user_receives_exactly_the_judges_events_of_the_names_the_monitor_reads(site, morning):
    judged = morning.judged(site)
    received = morning.received()
    # An event carrying an ActionID answers some client's action (the judge's Originates of the citizens' calls):
    # the judge's client files those apart, by their ActionID, so they are compared apart.
    answers = [m for m in received if m.action_id]
    assert [m.fields for m in received if not m.action_id] == [m.fields for m in judged if m.event in EVENTS]
    calls = [morning.waited, morning.answered, morning.fallback]
    assert {(m.event, m.get("Response"), m.get("Uniqueid")) for m in answers} == {
        ("OriginateResponse", "Success", call.citizen) for call in calls if call is not None
    }, "every user hears how every Originate ended, whoever sent it (the dialler ignores ActionIDs not its own)"
    assert {m.event for m in judged} - set(EVENTS) >= {"Newchannel", "Newexten", "VarSet", "DialBegin"}
    # What the morning made of each event the monitor reads (transfers and Shutdown have their own modules).
    assert {m.event for m in received} >= set(READS) | {"UserEvent"}
    for message in received:
        for key in READS.get(message.event or "", ()):
            assert message.get(key) is not None, f"{message.event} without {key}: {message.fields}"


def test_the_user_receives_the_original_line_and_the_ticket_on_the_callers_events(site, morning):
    assert morning.waited is not None and morning.answered is not None and morning.fallback is not None
    received = morning.received()
    for call, line in ((morning.waited, "12396"), (morning.answered, "12345")):
        stub = site.ticket_of(call)
        joined = [m for m in received if m.event == "QueueCallerJoin" and m.get("Uniqueid") == call.inbound]
        hung_up = [m for m in received if m.event == "Hangup" and m.get("Uniqueid") == call.inbound]
        for message in joined + hung_up:
            assert channel_variable(message, "IVR_LINE") == line, message.fields
            assert channel_variable(message, "TICKET_ID") == stub["id"], message.fields
        assert len(joined) == 1 and len(hung_up) == 1
    abandoned = [m for m in received if m.event == "QueueCallerAbandon"]
    assert [(m.get("Uniqueid"), m.get("Queue"), m.get("Position")) for m in abandoned] == [
        (morning.waited.inbound, HOTLINE, "1")
    ]
    connected = [m for m in received if m.event == "AgentConnect" and m.get("Uniqueid") == morning.answered.inbound]
    assert [m.get("Interface") for m in connected] == ["Local/8002@agents/n"]
    (fallback,) = [m for m in received if m.event == "UserEvent" and m.get("UserEvent") == "IvrFallback"]
    assert fallback.get("Uniqueid") == morning.fallback.inbound and fallback.get("Line") == "12345"
    for key in FALLBACK_READS:
        assert fallback.get(key) is not None, f"IvrFallback without {key}"
    assert channel_variable(fallback, "IVR_LINE") == "12345", "the fallback sets the router's variables first"
    made = site.ticket_of(morning.fallback)  # the monitor's stub of the call the engine never saw
    answered = [m for m in received if m.event == "AgentConnect" and m.get("Uniqueid") == morning.fallback.inbound]
    assert len(answered) == 1 and (made["line"], made["outcome"]) == ("12345", "answered"), "as AgentConnect says"


def test_the_monitors_board_shows_each_waiting_caller_with_the_original_line_position_and_wait(site, morning):
    assert morning.waited is not None and morning.answered is not None
    joined = {
        m.get("Uniqueid"): m
        for m in site.ami.select("QueueCallerJoin", morning.judge_span[0])
        if m.get("Uniqueid") in (morning.waited.inbound, morning.answered.inbound)
    }
    status = {m.get("Uniqueid"): m for m in morning.status_two_waiting}
    shown = {c["uniqueid"]: c for c in morning.view_two_waiting}
    for call, line in ((morning.waited, "12396"), (morning.answered, "12345")):
        caller = shown[call.inbound]
        assert caller["line"] == line, "the line the citizen dialled, not the queue's 12345"
        assert str(caller["position"]) == joined[call.inbound].get("Position") == status[call.inbound].get("Position")
        # The monitor dates the wait from the QueueCallerJoin it received: not before Asterisk's own Timestamp.
        assert caller["since"] >= float(joined[call.inbound].get("Timestamp") or "0")
        # QueueStatus, asked after the board was read, counts whole seconds from a whole-second start
        # (app_queue.c: now - qe->start, both time()): the board's wait is never more than that, rounded up.
        assert 0 <= caller["wait"] < int(status[call.inbound].get("Wait") or "0") + 1
    # QueueStatus's QueueEntry carries no channel variables (app_queue.c writes its fields itself): a monitor
    # (re)started while callers wait learns their line only from a QueueCallerJoin it did not see.
    assert [channel_variable(m, "IVR_LINE") for m in morning.status_two_waiting] == ["", ""]
    assert [(c["uniqueid"], c["position"], c["line"]) for c in morning.view_after_abandon] == [
        (morning.answered.inbound, 1, "12345")
    ], "the caller behind the one who gave up moves up, as QueueCallerLeave's positions say"


def test_the_user_may_send_what_the_monitor_sends_but_not_originate(site):
    watcher = as_monitor(site)
    try:
        watcher.wait_event("FullyBooted", 10)  # sent at login (manager.c, action_login), past the filter
        params = [m.get("Queue") for m in watcher.listed("QueueStatus") if m.event == "QueueParams"]
        assert HOTLINE in params
        assert watcher.action("QueueSummary", Queue=HOTLINE).response == "Success"
        assert watcher.action("CoreShowChannels").response == "Success"
        refused = watcher.action("Originate", Channel="Local/0@nowhere", Context="nowhere", Exten="0", Priority="1")
        assert (refused.response, refused.get("Message")) == ("Error", "Permission denied")
        command = watcher.action("Command", Command="core show channels")
        assert (command.response, command.get("Message")) == ("Error", "Permission denied")
    finally:
        watcher.close()


def test_with_automatic_call_backs_the_user_may_originate_and_hears_how_it_ended(site, tmp_path):
    rules = site.folder / "rules-automatic.yaml"  # beside the site's recordings/, which the build reads
    text = site.rules.read_text(encoding="utf-8")
    assert "  automatic: false" in text
    rules.write_text(text.replace("  automatic: false", "  automatic: true", 1), encoding="utf-8")
    site.ivr("dialplan", "build", "--rules", str(rules), "--out", str(tmp_path / "out"))
    installed = installed_include(site)
    kept = installed.read_bytes()
    try:
        shutil.copy(tmp_path / "out" / "ivr-manager.conf", installed)
        assert "write = reporting,originate" in installed.read_text(encoding="utf-8")
        reload(site)
        watcher = as_monitor(site)
        try:
            # A channel nobody can reach (no context `nowhere`), into a context that exists: Asterisk queues it,
            # then says it failed, as when no agent takes a call-back in time.
            sent = watcher.action(
                "Originate", Channel="Local/0@nowhere", Context="citizen", Exten="s", Priority="1", Async="true"
            )
            assert sent.response == "Success", sent.fields
            # It carries the Originate's ActionID, so the client files it with that action's answer.
            answers = watcher.lists[sent.action_id or ""]
            ended = wait_for("the OriginateResponse", lambda: [m for m in answers if m.event == "OriginateResponse"])
            assert [m.get("Response") for m in ended] == ["Failure"]
        finally:
            watcher.close()
    finally:
        installed.write_bytes(kept)
        reload(site)
    assert channel_vars(site) == "IVR_LINE,TICKET_ID"


def reload(site: Site) -> None:
    """`manager reload`, synchronous in the CLI's thread; Asterisk reads an included file changed alone too."""
    assert site.switch is not None
    site.switch.cli("manager reload")


def settings(site: Site) -> str:
    assert site.switch is not None
    return site.switch.cli("manager show settings").stdout


def channel_vars(site: Site) -> str:
    found = re.search(r"Channel vars:[ \t]*(\S*)", settings(site))
    assert found is not None, settings(site)
    return found.group(1)


def test_channelvars_count_in_general_only_and_the_generated_line_wins_over_the_admins_own(site):
    conf = manager_conf(site)
    kept = conf.read_text(encoding="utf-8")
    include = '#include "ivr/ivr-manager.conf"\n'
    assert channel_vars(site) == "IVR_LINE,TICKET_ID", "the generated [general](+) is read"
    try:
        # The admin's own channelvars in [general]: the generated line, later in [general], replaces it.
        conf.write_text(kept.replace("timestampevents = yes\n", "timestampevents = yes\nchannelvars = FOO\n"))
        reload(site)
        assert channel_vars(site) == "IVR_LINE,TICKET_ID"
        # Variables of the admin's own: [general](+) after the #include, naming the monitor's too.
        conf.write_text(kept + "\n[general](+)\nchannelvars = IVR_LINE,TICKET_ID,FOO\n")
        reload(site)
        assert channel_vars(site) == "IVR_LINE,TICKET_ID,FOO"
        # In a user's section (where the generated file had it before): Asterisk ignores it without a word.
        conf.write_text(kept.replace("write = all\n", "write = all\nchannelvars = BAR\n"))
        reload(site)
        assert channel_vars(site) == "IVR_LINE,TICKET_ID"
        # The #include above the admin's [general]: the (+) has nothing to add to, and Asterisk drops the rest of
        # the included file (config.c: the include's load ends FILEINVALID, its caller goes on): no ivr-monitor user.
        assert site.switch is not None
        before = site.switch.log.read_text(encoding="utf-8", errors="replace")
        conf.write_text(include + kept.replace(include, ""))
        reload(site)
        after = site.switch.log.read_text(encoding="utf-8", errors="replace")[len(before) :]
        assert "Category addition requested, but category 'general' does not exist" in after, after[-2000:]
        assert "There is no manager called ivr-monitor" in site.switch.cli("manager show user ivr-monitor").stdout
        assert "judge" in site.switch.cli("manager show users").stdout, "the admin's own users stay"
    finally:
        conf.write_text(kept, encoding="utf-8")
        reload(site)
    assert channel_vars(site) == "IVR_LINE,TICKET_ID"


def test_the_monitor_stays_logged_in_as_the_generated_user(site, morning):
    """After every reload above, the monitor's link is still up, as the user the include defines."""
    assert site.monitor is not None and site.monitor.process.poll() is None
    view = board(site)
    assert [m["up"] for m in view["monitors"]] == [True], json.dumps(view["monitors"])
    assert f"AMI link up as {MONITOR}" in site.monitor.log_text()
