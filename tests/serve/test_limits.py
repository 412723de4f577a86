"""How long the engine waits for a prompt to play: the recording's own length and a margin, read from the .wav
of each prompt when the rules are (re)loaded; a recording that cannot be read falls back to an estimate from the
text."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from ivr.agi.executor import Command
from ivr.rules.loader import load_rules
from ivr.serve.limits import PROMPT_MARGIN_SECONDS, SECONDS_PER_CHARACTER
from ivr.serve.run import limits_for
from tests.conftest import ROOT
from tests.serve.engine import copy_rules


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes() / audio.getframerate()


def test_a_prompt_is_given_its_recordings_length_and_a_margin():
    rules = load_rules(ROOT / "routing_rules.yaml")
    limits = limits_for(rules)
    for name in ("welcome", "callback-greeting", "rating"):
        played = wav_seconds(ROOT / "recordings" / "zh" / f"{name}.wav")
        estimate = len(rules.prompts[name].text_zh) * SECONDS_PER_CHARACTER
        assert played != pytest.approx(estimate), "the test would not tell the two apart"
        assert limits.seconds(Command("STREAM FILE", (name, '""'))) == pytest.approx(played + PROMPT_MARGIN_SECONDS)


def test_a_recording_that_cannot_be_read_falls_back_to_the_estimate(tmp_path):
    rules_path = copy_rules(tmp_path)
    shutil.copytree(ROOT / "recordings", tmp_path / "recordings", dirs_exist_ok=True)
    (tmp_path / "recordings" / "zh" / "welcome.wav").write_bytes(b"not a wav")
    rules = load_rules(rules_path)
    limits = limits_for(rules)
    estimate = len(rules.prompts["welcome"].text_zh) * SECONDS_PER_CHARACTER
    assert limits.seconds(Command("STREAM FILE", ("welcome", '""'))) == pytest.approx(estimate + PROMPT_MARGIN_SECONDS)
