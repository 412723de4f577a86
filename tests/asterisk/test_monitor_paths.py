"""The queue paths with `ivr monitor` running, as a call-centre lead reads them: the live board of `ivr queues
--json` (who waits, at which position, since when, on which line; each agent free, busy, paused or gone), today's
figures per queue and per line, every stub as `ivr tickets show --json` reads it, `ivr tickets ratings --json` and
`ivr callbacks list --json`, each against Asterisk's own record (the judge's AMI events and queue_log).

The morning: agents log in to hotline-12345 (one whose phone is not plugged in); one is paused and unpaused; two
citizens wait while the agents rung for them ring without answering, and both give up (the first, then the second,
which moves up to position 1); then, together, a citizen answered who rates the call, one whose agent logs off
mid-call, one the agent blind-transfers to the power company, one the agent hands over with an attended transfer,
one who hangs up during the main line's welcome prompt, and one whose agents ring on until the citizen has waited
more than the service level's 15 s. Who gave up must be on the call-back list; who was
answered must not. The rules are the shipped ones: every give-up and hang-up is made on an AMI event, so no queue
timeout is waited for (about 45 s for the module)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ivr.ami.protocol import Message
from tests.ami.monitor import queues, wait_for
from tests.asterisk.judge import account, assert_agree
from tests.asterisk.lead import agrees_with_queue_log, wallboard_agrees
from tests.asterisk.site import Call, Site
from tests.web.server import start_web

HOTLINE = "hotline-12345"
AGENTS = [f"Local/80{n}@agents-for-caller/n" for n in range(31, 37)]
PAUSED = AGENTS[0]
UNPLUGGED = "Local/9031@agents-for-caller/n"  # no such extension: Asterisk reports the device invalid


@dataclass(frozen=True)
class Case:
    number: str  # what the citizen dials
    caller: str  # the citizen's own number: its agents do `agent` (world.py, [agents-for-caller])
    agent: str
    hold: int = 60  # the citizen hangs up this many seconds after the call is answered
    key: str = ""  # the rating key the citizen presses


WAITERS = {
    "first-gives-up": Case("12369", "13900000201", "ring", 600),
    "second-gives-up": Case("12369", "13900000202", "ring", 600),
}
TOGETHER = {
    "answered": Case("12369", "13900000211", "answer:2", key="1"),
    "agent-logs-off": Case("12369", "13900000212", "hold", hold=6),
    "blind-transfer": Case("12369", "13900000213", "transfer:1:95598", hold=12),
    "attended-transfer": Case("12369", "13900000214", "atxfer:1:95598", hold=14),
    "hangs-up-in-prompt": Case("12345", "13900000215", "answer:2"),
    # Its agents ring; the one rung once the citizen has waited LATE seconds picks up (queue_log: CONNECT after
    # more than the 15 s of the service level).
    "answered-late": Case("12369", "13900000216", "ring", key="2"),
}
LATE = 16
CASES = {**WAITERS, **TOGETHER}


@dataclass
class Day:
    calls: dict[str, Call]
    boards: dict[str, dict[str, Any]]  # `ivr queues --json` at the moments a lead looked
    logged_off: str  # the interface of the agent who logged off mid-call


def _ok(site: Site, action: str, **fields: str) -> None:
    response = site.ami.action(action, **fields)
    assert response.response == "Success", (action, fields, response)


def _hotline(view: dict[str, Any]) -> dict[str, Any]:
    return next(q for q in view["queues"] if q["queue"] == HOTLINE)


def _board_when(site: Site, what: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """`ivr queues --json` once the hotline's board shows what Asterisk has just said (a bounded poll)."""

    def look() -> dict[str, Any] | None:
        view = queues(site.store, site.rules)
        live = [q for q in view["queues"] if q["queue"] == HOTLINE and q["live"]]
        return view if live and check(live[0]) else None

    return wait_for(what, look)


def _states(hotline: dict[str, Any]) -> dict[str, str]:
    return {m["interface"]: m["state"] for m in hotline["members"]}


def _member_states(site: Site, since: int) -> dict[str, str]:
    """Each hotline agent's state as Asterisk's own latest QueueMember* events say (paused outranks the device)."""
    device = {"1": "free", "2": "busy", "3": "busy", "6": "busy", "7": "busy", "8": "busy"}
    found: dict[str, str] = {}
    for m in site.ami.events[since:]:
        if m.get("Queue") != HOTLINE or not (m.event or "").startswith("QueueMember"):
            continue
        interface = m.get("Interface") or ""
        if m.event == "QueueMemberRemoved":
            found.pop(interface, None)
        else:
            found[interface] = "paused" if m.get("Paused") == "1" else device.get(m.get("Status") or "", "unavailable")
    return found


def _agreeing_states(site: Site, since: int, what: str) -> dict[str, Any]:
    return _board_when(site, what, lambda q: _states(q) == _member_states(site, since))


def _place(site: Site, case: Case) -> Call:
    site.world(f"FOR_{case.caller}", case.agent)
    return site.call(case.number, hold=case.hold, caller=case.caller)


def _wanted(site: Site, since: int, check: Callable[[Message], bool], timeout: float = 60) -> Message:
    return site.ami.wait_for(check, timeout, since, "an event the calls wait for")


def _joined(call: Call) -> Callable[[Message], bool]:
    return lambda m: m.event == "QueueCallerJoin" and m.get("Uniqueid") == call.inbound


@pytest.fixture(scope="module")
def day(site: Site) -> Day:
    since = site.ami.mark()
    monitor = site.start_monitor()
    wait_for("the monitor logged in", lambda: "AMI link up" in monitor.log_text(), 30)
    wait_for("its board written", lambda: [m for m in queues(site.store, site.rules)["monitors"] if m["up"]], 30)
    for agent in [*AGENTS, UNPLUGGED]:
        _ok(site, "QueueAdd", Queue=HOTLINE, Interface=agent, MemberName=agent)
    boards = {"logged-in": _agreeing_states(site, since, "every agent logged in and free")}
    _ok(site, "QueuePause", Queue=HOTLINE, Interface=PAUSED, Paused="true", Reason="lunch")
    site.ami.wait_event("QueueMemberPause", 10, since, Interface=PAUSED, Paused="1")
    boards["paused"] = _agreeing_states(site, since, "one agent paused")
    calls: dict[str, Call] = {}
    for name, case in WAITERS.items():
        calls[name] = _place(site, case)
        _wanted(site, since, _joined(calls[name]))
    first, second = calls["first-gives-up"], calls["second-gives-up"]
    boards["two-waiting"] = _board_when(
        site,
        "both callers waiting, the agents as Asterisk last reported them",
        lambda q: (
            [c["uniqueid"] for c in q["waiting"]] == [first.inbound, second.inbound]
            and _states(q) == _member_states(site, since)
        ),
    )
    site.hang_up(first)
    _wanted(site, since, lambda m: m.event == "QueueCallerAbandon" and m.get("Uniqueid") == first.inbound)
    boards["one-waiting"] = _board_when(
        site, "the second caller moved up", lambda q: [c["uniqueid"] for c in q["waiting"]] == [second.inbound]
    )
    site.hang_up(second)
    _wanted(site, since, lambda m: m.event == "QueueCallerAbandon" and m.get("Uniqueid") == second.inbound)
    site.hung_up(second)
    _ok(site, "QueuePause", Queue=HOTLINE, Interface=PAUSED, Paused="false")
    site.ami.wait_event("QueueMemberPause", 10, since, Interface=PAUSED, Paused="0")
    boards["unpaused"] = _agreeing_states(site, since, "the agent back from lunch")
    for name, case in TOGETHER.items():
        calls[name] = _place(site, case)
    logged_off = _drive(site, calls, since)
    boards["after"] = _board_when(site, "nobody waiting", lambda q: q["waiting"] == [])
    return Day(calls, boards, logged_off)


def _drive(site: Site, calls: dict[str, Call], since: int) -> str:
    """Until every call of TOGETHER has hung up: the rating key, the agent who logs off once connected, the
    citizen who hangs up at the welcome prompt. Returns the interface that logged off."""
    by_inbound = {calls[name].inbound: name for name in TOGETHER}
    phones: dict[str, str] = {}
    open_calls = set(by_inbound)
    logged_off = ""
    prompt_call = calls["hangs-up-in-prompt"]
    late = calls["answered-late"]
    joined_at = float(_wanted(site, since, _joined(late)).get("Timestamp") or 0)
    picked_up = False
    hung_up = False
    deadline = time.monotonic() + 120
    at = since
    while open_calls:
        m = site.ami.wait_for(
            lambda m: m.get("Uniqueid") in by_inbound or m.get("Uniqueid") in {c.citizen for c in calls.values()},
            deadline - time.monotonic(),
            at,
            "the calls' events",
        )
        with site.ami.changed:
            at = next(i for i in range(at, len(site.ami.events)) if site.ami.events[i] is m) + 1
        uniqueid = m.get("Uniqueid") or ""
        name = by_inbound.get(uniqueid, "")
        command = m.get("Command", "")
        if m.event == "Newchannel":
            phones[uniqueid] = m.get("Channel") or ""
        elif m.event == "Hangup" and name:
            open_calls.discard(uniqueid)
        elif m.event == "AgentCalled" and name == "answered-late" and not picked_up:
            if float(m.get("Timestamp") or 0) - joined_at >= LATE:  # Asterisk's own clock
                site.pick_up(m)
                picked_up = True
        elif m.event == "AgentConnect" and name == "agent-logs-off":
            logged_off = m.get("Interface") or ""
            site.logoff(HOTLINE, logged_off)
        elif m.event == "AGIExecStart" and name == "hangs-up-in-prompt" and command.startswith("STREAM FILE"):
            if not hung_up:
                site.hang_up(prompt_call)
                hung_up = True
        elif m.event == "AGIExecStart" and name and command.startswith("GET DATA") and CASES[name].key:
            citizen = calls[name].citizen
            _ok(site, "PlayDTMF", Channel=phones[citizen], Digit=CASES[name].key)
    return logged_off


def _queue_log(site: Site, call: Call) -> list[list[str]]:
    assert site.switch is not None
    return [row for row in site.switch.queue_log() if len(row) > 4 and row[1] == call.inbound]


def test_the_board_shows_the_agents_as_asterisk_reports_them_logged_in_and_paused(site, day):
    added = {m.get("Interface"): m.get("Status") for m in site.ami.select("QueueMemberAdded", Queue=HOTLINE)}
    assert added[UNPLUGGED] == "4" and {added[a] for a in AGENTS} == {"1"}, "AST_DEVICE_INVALID; NOT_INUSE"
    logged_in = {**dict.fromkeys(AGENTS, "free"), UNPLUGGED: "unavailable"}
    assert _states(_hotline(day.boards["logged-in"])) == logged_in
    assert _states(_hotline(day.boards["paused"])) == {**logged_in, PAUSED: "paused"}
    staff = _hotline(day.boards["paused"])["staff"]
    assert staff == {"free": len(AGENTS) - 1, "busy": 0, "paused": 1, "unavailable": 1}
    assert _states(_hotline(day.boards["unpaused"]))[PAUSED] == "free"
    assert site.switch is not None
    rows = [row[4:] for row in site.switch.queue_log() if row[2:3] == [HOTLINE] and row[4] in ("PAUSE", "UNPAUSE")]
    assert [row[0] for row in rows] == ["PAUSE", "UNPAUSE"] and rows[0][1:2] == ["lunch"], rows


def test_callers_waiting_with_nobody_answering_are_on_the_board_with_position_wait_and_line(site, day):
    first, second = day.calls["first-gives-up"], day.calls["second-gives-up"]
    joins = {c.inbound: site.ami.select("QueueCallerJoin", c.since, Uniqueid=c.inbound)[0] for c in (first, second)}
    waiting = _hotline(day.boards["two-waiting"])["waiting"]
    assert [(c["uniqueid"], c["position"]) for c in waiting] == [
        (uid, int(m.get("Position"))) for uid, m in joins.items()
    ], "positions as Asterisk gave them"
    assert [c["line"] for c in waiting] == ["12369", "12369"], "each caller's original line"
    assert all(c["wait"] >= 0 for c in waiting)
    states = _states(_hotline(day.boards["two-waiting"]))
    assert states[PAUSED] == "paused" and "busy" in states.values(), "an agent ringing is busy"
    moved = _hotline(day.boards["one-waiting"])["waiting"]
    assert [(c["uniqueid"], c["position"], c["line"]) for c in moved] == [(second.inbound, 1, "12369")]


@pytest.mark.parametrize("name", list(WAITERS))
def test_a_caller_who_gives_up_in_the_queue_is_abandoned_and_on_the_call_back_list(site, day, name):
    call = day.calls[name]
    stub, found = site.ticket_of(call), account(site, call)
    assert_agree(stub, found)
    assert found.left == [(HOTLINE, "ABANDON")] and stub["outcome"] == "abandoned"
    assert stub["queue_wait"] == found.waited[0][1], "queue_log's ABANDON waittime"
    abandon = site.ami.select("QueueCallerAbandon", call.since, Uniqueid=call.inbound)[0]
    steps = [s["detail"] for s in stub["route"] if s["what"] == "ami:abandoned"]
    assert steps == [f"{HOTLINE} at position {abandon.get('Position')} after {abandon.get('HoldTime')} s"]
    listed = [e for e in site.callbacks() if e["ticket"] == stub["id"]]
    assert len(listed) == 1 and listed[0]["why"].startswith(f"abandoned in {HOTLINE}") and listed[0]["line"] == "12369"
    assert (
        listed[0]["state"] == "due" and listed[0]["caller"] == f"{CASES[name].caller[:3]}****{CASES[name].caller[-4:]}"
    )


def test_a_caller_who_hangs_up_in_a_prompt_is_on_the_call_back_list(site, day):
    call = day.calls["hangs-up-in-prompt"]
    stub, found = site.ticket_of(call), account(site, call)
    assert_agree(stub, found)
    assert found.hung_up_in_prompt and found.entered == []
    assert stub["outcome"] == "hung-up-in-prompt"
    listed = [e for e in site.callbacks() if e["ticket"] == stub["id"]]
    assert len(listed) == 1 and listed[0]["why"] == "hung up during a prompt" and listed[0]["line"] == "12345"


def test_a_caller_answered_is_rated_and_not_on_the_call_back_list(site, day):
    call = day.calls["answered"]
    stub, found = site.ticket_of(call), account(site, call)
    assert_agree(stub, found)
    assert found.left == [(HOTLINE, "COMPLETEAGENT")] and stub["outcome"] == "answered"
    assert stub["answered_by"] == found.answered_by and stub["queue_wait"] == found.waited[0][1]
    assert found.asked == [["1"]] and stub["rating"] == "satisfied"
    assert stub["id"] not in {e["ticket"] for e in site.callbacks()}


def test_the_ratings_count_the_calls_asterisk_asked_for_a_rating(site, day):
    """`asked` per line and per agent: the calls whose citizen heard the rating question (the engine's GET DATA on
    the inbound half), as Asterisk ran it; a call transferred, or whose citizen hung up first, was never asked."""
    asked: dict[str, dict[str, int]] = {"line": {}, "agent": {}}
    for name, call in day.calls.items():
        found = account(site, call)
        if found.asked:
            line = CASES[name].number
            asked["line"][line] = asked["line"].get(line, 0) + 1
            asked["agent"][found.answered_by] = asked["agent"].get(found.answered_by, 0) + 1
    ratings = json.loads(site.ivr("tickets", "ratings", "--json", "--store", site.store))
    assert {kind: {k: r["asked"] for k, r in found.items()} for kind, found in ratings.items()} == asked
    answered = account(site, day.calls["answered"])
    assert ratings["agent"][answered.answered_by]["satisfied"] == 1 and ratings["line"]["12369"]["satisfied"] == 1


def test_the_monitor_kept_its_link_to_asterisk_all_day(site, day):
    """Every event Asterisk sent the monitor was read: a message it could not parse drops the link, and the board
    misses what happens until it reconnects."""
    assert site.monitor is not None
    assert "AMI link down" not in site.monitor.log_text(), site.monitor.log_text()[-2000:]


def test_an_agent_who_logs_off_mid_call_leaves_the_board_and_the_call_stays_answered(site, day):
    call = day.calls["agent-logs-off"]
    stub, found = site.ticket_of(call), account(site, call)
    assert_agree(stub, found)
    assert found.answered_by == day.logged_off and stub["answered_by"] == day.logged_off
    assert site.ami.select("QueueMemberRemoved", call.since, Interface=day.logged_off, Queue=HOTLINE)
    assert site.switch is not None
    assert [r for r in site.switch.queue_log() if r[3:5] == [day.logged_off, "REMOVEMEMBER"]]
    assert found.left == [(HOTLINE, "COMPLETECALLER")] and stub["outcome"] == "answered"
    assert day.logged_off not in _states(_hotline(day.boards["after"])), "gone from the board"
    assert stub["id"] not in {e["ticket"] for e in site.callbacks()}


@pytest.mark.parametrize(("name", "event", "row"), [
    ("blind-transfer", "BlindTransfer", "BLINDTRANSFER"),
    ("attended-transfer", "AttendedTransfer", "ATTENDEDTRANSFER"),
])  # fmt: skip
def test_the_agents_transfer_is_a_transferred_stub(site, day, name, event, row):
    call = day.calls[name]
    stub, found = site.ticket_of(call), account(site, call)
    assert_agree(stub, found)
    transfers = site.ami.select(event, call.since, TransfereeLinkedid=call.citizen, Result="Success")
    assert transfers, f"Asterisk's {event}"
    # app_queue may log an attended transfer the agent completed by hanging up as COMPLETEAGENT (judge.py,
    # _completed_by_attended_transfer): its AMI AttendedTransfer above is the transfer's own record.
    rows = [row, "COMPLETEAGENT"] if event == "AttendedTransfer" else [row]
    assert found.left in [[(HOTLINE, r)] for r in rows], f"queue_log {found.left}"
    assert stub["outcome"] == "transferred" and stub["answered_by"] == found.answered_by
    steps = [s["detail"] for s in stub["route"] if s["what"] == "ami:transferred"]
    assert steps and steps[0].startswith("blind" if event == "BlindTransfer" else "attended"), steps
    assert found.reached == ["95598"] and (found.transferred_to, found.attended) == (
        ("95598", False) if event == "BlindTransfer" else ("", True)
    )
    assert (stub["rating"], stub["rating_reason"]) == ("not-rated", "transferred")
    assert stub["id"] not in {e["ticket"] for e in site.callbacks()}


def test_todays_figures_per_queue_and_per_line_are_queue_logs(site, day):
    rows = [row for call in day.calls.values() for row in _queue_log(site, call) if row[2] == HOTLINE]
    connects = [int(r[5]) for r in rows if r[4] == "CONNECT"]
    abandons = [int(r[-1]) for r in rows if r[4] == "ABANDON"]
    queued = [name for name in CASES if name != "hangs-up-in-prompt"]
    for call in day.calls.values():
        site.ticket_of(call)
    view = wait_for(
        "the monitor's facts of every queued call stored",
        lambda: (
            (v := queues(site.store, site.rules))
            and _hotline(v)["today"]["answered"] + _hotline(v)["today"]["abandoned"] == len(queued)
            and v
        ),
    )
    today = _hotline(view)["today"]
    assert today["offered"] == len(queued) == len(connects) + len(abandons)
    assert (today["answered"], today["abandoned"]) == (len(connects), len(abandons))
    assert today["total_wait"] == sum(connects) and today["longest_wait"] == max(connects + abandons)
    assert today["answered_in_time"] == sum(w <= 15 for w in connects)
    assert today["service_level"] == today["answered_in_time"] / today["offered"]
    assert today["connection_rate"] == len(connects) / len(queued)
    assert max(connects) > 15 and today["answered_in_time"] < today["answered"], "one waited past the 15 s"
    lines = {line["line"]: line for line in view["lines"]}
    assert lines["12369"]["offered"] == len(queued) and lines["12369"]["abandoned"] == len(abandons)
    assert (lines["12369"]["answered"], lines["12369"]["answered_in_time"]) == (
        len(connects),
        today["answered_in_time"],
    )
    assert lines["12369"]["connection_rate"] == len(connects) / len(queued)
    assert lines["12369"]["service_level"] == today["answered_in_time"] / len(queued)
    assert lines["12345"]["offered"] == 1 and lines["12345"]["answered"] == 0
    assert lines["12345"]["connection_rate"] == 0.0, "called, never answered: the caller hung up at the welcome"
    web = start_web(site.folder, site.store, site.rules, "--spool", str(site.folder / "spool"))
    try:
        wallboard_agrees(web.port, HOTLINE, agrees_with_queue_log(site, HOTLINE))
    finally:
        web.stop()


def test_a_caller_answered_after_15_s_counts_as_answered_but_not_in_the_service_level(site, day):
    call = day.calls["answered-late"]
    (connect,) = [row for row in _queue_log(site, call) if row[4] == "CONNECT"]
    assert int(connect[5]) > 15, connect
    stub, found = site.ticket_of(call), account(site, call)
    assert_agree(stub, found)
    assert (stub["outcome"], stub["queue_wait"], stub["answered_by"]) == ("answered", int(connect[5]), connect[3])
    assert (stub["rating"], stub["rating_reason"]) == ("basically-satisfied", "")
    assert stub["id"] not in {e["ticket"] for e in site.callbacks()}
