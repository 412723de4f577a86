"""The checks `ivr check` runs on the recordings of every prompt in the manifest, so that a file that is missing,
in a format Asterisk would transcode or refuse, silent, cut off, or spoken in English is found before a caller
hears it. Only Python reads the files (`wave` for the .wav, a G.711 table for the .alaw): no sox or espeak-ng is
needed where the rules are checked; the English-fallback result comes from the build record.
"""

from __future__ import annotations

import math
import re
import sys
import wave
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.prompts.files import Generated, Origin, file_sha256, language_folder, origin, paths, read_record, text_sha256
from ivr.prompts.speech import RATE
from ivr.rules.model import Prompt

# Generated speech takes about 0.27 s a character, a person reading calmly 0.2 to 0.25 s: a file shorter than
# this is cut off, or holds another text.
MIN_SECONDS_PER_CHARACTER = 0.15
# Root mean square of the samples, of 32767 full scale: 100 is about -50 dBFS, line noise; speech is near 2700.
SILENT_RMS = 100
# The .alaw and the .wav must be the same recording: their lengths may differ by this much (padding of an export).
ALAW_TOLERANCE = 0.25
# A syllable each: Chinese characters and digits (read one by one).
SPOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\d")


@dataclass(frozen=True, order=True)
class RecordingProblem:
    path: Path
    prompt: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: prompt {self.prompt}: {self.message}"


def check_recordings(prompts: Mapping[str, Prompt], recordings: Path) -> list[RecordingProblem]:
    """Every problem of every prompt's files in recordings/zh/, in the order of the prompt names."""
    folder = language_folder(recordings)
    record = read_record(folder)
    problems: list[RecordingProblem] = []
    for name in sorted(prompts):
        problems.extend(_prompt_problems(folder, prompts[name], record.get(name)))
    return problems


def _prompt_problems(folder: Path, prompt: Prompt, entry: Generated | None) -> list[RecordingProblem]:
    wav, alaw = paths(folder, prompt.name)
    shortest = MIN_SECONDS_PER_CHARACTER * len(SPOKEN.findall(prompt.text_zh))
    wav_messages, wav_seconds = _wav(wav, shortest)
    alaw_messages, alaw_seconds = _alaw(alaw, shortest)
    found = [(wav, message) for message in wav_messages] + [(alaw, message) for message in alaw_messages]
    if wav_seconds is not None and alaw_seconds is not None and abs(wav_seconds - alaw_seconds) > ALAW_TOLERANCE:
        found.append((alaw, f"{alaw_seconds:.2f} s long but the .wav is {wav_seconds:.2f} s: not the same recording"))
    if entry is not None:
        found += _recorded_problems(folder, prompt, entry)
    return [RecordingProblem(path, prompt.name, message) for path, message in found]


def _recorded_problems(folder: Path, prompt: Prompt, entry: Generated) -> list[tuple[Path, str]]:
    """What only the build record shows: a generated prompt spoken from an old text or partly in English, or a
    generated file left beside a studio one."""
    wav, alaw = paths(folder, prompt.name)
    found = origin(folder, prompt.name, entry)
    problems = []
    if found is Origin.GENERATED and entry.text_sha256 != text_sha256(prompt.text_zh):
        problems.append((wav, "speaks an older text of the manifest: run ivr prompts build"))
    if found is Origin.GENERATED and entry.fallback:
        said = " ".join(entry.fallback)
        problems.append((wav, f"espeak-ng read part of it as another language, {said}: write the text in Chinese"))
    if found is Origin.STUDIO:
        for path, generated in ((wav, entry.wav_sha256), (alaw, entry.alaw_sha256)):
            if file_sha256(path) == generated:
                problems.append((path, "still the generated voice beside a studio recording: replace both files"))
    return problems


def _wav(path: Path, shortest: float) -> tuple[list[str], float | None]:
    """Problems of a .wav file, and its length in seconds when it could be read."""
    try:
        with wave.open(str(path), "rb") as audio:
            rate, channels, width = audio.getframerate(), audio.getnchannels(), audio.getsampwidth()
            frames = audio.readframes(audio.getnframes())
    except FileNotFoundError:
        return ["missing"], None
    except (wave.Error, EOFError, OSError) as exc:
        return [f"not a PCM .wav file ({exc})"], None
    messages = []
    if rate != RATE:
        messages.append(f"sampled at {rate} Hz, must be {RATE} Hz")
    if channels != 1:
        messages.append(f"{channels} channels, must be mono")
    if width != 2:
        messages.append(f"{8 * width}-bit samples, must be 16-bit")
        return messages, None
    samples = array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    seconds = len(samples) / channels / rate
    return messages + _sound(seconds, _rms(samples), shortest), seconds


def _alaw(path: Path, shortest: float) -> tuple[list[str], float | None]:
    """Problems of a raw A-law file (8000 one-byte samples a second), and its length in seconds."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ["missing"], None
    seconds = len(data) / RATE
    counts = Counter(data)
    rms = math.sqrt(sum(ALAW_SQUARES[byte] * n for byte, n in counts.items()) / len(data)) if data else 0.0
    return _sound(seconds, rms, shortest), seconds


def _sound(seconds: float, rms: float, shortest: float) -> list[str]:
    messages = []
    if rms < SILENT_RMS:
        messages.append(f"silent (RMS {rms:.0f} of 32767, at least {SILENT_RMS} expected)")
    if seconds < shortest:
        messages.append(f"{seconds:.2f} s is too short for its text (at least {shortest:.2f} s expected): cut off?")
    return messages


def _rms(samples: array[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def _alaw_to_linear(byte: int) -> int:
    """G.711 A-law to 16-bit linear, as ITU-T G.711 (and sox, and Asterisk) decode it."""
    value = byte ^ 0x55
    magnitude = (value & 0x0F) << 4
    segment = (value & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if value & 0x80 else -magnitude


ALAW_SQUARES = [_alaw_to_linear(byte) ** 2 for byte in range(256)]
