"""The executor against the simulator: every mode and failure path of every shipped line, a hang-up at every
step, and each captured Asterisk behaviour turned into the right next step."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.agi.executor import CLOSE, RECORD, CallResult, PlanExecutor
from ivr.agi.outcome import Outcome
from ivr.agi.protocol import AgiParser, Hangup
from ivr.agi.simulator import AsteriskSimulator, DialBehaviour, QueueBehaviour, SimulatedCall, simulate
from ivr.router.decide import CallFacts, route
from ivr.rules.loader import load_rules
from ivr.rules.model import Mode
from tests.agi.wire_rules import assert_call_rules
from tests.conftest import SHIPPED_RULES

RULES = load_rules(SHIPPED_RULES)


def without_rating(rules):
    """The same rules with `rating: false` on every line: Queue without option c, as in agi-02."""
    lines = {number: replace(line, rating=False) for number, line in rules.lines.items()}
    by_alias = {alias: lines[line.number] for alias, line in rules.by_alias.items()}
    return replace(rules, lines=lines, by_alias=by_alias, main=lines[rules.main.number])


UNRATED = without_rating(RULES)
NOW = datetime(2021, 11, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
AFTER = datetime(2021, 12, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
Q, D = QueueBehaviour, DialBehaviour
QUEUE_FAILURES = [Q.TIMEOUT, Q.JOINEMPTY, Q.LEAVEEMPTY, Q.UNKNOWN]
SEAT_FAILURES = [D.BUSY, D.NOANSWER, D.CONGESTION, D.CHANUNAVAIL]


def execs(sim) -> list[str]:
    return [c for c in sim.commands if c.startswith("EXEC ")]


def stage(sim) -> str:
    return sim.simulator.variables.get("IVR_STAGE", "")


@pytest.mark.parametrize("when", [NOW, AFTER], ids=["transition", "after"])
@pytest.mark.parametrize("number", sorted(RULES.lines))
def test_every_line_answered_on_its_first_destination(number, when):
    sim = simulate(RULES, SimulatedCall(number), when)
    line = RULES.lines[number]
    assert sim.executor.result is CallResult.ANSWERED
    first = RULES.destination(line.destination)
    expected = (
        f"EXEC Dial {first.dial},{first.ring_timeout}"
        if line.mode is Mode.DUAL_TRANSFER
        else (f"EXEC Queue {first.queue},tc,,,{first.timeout}")
    )
    assert execs(sim) == [expected]
    assert stage(sim) == "done"
    variables = sim.simulator.variables
    assert variables["__IVR_LINE"] == number
    assert variables["__IVR_MODE"] == line.mode.value
    assert variables["__IVR_DEPT"] == line.department.id
    assert variables["CALLERID(name)"].startswith(number)
    assert variables["CDR(userfield)"] == f"line={number};dept={line.department.id};mode={line.mode.value}"
    assert_call_rules(sim.wire)


@pytest.mark.parametrize("failure", QUEUE_FAILURES)
@pytest.mark.parametrize("number", sorted(n for n, line in RULES.lines.items() if line.mode is not Mode.DUAL_TRANSFER))
def test_queue_failure_ends_in_the_spoken_instruction(number, failure):
    sim = simulate(RULES, SimulatedCall(number, queues={"hotline-12345": failure}), NOW)
    assert sim.executor.result is CallResult.INSTRUCTED
    plays = [c for c in sim.commands if c.startswith("STREAM FILE")]
    assert plays[-2:] == ['STREAM FILE all-busy ""', 'STREAM FILE emergency-advisory ""']
    assert stage(sim) == "done"
    assert sim.executor.outcomes == [("queue:hotline-12345", Outcome.QUEUE_FAILED)]
    assert_call_rules(sim.wire)


@pytest.mark.parametrize("seat_failure", SEAT_FAILURES)
@pytest.mark.parametrize("number", sorted(n for n, line in RULES.lines.items() if line.mode is Mode.DUAL_TRANSFER))
def test_seat_failure_falls_back_to_expert_seat_then_12345(number, seat_failure):
    seat = RULES.seats[f"seat-{number}"]
    expert = f"expert-{number}" in RULES.queues
    queues = {f"expert-{number}": Q.TIMEOUT} if expert else {}
    sim = simulate(RULES, SimulatedCall(number, seats={seat.dial: seat_failure}, queues=queues), NOW)
    assert sim.executor.result is CallResult.ANSWERED
    expected = [f"EXEC Dial {seat.dial},25"]
    if expert:
        expected.append(f"EXEC Queue expert-{number},tc,,,180")
    expected.append("EXEC Queue hotline-12345,tc,,,600")
    assert execs(sim) == expected
    assert 'STREAM FILE dept-unavailable ""' in sim.commands
    assert_call_rules(sim.wire)


@pytest.mark.parametrize("number", ["12348", "12333", "12329", "12320"])
def test_expert_seat_answers(number):
    seat = RULES.seats[f"seat-{number}"]
    sim = simulate(RULES, SimulatedCall(number, seats={seat.dial: D.NOANSWER}), NOW)
    assert execs(sim)[-1] == f"EXEC Queue expert-{number},tc,,,180"
    assert sim.executor.result is CallResult.ANSWERED


def test_seat_down_is_not_rung():
    sim = simulate(RULES, SimulatedCall("12333"), NOW, down=frozenset({"seat-12333"}))
    assert execs(sim) == ["EXEC Queue expert-12333,tc,,,180"]
    assert 'STREAM FILE transfer-dept ""' not in sim.commands


@pytest.mark.parametrize("behaviour", [Q.CALLER_HANGUP, Q.ASTERISK_STOPPED])
def test_caller_leaving_the_queue_is_never_routed_again(behaviour):
    """agi-08/09: EXEC Queue returns -1 and HANGUP arrives only after the next command was sent."""
    sim = simulate(
        RULES,
        SimulatedCall(
            "12333", seats={"PJSIP/12333@dept-hr-social-security": D.BUSY}, queues={"expert-12333": behaviour}
        ),
        NOW,
    )
    assert sim.executor.result is CallResult.ABANDONED
    assert execs(sim)[-1] == "EXEC Queue expert-12333,tc,,,180"
    assert stage(sim) == "queue:expert-12333", "the dialplan must not take an abandoned call for a finished one"
    assert_call_rules(sim.wire)


def test_answered_call_is_never_routed_again_even_when_the_agent_hangs_up_first():
    """agi-02: on a line without rating (no option c) an answered queue call returns -1 with the caller still
    alive; the plan must end there."""
    sim = simulate(UNRATED, SimulatedCall("12345"), NOW)
    assert execs(sim) == ["EXEC Queue hotline-12345,t,,,600"]
    assert sim.executor.outcomes == [("queue:hotline-12345", Outcome.ANSWERED_AGENT_HUNG_UP)]
    assert sim.executor.rating is None


def test_queue_status_of_an_earlier_queue_is_not_read_after_a_later_one():
    """Expert queue times out (QUEUESTATUS=TIMEOUT, ABANDONED=TRUE), then 12345 answers: answered, not failed."""
    sim = simulate(
        RULES,
        SimulatedCall(
            "12333", seats={"PJSIP/12333@dept-hr-social-security": D.BUSY}, queues={"expert-12333": Q.TIMEOUT}
        ),
        NOW,
    )
    assert sim.executor.outcomes[-1] == ("queue:hotline-12345", Outcome.ANSWERED_CONTINUE)
    assert sim.executor.result is CallResult.ANSWERED


def test_hangup_in_prompt_stops_everything():
    """agi-04a: STREAM FILE returns -1 part-way and HANGUP follows: no EXEC, no more prompts."""
    sim = simulate(RULES, SimulatedCall("12396", hangup_in_prompt="transition-12396"), NOW)
    assert sim.executor.result is CallResult.HUNG_UP_IN_PROMPT
    assert execs(sim) == []
    assert stage(sim) == "prompt"
    assert_call_rules(sim.wire)


def test_missing_prompt_carries_on_to_the_queue_and_raises_an_alarm(caplog):
    with caplog.at_level(logging.ERROR, logger="ivr.agi"):
        sim = simulate(RULES, SimulatedCall("12396", missing_prompts=frozenset({"transition-12396"})), NOW)
    assert sim.executor.result is CallResult.ANSWERED
    assert execs(sim) == ["EXEC Queue hotline-12345,tc,,,600"]
    assert any("ALARM" in r.message and "transition-12396" in r.message for r in caplog.records)


def count_replies(call: SimulatedCall) -> int:
    return sum(1 for d, line in simulate(RULES, call, NOW).wire if d == "<<" and line.startswith(("2", "5")))


HANGUP_CALLS = [
    SimulatedCall("12345"),
    SimulatedCall("12396"),
    SimulatedCall(
        "12333",
        seats={"PJSIP/12333@dept-hr-social-security": D.BUSY},
        queues={"expert-12333": Q.TIMEOUT},
        missing_prompts=frozenset({"dept-unavailable"}),
    ),
    SimulatedCall("12328", queues={"hotline-12345": Q.JOINEMPTY}),
]


@pytest.mark.parametrize("call", HANGUP_CALLS, ids=lambda c: c.number)
def test_hangup_at_every_step(call):
    """agi-04c: an unsolicited HANGUP after any reply. Nothing acts on the caller afterwards, the call ends."""
    total = count_replies(call)
    for n in range(1, total + 1):
        sim = simulate(RULES, SimulatedCall(**{**call.__dict__, "hangup_after_replies": n}), NOW)
        assert sim.executor.result is not None
        assert sim.executor.hung_up
        assert_call_rules(sim.wire)
        if sim.executor.result is CallResult.ANSWERED:
            assert any(line.startswith("EXEC") for line in sim.commands)


def test_emergency_number_is_handed_back_untouched(caplog):
    with caplog.at_level(logging.ERROR, logger="ivr.agi"):
        sim = simulate(RULES, SimulatedCall("110"), NOW)
    assert sim.commands == [], "not even a SET VARIABLE: the dialplan goes on as if the engine were not there"
    assert sim.executor.result is CallResult.EMERGENCY_REFUSED
    assert any("ALARM emergency number 110" in r.message for r in caplog.records)
    for form in ("+86110", "0871-120"):
        assert simulate(RULES, SimulatedCall(form), NOW).commands == []


def test_number_comes_from_the_argument_then_the_extension():
    simulator = AsteriskSimulator(SimulatedCall("12396", number_as_argument=False))
    env = AgiParser().feed(simulator.open())[0]
    executor = PlanExecutor(env, RULES, NOW)
    assert executor.start() is not CLOSE
    assert executor.plan.line.number == "12396"


def test_redirecting_number_and_withheld_caller_reach_the_router():
    simulator = AsteriskSimulator(SimulatedCall("12345", rdnis="12396", callingpres=0x23))
    env = AgiParser().feed(simulator.open())[0]
    executor = PlanExecutor(env, RULES, NOW)
    executor.start()
    assert executor.plan.line.number == "12396"
    assert [f.value for f in executor.plan.flags] == ["via-redirecting-number", "caller-withheld"]


@pytest.mark.parametrize(
    ("caller", "pres", "shown"),
    [("13912345678", 0, "139****5678"), ("13912345678", 0x23, "withheld"), ("unknown", 0x43, "unknown")],
)
def test_call_summary_masks_the_caller(caller, pres, shown):
    summary = simulate(RULES, SimulatedCall("12345", caller=caller, callingpres=pres), NOW).executor.summary()
    assert summary["caller"] == shown
    assert summary["line"] == "12345" and summary["result"] == "answered"
    assert summary["steps"] == "queue:hotline-12345:answered-continue"
    assert "13912345678" not in repr(summary)


KIND_OF_COMMAND = {
    "ANSWER": "answer",
    "SET VARIABLE": "set",
    "STREAM FILE": "play",
    "EXEC Queue": "queue",
    "EXEC Dial": "dial",
}


def kind(command: str) -> str | None:
    """The plan step a command carries out; None for the executor's own bookkeeping (IVR_STAGE, clears, reads)."""
    if command.startswith(("SET VARIABLE IVR_STAGE", "GET VARIABLE")) or (
        command.endswith(' ""') and (command.startswith("SET VARIABLE"))
    ):
        return None
    return next((k for prefix, k in KIND_OF_COMMAND.items() if command.startswith(prefix)), None)


@pytest.mark.parametrize("number", sorted(RULES.lines))
def test_executor_follows_the_router_plan_exactly(number):
    """With every queue timing out and every seat busy, the commands are the plan's steps, in order."""
    plan = route(CallFacts(number, NOW), RULES)
    call = SimulatedCall(
        number,
        queues={q.queue: Q.TIMEOUT for q in RULES.queues.values()},
        seats={s.dial: D.BUSY for s in RULES.seats.values()},
    )
    sim = simulate(RULES, call, NOW)
    assert [k for k in map(kind, sim.commands) if k] == [s.kind for s in plan.steps if s.kind != "hangup"]
    assert sim.executor.result is CallResult.INSTRUCTED


# Each captured queue or seat ending (transcript -> behaviour) and what the engine must make of it.
CAPTURED_ENDINGS = [
    ("agi-02b", "12345", {"hotline-12345": Q.ANSWER}, {}, Outcome.ANSWERED_CONTINUE),
    ("agi-03 busy", "12328", {}, {"PJSIP/12328@dept-transport": D.BUSY}, Outcome.SEAT_FAILED),
    ("agi-03 noanswer", "12328", {}, {"PJSIP/12328@dept-transport": D.NOANSWER}, Outcome.SEAT_FAILED),
    ("agi-03 congestion", "12328", {}, {"PJSIP/12328@dept-transport": D.CONGESTION}, Outcome.SEAT_FAILED),
    ("agi-03 chanunavail", "12328", {}, {"PJSIP/12328@dept-transport": D.CHANUNAVAIL}, Outcome.SEAT_FAILED),
    ("agi-07a", "12345", {"hotline-12345": Q.JOINEMPTY}, {}, Outcome.QUEUE_FAILED),
    ("agi-07b", "12345", {"hotline-12345": Q.LEAVEEMPTY}, {}, Outcome.QUEUE_FAILED),
    ("agi-07c", "12345", {"hotline-12345": Q.TIMEOUT}, {}, Outcome.QUEUE_FAILED),
    ("agi-07d", "12345", {"hotline-12345": Q.UNKNOWN}, {}, Outcome.QUEUE_FAILED),
    ("agi-08", "12345", {"hotline-12345": Q.CALLER_HANGUP}, {}, Outcome.ABANDONED),
    ("agi-09", "12345", {"hotline-12345": Q.ASTERISK_STOPPED}, {}, Outcome.ABANDONED),
]


@pytest.mark.parametrize(
    ("capture", "number", "queues", "seats", "outcome"), CAPTURED_ENDINGS, ids=[row[0] for row in CAPTURED_ENDINGS]
)
def test_each_captured_ending_gets_its_outcome(capture, number, queues, seats, outcome):
    sim = simulate(RULES, SimulatedCall(number, queues=queues, seats=seats), NOW)
    assert sim.executor.outcomes[0][1] is outcome
    if outcome.next_step:
        assert len(sim.executor.outcomes) > 1 or sim.executor.result is CallResult.INSTRUCTED
    assert_call_rules(sim.wire)


@pytest.mark.parametrize("replies", [1, 2])
def test_captured_idle_hangup_after_answer(replies):
    """agi-04c: HANGUP arrives unsolicited right after ANSWER; no prompt and no queue may follow."""
    sim = simulate(RULES, SimulatedCall("12345", hangup_after_replies=replies), NOW)
    assert sim.executor.result is CallResult.HUNG_UP_IN_PROMPT
    assert not any(c.startswith(("STREAM", "EXEC")) for c in sim.commands)


def test_ticket_prelude_reads_the_linkedid_and_sets_the_ticket_before_answering():
    seen = []

    def record(executor):
        seen.append(executor.linkedid)
        return "12345-20211120-e1-000007"

    sim = simulate(RULES, SimulatedCall("12396", uniqueid="1795849811.5", linkedid="1795849811.4"), NOW, record=record)
    assert sim.commands[:3] == [
        "GET VARIABLE CHANNEL(linkedid)",
        "SET VARIABLE __TICKET_ID 12345-20211120-e1-000007",
        "ANSWER",
    ]
    assert seen == ["1795849811.4"], "the stub is due once, with the linkedid read (not the uniqueid)"
    assert sim.executor.ticket_id == "12345-20211120-e1-000007"
    assert sim.executor.summary()["ticket"] == "12345-20211120-e1-000007"
    assert sim.executor.result is CallResult.ANSWERED
    assert_call_rules(sim.wire)


def test_a_call_whose_stub_could_not_be_written_is_routed_all_the_same():
    sim = simulate(RULES, SimulatedCall("12345"), NOW, record=lambda executor: None)
    assert sim.commands[:2] == ["GET VARIABLE CHANNEL(linkedid)", "ANSWER"]
    assert not any("TICKET_ID" in command for command in sim.commands)
    assert sim.executor.result is CallResult.ANSWERED


def test_caller_hanging_up_while_the_stub_is_written_is_never_answered():
    simulator = AsteriskSimulator(SimulatedCall("12345"))
    parser = AgiParser()
    executor = PlanExecutor(parser.feed(simulator.open())[0], RULES, NOW, ticketing=True)
    linkedid = executor.start()
    assert executor.feed(parser.feed(simulator.receive(linkedid.encode()))) is RECORD
    assert executor.feed([Hangup()]) is None, "nothing to send while the store writes"
    ticket = executor.ticket_recorded("12345-20211120-e1-000001")
    assert ticket.encode() == b"SET VARIABLE __TICKET_ID 12345-20211120-e1-000001\n", "a SET is fine after a hang-up"
    assert executor.feed(parser.feed(simulator.receive(ticket.encode()))) is CLOSE
    assert executor.result is CallResult.HUNG_UP_IN_PROMPT
    assert "ANSWER" not in [line for d, line in simulator.wire if d == ">>"]
