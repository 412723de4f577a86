"""The engine failing while `ivr monitor` and `ivr web` run on a real Asterisk 22 (test_engine_faults.py's paths,
now with the monitor): the stub a SIGKILLed engine left `in-progress` is completed by the monitor as Asterisk's
AMI says, a call the dialplan carried alone gets the monitor's own stub, and each agrees with Asterisk's AMI
events, queue_log and CDR; a caller who gave up is on the call-back list and one who was answered is not; today's
figures on `ivr queues --json`, `/state.json` and `/metrics` are queue_log's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.asterisk.judge import account, assert_agree
from tests.asterisk.lead import agrees_with_queue_log, wallboard_agrees
from tests.asterisk.site import Site
from tests.asterisk.test_engine_faults import EDIT_RULES as FAULTS_RULES
from tests.asterisk.test_engine_faults import QUEUE, agents, fallbacks, kill, log_off, queue_events
from tests.serve.engine import Engine
from tests.web.server import start_web

EDIT_RULES = FAULTS_RULES  # hotline-12345 gives up after 10 s


@pytest.fixture(scope="module")
def web(site: Site) -> Iterator[Engine]:
    site.start_monitor()
    wallboard = start_web(site.folder, site.store, site.rules, "--spool", str(site.folder / "spool"))
    yield wallboard
    wallboard.stop()
    assert site.monitor is not None
    site.monitor.stop()


@pytest.fixture(autouse=True)
def engine_running(site: Site, web: Engine) -> Iterator[None]:
    """Whatever a test did to the engine (stopped, killed), the next one starts with it running."""
    yield
    assert site.engine is not None
    if site.engine.process.poll() is not None:
        site.start_engine()


def test_killed_while_the_agent_rings_the_monitor_completes_the_stub_as_asterisk_says(site: Site):
    logged_in = agents(site, "ring")
    try:
        call = site.call("12345", hold=60, caller="13900000201")
        called = site.ami.wait_event("AgentCalled", 30, call.since, Uniqueid=call.inbound, Queue=QUEUE)
        kill(site)
        site.pick_up(called)
        site.hung_up(call)
        assert queue_events(site, call) == [(QUEUE, "ENTERQUEUE"), (QUEUE, "CONNECT"), (QUEUE, "COMPLETEAGENT")]
        stub, found = site.ticket_of(call), account(site, call)  # closed by the monitor, not the dead engine
        assert_agree(stub, found)
        assert (stub["outcome"], stub["answered_by"]) == ("answered", logged_in[0])
        assert stub["queue_wait"] == found.waited[0][1], "the wait Asterisk counted"
        assert [s["what"] for s in stub["route"] if s["what"].startswith("ami:")][:2] == [
            "ami:answered",
            "ami:fallback",
        ]
        assert stub["id"] not in {e["ticket"] for e in site.callbacks()}, "answered: nobody to call back"
    finally:
        log_off(site, logged_in)


def test_engine_stopped_a_seat_that_answers_completes_the_monitors_stub(site: Site):
    """The dialplan alone: transfer-dept, then the department's seat answers (DialEnd ANSWER in its generated
    context): the monitor's stub says transferred to that seat, as the engine's would have."""
    assert site.engine is not None and site.engine.stop() == 0
    call = site.call("12328", hold=60, caller="13900000202")
    site.hung_up(call)
    (fallback,) = fallbacks(site, call)
    assert (fallback["Line"], fallback["Stage"]) == ("12328", "")
    stub, found = site.ticket_of(call), account(site, call)
    assert found.seat_answered and found.seat_reached == "12328@dept-transport", found
    assert_agree(stub, found)
    assert (stub["outcome"], stub["answered_by"], stub["stage"]) == ("transferred", found.seat_reached, "fallback:")
    assert stub["id"].split("-")[2] == "m1", "numbered by the monitor: the engine never saw the call"


def test_engine_stopped_a_caller_who_gives_up_in_the_queue_is_called_back(site: Site):
    logged_in = agents(site, "ring")
    try:
        assert site.engine is not None and site.engine.stop() == 0
        call = site.call("12345", hold=60, caller="13900000203")
        site.ami.wait_event("QueueCallerJoin", 30, call.since, Uniqueid=call.inbound, Queue=QUEUE)
        site.hang_up(call)
        site.hung_up(call)
        assert queue_events(site, call) == [(QUEUE, "ENTERQUEUE"), (QUEUE, "ABANDON")]
        stub, found = site.ticket_of(call), account(site, call)
        assert_agree(stub, found)
        assert (stub["outcome"], stub["queue"]) == ("abandoned", QUEUE)
        listed = {entry["ticket"]: entry for entry in site.callbacks()}
        assert listed[stub["id"]]["state"] == "due", listed
    finally:
        log_off(site, logged_in)


def test_todays_figures_after_the_faults_are_queue_logs_everywhere(site: Site, web: Engine):
    figures = agrees_with_queue_log(site, QUEUE)
    assert (figures["answered"], figures["abandoned"]) == (1, 1), "the killed engine's call and the give-up"
    wallboard_agrees(web.port, QUEUE, figures)
