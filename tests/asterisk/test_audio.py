"""The recogniser of what a citizen heard (tests/asterisk/audio.py), on signals made here and on the shipped
prompts: no Asterisk needed. It must find a prompt where it was played, also after a gap of dropped frames or
through A-law, and must not find one that was not played, not even a prompt that differs only in its digits."""

from __future__ import annotations

import itertools
import math
import random
from functools import cache

import pytest

from ivr.prompts.checks import _alaw_to_linear
from tests.asterisk import audio
from tests.conftest import ROOT

RATE = audio.RATE


def speech(seed: int, seconds: float) -> list[int]:
    """Something shaped like speech: bursts of noise (syllables) of random length and loudness, short pauses."""
    rng = random.Random(seed)
    samples: list[int] = [0] * (RATE // 5)
    while len(samples) < seconds * RATE:
        length = rng.randint(RATE * 15 // 100, RATE * 3 // 10)
        loud = rng.randint(2000, 8000)
        samples += [int(loud * math.sin(math.pi * i / length) * rng.uniform(-1, 1)) for i in range(length)]
        samples += [0] * rng.randint(RATE // 20, RATE // 5)
    return samples + [0] * (RATE // 5)


def tone(frequency: float, seconds: float, amplitude: int = 8000) -> list[int]:
    return [int(amplitude * math.sin(2 * math.pi * frequency * i / RATE)) for i in range(int(seconds * RATE))]


@cache
def shipped(name: str) -> list[int]:
    return audio.read_wav(ROOT / "recordings" / "zh" / f"{name}.wav")


def every_prompt() -> dict[str, list[int]]:
    return {path.stem: shipped(path.stem) for path in sorted((ROOT / "recordings" / "zh").glob("*.wav"))}


def test_correlation_of_a_signal_with_itself_its_negation_and_a_constant():
    a = [float(x) for x in speech(1, 1)]
    assert math.isclose(audio.correlation(a, a), 1.0)
    assert math.isclose(audio.correlation(a, [-x for x in a]), -1.0)
    assert audio.correlation(a, [5.0] * len(a)) == 0.0
    slid = audio.sliding_correlation(a[2000:2400], a)
    assert slid.index(max(slid)) == 2000 and math.isclose(max(slid), 1.0)


def test_each_playing_is_found_where_it_was_played_and_another_prompt_is_not():
    first, second, never = speech(1, 4), speech(2, 3), speech(3, 4)
    recording = first + second + tone(440, 2) + first
    found = audio.heard_in_order(recording, {"first": first, "second": second, "never": never})
    assert [(h.name, h.start) for h in found] == [
        ("first", 0),
        ("second", len(first)),
        ("first", len(first) + len(second) + 2 * RATE),
    ]
    assert all(h.share == 1.0 and h.score > 0.99 for h in found)


def test_a_prompt_is_still_found_after_frames_were_dropped_in_its_middle():
    """MixMonitor drops frames on a busy machine (seen: 960 samples): the seconds after the gap come earlier."""
    prompt = speech(4, 6)
    gap = 3 * RATE + 123
    recording = speech(5, 2) + prompt[:gap] + prompt[gap + 960 :]
    (found,) = audio.find(recording, prompt, "p")
    assert found.start == len(speech(5, 2)) and found.share >= audio.HEARD


def dropped(samples: list[int], gaps: list[tuple[int, int]]) -> list[int]:
    """The samples without the runs (start, length) MixMonitor dropped."""
    kept, at = [], 0
    for start, length in sorted(gaps):
        kept += samples[at:start]
        at = start + length
    return kept + samples[at:]


def random_gaps(seed: int, length: int, count: int = 3) -> list[tuple[int, int]]:
    """`count` drops of 100-150 ms (as seen: 962 samples) at random places, at least a drop apart; the first
    across a second's boundary."""
    rng = random.Random(seed)
    while True:
        sizes = [rng.randint(RATE // 10, RATE * 15 // 100) for _ in range(count)]
        boundary = rng.randrange(RATE, length - RATE, RATE) - rng.randint(0, sizes[0])
        gaps = sorted([(boundary, sizes[0])] + [(rng.randint(RATE // 4, length - RATE // 4), n) for n in sizes[1:]])
        if all(b[0] - (a[0] + a[1]) >= RATE // 5 for a, b in itertools.pairwise(gaps)):
            return gaps


def test_the_drop_that_hid_all_busy_on_a_busy_machine():
    """The recording of a failing run (kept: the switch folder of a 12345 call with nobody logged in): MixMonitor
    dropped 962 samples of all-busy at its 39518th, across its 5th second's end; those two seconds scored 0.24 and
    0.82. Rebuilt from the prompts, with every shipped prompt looked for, as test_heard.py does."""
    recording = shipped("welcome") + dropped(shipped("all-busy"), [(39518, 962)]) + shipped("emergency-advisory")
    found = audio.heard_in_order(recording, every_prompt())
    assert [h.name for h in found] == ["welcome", "all-busy", "emergency-advisory"]
    assert all(h.share == 1.0 for h in found), found


@pytest.mark.parametrize("name", ["all-busy", "dept-unavailable", "connecting-12345", "welcome", "rating"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_shipped_prompt_is_found_whole_through_several_drops(name, seed):
    """Three drops of 100-150 ms anywhere in it (one across a second's boundary): every second is still found,
    at the place it was played, between two other prompts."""
    prompt = shipped(name)
    gaps = random_gaps(seed * 7919 + len(name), len(prompt))
    before, after = shipped("transfer-dept"), shipped("emergency-advisory")
    (found,) = audio.find(before + dropped(prompt, gaps) + after, prompt, name)
    assert (found.start, found.share) == (len(before), 1.0), gaps


def test_two_drops_in_one_second():
    prompt = shipped("all-busy")
    gaps = [(2 * RATE + 1000, 900), (2 * RATE + 4000, 1100), (4 * RATE - 500, 1000)]
    (found,) = audio.find([0] * RATE + dropped(prompt, gaps), prompt, "all-busy")
    assert (found.start, found.share) == (RATE, 1.0)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_prompt_differing_only_in_its_digits_is_not_found_through_drops(seed):
    """The drops that the search allows for must not let a near twin pass: stopped-12393 and stopped-12396 say
    the same words but for one digit, and the words after it come 866 samples later, within a drop's reach."""
    for played, twin in (("stopped-12396", "stopped-12393"), ("stopped-12393", "stopped-12396")):
        heard = shipped(played)
        recording = [0] * 4000 + dropped(heard, random_gaps(seed, len(heard), 4)) + shipped("connecting-12345")
        assert [h.start for h in audio.find(recording, heard, played)] == [4000]
        for other in (twin, played.replace("stopped", "transition"), "welcome", "all-busy"):
            assert audio.find(recording, shipped(other), other) == [], (played, other)


def test_a_prompt_cut_short_by_the_end_of_the_recording():
    prompt = speech(6, 5)
    assert audio.find(prompt[: -RATE // 4], prompt), "the last frames missing: still heard"
    assert audio.find(prompt[: len(prompt) // 2], prompt) == [], "half of it is not the prompt heard"


def test_the_alaw_copy_is_recognised_by_the_wav_samples():
    """The recording of an A-law call holds the decoded .alaw: the same prompt, a little noisier."""
    wav = shipped("welcome")
    alaw = [_alaw_to_linear(byte) for byte in (ROOT / "recordings" / "zh" / "welcome.alaw").read_bytes()]
    (found,) = audio.find([0] * RATE + alaw, wav, "welcome")
    assert abs(found.start - RATE) <= 1 and found.score > 0.99


@pytest.mark.parametrize("name", ["welcome", "all-busy", "queue-comfort"])
def test_the_alaw_copy_is_found_whole_through_drops(name):
    """An A-law call on a busy machine: the decoded .alaw, a little noisier, with three drops."""
    alaw = [_alaw_to_linear(byte) for byte in (ROOT / "recordings" / "zh" / f"{name}.alaw").read_bytes()]
    gaps = random_gaps(len(name), len(alaw))
    (found,) = audio.find([0] * RATE + dropped(alaw, gaps), shipped(name), name)
    assert abs(found.start - RATE) <= 1 and found.share == 1.0, (gaps, found)


def test_a_prompt_differing_only_in_its_digits_is_not_found():
    heard = shipped("stopped-12396")
    recording = [0] * 4000 + heard + shipped("connecting-12345")
    assert [h.start for h in audio.find(recording, heard, "stopped-12396")] == [4000]
    for other in ("stopped-12393", "transition-12396", "welcome"):
        assert audio.find(recording, shipped(other), other) == [], other


def test_the_music_on_hold_tone_and_nothing_else():
    recording = speech(7, 2) + tone(440, 3) + speech(8, 1) + tone(1000, 2) + [0] * RATE
    runs = audio.tone_runs(recording)
    assert len(runs) == 1
    (start, end) = runs[0]
    assert abs(start - len(speech(7, 2))) <= audio.TONE_BLOCK and abs(end - start - 3 * RATE) <= audio.TONE_BLOCK


def test_first_sound_is_the_end_of_the_lead_in():
    assert audio.first_sound([0] * 1600 + tone(300, 1)) == 1600
    assert audio.first_sound(shipped("welcome")) / RATE < 0.25, "generated prompts have 0.2 s of silence first"
    assert audio.first_sound([0] * 800) == 800
