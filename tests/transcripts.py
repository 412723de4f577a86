"""Reads the captured Asterisk 22 sessions in tests/data/asterisk-transcripts (a copy of shared/).

Each line of a transcript is `<< ` (sent by Asterisk) or `>> ` (sent by our server) and then the exact line
without its LF. A missing transcripts folder is an error, never a skip: these files are the protocol's truth.
"""

from __future__ import annotations

from pathlib import Path

TRANSCRIPTS = Path(__file__).resolve().parent / "data" / "asterisk-transcripts"
ASTERISK = "<<"
SERVER = ">>"


def transcripts_dir() -> Path:
    if not TRANSCRIPTS.is_dir():
        raise FileNotFoundError(
            f"Asterisk transcripts not found at {TRANSCRIPTS}: copy shared/asterisk-transcripts there"
        )
    return TRANSCRIPTS


def agi_transcripts() -> list[str]:
    """The names of every agi-*.txt transcript; fails if there are none."""
    names = sorted(path.name for path in transcripts_dir().glob("agi-*.txt"))
    if not names:
        raise FileNotFoundError(f"no agi-*.txt transcripts in {TRANSCRIPTS}")
    return names


def read_transcript(name: str) -> list[tuple[str, bytes]]:
    """(direction, line bytes) for every line, in wire order."""
    raw = (transcripts_dir() / name).read_bytes()
    if not raw.endswith(b"\n"):
        raise ValueError(f"{name}: does not end with LF")
    lines = []
    for number, line in enumerate(raw[:-1].split(b"\n"), 1):
        prefix, rest = line[:3], line[3:]
        if prefix not in (b"<< ", b">> "):
            raise ValueError(f"{name}:{number}: line does not start with '<< ' or '>> ': {line[:40]!r}")
        lines.append((prefix[:2].decode("ascii"), rest))
    return lines


def asterisk_stream(lines: list[tuple[str, bytes]]) -> bytes:
    """The exact bytes Asterisk sent: every `<< ` line with its LF."""
    return b"".join(line + b"\n" for direction, line in lines if direction == ASTERISK)


def server_lines(lines: list[tuple[str, bytes]]) -> list[bytes]:
    """The lines our server sent, without their LF."""
    return [line for direction, line in lines if direction == SERVER]
