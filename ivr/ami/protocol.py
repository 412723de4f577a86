"""The AMI wire format as plain code: a byte-fed parser, an action formatter and a matcher of responses to actions.
No sockets, no clock, no logging.

Read off sessions captured from Asterisk 22.10.1 (`tests/data/asterisk-transcripts/ami-*.txt`):
* the server greets with one banner line, `Asterisk Call Manager/11.0.0`, NOT followed by an empty line;
* every line ends in CRLF, both ways; a message is `Key: Value` lines ended by an empty line; a value may be empty
  (`Key: `) and may itself contain `: `; keys repeat in some events, so order and repeats are kept;
* a response carries the action's ActionID; a list action answers `Response: Success` with `EventList: start`,
  then events carrying the same ActionID, then a `...Complete` event with `EventList: Complete` and `ListItems`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

MAX_LINE: Final = 8192
MAX_FIELDS: Final = 1024
BANNER_PREFIX: Final = "Asterisk Call Manager/"
_KEY: Final = re.compile(r"[A-Za-z0-9_()\-.]{1,128}")
# channelvars on a channel's events names the channel in the key when it is not the event's own: Asterisk 22 sends
# `ChanVariable(Local/12369@ivr-inbound-00000000;1): IVR_LINE=12369` for the halves of a Local channel (main/
# manager.c, manager_build_channel_state_string_prefix). The name holds `/@;`, may hold `:` (IAX2/host:port-1) and
# a space (a number dialled as `12 396`).
_CHANNEL_KEY: Final = re.compile(r"(ChanVariable\([^()\x00-\x1f]{1,256}\)):(.*)")


class AmiProtocolError(Exception):
    """The peer sent something that is not AMI; the parser is dead after it (framing can't be trusted)."""


@dataclass(frozen=True)
class Banner:
    version: str


@dataclass(frozen=True)
class Message:
    """One AMI message: a response or an event, its fields in wire order (keys may repeat)."""

    fields: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of `key`; AMI keys are matched without regard to case."""
        wanted = key.lower()
        return next((value for k, value in self.fields if k.lower() == wanted), default)

    def get_all(self, key: str) -> list[str]:
        wanted = key.lower()
        return [value for k, value in self.fields if k.lower() == wanted]

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def list_state(self) -> str | None:
        """`start` on a list action's first response, `Complete` on its closing event, else None."""
        return self.get("EventList")


Item = Banner | Message


@dataclass
class AmiParser:
    """Feed it the bytes from the socket; it returns banner and messages in order, whatever the chunking."""

    max_line: int = MAX_LINE
    _buffer: bytearray = field(default_factory=bytearray)
    _fields: list[tuple[str, str]] = field(default_factory=list)
    _banner_seen: bool = False
    _dead: str | None = None

    def feed(self, data: bytes) -> list[Item]:
        if self._dead:
            raise AmiProtocolError(f"parser already failed: {self._dead}")
        self._buffer += data
        items: list[Item] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > self.max_line:
                    self._fail(f"line longer than {self.max_line} bytes")
                return items
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if len(raw) > self.max_line:
                self._fail(f"line longer than {self.max_line} bytes")
            item = self._line(raw[:-1] if raw.endswith(b"\r") else raw)
            if item is not None:
                items.append(item)

    def _fail(self, message: str) -> None:
        self._dead = message
        raise AmiProtocolError(message)

    def _line(self, raw: bytes) -> Item | None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            self._fail(f"not UTF-8: {raw[:60]!r}")
        if not self._banner_seen:
            if not line.startswith(BANNER_PREFIX):
                self._fail(f"no AMI banner: {line[:60]!r}")
            self._banner_seen = True
            return Banner(line[len(BANNER_PREFIX) :])
        if line == "":
            if not self._fields:
                return None  # a stray empty line between messages carries nothing
            message = Message(tuple(self._fields))
            self._fields = []
            return message
        named = _CHANNEL_KEY.fullmatch(line)
        key, sep, value = (named[1], ":", named[2]) if named else line.partition(":")
        if not named and (not sep or not _KEY.fullmatch(key)):
            self._fail(f"not a 'Key: Value' line: {line[:60]!r}")
        if len(self._fields) >= MAX_FIELDS:
            self._fail(f"a message with more than {MAX_FIELDS} fields")
        self._fields.append((key, value[1:] if value.startswith(" ") else value))
        return None


def format_action(action: str, action_id: str, fields: Sequence[tuple[str, str]] = ()) -> bytes:
    """One action, CRLF-terminated, ended by the empty line. Values with CR or LF are refused: they would let a
    value start a second action."""
    lines = [("Action", action), ("ActionID", action_id), *fields]
    out = []
    for key, value in lines:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not an AMI key: {key!r}")
        if "\r" in value or "\n" in value:
            raise ValueError(f"{key}: a value may not contain CR or LF")
        out.append(f"{key}: {value}\r\n")
    return ("".join(out) + "\r\n").encode("utf-8")


@dataclass
class Completed:
    """An action's answer: its response, and for a list action every item event until Complete."""

    action_id: str
    response: Message
    items: list[Message] = field(default_factory=list)
    complete: Message | None = None

    @property
    def ok(self) -> bool:
        return (self.response.response or "").lower() in ("success", "goodbye")


@dataclass
class ActionTracker:
    """Matches responses (and list events) to the actions sent; everything else passes through as an event."""

    _pending: dict[str, Completed | None] = field(default_factory=dict)

    def sent(self, action_id: str) -> None:
        self._pending[action_id] = None

    def feed(self, message: Message) -> Completed | Message | None:
        """A finished action's answer, an event that belongs to no pending action, or None (an answer goes on)."""
        action_id = message.action_id
        if action_id is None or action_id not in self._pending:
            return message if message.event is not None else None
        answer = self._pending[action_id]
        if answer is None:
            answer = Completed(action_id, message)
            if message.list_state != "start":
                del self._pending[action_id]
                return answer
            self._pending[action_id] = answer
            return None
        if message.list_state == "Complete":
            answer.complete = message
            del self._pending[action_id]
            return answer
        answer.items.append(message)
        return None

    @property
    def waiting(self) -> list[str]:
        return list(self._pending)
