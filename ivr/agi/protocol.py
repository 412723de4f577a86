"""The FastAGI wire protocol as plain code: a byte-fed parser and a command formatter, with no sockets, no clock
and no logging, so the Twisted protocol, the simulator and the tests all share one implementation and every
framing case can be tested by feeding bytes.

What this module relies on was read off byte-exact sessions captured from Asterisk 22.10.1
(`shared/asterisk-transcripts/agi-*.txt`) and off res_agi.c:

* Asterisk ends every line with LF and never sends CR; a trailing CR is stripped anyway, for test tools and
  proxies that add one.
* A session opens with the environment: `agi_<name>: <value>` lines (the value may be empty), then one empty line.
* Every command gets exactly one reply: `200 result=...`, `510 ...`, `511 ...`, a single `520 ...` line, or a
  `520-` line, usage text and `520 End of proper usage.`.
* `HANGUP` (no code) can arrive at any line boundary after the environment: unsolicited, between a command and
  its reply, right after a reply, and once more after our side half-closes (whether or not the caller left). It
  is a notification, not a reply: the reply to the command in flight still follows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Final

#: Longest line accepted from Asterisk, in bytes before the LF. Far above anything res_agi sends (a GET VARIABLE
#: value is the longest), low enough that a peer that never sends LF cannot make us buffer without bound.
MAX_LINE: Final = 8192
#: Longest environment or 520 usage block, in bytes, for the same reason.
MAX_BLOCK: Final = 65536
#: Longest command we send, LF included. res_agi reads a FastAGI command with fgets into `char buf[AGI_BUF_LEN]`
#: (2048) and, when no LF fits, runs the first 2047 bytes as one command and the rest as another: an over-long
#: argument would silently become a second command.
MAX_COMMAND_BYTES: Final = 2047
#: res_agi's parse_args keeps at most MAX_ARGS - 1 (127) words, the verb's words included, and drops the rest.
MAX_COMMAND_WORDS: Final = 127

_HANGUP: Final = "HANGUP"
_USAGE_END: Final = "520 End of proper usage."


class AgiProtocolError(Exception):
    """Asterisk sent something this module does not understand.

    Raised by `AgiParser`; after it the parser is dead, because the line framing or the command/reply pairing
    can no longer be trusted. `events` holds what the failing `feed()` call had parsed before the bad line, so
    a caller sees the same events whatever the chunking was.
    """

    def __init__(self, message: str, events: Sequence[Event] = ()) -> None:
        super().__init__(message)
        self.events: tuple[Event, ...] = tuple(events)


class LineTooLong(AgiProtocolError):
    """A line went past the parser's `max_line` bytes without an LF."""


# --- events ----------------------------------------------------------------------------------------------------

_KEY = re.compile(r"agi_[A-Za-z0-9_]+")
_ARG_KEY = re.compile(r"agi_arg_([1-9][0-9]{0,3})")
_PRES = re.compile(r"-?[0-9]{1,10}")
_INT = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class AgiEnvironment:
    """The `agi_*` variables Asterisk sends before the first command, values exactly as sent.

    Values stay raw: `agi_network_script` keeps its query string (`route?line=1001`), and Asterisk's own word
    for "not known" is the literal `unknown` (seen for `agi_dnid` and `agi_rdnis`, and possible for
    `agi_callerid` and `agi_calleridname`); it is not turned into None here, because only the caller knows
    whether `unknown` can also be a real value. A missing variable reads as "".

    `args` are the `agi_arg_N` values (from `AGI(agi://host/script,ARG1,ARG2)`) in N order; they also stay in
    `variables`. Values are decoded as UTF-8 with undecodable bytes replaced, because a caller name from a
    carrier may well be GBK and must not end the call.
    """

    variables: Mapping[str, str]
    args: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        variables = dict(self.variables)
        numbered: dict[int, str] = {}
        for key, value in variables.items():
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                raise ValueError(f"AGI variable names look like agi_<name>, got {key!r}")
            if not isinstance(value, str):
                raise ValueError(f"AGI variable {key} must be a str, got {value!r}")
            match = _ARG_KEY.fullmatch(key) if key.startswith("agi_arg_") else None
            if match:
                numbered[int(match[1])] = value
        if sorted(numbered) != list(range(1, len(numbered) + 1)):
            raise ValueError(f"agi_arg_N variables must be numbered 1..n, got {sorted(numbered)}")
        pres = variables.get("agi_callingpres")
        if pres is not None and not _PRES.fullmatch(pres):
            raise ValueError(f"agi_callingpres must be a number, got {pres!r}")
        object.__setattr__(self, "variables", MappingProxyType(variables))
        object.__setattr__(self, "args", tuple(numbered[n] for n in range(1, len(numbered) + 1)))

    def __hash__(self) -> int:
        return hash(tuple(self.variables.items()))

    def get(self, name: str, default: str | None = None) -> str | None:
        """A variable by its wire name (`agi_channel`) or without the prefix (`channel`)."""
        key = name if name.startswith("agi_") else f"agi_{name}"
        return self.variables.get(key, default)

    def _text(self, name: str) -> str:
        return self.variables.get(name, "")

    @property
    def channel(self) -> str:
        return self._text("agi_channel")

    @property
    def uniqueid(self) -> str:
        return self._text("agi_uniqueid")

    @property
    def callerid(self) -> str:
        return self._text("agi_callerid")

    @property
    def calleridname(self) -> str:
        return self._text("agi_calleridname")

    @property
    def callingpres(self) -> int:
        """The presentation byte (AST_PRES_*). 0 when absent; Asterisk always sends it."""
        pres = self.variables.get("agi_callingpres")
        return int(pres) if pres is not None else 0

    @property
    def dnid(self) -> str:
        return self._text("agi_dnid")

    @property
    def rdnis(self) -> str:
        return self._text("agi_rdnis")

    @property
    def context(self) -> str:
        return self._text("agi_context")

    @property
    def extension(self) -> str:
        return self._text("agi_extension")

    @property
    def language(self) -> str:
        return self._text("agi_language")

    @property
    def request(self) -> str:
        return self._text("agi_request")

    @property
    def network_script(self) -> str:
        return self._text("agi_network_script")

    @property
    def version(self) -> str:
        return self._text("agi_version")


@dataclass(frozen=True)
class Reply:
    """Asterisk's answer to one command.

    `result` is the text after `result=` (it is "" in `200 result= (timeout)`, and GET DATA's digits keep their
    leading zeros only here); `data` is the text in parentheses (a variable's value, `timeout`, ...), None when
    there were none; `endpos` is the sample offset STREAM FILE and friends report. `extra` is the rest of the
    line: the message of a 510/511/520 reply, or text after the data such as `digit=5 endpos=800`. A 520 usage
    block arrives as one Reply whose `usage` holds the usage lines joined with LF and whose `raw` holds all of
    its lines. For 510, 511 and 520 `result` is "".

    `data` runs to the last `)` on the line, so a variable value that itself contains `)` comes back whole.
    """

    code: int
    result: str
    data: str | None
    endpos: int | None
    raw: str
    extra: str = ""
    usage: str | None = None

    @property
    def result_int(self) -> int | None:
        """`result` as a number, or None when it is not one (`result=` on a GET DATA timeout, 510, 511, 520)."""
        if not _INT.fullmatch(self.result):
            return None
        try:
            return int(self.result)
        except ValueError:  # past Python's int-from-str digit limit: no real result is that long
            return None

    @property
    def ok(self) -> bool:
        return self.code == 200


@dataclass(frozen=True)
class Hangup:
    """Asterisk's bare `HANGUP` line: the channel is gone, or our side half-closed. Not a reply."""


Event = AgiEnvironment | Reply | Hangup


# --- parsing -----------------------------------------------------------------------------------------------------

_ENV_LINE = re.compile(rb"(agi_[A-Za-z0-9_]+):(?: (.*))?", re.DOTALL)
_REPLY_200 = re.compile(r"200 result=(?P<result>[-+0-9A-Za-z*#]*)(?: (?P<rest>.*))?", re.DOTALL)
_REPLY_OTHER = re.compile(r"(?P<code>510|511|520)(?: (?P<text>.*))?", re.DOTALL)
_ENDPOS = re.compile(r"(?:^| )endpos=(-?[0-9]{1,30})(?= |$)")


def _show(line: bytes | bytearray, limit: int = 80) -> str:
    """A bad line for an error message: escaped (so the message stays one line) and cut short."""
    shown = repr(bytes(line[:limit]))
    return f"{shown}... ({len(line)} bytes)" if len(line) > limit else shown


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise AgiProtocolError(f"reply line from Asterisk is not UTF-8: {_show(line)}") from None


_HANGUP_LINE: Final = _HANGUP.encode()
_HANGUP_EVENT: Final = Hangup()


@lru_cache(maxsize=1024)
def _reply_200(line: bytes) -> Reply:
    """A 200 line's Reply. Replies are immutable and most lines recur in every call (`200 result=1`, a prompt's
    `endpos`, a queue's status), so each distinct line is parsed once; a line that fails raises every time."""
    return _parse_200(_decode(line), line)


def _parse_200(text: str, line: bytes) -> Reply:
    match = _REPLY_200.fullmatch(text)
    if match is None:
        raise AgiProtocolError(f"malformed 200 reply from Asterisk: {_show(line)}")
    rest = match["rest"] or ""
    data = None
    if rest.startswith("("):
        close = rest.rfind(")")
        if close > 0:
            data = rest[1:close]
            rest = rest[close + 1 :]
    extra = rest.strip(" ")
    endpos = _ENDPOS.search(extra)
    return Reply(200, match["result"], data, int(endpos[1]) if endpos else None, text, extra)


class AgiParser:
    """Turns the bytes of one FastAGI connection, in chunks of any size, into events in wire order.

    The first event is the `AgiEnvironment` (when its closing empty line arrives); then a `Reply` per command
    and a `Hangup` for each `HANGUP` line, wherever it falls. Chunking never changes the events: the same
    stream fed whole or one byte at a time gives the same list.

    Anything unexpected raises `AgiProtocolError` (`LineTooLong` for a line past `max_line` bytes without an
    LF), and after that every call raises again: a session whose framing is lost cannot pair replies with
    commands any more, so it has to end. `expect_environment=False` parses replies only, for tests and tools.
    """

    def __init__(self, *, max_line: int = MAX_LINE, expect_environment: bool = True) -> None:
        if max_line < 1:
            raise ValueError("max_line must be at least 1")
        self.max_line = max_line
        self.environment: AgiEnvironment | None = None
        self._buffer = bytearray()
        self._scanned = 0  # bytes at the start of the buffer already known to hold no LF
        self._env: dict[str, str] | None = {} if expect_environment else None
        self._env_bytes = 0
        self._block: list[str] | None = None  # lines of a 520 usage block in progress
        self._block_bytes = 0
        self._failure: str | None = None

    @property
    def pending(self) -> int:
        """Bytes received that do not yet end a line."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Take the next bytes from the socket; return the events they complete, in order."""
        self._check_alive()
        events: list[Event] = []
        if not self._buffer and data[-1:] == b"\n":
            return self._whole_lines(bytes(data), events)
        try:
            self._buffer += data
            start = 0
            while True:
                newline = self._buffer.find(b"\n", start + self._scanned)
                if newline < 0:
                    self._scanned = len(self._buffer) - start
                    if self._scanned > self.max_line:
                        raise LineTooLong(
                            f"line from Asterisk longer than {self.max_line} bytes without LF: "
                            f"{_show(self._buffer[start:])}"
                        )
                    break
                line = bytes(self._buffer[start:newline])
                start, self._scanned = newline + 1, 0
                if len(line) > self.max_line:
                    raise LineTooLong(f"line from Asterisk longer than {self.max_line} bytes: {_show(line)}")
                if line.endswith(b"\r"):
                    line = line[:-1]
                event = self._line(line)
                if event is not None:
                    events.append(event)
            del self._buffer[:start]
        except AgiProtocolError as error:
            self._failure = str(error)
            error.events = tuple(events)
            raise
        return events

    def _whole_lines(self, data: bytes, events: list[Event]) -> list[Event]:
        """`feed` when nothing is pending and the read ends a line, as almost every read from Asterisk does: the
        same lines, checks and events without copying through the buffer."""
        try:
            for line in data.split(b"\n")[:-1]:
                if len(line) > self.max_line:
                    raise LineTooLong(f"line from Asterisk longer than {self.max_line} bytes: {_show(line)}")
                event = self._line(line[:-1] if line.endswith(b"\r") else line)
                if event is not None:
                    events.append(event)
        except AgiProtocolError as error:
            self._failure = str(error)
            error.events = tuple(events)
            raise
        return events

    def feed_eof(self) -> None:
        """The connection closed. Asterisk always ends on a line boundary, so anything unfinished is an error."""
        self._check_alive()
        problem = None
        if self._buffer:
            problem = f"connection closed in the middle of a line: {_show(self._buffer)}"
        elif self._block is not None:
            problem = "connection closed inside a 520 usage block"
        elif self._env:
            problem = "connection closed inside the AGI environment"
        self._failure = problem or "the connection was closed (feed_eof)"
        if problem:
            raise AgiProtocolError(problem)

    def _check_alive(self) -> None:
        if self._failure is not None:
            raise AgiProtocolError(f"AGI parser is dead: {self._failure}")

    def _line(self, line: bytes) -> Event | None:
        if self._env is not None:
            return self._environment_line(line)
        if self._block is None:
            if line == _HANGUP_LINE:
                return _HANGUP_EVENT
            if line.startswith(b"200"):
                return _reply_200(line)
        text = _decode(line)
        if self._block is not None:
            return self._usage_line(text, line)
        if text.startswith("520-"):
            self._block = [text]
            self._block_bytes = len(line)
            return None
        match = _REPLY_OTHER.fullmatch(text)
        if match is None or text == _USAGE_END:
            raise AgiProtocolError(f"unexpected line from Asterisk: {_show(line)}")
        return Reply(int(match["code"]), "", None, None, text, match["text"] or "")

    def _environment_line(self, line: bytes) -> AgiEnvironment | None:
        env = self._env
        assert env is not None
        self._env_bytes += len(line) + 1
        if self._env_bytes > MAX_BLOCK:
            raise AgiProtocolError(f"AGI environment longer than {MAX_BLOCK} bytes")
        if not line:
            if not env:
                raise AgiProtocolError("empty AGI environment: the first line from Asterisk was empty")
            try:
                self.environment = AgiEnvironment(env)
            except ValueError as error:
                raise AgiProtocolError(f"bad AGI environment: {error}") from None
            self._env = None
            return self.environment
        match = _ENV_LINE.fullmatch(line)
        if match is None:
            raise AgiProtocolError(f"expected an agi_* environment line, got {_show(line)}")
        key = match[1].decode("ascii")
        if key in env:
            raise AgiProtocolError(f"AGI environment repeats {key}: {_show(line)}")
        env[key] = (match[2] or b"").decode("utf-8", errors="replace")
        return None

    def _usage_line(self, text: str, line: bytes) -> Reply | None:
        block = self._block
        assert block is not None
        self._block_bytes += len(line) + 1
        if self._block_bytes > MAX_BLOCK:
            raise AgiProtocolError(f"520 usage block longer than {MAX_BLOCK} bytes")
        block.append(text)
        if not text.endswith(_USAGE_END):
            return None
        # Older res_agi sent usage text without a final LF, gluing the end marker onto the last usage line.
        usage = [*block[1:-1], text[: -len(_USAGE_END)]] if text != _USAGE_END else block[1:-1]
        self._block = None
        return Reply(520, "", None, None, "\n".join(block), block[0][4:], "\n".join(usage))


#: The name the design brief used; the parser handles the environment as well as replies.
ReplyParser = AgiParser


# --- commands ------------------------------------------------------------------------------------------------

_VERB = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_SPECIAL = frozenset(' \t"\\')
_FORBIDDEN = {"\n": "a newline", "\r": "a carriage return", "\0": "a NUL byte"}


def quote_arg(arg: str) -> str:
    """One argument as res_agi's parse_args will read it back.

    parse_args splits on unquoted, unescaped space and tab; a double quote toggles quoting (and starts a word
    when it follows whitespace, which is how `""` becomes an empty argument); a backslash makes the next
    character literal, inside quotes or not. Nothing else is special to it: commas, `|`, `$` and non-ASCII
    bytes pass through untouched, so those are left bare (`EXEC Queue hotline-12345,c` stays as captured).
    """
    if arg and not _SPECIAL.intersection(arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_command(line: str) -> list[str]:
    """The words res_agi's parse_args makes of one command line (without its LF), verb words included.

    The inverse of `format_command`, for the Asterisk side of a simulated session: quotes and backslashes are
    read exactly as Asterisk reads them (see `quote_arg`), and words past the 127th are dropped as Asterisk
    drops them. Works on text: every character parse_args treats specially is ASCII, so splitting the decoded
    line is the same as splitting its UTF-8 bytes.
    """
    words: list[list[str]] = []
    quoted = escaped = False
    whitespace = True
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:  # an opening quote after whitespace starts a word, even an empty one
                words.append([])
                whitespace = False
            continue
        if char in " \t" and not (quoted or escaped):
            whitespace = True
            continue
        if char == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            if len(words) >= MAX_COMMAND_WORDS:
                continue
            words.append([])
            whitespace = False
        words[-1].append(char)
        escaped = False
    return ["".join(word) for word in words]


def format_command(verb: str, *args: str | int) -> bytes:
    """One AGI command line, UTF-8, LF-terminated, that res_agi splits back into exactly `verb` and `args`.

    Raises ValueError for what would change the command Asterisk runs: a CR, LF or NUL inside an argument (an
    LF would start a second command), a malformed verb, more words than res_agi keeps, or a line longer than
    res_agi's read buffer. An EXEC application's own argument syntax (commas, quotes, parentheses, `${...}`
    when AGIEXECFULL is set) is a second layer that Asterisk applies after this one; composing it is the
    caller's job, and the whole application argument string goes in as one argument here.
    """
    if not isinstance(verb, str) or not _VERB.fullmatch(verb):
        raise ValueError(f"an AGI verb is ASCII words separated by single spaces, got {verb!r}")
    words = [verb]
    checked: tuple[object, ...] = args  # as object: a mypyc build would reject a bad one before the check below
    for position, arg in enumerate(checked, 1):
        if isinstance(arg, bool) or not isinstance(arg, str | int):
            raise TypeError(f"argument {position} of {verb} must be str or int, got {type(arg).__name__}")
        text = str(arg)
        for char, name in _FORBIDDEN.items():
            if char in text:
                raise ValueError(
                    f"argument {position} of {verb} contains {name}, which would cut the command short "
                    f"or inject another one: {text[:60]!r}"
                )
        words.append(quote_arg(text))
    if len(verb.split()) + len(args) > MAX_COMMAND_WORDS:
        raise ValueError(f"{verb} has more than {MAX_COMMAND_WORDS} words; res_agi would drop the rest")
    try:
        line = (" ".join(words) + "\n").encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"an argument of {verb} cannot be encoded as UTF-8: {error.reason}") from None
    if len(line) > MAX_COMMAND_BYTES:
        raise ValueError(
            f"{verb} command is {len(line)} bytes; res_agi reads at most {MAX_COMMAND_BYTES} per line "
            "and would run the rest as a second command"
        )
    return line
