"""The engine stopped, refusing, SIGKILLed and stopped with SIGTERM in the middle of calls, then restarted, on a
real Asterisk 22: the generated dialplan's fallback (README "Asterisk configuration", the IVR_STAGE table) carries
every call to a person or to the final instruction, never twice, and what the project says afterwards (the stub,
the engine's call line) never contradicts Asterisk's own AMI events, queue_log and CDR. No monitor runs here, so
a call the engine never saw has no stub, and a call whose engine was killed keeps its opening stub.

One site for the module: each test leaves the engine running with its usual options (the autouse fixture restarts
it), and logs its agents off."""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest

from ivr.router.decide import CallFacts, route
from ivr.router.plan import Play, QueueCall
from ivr.rules.loader import load_rules
from tests.asterisk.judge import account, assert_agree
from tests.asterisk.site import Call, Site

QUEUE = "hotline-12345"
QUEUE_SECONDS = 10


def EDIT_RULES(text: str) -> str:
    """hotline-12345 waits 10 s instead of 600, so a caller nobody answers reaches the final instruction soon."""
    shipped = "    name_en: 12345 agents\n    timeout: 600\n"
    assert shipped in text
    return text.replace(shipped, f"    name_en: 12345 agents\n    timeout: {QUEUE_SECONDS}\n")


@pytest.fixture(autouse=True)
def engine_running(site: Site) -> Iterator[None]:
    """Whatever a test did to the engine (stopped, killed), the next one starts with it running."""
    yield
    assert site.engine is not None
    if site.engine.process.poll() is not None:
        site.start_engine()


@contextmanager
def engine_with(site: Site, *options: str) -> Iterator[None]:
    """The engine restarted with these `ivr serve` options for the block, then as usual again."""
    assert site.engine is not None and site.engine.stop() == 0
    site.start_engine(*options)
    try:
        yield
    finally:
        site.engine.stop()
        site.start_engine()


# --- the world and the judge's reading of Asterisk ----------------------------------------------------------------


def kill(site: Site) -> None:
    """SIGKILL, as the OOM killer or a crash does: no drain, no closing stub, sockets reset by the kernel."""
    assert site.engine is not None
    site.engine.process.kill()
    assert site.engine.process.wait(timeout=10) == -signal.SIGKILL


def nothing_listens(site: Site) -> bool:
    try:
        socket.create_connection(("127.0.0.1", site.engine_port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def hang_up_citizen(site: Site, call: Call) -> None:
    """The citizen puts the phone down now."""
    created = site.ami.wait_event("Newchannel", 10, call.since, Uniqueid=call.citizen)
    assert site.ami.action("Hangup", Channel=created.get("Channel") or "").response == "Success"


def fallbacks(site: Site, call: Call) -> list[dict[str, str]]:
    """The dialplan's IvrFallback events for this call: where it carried on without the engine, and why."""
    events = site.events(call, "UserEvent", UserEvent="IvrFallback", Uniqueid=call.inbound)
    keys = ("Line", "Stage", "AgiStatus", "QueueStatus", "DialStatus")
    return [{key: event.get(key) or "" for key in keys} for event in events]


def dialplan_played(site: Site, call: Call) -> list[str]:
    """The prompts the dialplan itself played to the caller (Playback), in order; the engine's are STREAM FILE."""
    return [
        m.get("AppData") or "" for m in site.events(call, "Newexten", Uniqueid=call.inbound, Application="Playback")
    ]


# queue_log events of a caller's stay: joined, answered, and how it ended (not each agent's ring: RINGNOANSWER…).
STAY = {"ENTERQUEUE", "CONNECT", "COMPLETEAGENT", "COMPLETECALLER", "ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY"}


def queue_events(site: Site, call: Call) -> list[tuple[str, str]]:
    """(queue, event) of the queue_log rows of this caller's stays, in order."""
    assert site.switch is not None
    rows = site.switch.queue_log()
    return [(row[2], row[4]) for row in rows if len(row) > 4 and row[1] == call.inbound and row[4] in STAY]


def userfields(site: Site, call: Call) -> list[str]:
    """CDR(userfield) of the inbound half's CDR rows (one per segment: before and after a bridge)."""
    assert site.switch is not None
    return [row["userfield"] for row in site.switch.cdrs() if row["uniqueid"] == call.inbound]


def stubs(site: Site, call: Call) -> list[dict[str, Any]]:
    """Every stub of this call in the store, whatever its outcome ([] when there is none, or no store yet)."""
    try:
        listed = json.loads(site.ivr("tickets", "list", "--json", "--store", site.store, "--unmask"))
    except AssertionError as refused:
        if "no stub has been written" in str(refused):
            return []
        raise
    return [stub for stub in listed if stub["uniqueid"] == call.inbound]


def call_logged(site: Site, call: Call) -> bool:
    """Whether the engine logged a `call` line for this call (it does when its session ends)."""
    assert site.engine is not None
    return f" call uniqueid={call.inbound} " in site.engine.log_text()


def static_prompts(site: Site, number: str) -> list[str]:
    """The prompts the router's plan plays before its first queue or seat, for a call now: what the dialplan's
    static plan must play when the engine was never reached."""
    plan = route(CallFacts(dialed=number, at=datetime.now().astimezone()), load_rules(site.rules))
    first = next(i for i, step in enumerate(plan.steps) if isinstance(step, QueueCall))
    return [step.prompt for step in plan.steps[:first] if isinstance(step, Play)]


def agents(site: Site, *does: str) -> list[str]:
    """Agents 8001, 8002, … log in to hotline-12345, each doing what `does` says (world.py)."""
    return [site.agent(QUEUE, f"80{n:02d}", what) for n, what in enumerate(does, 1)]


def log_off(site: Site, interfaces: list[str]) -> None:
    for interface in interfaces:
        site.logoff(QUEUE, interface)


def carried_by_the_dialplan_alone(site: Site, call: Call, agistatus: set[str]) -> None:
    """The engine never saw the call: the static plan ran whole (the line's prompts, then its queue) and an agent
    answered; Asterisk marked the fallback, with an AGISTATUS of `agistatus`, in its UserEvent and its CDR; no
    stub, no call line."""
    (fallback,) = fallbacks(site, call)
    assert fallback["AgiStatus"] in agistatus, fallback
    assert fallback == {
        "Line": call.number,
        "Stage": "",
        "AgiStatus": fallback["AgiStatus"],
        "QueueStatus": "",
        "DialStatus": "",
    }
    assert dialplan_played(site, call) == static_prompts(site, call.number)
    assert queue_events(site, call) == [(QUEUE, "ENTERQUEUE"), (QUEUE, "CONNECT"), (QUEUE, "COMPLETEAGENT")]
    assert account(site, call).answered_by.startswith("Local/80")
    marked = f";fallback=;agistatus={fallback['AgiStatus']}"
    assert any(field.endswith(marked) for field in userfields(site, call)), userfields(site, call)
    assert stubs(site, call) == [] and not call_logged(site, call)


# A refusal resets the connection Asterisk has just made: it then reads the end of the script (SUCCESS), or, if
# the reset beat its first write of the environment, fails the connect (FAILURE). Either way IVR_STAGE is unset.
REFUSED = {"SUCCESS", "FAILURE"}


# --- the engine not there, or refusing -----------------------------------------------------------------------------


def test_engine_stopped_the_dialplan_alone_brings_callers_to_an_agent(site):
    assert site.engine is not None and site.engine.stop() == 0
    assert nothing_listens(site)
    logged_in = agents(site, "answer:2", "answer:2")
    try:
        calls = [site.call("12345", hold=60), site.call("12396", hold=60)]  # the main line and an absorbed one
        for call in calls:
            site.hung_up(call)
        for call in calls:
            # Connection refused: res_agi's launch_netscript fails, AGISTATUS=FAILURE, the dialplan goes on.
            carried_by_the_dialplan_alone(site, call, {"FAILURE"})
        assert {account(site, call).answered_by for call in calls} == set(logged_in), "one agent each"
    finally:
        log_off(site, logged_in)


def test_an_engine_refusing_asterisk_by_its_allowlist_leaves_the_whole_call_to_the_dialplan(site):
    logged_in = agents(site, "answer:2")
    try:
        with engine_with(site, "--allow", "10.0.0.0/8"):
            call = site.call("12345", hold=60)
            site.hung_up(call)
            carried_by_the_dialplan_alone(site, call, REFUSED)
            assert "connection from 127.0.0.1 refused: not in the allowlist (--allow)" in site.engine.log_text()
    finally:
        log_off(site, logged_in)


def test_an_engine_at_max_sessions_refuses_the_next_call_and_keeps_the_one_it_has(site):
    logged_in = agents(site, "hold")
    try:
        with engine_with(site, "--max-sessions", "1"):
            first = site.call("12345", hold=600)
            site.ami.wait_event("AgentConnect", 30, first.since, Uniqueid=first.inbound)  # its session is in EXEC Queue
            logged_in += [site.agent(QUEUE, "8002", "answer:2")]
            second = site.call("12345", hold=60)
            site.hung_up(second)
            carried_by_the_dialplan_alone(site, second, REFUSED)
            assert "refused: 1 sessions already (--max-sessions)" in site.engine.log_text()
            assert account(site, second).answered_by == logged_in[1]
            hang_up_citizen(site, first)  # the first caller ends the conversation with agent 8001
            site.hung_up(first)
            stub, found = site.ticket_of(first), account(site, first)
            assert found.answered_by == logged_in[0] and fallbacks(site, first) == []
            assert_agree(stub, found)
            assert site.call_line(first)["result"] == "answered"
            assert stub["rating"] == "not-rated" and stub["rating_reason"] == "caller-hung-up"
    finally:
        log_off(site, logged_in)


# --- the engine killed in the middle of calls, then restarted --------------------------------------------------------


def test_killed_while_the_agent_rings_the_caller_still_reaches_that_agent_once(site):
    logged_in = agents(site, "ring")
    try:
        call = site.call("12345", hold=60)
        called = site.ami.wait_event("AgentCalled", 30, call.since, Uniqueid=call.inbound, Queue=QUEUE)
        kill(site)
        site.pick_up(called)
        site.hung_up(call)
        # Asterisk: one stay in the queue, one answer; Queue (option c) came back CONTINUE to a dead engine, the
        # dialplan read IVR_STAGE=queue:hotline-12345 with it and hung up: no second queue, no prompt.
        assert queue_events(site, call) == [(QUEUE, "ENTERQUEUE"), (QUEUE, "CONNECT"), (QUEUE, "COMPLETEAGENT")]
        assert [m.get("Interface") for m in site.events(call, "AgentConnect")] == logged_in
        assert [(f["Stage"], f["QueueStatus"]) for f in fallbacks(site, call)] == [(f"queue:{QUEUE}", "CONTINUE")]
        assert dialplan_played(site, call) == []
        assert any(field.endswith(f";fallback=queue:{QUEUE};agistatus=SUCCESS") for field in userfields(site, call))
        # The project: the opening stub, durable before the call was answered, and nothing it could not know.
        (stub,) = stubs(site, call)
        assert (stub["outcome"], stub["answered_by"], stub["ended"]) == ("in-progress", "", None)
        assert not call_logged(site, call), "a killed engine logs no end of a call it did not see end"

        site.start_engine()
        site.world("AGENT_8001", "answer:2")
        again = site.call("12345", hold=16)  # hangs up while asked to rate: not waiting out both questions
        site.hung_up(again)
        new_stub, found = site.ticket_of(again), account(site, again)
        assert fallbacks(site, again) == [], "the restarted engine carried the new call to the end"
        assert found.answered_by == logged_in[0]
        assert_agree(new_stub, found)
        assert site.call_line(again)["result"] == "answered"
        (killed,) = stubs(site, call)
        assert killed == stub, "a restart neither closes nor doubles the killed call's stub"
        assert new_stub["id"] != stub["id"]
    finally:
        log_off(site, logged_in)


def test_killed_while_nobody_answers_the_caller_hears_the_final_instruction(site):
    logged_in = agents(site, "ring")
    try:
        call = site.call("12345", hold=120)
        site.ami.wait_event("AgentCalled", 30, call.since, Uniqueid=call.inbound, Queue=QUEUE)
        kill(site)
        site.hung_up(call)
        # Asterisk: the queue timed out (Queue sets ANSWEREDTIME=0 then, apps/app_queue.c at `stop:`); the
        # dialplan went on to hotline-12345's fallback, the final instruction, and hung up the caller itself.
        assert queue_events(site, call) == [(QUEUE, "ENTERQUEUE"), (QUEUE, "EXITWITHTIMEOUT")]
        assert [(f["Stage"], f["QueueStatus"]) for f in fallbacks(site, call)] == [(f"queue:{QUEUE}", "TIMEOUT")]
        assert dialplan_played(site, call) == ["all-busy", "emergency-advisory"]
        assert site.events(call, "AgentConnect") == []
        (stub,) = stubs(site, call)
        assert stub["outcome"] == "in-progress", "never abandoned nor answered: Asterisk says neither"
    finally:
        log_off(site, logged_in)


def test_killed_while_a_prompt_plays_the_caller_goes_on_to_the_queue_without_hearing_it_again(site):
    logged_in = agents(site, "answer:2")
    try:
        call = site.call("12345", hold=60)
        site.ami.wait_command(call.inbound, "STREAM FILE welcome", 30, call.since, "the engine's welcome prompt")
        kill(site)
        site.hung_up(call)
        # STREAM FILE watches the AGI socket: the engine's end stops the prompt, the dialplan resumes at the queue.
        assert [(f["Stage"], f["AgiStatus"]) for f in fallbacks(site, call)] == [("prompt", "SUCCESS")]
        assert dialplan_played(site, call) == [], "the line's prompts are not played twice"
        assert queue_events(site, call) == [(QUEUE, "ENTERQUEUE"), (QUEUE, "CONNECT"), (QUEUE, "COMPLETEAGENT")]
        assert account(site, call).answered_by == logged_in[0]
        assert any(field.endswith(";fallback=prompt;agistatus=SUCCESS") for field in userfields(site, call))
        (stub,) = stubs(site, call)
        assert stub["outcome"] == "in-progress"
    finally:
        log_off(site, logged_in)


# --- SIGTERM: the graceful stop ---------------------------------------------------------------------------------------


def test_sigterm_while_a_caller_waits_drains_then_the_dialplan_connects_the_caller(site):
    logged_in = agents(site, "ring")
    try:
        call = site.call("12345", hold=60)
        called = site.ami.wait_event("AgentCalled", 30, call.since, Uniqueid=call.inbound, Queue=QUEUE)
        assert site.engine is not None and site.engine.stop() == 0  # drains 2 s, closes the session, exits
        assert "stopped with 1 sessions still open: closed" in site.engine.log_text()
        assert nothing_listens(site)
        # The engine wrote its closing stub before it exited: unfinished, at the queue, nobody claimed.
        (stub,) = stubs(site, call)
        assert (stub["outcome"], stub["stage"], stub["answered_by"]) == ("unfinished", f"queue:{QUEUE}", "")
        line = site.call_line(call)
        assert (line["result"], line["stage"]) == ("unfinished", f"queue:{QUEUE}")
        # Asterisk never noticed: the caller was still waiting, and is answered now.
        assert site.events(call, "Hangup", Uniqueid=call.inbound) == []
        site.pick_up(called)
        site.hung_up(call)
        assert queue_events(site, call) == [(QUEUE, "ENTERQUEUE"), (QUEUE, "CONNECT"), (QUEUE, "COMPLETEAGENT")]
        assert account(site, call).answered_by == logged_in[0]
        assert [(f["Stage"], f["QueueStatus"]) for f in fallbacks(site, call)] == [(f"queue:{QUEUE}", "CONTINUE")]
        assert dialplan_played(site, call) == []
        assert stubs(site, call) == [stub], "unfinished stays true: the engine's part ended before the answer"
    finally:
        log_off(site, logged_in)
