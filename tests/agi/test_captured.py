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


def test_unknown_values_are_refused():
    with pytest.raises(ValueError):
        captured.value("Local/agent1@agents")


def test_fixed_environment_values_are_the_captured_ones():
    env = [text.decode() for d, text in read_transcript("agi-02-queue-connect.txt") if d == ASTERISK]
    for key, value in captured.ENVIRONMENT:
        if value is not None:
            assert f"{key}: {value}" in env
