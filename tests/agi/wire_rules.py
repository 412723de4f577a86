"""Checks on a simulated call's wire that must hold for every call, whatever happened in it."""

from __future__ import annotations

from ivr.agi import captured
from ivr.agi.protocol import split_command

SAFE_AFTER_HANGUP = ("GET VARIABLE", "SET VARIABLE")


def verb(line: str) -> str:
    words = split_command(line)
    return " ".join(words[:2]).upper() if words[0].upper() in ("GET", "SET", "STREAM") else words[0].upper()


def assert_call_rules(wire: list[tuple[str, str]]) -> None:
    """No command acts on the caller after a HANGUP or a 511; nothing is routed after a person answered;
    QUEUESTATUS/DIALSTATUS are cleared before every Queue/Dial."""
    dead = False
    answered = False
    cleared: set[str] = set()
    pending_exec: str | None = None
    for direction, line in wire:
        if direction == "<<":
            if line in (captured.HANGUP, captured.DEAD_CHANNEL):
                dead = True
            continue
        v = verb(line)
        if dead:
            assert v in SAFE_AFTER_HANGUP, f"{line!r} sent after a hang-up"
        words = split_command(line)
        if v == "SET VARIABLE" and len(words) == 4 and words[3] == "":
            cleared.add(words[2])
        if v == "EXEC" and words[1] in ("Queue", "Dial"):
            assert not answered, f"{line!r} after the caller was answered"
            status = "QUEUESTATUS" if words[1] == "Queue" else "DIALSTATUS"
            assert status in cleared, f"{status} not cleared before {line!r}"
            cleared.clear()
            pending_exec = words[1]
        if v == "SET VARIABLE" and words[2:] == ["IVR_STAGE", "done"] and pending_exec:
            answered = True
