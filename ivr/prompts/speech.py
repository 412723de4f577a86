"""espeak-ng and sox, run as separate programs: pinyin in, 8 kHz telephone audio out.

Asterisk plays `.alaw` (raw G.711 A-law, the Chinese PSTN's codec) on A-law calls without transcoding and `.wav`
(8 kHz mono 16-bit PCM) elsewhere, so both are written from the same speech. Every failure becomes one ToolError
line for the admin: a missing program, a voice espeak-ng lacks, a program that fails or hangs.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from importlib.metadata import version
from pathlib import Path

VOICE = "cmn-latn-pinyin"
RATE = 8000
TIMEOUT = 60
INSTALL = "apt-get install -y espeak-ng sox"
# 8 kHz mono 16-bit; the peak at -3 dBFS; 0.2 s of silence before and after.
TELEPHONE = ("-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer")
EFFECTS = ("gain", "-n", "-3", "pad", "0.2", "0.2")
# In espeak-ng's phoneme dump (-x) a switch of language shows as `(en)` before the words read in it, and `(cmn)`
# where Mandarin resumes: any other language in a Mandarin prompt is a fallback the caller hears as gibberish.
SWITCH = re.compile(r"\(([a-z-]+)\)")
MANDARIN = "cmn"


class ToolError(Exception):
    """An external program is missing or failed; the message is one line."""


def tools() -> str:
    """The versions of everything that shapes the speech, for the build record; raises ToolError when a program
    or the pinyin voice is missing."""
    espeak, sox = _version("espeak-ng"), _version("sox")
    if not re.search(rf"\s{re.escape(VOICE)}\s", _run(["espeak-ng", "--voices"])):
        raise ToolError(f"espeak-ng has no {VOICE} voice: install Debian's espeak-ng ({INSTALL})")
    return f"{espeak} {VOICE}, {sox}, pypinyin {version('pypinyin')}"


def fallbacks(pinyin: str) -> list[str]:
    """The stretches of the phoneme dump espeak-ng reads in another language than Mandarin, e.g. `(en)h@55l'oU55`."""
    dump = _run(["espeak-ng", "-v", VOICE, "-q", "-x"], pinyin)
    parts = SWITCH.split(dump)
    # split() alternates text and language: parts[0] is read in the voice's own language, then (language, text).
    return [
        f"({language}){text.strip()}"
        for language, text in zip(parts[1::2], parts[2::2], strict=True)
        if language != MANDARIN
    ]


def speak(pinyin: str, wav: Path, alaw: Path) -> None:
    """Write the speech as 8 kHz mono 16-bit `wav` and raw A-law `alaw`: peak-normalised to -3 dBFS, with 0.2 s of
    silence before and after so the first syllable is not clipped while the call's audio path opens. No dither
    (-D), so the same text always gives the same bytes."""
    with tempfile.TemporaryDirectory(prefix="ivr-prompt-") as scratch:
        voice = Path(scratch) / "voice.wav"
        _run(["espeak-ng", "-v", VOICE, "-w", str(voice)], pinyin)
        _run(["sox", "-D", str(voice), *TELEPHONE, str(wav), *EFFECTS])
        _run(["sox", "-D", str(wav), "-t", "al", str(alaw)])


def _run(args: list[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except FileNotFoundError:
        raise ToolError(f"{args[0]} is not installed ({INSTALL})") from None
    except subprocess.TimeoutExpired:
        raise ToolError(f"{args[0]} did not finish within {TIMEOUT} s") from None
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise ToolError(f"{args[0]} failed (exit {done.returncode}){': ' + said[-1] if said else ''}")
    return done.stdout


def _version(program: str) -> str:
    """`eSpeak NG text-to-speech: 1.51  Data at: ...` -> `espeak-ng 1.51`; `sox: SoX v14.4.2` -> `sox 14.4.2`."""
    banner = _run([program, "--version"])
    found = re.search(r"\d+(?:\.\d+)+", banner)
    return f"{program} {found.group() if found else banner.strip()}"
