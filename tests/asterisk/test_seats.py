"""The dual-transfer lines on a real Asterisk 22: the department's seat answers, is busy, does not answer or cannot
be reached, and the caller hears the unavailable prompt and falls back (expert queue, then 12345) to a person.
Asterisk's DialEnd, queue_log and CDR are the judge of the stub and the engine's call line."""

from __future__ import annotations

import pytest

from ivr.rules.loader import load_rules
from tests.ami.monitor import wait_for
from tests.asterisk.judge import CDR_DISPOSITION, Account, account, assert_agree
from tests.asterisk.lead import agrees_with_queue_log
from tests.asterisk.site import Call, Site

LINES = ("12348", "12333", "12329", "12328", "12320")
HOTLINE = "hotline-12345"


def EDIT_RULES(text: str) -> str:
    """Seats ring 5 s (the rules' least) instead of 25, so a seat nobody answers fails quickly."""
    return text.replace("ring_timeout: 25", "ring_timeout: 5")


@pytest.fixture(scope="module", autouse=True)
def monitor(site: Site) -> None:
    """`ivr monitor` runs meanwhile, as at a centre: the stubs judged below carry its facts too."""
    started = site.start_monitor()
    wait_for("the monitor logged in", lambda: "AMI link up" in started.log_text(), 30)


def seat_of(site: Site, line: str):
    rules = load_rules(site.rules)
    return rules.seats[rules.lines[line].destination]


def judged(site: Site, call: Call) -> tuple[dict, dict[str, str], Account]:
    """The stub, the engine's call line and Asterisk's account of a call once both halves hung up."""
    site.hung_up(call)
    return site.ticket_of(call), site.call_line(call), account(site, call)


def dialled_seat(found: Account) -> tuple[str, str]:
    assert len(found.seats) == 1, f"one Dial of the seat, Asterisk: {found.seats}"
    return found.seats[0]


def test_each_department_seat_answers_and_the_stub_says_transferred(site):
    for line in LINES:
        site.world(f"SEAT_{line}", "answer:2")
    calls = {line: site.call(line, hold=60) for line in LINES}
    for line, call in calls.items():
        stub, said, found = judged(site, call)
        seat = seat_of(site, line)
        channel, status = dialled_seat(found)
        assert status == "ANSWER" and found.seat_cdr(channel) == "ANSWERED", (line, found)
        assert found.seat_reached == seat.dial.split("/", 1)[1], "Asterisk rang the rules' seat"
        assert found.entered == [] and found.answered_by == "", "no queue after a seat that answered"
        assert found.prompts == [("transfer-dept", "200")], "the seat's own prompt, played whole, before it rang"
        assert found.hung_up_in == "", "the seat hung up first: the citizen's phone went down after the engine"
        assert_agree(stub, found)
        assert stub["outcome"] == "transferred" and stub["stage"] == "done" and stub["queue"] == ""
        assert stub["rating"] == "", "a department seat's call is not rated by 12345"
        assert said["result"] == "answered" and said["steps"] == f"dial:{seat.name}:answered-agent-hung-up"


FAILURES = {"busy": "BUSY", "noanswer": "NOANSWER", "unreachable": "CHANUNAVAIL"}
# Two rounds of five concurrent calls (a seat's behaviour is per number): each failure on three or four lines,
# each line failing two ways. noanswer leaves the expert queue empty, so that caller goes on to 12345.
ROUNDS = (
    {"12348": "busy", "12333": "unreachable", "12329": "noanswer", "12328": "busy", "12320": "unreachable"},
    {"12348": "unreachable", "12333": "noanswer", "12329": "busy", "12328": "noanswer", "12320": "busy"},
)


@pytest.mark.parametrize("failures", ROUNDS, ids=["round-1", "round-2"])
def test_a_seat_that_fails_plays_the_unavailable_prompt_and_falls_back_to_a_person(site, failures):
    """busy and unreachable: an expert answers in the seat's fallback queue. noanswer: no expert is logged in, so
    the expert queue is empty (JOINEMPTY, never entered) and the caller goes on to 12345, where an agent answers."""
    rules = load_rules(site.rules)
    chains: dict[str, list[str]] = {}
    for line, failure in failures.items():
        seat = seat_of(site, line)
        chain = [seat.fallback]
        if failure == "noanswer" and seat.fallback != HOTLINE:
            chain.append(rules.queues[seat.fallback].fallback)
        chains[line] = chain
        site.world(f"SEAT_{line}", failure)
    interfaces = [site.agent(chain[-1], f"80{n}{n}", "answer:2") for n, chain in enumerate(chains.values(), start=1)]
    try:
        calls = {line: site.call(line, hold=120) for line in failures}
        for line, call in calls.items():
            stub, said, found = judged(site, call)
            seat = seat_of(site, line)
            channel, status = dialled_seat(found)
            assert status == FAILURES[failures[line]], f"{line} {failures[line]}: Asterisk's DialEnd {status}"
            assert found.seat_cdr(channel) == CDR_DISPOSITION.get(status, "FAILED"), (line, found.cdrs)
            assert found.prompts[:2] == [("transfer-dept", "200"), ("dept-unavailable", "200")], (
                f"{line}: the caller heard the unavailable prompt whole before the fallback: {found.prompts}"
            )
            chain = chains[line]
            assert found.entered == [chain[-1]], f"{line}: queues entered (an empty one is never entered)"
            assert found.left == [(chain[-1], "COMPLETEAGENT")] and found.answered_by in interfaces, found
            assert_agree(stub, found)
            assert stub["outcome"] == "answered" and stub["answered_by"] == found.answered_by
            steps = [f"dial:{seat.name}:seat-failed"]
            steps += [f"queue:{queue}:queue-failed" for queue in chain[:-1]]
            steps.append(f"queue:{chain[-1]}:answered-continue")  # Queue option c: back for the rating
            assert said["result"] == "answered" and said["steps"] == ",".join(steps)
            assert (stub["rating"], stub["rating_reason"]) == ("not-rated", "timed-out"), "no key pressed"
    finally:
        for interface, chain in zip(interfaces, chains.values(), strict=True):
            site.logoff(chain[-1], interface)
        for line in failures:
            site.world(f"SEAT_{line}", "")


def test_the_caller_gives_up_while_the_seat_rings_or_hangs_up_on_the_seat(site):
    """12329's seat rings on: the citizen hangs up at Asterisk's DialState RINGING (Dial's CANCEL: abandoned, the
    stage stays at the seat). 12348's seat answers and talks on: the citizen hangs up at DialEnd ANSWER."""
    site.world("SEAT_12329", "noanswer")
    site.world("SEAT_12348", "answer:600")
    try:
        ringing, talking = site.call("12329", hold=300), site.call("12348", hold=300)
        site.ami.wait_event("DialState", 60, ringing.since, Linkedid=ringing.citizen, DialStatus="RINGING")
        site.hang_up(ringing)
        site.ami.wait_event("DialEnd", 60, talking.since, Linkedid=talking.citizen, DialStatus="ANSWER")
        site.hang_up(talking)
        stub, said, found = judged(site, ringing)
        channel, status = dialled_seat(found)
        assert status == "CANCEL" and found.seat_cdr(channel) == "NO ANSWER", found
        assert found.hung_up_in.startswith("EXEC Dial ") and found.citizen_cause == "16", found.hung_up_in
        assert found.prompts == [("transfer-dept", "200")], "no unavailable prompt for a caller who left"
        assert not found.acted_after_hangup and not found.fell_back and found.entered == []
        assert_agree(stub, found)
        assert stub["outcome"] == "abandoned" and stub["stage"] == "dial:seat-12329"
        assert (said["result"], said["steps"]) == ("abandoned", "dial:seat-12329:abandoned")
        stub, said, found = judged(site, talking)
        channel, status = dialled_seat(found)
        assert status == "ANSWER" and found.seat_cdr(channel) == "ANSWERED"
        assert found.hung_up_in.startswith("EXEC Dial "), "the citizen hung up during the seat's conversation"
        assert_agree(stub, found)
        assert stub["outcome"] == "transferred" and stub["answered_by"] == "12348@dept-justice"
        assert (said["result"], said["steps"]) == ("answered", "dial:seat-12348:answered-caller-hung-up")
    finally:
        site.world("SEAT_12329", "")
        site.world("SEAT_12348", "")


def test_todays_figures_of_each_queue_are_queue_logs(site):
    """Every queue the fallbacks took callers into: offered, answered and their waits as queue_log has them."""
    assert site.switch is not None
    used = sorted({row[2] for row in site.switch.queue_log() if len(row) > 4 and row[4] == "ENTERQUEUE"})
    assert HOTLINE in used and len(used) > 1, used
    for queue in used:
        agrees_with_queue_log(site, queue)
