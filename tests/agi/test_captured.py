"""Every line the simulator can emit is a line a real Asterisk sent in the captures."""

from __future__ import annotations

import pytest

from ivr.agi import captured
from tests.transcripts import ASTERISK, agi_transcripts, read_transcript

SEEN = {text.decode("utf-8") for name in agi_transcripts() for d, text in read_transcript(name) if d == ASTERISK}
LINES = [
    captured.OK,
    captured.SET_OK,
    captured.MINUS_ONE,
    captured.DEAD_CHANNEL,
    captured.INVALID,
    captured.HANGUP,
    captured.STREAM_PLAYED,
    captured.STREAM_MISSING,
    captured.STREAM_HUNG_UP,
    captured.UNSET,
    captured.GET_DATA_TIMEOUT,
]


@pytest.mark.parametrize("line", LINES)
def test_reply_constant_was_captured(line):
    assert line in SEEN


@pytest.mark.parametrize("value", sorted(captured.VALUES))
def test_variable_value_was_captured(value):
    assert captured.value(value) in SEEN


def test_the_synthesized_value_is_the_only_exception_and_is_not_captured():
    assert {"ANSWER"} == captured.SYNTHESIZED_VALUES
    assert captured.value("ANSWER") not in SEEN


@pytest.mark.parametrize("value", sorted(captured.AMI_VALUES))
def test_values_of_the_ami_side_were_captured_there(value):
    ami = {text.decode("utf-8") for d, text in read_transcript("ami-02-queue-connect.txt") if d == ASTERISK}
    assert any(line.endswith(f": {value}") for line in ami)
    assert captured.value(value) not in SEEN


def test_the_linkedid_differs_from_the_uniqueid_on_the_local_channel():
    ami = [text.decode("utf-8") for d, text in read_transcript("ami-02-queue-connect.txt") if d == ASTERISK]
    at = ami.index("Uniqueid: 1795849801.5")
    assert ami[at + 1] == "Linkedid: 1795849801.4"


@pytest.mark.parametrize("value", ["Local/agent2@agents", "1795849801", "SIP/1001", "17958498015"])
def test_unknown_values_are_refused(value):
    with pytest.raises(ValueError):
        captured.value(value)


def test_channel_ids_are_accepted_by_their_captured_shape():
    assert captured.value("1795849999.123") == "200 result=1 (1795849999.123)"


def test_fixed_environment_values_are_the_captured_ones():
    env = [text.decode() for d, text in read_transcript("agi-02-queue-connect.txt") if d == ASTERISK]
    for key, value in captured.ENVIRONMENT:
        if value is not None:
            assert f"{key}: {value}" in env


def test_get_data_digits_keep_the_captured_format_and_refuse_what_no_caller_can_press():
    assert captured.digits("12") in SEEN, "agi-01b"
    assert captured.digits("3") == "200 result=3"
    for keys in ("", "a", "1 2", "-1"):
        with pytest.raises(ValueError):
            captured.digits(keys)
