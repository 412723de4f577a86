"""The AMI parser and tracker against every captured AMI session, in every chunking, and against garbage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.ami.protocol import (
    ActionTracker,
    AmiParser,
    AmiProtocolError,
    Banner,
    Completed,
    Message,
    format_action,
)
from tests.transcripts import ASTERISK, SERVER, read_transcript, transcripts_dir

AMI = sorted(path.name for path in transcripts_dir().glob("ami-*.txt"))


def stream(name: str, direction: str = ASTERISK) -> bytes:
    return b"".join(text + b"\r\n" for d, text in read_transcript(name) if d == direction)


def blocks(name: str) -> int:
    """Messages Asterisk sent: runs of non-empty lines after the banner, each ended by an empty line."""
    lines = [text for d, text in read_transcript(name) if d == ASTERISK][1:]
    return sum(1 for i, line in enumerate(lines) if line == b"" and i > 0 and lines[i - 1] != b"")


def test_there_are_ami_transcripts():
    assert len(AMI) >= 19


@pytest.mark.parametrize("name", AMI)
def test_every_capture_parses_into_banner_and_messages(name):
    items = AmiParser().feed(stream(name))
    assert items[0] == Banner("11.0.0")
    messages = items[1:]
    assert all(isinstance(m, Message) for m in messages)
    assert len(messages) == blocks(name)
    assert all(m.event or m.response for m in messages)


@pytest.mark.parametrize("name", AMI)
def test_every_chunking_gives_the_same_messages(name):
    data = stream(name)
    whole = AmiParser().feed(data)
    for size in (1, 2, 3, 7, 64, 1000):
        parser = AmiParser()
        items = []
        for i in range(0, len(data), size):
            items += parser.feed(data[i : i + size])
        assert items == whole, size


def test_values_keep_colons_and_empty_values():
    parser = AmiParser()
    items = parser.feed(b"Asterisk Call Manager/11.0.0\r\nEvent: X\r\nAppData: a: b\r\nAccountCode: \r\n\r\n")
    message = items[1]
    assert message.get("appdata") == "a: b"
    assert message.get("AccountCode") == ""


def test_a_channel_variable_of_another_channel_names_it_in_the_key():
    """As a real Asterisk 22 sends channelvars for a Local channel's halves: without it the monitor dropped the
    link at the first queued call."""
    parser = AmiParser()
    items = parser.feed(
        b"Asterisk Call Manager/11.0.0\r\nEvent: QueueCallerJoin\r\n"
        b"ChanVariable(Local/12369@ivr-inbound-00000000;1): IVR_LINE=\r\n"
        b"ChanVariable(IAX2/10.0.0.1:4569-1): IVR_LINE=12345\r\n"
        b"ChanVariable(Local/12 396@ivr-inbound-00000023;1): IVR_LINE=12396\r\n\r\n"
    )
    assert items[1].fields[1:] == (
        ("ChanVariable(Local/12369@ivr-inbound-00000000;1)", "IVR_LINE="),
        ("ChanVariable(IAX2/10.0.0.1:4569-1)", "IVR_LINE=12345"),
        ("ChanVariable(Local/12 396@ivr-inbound-00000023;1)", "IVR_LINE=12396"),
    )


def test_login_permission_and_failure_as_captured():
    messages = AmiParser().feed(stream("ami-login-bad.txt"))[1:]
    assert [(m.action_id, m.get("Message")) for m in messages] == [
        ("ping-1", "Permission denied"),
        ("login-bad-1", "Authentication failed"),
    ]


def test_tracker_completes_list_actions_as_captured():
    """QueueStatus in ami-actions: Success with EventList start, item events, QueueStatusComplete with ListItems."""
    sent = [text.decode() for d, text in read_transcript("ami-actions.txt") if d == SERVER]
    ids = [line.split(": ", 1)[1] for line in sent if line.startswith("ActionID: ")]
    tracker = ActionTracker()
    for action_id in ids:
        tracker.sent(action_id)
    answers: list[Completed] = []
    for message in AmiParser().feed(stream("ami-actions.txt"))[1:]:
        result = tracker.feed(message)
        if isinstance(result, Completed):
            answers.append(result)
    by_id = {answer.action_id: answer for answer in answers}
    assert set(by_id) == set(ids), "every action got its answer"
    lists = [a for a in answers if a.complete is not None]
    assert lists, "the capture has list actions"
    for answer in lists:
        assert int(answer.complete.get("ListItems")) == len(answer.items)
        assert all(item.action_id == answer.action_id for item in answer.items)
    assert not tracker.waiting


def test_format_action_matches_the_capture():
    expected = stream("ami-login-bad.txt", SERVER)
    built = format_action("Ping", "ping-1") + format_action(
        "Login", "login-bad-1", [("Username", "lab"), ("Secret", "wrong-password")]
    )
    assert built == expected


@pytest.mark.parametrize("value", ["a\r\nAction: Originate", "x\ny"])
def test_format_action_refuses_injection(value):
    with pytest.raises(ValueError):
        format_action("Ping", "1", [("Data", value)])


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\n",
        b"Asterisk Call Manager/11.0.0\r\nno colon here\r\n",
        b"Asterisk Call Manager/1\r\n\xff\r\n",
    ],
)
def test_garbage_is_an_ami_error(data):
    with pytest.raises(AmiProtocolError):
        AmiParser().feed(data)


def test_endless_line_is_refused():
    parser = AmiParser()
    parser.feed(b"Asterisk Call Manager/11.0.0\r\n")
    with pytest.raises(AmiProtocolError, match="longer than"):
        parser.feed(b"K" * 10_000)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000), cut=st.integers(min_value=1, max_value=50))
def test_arbitrary_bytes_raise_only_the_parsers_error(data, cut):
    parser = AmiParser()
    try:
        for i in range(0, len(data), cut):
            parser.feed(data[i : i + cut])
    except AmiProtocolError:
        pass
