"""The FastAGI session with a fake transport and a fake clock: limits, bad peers, refusals, reloads."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from twisted.internet.defer import Deferred

from ivr.agi.simulator import AsteriskSimulator, QueueBehaviour, SimulatedCall
from ivr.runtime.rulesholder import Reloads
from ivr.serve.limits import ENVIRONMENT_SECONDS, Limits
from ivr.serve.service import AgiService, parse_allow
from tests.serve.fakes import TcpTransport

NOW = datetime(2021, 11, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def service(holder, clock):
    return AgiService(holder, clock, now=lambda rules: NOW)


def connect(service, host="127.0.0.1"):
    transport = TcpTransport(host)
    session = service.buildProtocol(None)
    session.makeConnection(transport)
    return session, transport


def finish(session, transport):
    """What the reactor does when the transport goes: tell the protocol."""
    session.connectionLost(None)


def converse(session, transport, simulator, until_exec=None):
    session.dataReceived(simulator.open())
    return pump(session, transport, simulator, until_exec)


def pump(session, transport, simulator, until_exec=None):
    """Move bytes between the session and the simulator until the engine half-closes (or sends `until_exec`)."""
    while not transport.write_closed and not transport.aborted:
        sent = transport.take()
        assert sent, "the engine waits but sent nothing"
        if until_exec and until_exec.encode() in sent:
            return sent
        session.dataReceived(simulator.receive(sent))
    session.dataReceived(simulator.engine_closed())
    finish(session, transport)
    return b""


def test_a_whole_call(service, caplog):
    session, transport = connect(service)
    assert transport.keepalive
    simulator = AsteriskSimulator(SimulatedCall("12396", caller="13912345678"))
    with caplog.at_level(logging.INFO, logger="ivr.serve"):
        converse(session, transport, simulator)
    assert transport.write_closed and not transport.aborted, "the engine half-closes, as Asterisk expects"
    assert simulator.variables["IVR_STAGE"] == "done"
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("call ")]
    assert len(lines) == 1, "one structured line per call"
    assert "line=12396" in lines[0] and "caller=139****5678" in lines[0] and "result=answered" in lines[0]
    assert not service.sessions


def test_peer_that_never_finishes_the_environment_is_cut_off(service, clock, caplog):
    session, transport = connect(service)
    session.dataReceived(b"agi_network: yes\n")
    for _ in range(int(ENVIRONMENT_SECONDS) - 1):
        clock.advance(1)
        session.dataReceived(b"a")  # a byte a second does not buy time: the limit is for the whole block
    assert not transport.aborted
    clock.advance(1.01)
    assert transport.aborted
    assert transport.value() == b"", "nothing was sent: the dialplan fallback takes the call"


def test_peer_sending_megabytes_without_newline_is_cut_off_at_once(service):
    session, transport = connect(service)
    session.dataReceived(b"x" * 1_000_000)
    assert transport.aborted


def test_limits_never_cut_a_live_conversation(service, clock):
    session, transport = connect(service)
    simulator = AsteriskSimulator(SimulatedCall("12345"))
    sent = converse(session, transport, simulator, until_exec="EXEC Queue hotline-12345")
    assert sent.endswith(b"EXEC Queue hotline-12345,tc,,,600\n")
    rules = service.holder.current.rules
    conversation = 600 + rules.engine.max_conversation
    clock.advance(conversation)
    assert not transport.aborted, "a caller who waited the whole queue timeout and talked the longest allowed"
    clock.advance(Limits.for_rules(rules).seconds(session.last_command) - conversation + 1)
    assert transport.aborted


def test_peer_silent_after_a_command_is_cut_off_and_stage_logged(service, clock, caplog):
    session, transport = connect(service)
    session.dataReceived(AsteriskSimulator(SimulatedCall("12345")).open())
    assert transport.take() == b"ANSWER\n"
    with caplog.at_level(logging.WARNING, logger="ivr.serve"):
        clock.advance(11)
    assert transport.aborted
    assert any("no answer to ANSWER" in r.getMessage() for r in caplog.records)


def test_disconnect_mid_command_is_logged_once(service, caplog):
    session, transport = connect(service)
    session.dataReceived(AsteriskSimulator(SimulatedCall("12345")).open())
    session.dataReceived(b"200 resu")
    with caplog.at_level(logging.INFO, logger="ivr.serve"):
        finish(session, transport)
    assert [r for r in caplog.records if "result=unfinished" in r.getMessage()]
    assert not service.sessions


def test_source_outside_the_allowlist_is_refused(holder, clock, caplog):
    service = AgiService(holder, clock, allow=parse_allow(["10.1.0.0/16"]))
    with caplog.at_level(logging.WARNING, logger="ivr.serve"):
        _, outsider = connect(service, "127.0.0.1")
        _, insider = connect(service, "10.1.2.3")
    assert outsider.aborted and outsider.value() == b""
    assert not insider.aborted
    assert any("127.0.0.1 refused: not in the allowlist" in r.getMessage() for r in caplog.records)


def test_sessions_beyond_the_maximum_are_closed_without_a_word(holder, clock):
    service = AgiService(holder, clock, max_sessions=2)
    first = [connect(service) for _ in range(2)]
    _, third = connect(service)
    assert third.aborted and third.value() == b""
    finish(*first[0])
    _, fourth = connect(service)
    assert not fourth.aborted


def test_reload_keeps_calls_on_their_plan_and_refuses_bad_files(service, rules_dir, caplog):
    rules_file = rules_dir / "routing_rules.yaml"
    session, transport = connect(service)
    simulator = AsteriskSimulator(SimulatedCall("12345", queues={"hotline-12345": QueueBehaviour.TIMEOUT}))
    session.dataReceived(simulator.open())  # this call has its plan now

    text = rules_file.read_text(encoding="utf-8")
    rules_file.write_text(text.replace("    timeout: 600\n", "    timeout: 900\n", 1), encoding="utf-8")
    assert service.holder.changed()
    assert service.holder.reload()
    assert pump(session, transport, simulator, "EXEC Queue").endswith(b"EXEC Queue hotline-12345,tc,,,600\n"), (
        "the call in progress kept its plan"
    )
    new_session, new_transport = connect(service)
    new_call = AsteriskSimulator(SimulatedCall("12345"))
    assert b"EXEC Queue hotline-12345,tc,,,900" in converse(new_session, new_transport, new_call, "EXEC Queue")

    rules_file.write_text(text.replace("    timeout: 600\n", "    timeout: soon\n", 1), encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="ivr.rules"):
        assert not service.holder.reload()
        assert not service.holder.reload()
    assert service.holder.current.rules.queues["hotline-12345"].timeout == 900, "the old rules stay"
    problems = [r.getMessage() for r in caplog.records if "timeout" in r.getMessage()]
    assert len(problems) == 1, "the same problems are logged once"
    assert "routing_rules.yaml:" in problems[0]


def test_each_command_gets_its_whole_limit_from_when_it_was_sent(service, clock, caplog):
    """The limit timer is moved lazily (it fires early and re-arms): a command sent late still gets its whole
    limit, and a shorter limit after a long one still fires on time."""
    session, transport = connect(service)
    simulator = AsteriskSimulator(SimulatedCall("12345"))
    clock.advance(4)  # the environment block arrives just within its 5 s
    session.dataReceived(simulator.open())
    assert transport.take() == b"ANSWER\n"
    clock.advance(9.9)  # past the environment's old deadline, within ANSWER's 10 s
    assert not transport.aborted
    session.dataReceived(simulator.receive(b"ANSWER\n"))
    sent = pump(session, transport, simulator, until_exec="EXEC Queue hotline-12345")
    clock.advance(60)  # a minute in the queue, then the reply: the next command is a 5 s GET VARIABLE
    session.dataReceived(simulator.receive(sent))
    assert transport.take().startswith(b"GET VARIABLE QUEUESTATUS")
    clock.advance(4.9)
    assert not transport.aborted
    with caplog.at_level(logging.WARNING, logger="ivr.serve"):
        clock.advance(0.2)
    assert transport.aborted
    assert any("no answer to GET VARIABLE QUEUESTATUS within 5 s" in r.getMessage() for r in caplog.records)


def test_reloads_asked_for_during_a_load_run_once_after_it(holder):
    """A SIGHUP and a file change together, or a slow disk under the 2 s file check: one load at a time, in order,
    and every ask is served by a load that starts after it."""
    loads: list[Deferred[bool]] = []

    def run(f):
        loads.append(Deferred().addCallback(lambda _: f()))
        return loads[-1]

    reloads = Reloads(holder, run=run)
    reloads.ask()
    reloads.ask()
    reloads.ask()
    assert len(loads) == 1, "no second load while the first runs"
    loads[0].callback(None)
    assert len(loads) == 2, "the asks made meanwhile: one load after it"
    loads[1].callback(None)
    assert len(loads) == 2
    reloads.ask()
    assert len(loads) == 3
