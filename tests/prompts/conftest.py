"""A small rules file with its prompts built by the real espeak-ng and sox, and audio written by hand to break it."""

from __future__ import annotations

import math
import subprocess
import wave
from pathlib import Path

import pytest

from ivr.cli.main import main
from tests.conftest import SMALL_MANIFEST

NAMES = (
    "all-busy",
    "callback-greeting",
    "dept-unavailable",
    "rating",
    "rating-thanks",
    "stopped-12396",
    "transition-12396",
    "welcome",
)
# One prompt of full length (36 syllables, about 10 s spoken), so that cutting it off is a real cut.
TRANSITION = "您拨打的幺二三九六热线已并入幺二三四五政务服务便民热线，正在为您转接，请稍候。"
MANIFEST = SMALL_MANIFEST.replace("{zh: 已并入,", f"{{zh: {TRANSITION},")


@pytest.fixture
def built(write_rules, capsys) -> Path:
    """The small rules file, its prompts built beside it in zh/; returns the rules file."""
    rules = write_rules(manifest=MANIFEST)
    assert main(["prompts", "build", "--rules", str(rules)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    return rules


def write_wav(path: Path, seconds: float, rate: int = 8000, channels: int = 1, amplitude: int = 8000) -> None:
    """A 440 Hz tone (silence with amplitude 0), 16-bit: stands in for a studio recording."""
    count = round(seconds * rate)
    samples = (round(amplitude * math.sin(2 * math.pi * 440 * i / rate)) for i in range(count))
    frames = b"".join(s.to_bytes(2, "little", signed=True) * channels for s in samples)
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(channels)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(frames)


def write_studio(folder: Path, name: str, seconds: float = 2.0) -> None:
    """A studio recording as the README asks for it: 8 kHz mono 16-bit .wav, and the .alaw sox makes of it."""
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / f"{name}.wav", seconds)
    subprocess.run(["sox", str(folder / f"{name}.wav"), "-t", "al", str(folder / f"{name}.alaw")], check=True)
