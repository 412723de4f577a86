"""Asterisk's queue_log, read back for the time no monitor was connected.

AMI keeps no history: a caller who gave up while the monitor was restarting, or while its link was down, sent a
QueueCallerAbandon to nobody, and the call-back list (which takes only what Asterisk confirmed) never heard of
them. Asterisk wrote the same facts to its queue_log (apps/app_queue.c, ast_queue_log:
`epoch|callid|queue|agent|EVENT|data1|data2|…`), a file only Asterisk writes, so it is as unforgeable as its
events. This module turns the rows of a stretch of time into the facts the live events would have given: a
caller who left a queue without an agent (ABANDON, EXITEMPTY, EXITWITHTIMEOUT: each also raises
QueueCallerAbandon, through record_abandoned), and an agent's transfer (BLINDTRANSFER, ATTENDEDTRANSFER).
Who answered is the engine's own word already (MEMBERINTERFACE); queue_log names the member, not the interface.
Pure: lines in, facts out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ivr.ami.board import Abandoned, Transferred

# The queue_log events that end a stay without an agent: data is position|original position|seconds waited.
GAVE_UP = frozenset({"ABANDON", "EXITEMPTY", "EXITWITHTIMEOUT"})


@dataclass(frozen=True)
class Row:
    """One fact of the queue_log and when Asterisk logged it (epoch seconds)."""

    at: float
    fact: Abandoned | Transferred


def missed(lines: Iterable[str], since: float, until: float) -> list[Row]:
    """The facts of the rows logged from `since` to `until` (both included), in the file's order. A line that is
    not a queue_log row (a partial last line, another format) is skipped: the file is Asterisk's, not ours."""
    rows = []
    for line in lines:
        parts = line.rstrip("\r\n").split("|")
        if len(parts) < 5:
            continue
        try:
            at = float(parts[0])
        except ValueError:
            continue
        if not since <= at <= until:
            continue
        fact = _fact(parts[1], parts[2], parts[4], parts[5:])
        if fact is not None:
            rows.append(Row(at, fact))
    return rows


def _fact(uniqueid: str, queue: str, event: str, data: list[str]) -> Abandoned | Transferred | None:
    if not uniqueid or uniqueid == "NONE":
        return None
    if event in GAVE_UP:
        return Abandoned(uniqueid, queue, _int(data, 0), _int(data, 2))
    if event == "BLINDTRANSFER":  # extension|context|hold time|call time|original position
        return Transferred(uniqueid, "blind", f"{data[0]}@{data[1]}" if len(data) > 1 else "")
    if event == "ATTENDEDTRANSFER":  # BRIDGE|bridge, APP|application, LINK|channel|channel, then times
        return Transferred(uniqueid, "attended", data[1] if len(data) > 1 else "")
    return None


def _int(data: list[str], index: int) -> int:
    try:
        return int(data[index])
    except (IndexError, ValueError):
        return 0
