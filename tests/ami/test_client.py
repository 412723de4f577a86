"""The AMI client fed with the captured sessions through a fake transport and a fake clock."""

from __future__ import annotations

import logging

from twisted.internet import task
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from ivr.ami.board import Answered
from ivr.ami.client import PING_SECONDS, AmiMonitor, Credentials
from tests.ami.peer import asterisk_side, block, events_only
from tests.transcripts import SERVER, read_transcript

LAB = Credentials("lab", "labpass")


def connect(monitor: AmiMonitor) -> tuple[object, StringTransport]:
    transport = StringTransport()
    session = monitor.buildProtocol(None)
    session.makeConnection(transport)
    return session, transport


def test_login_is_byte_for_byte_the_captured_one_and_a_snapshot_follows():
    monitor = AmiMonitor(LAB, task.Clock())
    session, transport = connect(monitor)
    lines = asterisk_side("ami-02-queue-connect.txt")
    session.dataReceived(lines[0] + b"\r\n")
    sent = [text for d, text in read_transcript("ami-02-queue-connect.txt") if d == SERVER]
    assert transport.value() == b"".join(x + b"\r\n" for x in sent[: sent.index(b"") + 1])
    transport.clear()
    session.dataReceived(block(lines, b"login-1"))
    assert monitor.up
    assert transport.value() == b"Action: QueueStatus\r\nActionID: queuestatus-2\r\n\r\n"


def test_snapshot_then_events_give_the_captured_outcome():
    facts = []
    monitor = AmiMonitor(LAB, task.Clock(), on_facts=facts.extend)
    session, _ = connect(monitor)
    lines = asterisk_side("ami-02-queue-connect.txt")
    session.dataReceived(lines[0] + b"\r\n" + block(lines, b"login-1"))
    snapshot = block(asterisk_side("ami-actions.txt"), b"queuestatus-5", b"queuestatus-2")
    session.dataReceived(snapshot)
    assert monitor.snapshots == 1
    assert monitor.board.staff("hotline-12345")
    session.dataReceived(events_only(lines))
    assert facts == [Answered("1795849801.5", "hotline-12345", "Local/agent1@agents", "Agent One", 0)]


class Connector:
    """What ReconnectingClientFactory calls to reconnect."""

    def __init__(self) -> None:
        self.attempts = 0

    def connect(self) -> None:
        self.attempts += 1


def test_bad_password_is_logged_once_and_retried_with_growing_delay(caplog):
    clock = task.Clock()
    monitor = AmiMonitor(Credentials("lab", "wrong-password"), clock)
    lines = asterisk_side("ami-login-bad.txt")
    refusal = block(lines, b"login-bad-1", b"login-1")
    delays = []
    with caplog.at_level(logging.ERROR, logger="ivr.ami"):
        for _ in range(3):
            monitor._ids = 0
            session, transport = connect(monitor)
            session.dataReceived(lines[0] + b"\r\n" + refusal)
            assert transport.disconnecting, "the client closes: no action after a refused login"
            monitor.clientConnectionLost(Connector(), None)
            delays.append(monitor.delay)
            clock.advance(monitor.delay + 1)
    assert delays == sorted(delays) and delays[-1] > delays[0], "backs off"
    assert not monitor.up
    assert [r.getMessage() for r in caplog.records].count(
        "AMI login as lab refused: Authentication failed; retrying with backoff"
    ) == 1
    assert b"wrong-password" not in "".join(r.getMessage() for r in caplog.records).encode()


def test_shutdown_marks_the_link_down_and_reconnect_rebuilds(caplog):
    monitor = AmiMonitor(LAB, task.Clock())
    session, transport = connect(monitor)
    lines = asterisk_side("ami-shutdown.txt")
    session.dataReceived(lines[0] + b"\r\n" + block(lines, b"login-1"))
    assert monitor.up
    with caplog.at_level(logging.WARNING, logger="ivr.ami"):
        session.dataReceived(events_only(lines))
    assert not monitor.up
    assert any("AMI link down: Asterisk shut down (Cleanly)" in r.getMessage() for r in caplog.records)
    again, transport = connect(monitor)
    again.dataReceived(lines[0] + b"\r\n" + block(lines, b"login-1").replace(b"login-1", b"login-3"))
    assert monitor.up
    assert transport.value().endswith(b"Action: QueueStatus\r\nActionID: queuestatus-4\r\n\r\n")


def log_in(monitor: AmiMonitor, lines: list[bytes]) -> tuple[object, StringTransport]:
    """A new session whose Login Asterisk accepts as in `lines`, under the ActionID the client chose."""
    session, transport = connect(monitor)
    session.dataReceived(lines[0] + b"\r\n")
    login = transport.value().split(b"ActionID: ")[1].split(b"\r\n")[0]
    session.dataReceived(block(lines, b"login-1", login))
    assert monitor.up
    return session, transport


def watching() -> tuple[task.Clock, AmiMonitor, list[float | None]]:
    """A monitor at epoch 1000 that records each gap it is told of when the link comes up."""
    clock = task.Clock()
    clock.advance(1000)
    gaps: list[float | None] = []
    return clock, AmiMonitor(LAB, clock, on_link_up=gaps.append), gaps


def test_each_link_up_says_since_when_no_events_could_be_seen():
    """The first link of a run knows no gap of its own (None: the run's caller decides); after Asterisk's
    shutdown, the next link up names the moment the events stopped, by the monitor's clock."""
    clock, monitor, gaps = watching()
    lines = asterisk_side("ami-shutdown.txt")
    session, _ = log_in(monitor, lines)
    assert gaps == [None]
    clock.advance(60)
    session.dataReceived(events_only(lines))
    session.connectionLost(None)
    clock.advance(30)
    log_in(monitor, lines)
    assert gaps == [None, 1060.0], "told once per link up, with the shutdown's time"


def test_a_link_that_dies_silently_is_unwatched_from_the_last_word_asterisk_said():
    """No FIN, no RST: the Ping goes unanswered and the link is dropped PING_SECONDS later; what happened after
    Asterisk's last message was not seen, so the gap begins there, not at the drop."""
    clock, monitor, gaps = watching()
    lines = asterisk_side("ami-02-queue-connect.txt")
    session, transport = log_in(monitor, lines)
    clock.advance(3)
    session.dataReceived(block(asterisk_side("ami-actions.txt"), b"queuestatus-5", b"queuestatus-2"))
    for _ in range(3):  # a ping, unanswered at the next: dropped
        clock.advance(PING_SECONDS)
    assert not monitor.up and transport.disconnecting
    session.connectionLost(None)
    log_in(monitor, lines)
    assert gaps == [None, 1003.0]


def test_credentials_never_show_the_secret(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cret\n")
    creds = Credentials.from_environment({"IVR_AMI_USER": "monitor", "IVR_AMI_SECRET_FILE": str(secret_file)})
    assert creds.secret == "s3cret"
    assert "s3cret" not in repr(creds)


def test_an_unreachable_asterisk_is_logged_once_and_shown_on_the_link(caplog):
    clock = task.Clock()
    monitor = AmiMonitor(LAB, clock)
    with caplog.at_level(logging.ERROR, logger="ivr.ami"):
        for _ in range(3):
            monitor.clientConnectionFailed(Connector(), Failure(ConnectionRefusedError()))
            clock.advance(monitor.delay + 1)
    assert len([r for r in caplog.records if "cannot connect" in r.getMessage()]) == 1
    assert monitor.link()["up"] is False
    assert monitor.link()["why"].startswith("cannot connect: Connection was refused")
