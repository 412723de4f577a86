"""The AGI parser under hostile input: arbitrary bytes mixed with real protocol lines, over-long lines, invalid
UTF-8, truncated sessions. Only AgiProtocolError may come out, and chunking never changes the outcome.

tests/agi/test_parser.py already checks noise against a parser with a 64-byte line limit; these targets run the
parser as `ivr serve` runs it (8 KiB lines, the environment first) on longer, nastier streams.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.agi.protocol import MAX_BLOCK, MAX_LINE, AgiParser, AgiProtocolError, Event, LineTooLong
from tests.agi.test_parser import ENV, cut, env_of, noise, reply_lines, run
from tests.fuzz.common import FUZZ, bounded, chunkings, split

# Pieces a hostile or broken peer sends: protocol lines, the parser's limits just under and over, bytes that are
# not UTF-8, a NUL, a lone CR.
segments = st.one_of(
    noise,
    reply_lines().map(lambda pair: pair[0]),
    st.sampled_from([b"agi_x: y\n", b"agi_arg_1: 12345\n", b"agi_arg_3: x\n", b"\n", b"HANGUP\n", b"\x00", b"\r"]),
    st.integers(MAX_LINE - 2, MAX_LINE + 2).map(lambda n: b"9" * n),
    st.integers(MAX_LINE - 2, MAX_LINE + 2).map(lambda n: b"agi_big: " + b"v" * n + b"\n"),
    st.binary(min_size=1, max_size=4).map(lambda b: b"\xc3" + b + b"\xff"),
    st.binary(max_size=2000),
)


def outcome(chunks: list[bytes]) -> tuple[list[Event], type[Exception] | None]:
    parser = AgiParser()
    with bounded():
        events, error = run(parser, chunks)
        if error is None:
            with contextlib.suppress(AgiProtocolError):
                parser.feed_eof()
        with pytest.raises(AgiProtocolError):  # dead after an error, or after EOF: never a second life
            parser.feed(b"200 result=1\n")
    return events, error


@FUZZ
@given(parts=st.lists(segments, max_size=12), env=st.booleans(), chunking=chunkings())
def test_hostile_streams_raise_only_protocol_errors_and_ignore_chunking(parts, env, chunking):
    stream = (ENV if env else b"") + b"".join(parts)
    size, points = chunking
    whole = outcome([stream])
    assert outcome(split(stream, size)) == whole
    assert outcome(cut(stream, points)) == whole


@st.composite
def sessions(draw: st.DrawFn) -> tuple[bytes, list[Event]]:
    pairs = draw(st.lists(reply_lines(), max_size=15))
    return ENV + b"".join(line for line, _ in pairs), [env_of(ENV), *(event for _, event in pairs)]


@FUZZ
@given(session=sessions(), at=st.integers(min_value=0), size=st.integers(min_value=1, max_value=64))
def test_a_session_cut_anywhere_gives_a_prefix_of_its_events(session, at, size):
    """The connection dropped mid-stream: the events so far are the session's first ones, and an unfinished line
    or block is an AgiProtocolError at EOF, never another exception."""
    stream, expected = session
    truncated = stream[: at % (len(stream) + 1)]
    parser = AgiParser()
    with bounded():
        events = [event for chunk in split(truncated, size) for event in parser.feed(chunk)]
        assert events == expected[: len(events)]
        try:
            parser.feed_eof()
        except AgiProtocolError:
            assert truncated != stream, "a whole session ends cleanly"
        else:
            assert truncated in (b"", stream) or truncated.endswith(b"\n")


@FUZZ
@given(extra=st.integers(min_value=1, max_value=3 * MAX_BLOCK), after_env=st.booleans(), size=st.integers(1, 70_000))
def test_a_line_past_the_limit_is_refused_however_it_arrives(extra, after_env, size):
    """A peer that sends a long run without LF is cut off once it passes MAX_LINE, in whatever pieces it sends."""
    stream = (ENV if after_env else b"") + b"x" * (MAX_LINE + extra)
    with bounded():
        events, error = run(AgiParser(), split(stream, size))
    assert error is LineTooLong
    assert events == ([env_of(ENV)] if after_env else [])
