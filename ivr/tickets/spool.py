"""The local spool: an append-only file of stubs, fsynced on every write, for when the store cannot take them.

It is the last resort and should practically never fail: a local disk, one `write` and one `fsync`. While it holds
anything, every new stub goes to it too, so stubs reach the store in the order they were written when the spool
is replayed. A write cut short by a crash (a last line without its newline) was never acknowledged, so it is cut
off when the spool is opened again. One engine process owns a spool folder (a lock file says so); the id
counter lives in the same folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from ivr.tickets.ids import fsync_folder
from ivr.tickets.stub import Stub

FILE = "spool.jsonl"


class SpoolBusy(Exception):
    """Another process holds the spool folder."""


class Spool:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.path = folder / FILE
        self._owner = (folder / "lock").open("a")
        try:
            fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._owner.close()
            raise SpoolBusy(f"{folder} is in use by another engine: give each engine its own spool folder") from None
        self._lock = threading.Lock()
        self._file = self._open()
        self._size = self._file.seek(0, os.SEEK_END)
        self._replayed = 0  # bytes already moved into the store, cleared once everything is

    @property
    def pending(self) -> bool:
        """Stubs are waiting for the store."""
        return self._size > self._replayed

    def append(self, stubs: Sequence[Stub]) -> None:
        """Durable when it returns; OSError when the disk refuses."""
        data = b"".join(json.dumps(stub.as_json(), ensure_ascii=False).encode() + b"\n" for stub in stubs)
        with self._lock:
            self._file.write(data)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._size += len(data)

    def read(self, limit: int) -> tuple[list[Stub], int]:
        """Up to `limit` stubs not yet replayed, in the order written, and the offset after the last of them."""
        with self._lock:
            start, end = self._replayed, self._size
        with self.path.open("rb") as handle:
            handle.seek(start)
            lines = []
            while len(lines) < limit and handle.tell() < end:
                lines.append(handle.readline())
            stop = handle.tell()
        return [Stub.from_json(json.loads(line)) for line in lines], stop

    def replayed(self, end: int) -> None:
        """Everything before `end` is in the store; when that is everything, the file starts again empty."""
        with self._lock:
            if end < self._size:
                self._replayed = end
                return
            self._file.truncate(0)
            os.fsync(self._file.fileno())
            self._size = self._replayed = 0

    def close(self) -> None:
        self._file.close()
        self._owner.close()

    def _open(self) -> BinaryIO:
        new = not self.path.exists()
        handle = self.path.open("ab")
        if new:
            fsync_folder(self.folder)
        whole = _whole_lines(self.path)
        if whole < handle.seek(0, os.SEEK_END):
            handle.truncate(whole)
            os.fsync(handle.fileno())
        return handle


def _whole_lines(path: Path, chunk: int = 65536) -> int:
    """The length of the file up to its last newline, read from the end."""
    with path.open("rb") as reader:
        end = reader.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - chunk)
            reader.seek(start)
            newline = reader.read(end - start).rfind(b"\n")
            if newline >= 0:
                return start + newline + 1
            end = start
    return 0
