"""The AMI parser under hostile input: arbitrary bytes around real banner and message lines, over-long lines,
invalid UTF-8, too many fields. Only AmiProtocolError may come out, and chunking never changes the outcome.

tests/ami/test_protocol.py feeds every captured session in every chunking and garbage in one chunking; these targets
compare any chunking with a byte-at-a-time reference on generated streams, valid and hostile.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ivr.ami.protocol import BANNER_PREFIX, MAX_FIELDS, MAX_LINE, AmiParser, AmiProtocolError, Banner, Item, Message
from tests.agi.test_parser import cut
from tests.fuzz.common import FUZZ, bounded, chunkings, split

BANNER = f"{BANNER_PREFIX}11.0.0\r\n".encode()


def feed(chunks: list[bytes]) -> tuple[list[Item], str | None]:
    """Items returned before the parser failed, and its error message (None if it did not fail).

    AmiProtocolError carries no items, so a chunk that fails loses the items it completed; the comparison below
    allows for that and no more."""
    parser = AmiParser()
    items: list[Item] = []
    with bounded():
        try:
            for chunk in chunks:
                items += parser.feed(chunk)
        except AmiProtocolError as error:
            try:
                parser.feed(b"\r\n")
            except AmiProtocolError:
                return items, str(error)
            raise AssertionError("the parser went on after an error") from None
    return items, None


def assert_same_as_byte_by_byte(stream: bytes, chunks: list[bytes]) -> None:
    reference, reference_error = feed(split(stream, 1))
    items, error = feed(chunks)
    assert error == reference_error
    assert items == reference[: len(items)]
    if error is None:
        assert items == reference


keys = st.from_regex(r"[A-Za-z0-9_()\-.]{1,20}", fullmatch=True)
values = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=40)
field_lines = st.tuples(keys, values).map(lambda kv: f"{kv[0]}: {kv[1]}\r\n".encode())
segments = st.one_of(
    field_lines,
    st.sampled_from([b"\r\n", b"\n", b"\r", b"Event: Newchannel\r\n", b"Response: Success\r\n", BANNER, b":"]),
    st.integers(MAX_LINE - 2, MAX_LINE + 2).map(lambda n: b"Key: " + b"v" * n + b"\r\n"),
    st.integers(MAX_LINE - 2, MAX_LINE + 2).map(lambda n: b"k" * n),
    st.integers(MAX_FIELDS - 1, MAX_FIELDS + 1).map(lambda n: b"K: v\r\n" * n),
    st.binary(min_size=1, max_size=4).map(lambda b: b"\xe4" + b + b"\xff"),
    st.binary(max_size=500),
)


@FUZZ
@given(parts=st.lists(segments, max_size=10), banner=st.booleans(), chunking=chunkings())
def test_hostile_streams_raise_only_protocol_errors_and_ignore_chunking(parts, banner, chunking):
    stream = (BANNER if banner else b"") + b"".join(parts)
    size, points = chunking
    assert_same_as_byte_by_byte(stream, [stream])
    assert_same_as_byte_by_byte(stream, split(stream, size))
    assert_same_as_byte_by_byte(stream, cut(stream, points))


messages = st.lists(st.lists(st.tuples(keys, values), min_size=1, max_size=8), max_size=8)


@FUZZ
@given(sent=messages, crlf=st.booleans(), chunking=chunkings())
def test_valid_streams_give_their_messages_in_any_chunks(sent, crlf, chunking):
    end = b"\r\n" if crlf else b"\n"
    stream = BANNER + b"".join(
        b"".join(f"{key}: {value}".encode() + end for key, value in fields) + end for fields in sent
    )
    expected = [Banner("11.0.0"), *(Message(tuple(fields)) for fields in sent)]
    size, points = chunking
    for chunks in ([stream], split(stream, size), cut(stream, points)):
        assert feed(chunks) == (expected, None)
