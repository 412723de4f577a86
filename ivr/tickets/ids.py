"""Ticket ids that need no central service: `12345-YYYYMMDD-ENGINE-NNNNNN`.

The day is the day of receipt in the rules' zone, ENGINE the engine id (one per engine process: `--engine-id`),
NNNNNN a counter per day that this engine keeps on its own disk. So engines on several hosts number their
tickets without asking each other, and an id says when and where its call was received.

The counter reserves numbers in blocks: the file records the end of the block in use (written to a new file,
fsynced and renamed into place) before any number of it is handed out, so a crash or a power loss never hands
a number out twice; it may skip the rest of a block (and of the next, reserved ahead). Numbers are unique and
increasing, not gapless. The file lives in the engine's spool folder, which one process owns at a time
(ivr.tickets.spool).
"""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import date
from functools import lru_cache
from pathlib import Path

PREFIX = "12345"
ENGINE_ID = re.compile(r"[a-z0-9]{1,16}")
DIGITS = 6
DAYS_KEPT = 7  # a day's mark is kept a week: calls received just before midnight are numbered just after it


def ticket_id(day: date, engine: str, number: int) -> str:
    return f"{_day_prefix(day, engine)}{number:0{DIGITS}d}"


@lru_cache(maxsize=16)
def _day_prefix(day: date, engine: str) -> str:
    """Formatting a date costs more than the rest of an id: every call is numbered, but a day's prefix is one."""
    return f"{PREFIX}-{day:%Y%m%d}-{engine}-"


def check_engine_id(engine: str) -> str:
    """ValueError unless `engine` fits in an id: lowercase letters and digits, at most 16 (no '-': it separates)."""
    if not ENGINE_ID.fullmatch(engine):
        raise ValueError(f"engine id {engine!r}: 1 to 16 lowercase letters and digits (e.g. e1, host2)")
    return engine


class Counter:
    """Per-day ticket numbers of one engine id, from `folder/counter-ENGINE.json`. Thread-safe; one process."""

    def __init__(self, folder: Path, engine: str, block: int = 100) -> None:
        self.engine = check_engine_id(engine)
        self.path = folder / f"counter-{engine}.json"
        self.block = block
        self._blocks: dict[date, tuple[int, int]] = {}  # day -> (next number, last number reserved)
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)

    def next_id(self, day: date) -> str:
        """A new id for a ticket received on `day`. OSError when the counter file cannot be written."""
        with self._lock:
            number, last = self._blocks.get(day, (1, 0))
            if number > last:
                number, last = self._reserve(day)
            self._blocks[day] = (number + 1, last)
            return ticket_id(day, self.engine, number)

    def reserve_ahead(self, day: date) -> None:
        """Reserve the next block of `day` while less than half of the current one is left. The book asks when it
        writes closing stubs, so the reservation's two fsyncs fall there and not on a new call's opening stub,
        which waits for its number (they were the book's p99: one call in a block). A crash skips at most the
        rest of the current block and the next. OSError when the counter file cannot be written."""
        with self._lock:
            number, last = self._blocks.get(day, (1, 0))
            if last - number + 1 >= self.block // 2:
                return
            first, reserved = self._reserve(day)
            self._blocks[day] = (number if number <= last else first, reserved)

    def _reserve(self, day: date) -> tuple[int, int]:
        marks = self._read()
        key = f"{day:%Y%m%d}"
        first = marks.get(key, 0) + 1
        marks[key] = first + self.block - 1
        kept = {*sorted(marks)[-DAYS_KEPT:], key}
        self._write({k: marks[k] for k in sorted(kept)})
        for old in [d for d in self._blocks if f"{d:%Y%m%d}" not in kept]:
            del self._blocks[old]
        return first, first + self.block - 1

    def _read(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise OSError(f"{self.path}: not a ticket counter ({exc}); numbers cannot be handed out safely") from None
        return {str(day): int(mark) for day, mark in data.items()}

    def _write(self, marks: dict[str, int]) -> None:
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(marks, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        fsync_folder(self.path.parent)


def fsync_folder(folder: Path) -> None:
    """A new or renamed file survives a power loss only once its folder is synced too."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
