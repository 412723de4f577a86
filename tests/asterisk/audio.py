"""What a citizen heard, recognised in a recording with Python alone (no numpy on these machines): where each
prompt was played, found by normalised cross-correlation with the prompt's own samples, and where the music on
hold (the switch's 440 Hz sine) was playing.

A prompt is looked for in passes, so that a minute of recording is searched in a fraction of a second: the
envelopes (mean magnitude per 40 ms block) of its one-second pieces are correlated at every half-block offset to
find candidates where two pieces agree; the earliest such piece that is there unbroken places the prompt to the
sample (a wrong prompt stops there); then the prompt is checked second by second, by the correlation of the
samples. A second scores 1.0 where Asterisk played it (bit-exact over slin, 0.9998 and up over A-law) and at
most 0.991 for another prompt's, even one that differs only in its digits (measured on every shipped prompt,
with drops), unless the two share those very samples (the same opening words): HEARD asks for most seconds.

MixMonitor drops frames on a busy machine (main/audiohook.c flushes what it has not read yet: seen 49 to 962
samples at a time, several per prompt), so everything after a drop comes earlier. A second that is not where
expected is walked in 10 ms blocks: where a block stops matching, the prompt is found again a little later in
itself (up to DROP), and the block where the drop happened, and the prompt's samples that were dropped, are left
out of the second's correlation. Everything else must still match sample for sample, so a drop cannot stand in
for a different word: the near twins, whose later words are alike but not the same samples, stay below MATCH.

MixMonitor writes a frame only when audio flows, so a recording has no silent gaps: it holds what was heard, in
order, but not when. Times in wall-clock seconds come from AMI, not from here.
"""

from __future__ import annotations

import itertools
import math
import operator
import statistics
import sys
import wave
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RATE = 8000
BLOCK = 320  # 40 ms: the envelope's resolution for finding candidates
PIECE = RATE  # candidates come from one-second pieces of the prompt
ANCHORS = 3  # the voting pieces tried, earliest first, for one that is there unbroken to place the prompt by
CANDIDATE = 0.9  # a piece's envelope correlation above which the place is worth checking sample by sample
PROBE = 1024  # samples of the prompt's loudest part used to place a candidate to the sample
SEGMENT = RATE  # a prompt is checked one second at a time
MATCH = 0.995  # the samples' correlation above which a second of the prompt is there (A-law: 0.9998 and up)
HEARD = 0.75  # the share of the prompt's seconds (those not silent) that must be there for it to count as heard
DRIFT = RATE // 2  # how far apart pieces' votes may be for one playing (drops between), and how far off its start
DROP = RATE * 3 // 10  # the most of a second that drops may take out (one drop seen: 962 samples)
GAPS = 2  # the drops looked for in one second
FINE = 80  # 10 ms: the blocks a second is walked in when frames were dropped
QUARTER = 4  # the step of the quarter-rate search for where the prompt goes on after a drop
LOCAL = 0.97  # a 10 ms block's correlation above which it is the prompt's block where not silent (A-law: 0.977 and up)
TONE_BLOCK = 400  # 50 ms: 440 Hz falls exactly on a Goertzel bin (20 Hz apart at 8 kHz)
TONE_SHARE = 0.8  # share of a block's energy at the tone's frequency for the block to count as tone
QUIET = 100.0  # RMS below which samples are silence (of 32767; generated speech is near 2700)


@dataclass(frozen=True)
class Heard:
    """One playing of a prompt found in a recording: where it starts and ends (samples), the share of its seconds
    that are there, and the median correlation of those seconds."""

    name: str
    start: int
    end: int
    share: float
    score: float


def read_wav(path: Path) -> list[int]:
    """The samples of an 8 kHz 16-bit mono PCM wav (the prompts' format, and what MixMonitor writes for .wav)."""
    with wave.open(str(path), "rb") as handle:
        shape = (handle.getframerate(), handle.getsampwidth(), handle.getnchannels())
        if shape != (RATE, 2, 1):
            raise ValueError(f"{path}: {shape} (rate, bytes, channels), expected ({RATE}, 2, 1)")
        samples = array("h", handle.readframes(handle.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tolist()


def envelope(samples: Sequence[int], block: int = BLOCK) -> list[float]:
    """The mean magnitude of each whole block."""
    return [sum(map(abs, samples[i : i + block])) / block for i in range(0, len(samples) - block + 1, block)]


def rms(samples: Sequence[int]) -> float:
    return math.sqrt(sum(map(operator.mul, samples, samples)) / len(samples)) if samples else 0.0


def correlation(a: Sequence[float], b: Sequence[float]) -> float:
    """Pearson's correlation of two sequences of the same length (0.0 when either is constant)."""
    n = len(a)
    if n == 0 or n != len(b):
        raise ValueError(f"lengths {len(a)} and {len(b)}")
    mean_a, mean_b = sum(a) / n, sum(b) / n
    da = [x - mean_a for x in a]
    db = [y - mean_b for y in b]
    norm = math.sqrt(sum(map(operator.mul, da, da)) * sum(map(operator.mul, db, db)))
    return sum(map(operator.mul, da, db)) / norm if norm else 0.0


def sliding_correlation(pattern: Sequence[float], signal: Sequence[float]) -> list[float]:
    """Pearson's correlation of `pattern` with every window of `signal` as long as it, window by window."""
    m, n = len(pattern), len(signal)
    if m == 0 or n < m:
        return []
    mean = sum(pattern) / m
    centred = [x - mean for x in pattern]
    pattern_norm = math.sqrt(sum(map(operator.mul, centred, centred)))
    sums, squares = [0.0], [0.0]
    for y in signal:
        sums.append(sums[-1] + y)
        squares.append(squares[-1] + y * y)
    scores = []
    for k in range(n - m + 1):
        total = sums[k + m] - sums[k]
        spread = squares[k + m] - squares[k] - total * total / m
        if pattern_norm == 0 or spread <= 1e-9:
            scores.append(0.0)
            continue
        # The pattern is centred, so its product with the raw window equals that with the centred window.
        scores.append(sum(map(operator.mul, centred, signal[k : k + m])) / (pattern_norm * math.sqrt(spread)))
    return scores


def _loudest(samples: Sequence[int], length: int, block: int = BLOCK) -> int:
    """Where the `length` samples of most energy begin (block-aligned): the part that places a match best."""
    blocks = envelope(samples, block)
    per = max(1, length // block)
    if len(blocks) <= per:
        return 0
    sums = [sum(blocks[i : i + per]) for i in range(len(blocks) - per + 1)]
    return sums.index(max(sums)) * block


def _place(recording: Sequence[int], part: Sequence[int], near: int, spread: int) -> int | None:
    """Where `part` starts in the recording, to the sample, within `spread` either side of `near`, by the
    correlation of its loudest PROBE samples."""
    probe_at = _loudest(part, PROBE, FINE)
    probe = part[probe_at : probe_at + PROBE]
    first = max(0, near - spread)
    window = recording[first + probe_at : near + spread + probe_at + len(probe)]
    return first + _search(probe, window)[0] if len(window) >= len(probe) else None


def _score_at(recording: Sequence[int], part: Sequence[int], at: int) -> float:
    """The correlation of `part` with the recording at `at`; of what is there, where the recording ends first."""
    window = recording[max(0, at) : at + len(part)]
    if at < 0 or len(window) < min(len(part), SEGMENT // 4):
        return -1.0
    return correlation(part[: len(window)], window)


def _alike(a: Sequence[int], b: Sequence[int]) -> bool:
    """Whether two 10 ms blocks are the same sound: both silent, or correlated above LOCAL."""
    if rms(a) < QUIET:
        return rms(b) < QUIET
    return correlation(a, b) >= LOCAL


def _run(recording: Sequence[int], prompt: Sequence[int], p: int, r: int, end: int) -> tuple[int, bool]:
    """How many samples of prompt[p:end] follow at recording[r:] unbroken, in whole blocks of FINE samples, and
    whether any of them is sound (silence matches silence wherever it is)."""
    n, sound = 0, False
    while p + n < end and r >= 0:
        size = min(FINE, end - p - n)
        ours, here = prompt[p + n : p + n + size], recording[r + n : r + n + size]
        if len(here) < size or not _alike(ours, here):
            break
        sound = sound or rms(ours) >= QUIET
        n += size
    return n, sound


def _sums(samples: Sequence[int], step: int) -> list[int]:
    """The sums of each `step` samples: the signal low-passed and taken at a quarter of the rate, to search it
    at a quarter of the cost."""
    return [sum(samples[i : i + step]) for i in range(0, len(samples) - step + 1, step)]


def _search(probe: Sequence[int], signal: Sequence[int]) -> tuple[int, float]:
    """Where the probe fits the signal best, and how well: at a quarter of the rate first (the probe taken at
    each of its four phases, so that one of them lines up with the signal's), the three best places then
    refined to the sample."""
    signal_sums = _sums(signal, QUARTER)
    coarse = [
        (score, k * QUARTER - phase)
        for phase in range(QUARTER)
        for k, score in enumerate(sliding_correlation(_sums(probe[phase:], QUARTER), signal_sums))
    ]
    best = (0, -1.0)
    for _, guess in sorted(coarse)[-3:]:
        near = max(0, guess - QUARTER)
        fine = sliding_correlation(probe, signal[near : guess + QUARTER + len(probe)])
        if fine and max(fine) > best[1]:
            best = (near + fine.index(max(fine)), max(fine))
    return best


def _resume(recording: Sequence[int], prompt: Sequence[int], p: int, r: int, back: int) -> tuple[int, int] | None:
    """Where the prompt goes on in the recording after recording[r], when that is not prompt[p]: frames were
    dropped just before (the prompt goes on up to DROP samples later), or, before the prompt was first placed,
    the estimate of its start was early or late (by up to `back`). Found by a probe of what the recording has
    in the next half second: its first sound, short so that it ends before another drop can come, else its
    loudest part. The place (prompt sample, recording sample) where the probe matched; None when neither probe
    is the prompt."""
    ahead = recording[r : r + RATE // 2]
    if first_sound(ahead) == len(ahead):
        # Silence ahead (a pause, the prompt's end): the drop took the sound before it, so the prompt goes on at
        # its next silence, if one begins within reach.
        quiet = first_silence(prompt[p : p + DROP + FINE])
        return (p + quiet, r) if quiet <= DROP else None
    for at, length in ((first_sound(ahead), PROBE // 4), (_loudest(ahead, PROBE // 2, FINE), PROBE // 2)):
        probe = ahead[at : at + length]
        if len(probe) < length or rms(probe) < QUIET:
            continue
        first = max(0, p + at - back)
        where, score = _search(probe, prompt[first : p + at + DROP + length])
        if score >= LOCAL and first + where != p + at:  # where nothing was dropped, the walk had not stopped
            return first + where, r + at
    return None


@dataclass(frozen=True)
class _Fit:
    """One second of the prompt in the recording: its score, where the prompt's start is implied by its first
    sample found (`origin`), and where the walk stands after it (prompt sample `p` is at recording sample `r`)."""

    score: float
    origin: int
    p: int
    r: int


def _fit(recording: Sequence[int], prompt: Sequence[int], end: int, p: int, r: int, placed: bool) -> _Fit:
    """prompt[p:end] in the recording from `r`: at once where no frame was dropped, else walked block by block,
    skipping up to GAPS runs of dropped frames (the 10 ms block where each happened is left out of the score,
    and so are the prompt's samples that were dropped). Before the prompt is `placed`, the walk may also find
    that its start was estimated a little early or late."""
    direct = _score_at(recording, prompt[p:end], r)
    as_is = _Fit(direct, r - p, end, r + end - p)
    if direct >= MATCH:
        return as_is
    ours: list[int] = []
    theirs: list[int] = []
    origin = None
    dropped = 0  # the prompt's samples skipped: at most DROP in a second, however many runs
    for _ in range(GAPS + 1):
        n, sound = _run(recording, prompt, p, r, end)
        if sound and origin is None:
            origin = r - p
        ours += prompt[p : p + n]
        theirs += recording[r : r + n]
        p, r = p + n, r + n
        if p >= end:
            break
        found = _resume(recording, prompt, p + FINE, r + FINE, 0 if placed or origin is not None else DRIFT)
        if found is None:
            break
        skipped = abs(found[0] - p - (found[1] - r)) if origin is not None else 0  # placing it first is no drop
        if dropped + skipped > DROP:
            break
        dropped += skipped
        p, r = found
    rest = max(0, min(end - p, len(recording) - r)) if r >= 0 else 0
    ours += prompt[p : p + rest]
    theirs += recording[r : r + rest]
    if origin is None or len(ours) < SEGMENT // 4:
        return as_is
    walked = correlation(ours, theirs)
    return _Fit(walked, origin, max(p, end), r + rest + max(0, end - p - rest)) if walked > direct else as_is


def _check(recording: Sequence[int], prompt: Sequence[int], start: int, name: str) -> Heard | None:
    """The prompt, second by second, from `start`: heard when enough of its seconds are there, each where the
    one before it ended (or a little earlier where frames were dropped, in it or before it)."""
    seconds = [
        offset
        for offset in range(0, len(prompt), SEGMENT)
        if len(prompt[offset : offset + SEGMENT]) >= SEGMENT // 4 and rms(prompt[offset : offset + SEGMENT]) >= QUIET
    ]
    p, r = 0, start  # the walk: prompt sample p is at recording sample r
    scores: list[float] = []
    origins: list[int] = []
    last = (0, 0)  # the recording sample where the last second found ends, and the prompt's
    for offset in seconds:
        end = min(len(prompt), offset + SEGMENT)
        if p < offset:
            p, r = offset, r + offset - p
        fit = _fit(recording, prompt, end, p, r, bool(origins))
        scores.append(fit.score)
        if fit.score >= MATCH:
            origins.append(fit.origin)
            p, r = fit.p, fit.r
            last = (fit.r, fit.p)
        else:
            p, r = end, r + end - p  # lost: the next second is looked for where this one would have ended
        if len(seconds) - (len(scores) - len(origins)) < HEARD * len(seconds):
            return None  # too many seconds missing already
    if not origins:
        return None
    end = min(len(recording), last[0] + len(prompt) - last[1])
    return Heard(name, origins[0], end, len(origins) / len(seconds), statistics.median(scores))


def _pieces(prompt: Sequence[int]) -> list[int]:
    """Where the prompt's pieces begin, those at least half a piece long and not silent."""
    return [
        offset
        for offset in range(0, len(prompt), PIECE)
        if len(prompt[offset : offset + PIECE]) >= PIECE // 2 and rms(prompt[offset : offset + PIECE]) >= QUIET
    ]


def _anchor(recording: Sequence[int], prompt: Sequence[int], votes: list[tuple[int, float, int]]) -> int | None:
    """Where the prompt starts, by the earliest of the voting pieces that is in the recording unbroken: placed
    to the sample, then its samples matched. A wrong prompt stops here, before any search for drops."""
    best: dict[int, tuple[float, int]] = {}
    for start, score, piece in votes:
        best[piece] = max(best.get(piece, (score, start)), (score, start))
    for piece in sorted(best)[:ANCHORS]:
        part = prompt[piece : piece + PIECE]
        placed = _place(recording, part, best[piece][1] + piece, BLOCK)
        if placed is not None and _score_at(recording, part, placed) >= MATCH:
            return placed - piece
    return None


def _envelopes(recording: Sequence[int]) -> list[tuple[int, list[float]]]:
    """The recording's envelope at two phases, half a block apart: a piece's blocks line up with one of them
    within a quarter block, where its envelope correlates 0.97 and up."""
    return [(phase, envelope(recording[phase:])) for phase in (0, BLOCK // 2)]


def find(
    recording: Sequence[int],
    prompt: Sequence[int],
    name: str = "",
    signals: list[tuple[int, list[float]]] | None = None,
) -> list[Heard]:
    """Every playing of the prompt in the recording, in order. A playing the recording ends in counts when enough
    of it is there (MixMonitor does not write a call's last frames). `signals`: the recording's _envelopes, when
    several prompts are looked for in it."""
    pieces = _pieces(prompt)
    signals = signals if signals is not None else _envelopes(recording)
    # Each piece's envelope votes for where the prompt starts: a drop of frames shifts the pieces after it, not
    # the votes of those before, which the whole prompt's envelope would lose. Two pieces must agree.
    votes: list[tuple[int, float, int]] = []  # (the start it implies, the envelopes' correlation, the piece)
    for offset, (phase, signal) in itertools.product(pieces, signals):
        scores = sliding_correlation(envelope(prompt[offset : offset + PIECE]), signal)
        votes += [
            (k * BLOCK + phase - offset, score, offset)
            for k, score in enumerate(scores)
            if score >= CANDIDATE and score >= max(scores[max(0, k - 1) : k + 2])
        ]
    need = min(2, len(pieces))
    tried: list[int] = []
    heard: list[Heard] = []
    for start, _, _ in sorted(votes, key=lambda vote: -vote[1]):
        if any(abs(start - other) <= DRIFT for other in tried):
            continue
        tried.append(start)
        agreeing = [vote for vote in votes if abs(vote[0] - start) <= DRIFT]
        if len({piece for _, _, piece in agreeing}) < need:
            continue
        anchor = _anchor(recording, prompt, agreeing)
        found = _check(recording, prompt, anchor, name) if anchor is not None else None
        if found is not None and all(abs(found.start - other.start) > DRIFT for other in heard):
            heard.append(found)
    return sorted(heard, key=lambda h: h.start)


def heard_in_order(recording: Sequence[int], prompts: dict[str, Sequence[int]]) -> list[Heard]:
    """Every playing of every one of these prompts, in the order heard."""
    signals = _envelopes(recording)
    found = [h for name, samples in prompts.items() for h in find(recording, samples, name, signals)]
    return sorted(found, key=lambda h: h.start)


def tone_share(block: Sequence[int], frequency: float, rate: int = RATE) -> float:
    """The share of the block's energy at `frequency` (Goertzel): 1.0 for a pure tone on the bin, 0 for silence."""
    n = len(block)
    energy = sum(x * x for x in block)
    if n == 0 or rms(block) < QUIET:
        return 0.0
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for x in block:
        s1, s2 = x + coefficient * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    return 2 * power / (n * energy)


def tone_runs(recording: Sequence[int], frequency: float = 440.0, block: int = TONE_BLOCK) -> list[tuple[int, int]]:
    """The stretches (start, end in samples) where the recording is that tone alone: the music on hold here."""
    runs: list[tuple[int, int]] = []
    start = None
    for i in range(0, len(recording) - block + 1, block):
        if tone_share(recording[i : i + block], frequency) >= TONE_SHARE:
            start = i if start is None else start
        elif start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(recording) - (len(recording) - start) % block))
    return runs


def first_silence(samples: Sequence[int], block: int = FINE) -> int:
    """Where the first 10 ms of silence begins, to a quarter block (len(samples) if there is none)."""
    for i in range(0, len(samples) - block + 1, block // 4):
        if rms(samples[i : i + block]) < QUIET:
            return i
    return len(samples)


def first_sound(samples: Sequence[int], block: int = FINE) -> int:
    """Where the first 10 ms that is not silence begins (len(samples) if there is none): a prompt's lead-in."""
    for i in range(0, len(samples) - block + 1, block):
        if rms(samples[i : i + block]) >= QUIET:
            return i
    return len(samples)
