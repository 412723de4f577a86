"""The queue paths on a real Asterisk 22, each judged by Asterisk itself (its AMI events, queue_log and CDR): the
agent who hangs up first and the rating the citizen keys (each key, an invalid key, none, a hang-up at the question
or during the thanks), the citizen who hangs up in the conversation, the citizen who gives up while agents ring,
nobody logged in, every agent paused (before and while the citizen waits), an expert queue's timeout to
hotline-12345, and the agent's one-key transfer to 110 and to the power company (linkage). Who answered, who gave
up and where, how long they waited: a lead's connection rate and call-back list are built on these.

The module's calls are placed together, as on a morning at the centre: each citizen calls from a number of their
own, and the hotline's agents do what that number asks of them (world.py, [agents-for-caller]), so whichever free
agent Asterisk rings, each citizen meets the agent their case needs. The rating keys are pressed on the citizen's
phone (AMI PlayDTMF on its ;1 half) when Asterisk starts the rating question (AGIExecStart of GET DATA). Then each
test judges one call.

The one change to the shipped rules: expert-12348 times out after 5 s instead of 180 s (the least the rules allow),
so its timeout to hotline-12345 happens within the module's minute."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ivr.ami.protocol import Message
from tests.ami.monitor import wait_for
from tests.asterisk.judge import Account, account, assert_agree
from tests.asterisk.lead import agrees_with_queue_log
from tests.asterisk.site import Call, Site

EXPERT_TIMEOUT = 5
HOTLINE = "hotline-12345"
AGENTS = [f"Local/80{n:02d}@agents-for-caller/n" for n in range(1, 11)]
EXPERT_RINGS = "Local/8101@agents/n"  # expert-12348's only agent: rings, never answers
EXPERT_PAUSED = "Local/8102@agents/n"  # expert-12329's only agent, paused
EXPERT_PAUSED_LATER = "Local/8103@agents/n"  # expert-12320's only agent: rings, and is paused while it rings
SEATS_BUSY = ("12348", "12333", "12329", "12320")  # every dual-transfer line below reaches its expert queue


def EDIT_RULES(text: str) -> str:
    """The shipped rules, expert-12348 timing out after EXPERT_TIMEOUT s (the site fixture's hook for a variant)."""
    expert = "  expert-12348:                 # expert seat inside 12345 (专家座席)\n"
    start = text.index(expert)
    end = text.index("  expert-12333:", start)
    block = text[start:end]
    assert "    timeout: 180\n" in block
    return text[:start] + block.replace("    timeout: 180\n", f"    timeout: {EXPERT_TIMEOUT}\n") + text[end:]


@dataclass(frozen=True)
class Case:
    number: str  # what the citizen dials
    caller: str  # the citizen's own number
    agent: str = "answer:2"  # what the hotline agent does for this citizen (world.py's agent behaviours)
    hold: int = 60  # the citizen hangs up this many seconds after the call is answered
    keys: tuple[str, ...] = ()  # the key pressed at each rating question ("": none)
    hangs_up_at: str = ""  # the prompt of the rating the citizen's phone hangs up in, as Asterisk starts it


# Placed one after the other, before the others: the hotline with nobody logged in, then with every agent paused.
BEFORE = {
    "nobody-at-the-hotline": Case("12369", "13900000101"),
    "hotline-all-paused": Case("12369", "13900000102"),
}
GIVES_UP = Case("12369", "13900000103", agent="ring", hold=6)  # rings first: the others are answered meanwhile
TOGETHER = {
    "satisfied": Case("12369", "13900000111", keys=("1",)),
    "basically-satisfied": Case("12369", "13900000112", keys=("2",)),
    "dissatisfied": Case("12345", "13900000113", keys=("3",)),  # the main line, after its welcome prompt
    "invalid-twice": Case("12369", "13900000114", keys=("7", "9")),
    "invalid-then-a-key": Case("12369", "13900000115", keys=("0", "1")),
    "no-key": Case("12369", "13900000116", keys=("", "")),
    "caller-hangs-up": Case("12369", "13900000117", agent="hold", hold=4),
    "hangs-up-at-the-question": Case("12369", "13900000125", hangs_up_at="rating"),
    "hangs-up-at-the-thanks": Case("12369", "13900000126", keys=("2",), hangs_up_at="rating-thanks"),
    "to-110": Case("12369", "13900000118", agent="transfer:1:110", hold=12),
    "to-95598": Case("12369", "13900000119", agent="transfer:1:95598", hold=12),
    "nobody-in-the-expert-queue": Case("12333", "13900000121", keys=("1",)),
    "expert-agent-paused": Case("12329", "13900000122", keys=("2",)),
    "expert-times-out": Case("12348", "13900000123", keys=("3",)),
    "expert-paused-while-ringing": Case("12320", "13900000124", keys=("1",)),
}
CASES = {**BEFORE, "gives-up": GIVES_UP, **TOGETHER}


def _queue(site: Site, action: str, **fields: str) -> None:
    response = site.ami.action(action, **fields)
    assert response.response == "Success", (action, fields, response)


def _seen(site: Site, since: int, wanted: Callable[[Message], bool], timeout: float) -> tuple[int, Message]:
    """The first event from `since` on that is wanted, and where it is in the history."""
    message = site.ami.wait_for(wanted, timeout, since, "an event the calls wait for")
    with site.ami.changed:
        at = next(i for i in range(since, len(site.ami.events)) if site.ami.events[i] is message)
    return at, message


def _queue_ended(call: Call, queue: str) -> Callable[[Message], bool]:
    """The AGI EXEC of this call's Queue() has returned."""
    return lambda m: (
        m.event == "AGIExecEnd"
        and m.get("Uniqueid") == call.inbound
        and m.get("Command", "").startswith(f"EXEC Queue {queue},")
    )


def _place(site: Site, case: Case) -> Call:
    site.world(f"FOR_{case.caller}", case.agent)
    return site.call(case.number, hold=case.hold, caller=case.caller)


def _drive(site: Site, calls: dict[str, Call], since: int) -> None:
    """Until every call has hung up: the citizen's key at each rating question, and expert-12320's agent paused
    once it rings for its caller."""
    by_inbound = {call.inbound: name for name, call in calls.items()}
    phones = {call.citizen: "" for call in calls.values()}
    asked = dict.fromkeys(calls, 0)
    open_calls = set(by_inbound)
    paused = False
    deadline = time.monotonic() + 150

    def wanted(m: Message) -> bool:
        return (
            (m.event == "Newchannel" and m.get("Uniqueid") in phones)
            or (m.event == "AGIExecStart" and m.get("Command", "").startswith(("GET DATA", "STREAM FILE")))
            or (m.event == "AgentCalled" and m.get("Queue") == "expert-12320")
            or (m.event == "Hangup" and m.get("Uniqueid") in open_calls)
        )

    while open_calls:
        since, m = _seen(site, since, wanted, deadline - time.monotonic())
        since += 1
        uniqueid = m.get("Uniqueid") or ""
        if m.event == "Newchannel":
            phones[uniqueid] = m.get("Channel") or ""
        elif m.event == "Hangup":
            open_calls.discard(uniqueid)
        elif m.event == "AgentCalled" and not paused:
            _queue(site, "QueuePause", Queue="expert-12320", Interface=EXPERT_PAUSED_LATER, Paused="true")
            paused = True
        elif m.event == "AGIExecStart" and uniqueid in by_inbound:
            name = by_inbound[uniqueid]
            prompt = (m.get("Command") or "").split(" ")[2]
            if prompt == CASES[name].hangs_up_at:
                _queue(site, "Hangup", Channel=phones[calls[name].citizen], Cause="16")
            if not (m.get("Command") or "").startswith("GET DATA"):
                continue
            keys = CASES[name].keys
            key = keys[asked[name]] if asked[name] < len(keys) else ""
            asked[name] += 1
            if key:
                _queue(site, "PlayDTMF", Channel=phones[calls[name].citizen], Digit=key)


def _cdrs_written(site: Site, calls: dict[str, Call]) -> None:
    """cdr_csv writes a call's rows together when its inbound half goes (main/cdr.c dispatches the whole chain),
    a moment after its Hangup event: wait until every call has its rows."""
    assert site.switch is not None
    deadline = time.monotonic() + 10
    while missing := {call.inbound for call in calls.values()} - {row["uniqueid"] for row in site.switch.cdrs()}:
        assert time.monotonic() < deadline, f"no CDR rows for {sorted(missing)}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def day(site: Site) -> dict[str, Call]:
    """Every call of the module, placed and carried out; by case name. `ivr monitor` runs meanwhile, as at a
    centre: the stubs judged below carry its facts too."""
    monitor = site.start_monitor()
    wait_for("the monitor logged in", lambda: "AMI link up" in monitor.log_text(), 30)
    for seat in SEATS_BUSY:
        site.world(f"SEAT_{seat}", "busy")
    site.world("AGENT_8101", "ring")
    site.world("AGENT_8102", "answer:2")
    site.world("AGENT_8103", "ring")
    since = site.ami.mark()
    calls: dict[str, Call] = {}
    # Nobody logged in to the hotline, then every agent logged in and paused: each caller is refused at the door.
    calls["nobody-at-the-hotline"] = _place(site, BEFORE["nobody-at-the-hotline"])
    _seen(site, since, _queue_ended(calls["nobody-at-the-hotline"], HOTLINE), 30)
    for agent in AGENTS:
        _queue(site, "QueueAdd", Queue=HOTLINE, Interface=agent, MemberName=agent, Paused="true")
    calls["hotline-all-paused"] = _place(site, BEFORE["hotline-all-paused"])
    _seen(site, since, _queue_ended(calls["hotline-all-paused"], HOTLINE), 30)
    for agent in AGENTS:
        _queue(site, "QueuePause", Queue=HOTLINE, Interface=agent, Paused="false")
    _queue(site, "QueueAdd", Queue="expert-12348", Interface=EXPERT_RINGS, MemberName="expert 8101")
    _queue(site, "QueueAdd", Queue="expert-12329", Interface=EXPERT_PAUSED, MemberName="expert 8102", Paused="true")
    _queue(site, "QueueAdd", Queue="expert-12320", Interface=EXPERT_PAUSED_LATER, MemberName="expert 8103")
    # The citizen who will give up is first in the queue, its agent ringing; every other citizen calls meanwhile.
    calls["gives-up"] = _place(site, GIVES_UP)
    gives_up = calls["gives-up"].inbound
    _seen(site, since, lambda m: m.event == "AgentCalled" and m.get("Uniqueid") == gives_up, 30)
    for name, case in TOGETHER.items():
        calls[name] = _place(site, case)
    _drive(site, calls, since)
    _cdrs_written(site, calls)
    return calls


def judged(site: Site, day: dict[str, Call], name: str) -> tuple[dict[str, Any], dict[str, str], Account]:
    """The call's stub, its engine log line and Asterisk's account, once they agree with each other."""
    call = day[name]
    stub, line, found = site.ticket_of(call), site.call_line(call), account(site, call)
    assert_agree(stub, found)
    joined = [m.get("Queue") for m in site.events(call, "QueueCallerJoin", Uniqueid=call.inbound)]
    left = [m.get("Queue") for m in site.events(call, "QueueCallerLeave", Uniqueid=call.inbound)]
    assert joined == left == found.entered, "AMI's joins and leaves are queue_log's stays"
    steps = [s["what"].replace(" ", ":") for s in stub["route"] if s["what"].startswith(("queue:", "dial:"))]
    assert line["steps"] == ",".join(steps), (line, steps)
    result = {"transferred": "answered"}.get(stub["outcome"], stub["outcome"])
    assert (line["result"], line["ticket"], line["stage"]) == (result, stub["id"], stub["stage"] or "-")
    assert line["caller"] == f"{CASES[name].caller[:3]}****{CASES[name].caller[-4:]}", "masked in the log"
    return stub, line, found


def _answered_in_hotline(found: Account) -> None:
    assert found.answered_by in AGENTS and found.answered_in == HOTLINE, found


@pytest.mark.parametrize(
    ("name", "rating"),
    [("satisfied", "satisfied"), ("basically-satisfied", "basically-satisfied"), ("dissatisfied", "dissatisfied")],
)
def test_the_agent_hangs_up_first_and_the_citizen_rates_with_one_key(site, day, name, rating):
    stub, line, found = judged(site, day, name)
    _answered_in_hotline(found)
    assert found.left == [(HOTLINE, "COMPLETEAGENT")] and found.completed == "agent"
    assert stub["outcome"] == "answered" and stub["answered_by"] == found.answered_by
    assert found.asked == [list(CASES[name].keys)], "one question, and Asterisk received the key"
    assert (stub["rating"], stub["rating_reason"]) == (rating, "")
    assert line["steps"].endswith(f"queue:{HOTLINE}:answered-continue"), "with option c the caller comes back"
    assert stub["stage"] == "done"


@pytest.mark.parametrize(
    ("name", "rating"),
    [
        ("invalid-twice", ("not-rated", "invalid")),
        ("invalid-then-a-key", ("satisfied", "")),
        ("no-key", ("not-rated", "timed-out")),
    ],
)
def test_a_key_the_rating_does_not_take_or_none_asks_once_more(site, day, name, rating):
    stub, _, found = judged(site, day, name)
    assert found.left == [(HOTLINE, "COMPLETEAGENT")]
    assert found.asked == [[key] if key else [] for key in CASES[name].keys], "asked twice, these keys received"
    assert (stub["rating"], stub["rating_reason"]) == rating
    assert ("rating-thanks", "200") in found.prompts, "thanked, and only then hung up"


def test_a_citizen_who_hangs_up_at_the_rating_question_is_answered_and_not_rated(site, day):
    stub, line, found = judged(site, day, "hangs-up-at-the-question")
    _answered_in_hotline(found)
    assert found.left == [(HOTLINE, "COMPLETEAGENT")]
    assert found.hung_up_in.startswith("GET DATA rating ") and found.asked == [[]], found
    assert (stub["outcome"], stub["stage"]) == ("answered", "done"), "the conversation happened: not a prompt's"
    assert (stub["rating"], stub["rating_reason"]) == ("not-rated", "caller-hung-up")
    assert line["result"] == "answered"
    assert not found.acted_after_hangup, found.after_hangup


def test_a_citizen_who_rates_and_hangs_up_during_the_thanks_keeps_the_rating(site, day):
    stub, _, found = judged(site, day, "hangs-up-at-the-thanks")
    assert found.asked == [["2"]] and found.hung_up_in.startswith("STREAM FILE rating-thanks "), found
    assert (stub["outcome"], stub["rating"], stub["rating_reason"]) == ("answered", "basically-satisfied", "")
    assert not found.acted_after_hangup, found.after_hangup


def test_a_citizen_who_hangs_up_in_the_conversation_is_answered_and_never_asked(site, day):
    stub, line, found = judged(site, day, "caller-hangs-up")
    _answered_in_hotline(found)
    assert found.left == [(HOTLINE, "COMPLETECALLER")] and found.completed == "caller"
    assert stub["outcome"] == "answered" and line["steps"] == f"queue:{HOTLINE}:answered-caller-hung-up"
    assert found.asked == [] and (stub["rating"], stub["rating_reason"]) == ("not-rated", "caller-hung-up")


def test_a_citizen_who_gives_up_while_the_agent_rings_is_abandoned_after_the_wait_asterisk_counted(site, day):
    stub, line, found = judged(site, day, "gives-up")
    assert found.left == [(HOTLINE, "ABANDON")] and found.abandoned_in == HOTLINE and not found.answered_by
    assert stub["outcome"] == "abandoned" and line["result"] == "abandoned"
    assert stub["queue_wait"] == found.waited[0][1], "the wait the call-back list shows is Asterisk's"
    assert stub["answered_by"] == "" and stub["rating"] == "", "nobody answered: nothing to rate"
    assert stub["stage"] == f"queue:{HOTLINE}", "the stage stays at the queue: never done"
    rung = [row for row in found.cdrs if row["dstchannel"].startswith("Local/80")]
    assert rung and {row["disposition"] for row in rung} == {"NO ANSWER"}, "the agent rang, nobody answered"


def test_callers_are_answered_by_free_agents_while_the_first_caller_still_rings(site, day):
    """autofill=yes in the generated queues: with Asterisk's default the others waited behind the ringing one."""
    assert site.switch is not None
    first = day["gives-up"]
    gave_up = site.ami.select("QueueCallerAbandon", first.since, Uniqueid=first.inbound)
    assert len(gave_up) == 1
    gave_up_at = float(gave_up[0].get("Timestamp"))
    together = [name for name, case in TOGETHER.items() if case.number == "12369"]
    for name in together:
        call = day[name]
        connect = site.ami.select("AgentConnect", call.since, Uniqueid=call.inbound)
        assert connect and float(connect[0].get("Timestamp")) < gave_up_at, f"{name} waited behind the first caller"


@pytest.mark.parametrize("name", ["nobody-at-the-hotline", "hotline-all-paused"])
def test_nobody_who_could_answer_at_the_hotline_gives_the_all_busy_announcement_at_once(site, day, name):
    stub, line, found = judged(site, day, name)
    assert found.entered == [] and found.left == [], "refused at the door: no queue_log row at all"
    assert [s["detail"].split() for s in stub["route"] if s["what"].startswith("queue:")] == [["QUEUESTATUS=JOINEMPTY"]]
    assert stub["outcome"] == "instructed" and line["result"] == "instructed" and stub["stage"] == "done"
    assert [p for p, _ in found.prompts] == ["all-busy", "emergency-advisory"]
    assert stub["queue_wait"] is None and stub["rating"] == ""


@pytest.mark.parametrize(
    ("name", "expert", "rating"),
    [
        ("nobody-in-the-expert-queue", "expert-12333", "satisfied"),
        ("expert-agent-paused", "expert-12329", "basically-satisfied"),
    ],
)
def test_an_expert_queue_nobody_could_answer_sends_the_citizen_on_to_the_hotline(site, day, name, expert, rating):
    stub, line, found = judged(site, day, name)
    assert [status for _, status in found.seats] == ["BUSY"], "the department's seat first"
    assert found.entered == [HOTLINE], f"never in {expert}: JOINEMPTY"
    assert f"queue:{expert}:queue-failed,queue:{HOTLINE}:answered-continue" in line["steps"]
    _answered_in_hotline(found)
    assert stub["outcome"] == "answered" and (stub["rating"], stub["rating_reason"]) == (rating, "")


def test_an_expert_queue_that_times_out_hands_the_citizen_to_the_hotline(site, day):
    stub, _, found = judged(site, day, "expert-times-out")
    assert found.entered == ["expert-12348", HOTLINE]
    assert found.left == [("expert-12348", "EXITWITHTIMEOUT"), (HOTLINE, "COMPLETEAGENT")]
    assert found.waited[0] == ("expert-12348", EXPERT_TIMEOUT), "the rules' timeout, as Asterisk counted it"
    assert stub["queue_wait"] == sum(seconds for _, seconds in found.waited), "waited in both queues"
    _answered_in_hotline(found)
    assert stub["answered_by"] == found.answered_by and stub["queue"] == HOTLINE
    assert (stub["rating"], stub["rating_reason"]) == ("dissatisfied", "")


def test_an_expert_paused_while_the_citizen_waits_sends_the_citizen_on_to_the_hotline(site, day):
    stub, _, found = judged(site, day, "expert-paused-while-ringing")
    assert found.left == [("expert-12320", "EXITEMPTY"), (HOTLINE, "COMPLETEAGENT")], "leavewhenempty=paused"
    assert "queue:expert-12320 queue-failed" in [s["what"] for s in stub["route"]]
    _answered_in_hotline(found)
    assert stub["outcome"] == "answered" and (stub["rating"], stub["rating_reason"]) == ("satisfied", "")


@pytest.mark.parametrize(
    ("name", "number", "context"), [("to-110", "110", "emergency-out"), ("to-95598", "95598", "pstn-out")]
)
def test_the_agents_transfer_key_hands_the_citizen_to_the_linked_line(site, day, name, number, context):
    stub, line, found = judged(site, day, name)
    _answered_in_hotline(found)
    assert found.left == [(HOTLINE, "BLINDTRANSFER")] and found.completed == "transfer"
    assert found.transferred_to == number and found.reached == [number] and found.ended_in == context
    assert stub["outcome"] == "transferred" and stub["answered_by"] == found.answered_by
    assert line["steps"] == f"queue:{HOTLINE}:answered-transferred" and line["result"] == "answered"
    assert found.asked == [] and (stub["rating"], stub["rating_reason"]) == ("not-rated", "transferred")


@pytest.mark.parametrize("queue", [HOTLINE, "expert-12348", "expert-12320"])
def test_todays_figures_of_each_queue_are_queue_logs(site, day, queue):
    """Each stay counts in its queue: a caller who timed out of expert-12348 (EXITWITHTIMEOUT) or left expert-12320
    when its agent paused (EXITEMPTY), then answered in 12345, is offered and lost in the expert queue and offered
    and answered in 12345, as queue_log counts it."""
    figures = agrees_with_queue_log(site, queue)
    assert figures["offered"] >= 1
