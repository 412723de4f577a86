"""The parser on its own: environment details, every reply form, errors, limits, and framing properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.agi.protocol import (
    MAX_BLOCK,
    MAX_LINE,
    AgiEnvironment,
    AgiParser,
    AgiProtocolError,
    Event,
    Hangup,
    LineTooLong,
    Reply,
    ReplyParser,
)

ENV = (
    b"agi_network: yes\n"
    b"agi_network_script: route?line=12345\n"
    b"agi_request: agi://10.0.0.1/route?line=12345\n"
    b"agi_channel: PJSIP/trunk-00000001\n"
    b"agi_uniqueid: 1700000000.1\n"
    b"agi_callerid: 13800138000\n"
    b"agi_callingpres: 0\n"
    b"agi_accountcode: \n"
    b"\n"
)


def env_of(block: bytes) -> AgiEnvironment:
    (env,) = AgiParser().feed(block)
    assert isinstance(env, AgiEnvironment)
    return env


def reply_of(line: bytes) -> Reply:
    (reply,) = AgiParser(expect_environment=False).feed(line + b"\n")
    assert isinstance(reply, Reply)
    return reply


# --- environment -------------------------------------------------------------------------------------------


def test_agi_arguments_in_order():
    env = env_of(
        b"agi_request: agi://127.0.0.1/route\nagi_extension: s\n"
        b"agi_arg_1: 12345\nagi_arg_2: \nagi_arg_3: ip-longdistance\nagi_arg_4: a b,c\n\n"
    )
    assert env.args == ("12345", "", "ip-longdistance", "a b,c")
    assert env.get("arg_2") == "" and env.variables["agi_arg_4"] == "a b,c"
    assert env.extension == "s"


def test_environment_values_stay_raw():
    env = env_of(ENV)
    assert env.network_script == "route?line=12345"
    assert env.get("accountcode") == "" and env.get("channel") == "PJSIP/trunk-00000001"
    assert env.callingpres == 0
    assert env.dnid == "" and env.rdnis == "" and env.calleridname == ""  # missing reads as ""
    assert env.get("dnid") is None and env.get("dnid", "x") == "x"


def test_parser_keeps_the_environment():
    parser = ReplyParser()
    assert parser.environment is None
    parser.feed(ENV[:-1])
    assert parser.environment is None
    (env,) = parser.feed(b"\n")
    assert parser.environment is env


def test_unknown_is_kept_as_sent():
    env = env_of(b"agi_dnid: unknown\nagi_rdnis: unknown\nagi_callerid: unknown\nagi_callingpres: 67\n\n")
    assert (env.dnid, env.rdnis, env.callerid, env.callingpres) == ("unknown", "unknown", "unknown", 67)


def test_non_utf8_caller_name_does_not_end_the_call():
    env = env_of("agi_calleridname: 张三\n".encode() + "agi_callerid: 李四\n".encode("gbk") + b"\n")
    assert env.calleridname == "张三"
    assert "\ufffd" in env.callerid


def test_separator_without_space():
    assert env_of(b"agi_accountcode:\n\n").get("accountcode") == ""


def test_values_keep_colons_and_spaces():
    env = env_of(b'agi_calleridname:  "A: B"  \n\n')
    assert env.calleridname == ' "A: B"  '


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (b"\n", "empty AGI environment"),
        (b"HANGUP\n", "expected an agi_"),
        (b"200 result=0\n", "expected an agi_"),
        (b"network: yes\n", "expected an agi_"),
        (b"agi_x=1\n", "expected an agi_"),
        (b"agi_a: 1\nagi_a: 2\n", "repeats agi_a"),
        (b"agi_arg_1: a\nagi_arg_3: c\n\n", "agi_arg_N"),
        (b"agi_arg_2: b\n\n", "agi_arg_N"),
        (b"agi_callingpres: allowed\n\n", "agi_callingpres"),
    ],
)
def test_bad_environments(block, message):
    with pytest.raises(AgiProtocolError, match=message):
        AgiParser().feed(block)


def test_environment_built_directly():
    env = AgiEnvironment({"agi_extension": "12345", "agi_arg_1": "12315"})
    assert env.extension == "12345" and env.args == ("12315",) and env.callingpres == 0
    assert env == AgiEnvironment({"agi_arg_1": "12315", "agi_extension": "12345"})
    assert hash(env) == hash(AgiEnvironment({"agi_extension": "12345", "agi_arg_1": "12315"}))
    with pytest.raises(TypeError):
        env.variables["agi_extension"] = "x"
    with pytest.raises(ValueError, match="agi_<name>"):
        AgiEnvironment({"extension": "1"})


def test_environment_block_size_is_bounded():
    parser = AgiParser()
    with pytest.raises(AgiProtocolError, match="environment longer than"):
        for number in range(MAX_BLOCK // 10):
            parser.feed(f"agi_v{number}: xx\n".encode())


# --- replies -----------------------------------------------------------------------------------------------

REPLIES = [
    # line, (code, result, data, endpos, extra)
    (b"200 result=0", (200, "0", None, None, "")),
    (b"200 result=-1", (200, "-1", None, None, "")),
    (b"200 result=1 (13800138000)", (200, "1", "13800138000", None, "")),
    (b"200 result= (timeout)", (200, "", "timeout", None, "")),
    (b"200 result=", (200, "", None, None, "")),
    (b"200 result=-1 endpos=0", (200, "-1", None, 0, "endpos=0")),
    (b"200 result=53 endpos=9120", (200, "53", None, 9120, "endpos=9120")),
    (b"200 result=0123*", (200, "0123*", None, None, "")),
    (b"200 result=1 ()", (200, "1", "", None, "")),
    (b'200 result=1 ("PSTN Caller" <13800138000>)', (200, "1", '"PSTN Caller" <13800138000>', None, "")),
    (b"200 result=1 (a) endpos=5)", (200, "1", "a) endpos=5", None, "")),
    (b"200 result=1 (f(x))", (200, "1", "f(x)", None, "")),
    ("200 result=1 (您好)".encode(), (200, "1", "您好", None, "")),
    (b"200 result=0 (timeout) endpos=4000", (200, "0", "timeout", 4000, "endpos=4000")),
    (b"200 result=1 (digit) digit=* endpos=998877660", (200, "1", "digit", 998877660, "digit=* endpos=998877660")),
    (b"200 result=0 Gosub complete", (200, "0", None, None, "Gosub complete")),
    (b"510 Invalid or unknown command", (510, "", None, None, "Invalid or unknown command")),
    (b"511 Command Not Permitted on a dead channel or intercept routine",
     (511, "", None, None, "Command Not Permitted on a dead channel or intercept routine")),
    (b"520 Invalid command syntax.  Proper usage not available.",
     (520, "", None, None, "Invalid command syntax.  Proper usage not available.")),
]  # fmt: skip


@pytest.mark.parametrize(("line", "expected"), REPLIES)
def test_reply_forms(line, expected):
    reply = reply_of(line)
    assert (reply.code, reply.result, reply.data, reply.endpos, reply.extra) == expected
    assert reply.raw == line.decode() and reply.usage is None


def test_result_int():
    assert reply_of(b"200 result=-1").result_int == -1
    assert reply_of(b"200 result=55").result_int == 55
    assert reply_of(b"200 result= (timeout)").result_int is None
    assert reply_of(b"200 result=12#").result_int is None
    assert reply_of(b"200 result=" + b"9" * 5000).result_int is None  # past Python's int digit limit
    assert reply_of(b"510 Invalid or unknown command").result_int is None


def test_usage_block_with_the_end_marker_glued_on():
    parser = AgiParser(expect_environment=False)
    events = parser.feed(
        b"520-Invalid command syntax.  Proper usage follows:\n"
        b"Stream the given file.\n"
        b"Returns the digits.520 End of proper usage.\n"
        b"HANGUP\n"
    )
    usage, hangup = events
    assert (usage.code, usage.usage) == (520, "Stream the given file.\nReturns the digits.")
    assert hangup == Hangup()


def test_usage_block_without_text():
    (reply,) = AgiParser(expect_environment=False).feed(b"520-Invalid.\n520 End of proper usage.\n")
    assert (reply.code, reply.usage, reply.extra) == (520, "", "Invalid.")
    assert reply.raw == "520-Invalid.\n520 End of proper usage."


def test_usage_block_size_is_bounded():
    parser = AgiParser(expect_environment=False)
    parser.feed(b"520-Invalid command syntax.  Proper usage follows:\n")
    with pytest.raises(AgiProtocolError, match="usage block longer than"):
        for _ in range(MAX_BLOCK // 100 + 1):
            parser.feed(b"x" * 99 + b"\n")


def test_hangup_anywhere_after_the_environment():
    events = AgiParser().feed(ENV + b"HANGUP\nHANGUP\n200 result=0\nHANGUP\n")
    assert [type(event) for event in events] == [AgiEnvironment, Hangup, Hangup, Reply, Hangup]


# --- errors --------------------------------------------------------------------------------------------------

BAD_LINES = [
    b"FOO",
    b"",
    b"200",
    b"200 foo",
    b"200 result=1(x)",
    b"2000 result=1",
    b"200 result=1\tx",
    b"hangup",
    b"HANGUP ",
    b"510Invalid",
    b"512 Something new",
    b"100 result=0 Trying...",
    b"503 result=-2 Memory allocation failure",
    b"520 End of proper usage.",
    b"agi_channel: x",
    b"\xff\xfe garbage",
    b"200 result=1 (\xe4\xbd)",
]


@pytest.mark.parametrize("line", BAD_LINES)
def test_bad_lines(line):
    parser = AgiParser()
    parser.feed(ENV)
    with pytest.raises(AgiProtocolError) as caught:
        parser.feed(line + b"\n")
    message = str(caught.value)
    assert "\n" not in message and repr(line)[2:-1][:40] in message
    assert type(caught.value) is AgiProtocolError


def test_error_message_is_cut_short():
    with pytest.raises(AgiProtocolError, match=r"\.\.\. \(5000 bytes\)") as caught:
        AgiParser(expect_environment=False).feed(b"X" * 5000 + b"\n")
    assert len(str(caught.value)) < 200


def test_parser_is_dead_after_an_error():
    parser = AgiParser()
    with pytest.raises(AgiProtocolError) as caught:
        parser.feed(ENV + b"200 result=0\nBAD\n200 result=1\n")
    assert [type(event) for event in caught.value.events] == [AgiEnvironment, Reply]
    for _ in range(2):
        with pytest.raises(AgiProtocolError, match="dead"):
            parser.feed(b"200 result=0\n")
    with pytest.raises(AgiProtocolError, match="dead"):
        parser.feed_eof()


def test_line_too_long_without_lf():
    parser = AgiParser()
    parser.feed(ENV)
    parser.feed(b"200 result=1 (" + b"x" * (MAX_LINE - 20))
    with pytest.raises(LineTooLong, match=f"longer than {MAX_LINE} bytes"):
        parser.feed(b"x" * 100)


def test_line_too_long_with_lf():
    with pytest.raises(LineTooLong):
        AgiParser(expect_environment=False).feed(b"x" * (MAX_LINE + 1) + b"\n")


def test_line_at_the_limit_is_fine():
    line = b"200 result=1 (" + b"x" * (MAX_LINE - 15) + b")"
    assert len(line) == MAX_LINE
    assert reply_of(line).data == "x" * (MAX_LINE - 15)
    with pytest.raises(LineTooLong):
        AgiParser(max_line=10, expect_environment=False).feed(b"200 result=1\r\n")  # 13 bytes before the LF


def test_eof():
    parser = AgiParser()
    parser.feed(ENV + b"200 result=0\n")
    parser.feed_eof()
    with pytest.raises(AgiProtocolError, match="dead"):
        parser.feed(b"HANGUP\n")
    AgiParser().feed_eof()  # Asterisk closed before sending anything


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (ENV + b"200 res", "middle of a line"),
        (ENV + b"520-Invalid command syntax.  Proper usage follows:\nusage\n", "520 usage block"),
        (b"agi_network: yes\n", "inside the AGI environment"),
    ],
)
def test_eof_in_the_middle(data, message):
    parser = AgiParser()
    parser.feed(data)
    with pytest.raises(AgiProtocolError, match=message):
        parser.feed_eof()


# --- properties ----------------------------------------------------------------------------------------------


def run(parser: AgiParser, chunks: list[bytes]) -> tuple[list[Event], type[Exception] | None]:
    """Events from feeding the chunks, and the type of the error that stopped the parser (None if none)."""
    events: list[Event] = []
    try:
        for chunk in chunks:
            events += parser.feed(chunk)
    except AgiProtocolError as error:
        return events + list(error.events), type(error)
    return events, None


def cut(data: bytes, points: list[int]) -> list[bytes]:
    marks = sorted({0, len(data), *(point % (len(data) + 1) for point in points)})
    return [data[start:end] for start, end in itertools.pairwise(marks)]


noise = st.binary(max_size=300) | st.lists(
    st.sampled_from(
        [b"\n", b"\r\n", b"HANGUP", b"200 result=", b"1", b"-", b" (", b")", b" endpos=", b"510 ", b"520-", b"520 ",
         b"End of proper usage.", b"agi_x: ", b"\xff", b"\xe4\xbd", b"\r", b" ", b"x"]
    ),
    max_size=60,
).map(b"".join)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(data=noise, points=st.lists(st.integers(min_value=0), max_size=20), prefix=st.booleans(), env=st.booleans())
def test_any_bytes_any_chunks_only_protocol_errors_and_same_outcome(data, points, prefix, env):
    stream = (ENV if prefix and env else b"") + data
    whole = run(AgiParser(max_line=64, expect_environment=env), [stream])
    chunked = run(AgiParser(max_line=64, expect_environment=env), cut(stream, points))
    assert chunked == whole


plain_text = st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=30)


@st.composite
def reply_lines(draw: st.DrawFn) -> tuple[bytes, Event]:
    kind = draw(st.sampled_from(["200", "510", "511", "520", "520-", "HANGUP"]))
    if kind == "HANGUP":
        return b"HANGUP\n", Hangup()
    if kind == "200":
        result = draw(st.one_of(st.integers(-2, 255).map(str), st.text("0123456789*#", max_size=6)))
        data = draw(st.none() | plain_text)
        endpos = draw(st.none() | st.integers(0, 10**9))
        line = f"200 result={result}"
        line += f" ({data})" if data is not None else ""
        line += f" endpos={endpos}" if endpos is not None else ""
        extra = f"endpos={endpos}" if endpos is not None else ""
        return f"{line}\n".encode(), Reply(200, result, data, endpos, line, extra)
    if kind in ("510", "511", "520"):
        text = draw(st.sampled_from(["Invalid or unknown command", "Not permitted", "Proper usage not available."]))
        line = f"{kind} {text}"
        return f"{line}\n".encode(), Reply(int(kind), "", None, None, line, text)
    usage = draw(st.lists(plain_text.filter(lambda text: not text.endswith("520 End of proper usage.")), max_size=4))
    lines = ["520-Invalid command syntax.  Proper usage follows:", *usage, "520 End of proper usage."]
    block = "\n".join(lines)
    reply = Reply(520, "", None, None, block, "Invalid command syntax.  Proper usage follows:", "\n".join(usage))
    return f"{block}\n".encode(), reply


@settings(max_examples=300, deadline=None)
@given(
    replies=st.lists(reply_lines(), max_size=12),
    points=st.lists(st.integers(min_value=0), max_size=30),
    crlf=st.booleans(),
)
def test_valid_streams_parse_the_same_in_any_chunks(replies, points, crlf):
    stream = ENV + b"".join(line for line, _ in replies)
    if crlf:
        stream = stream.replace(b"\n", b"\r\n")
    expected = [env_of(ENV), *(event for _, event in replies)]
    assert run(AgiParser(), [stream]) == (expected, None)
    assert run(AgiParser(), cut(stream, points)) == (expected, None)


@settings(max_examples=200, deadline=None)
@given(
    replies=st.lists(reply_lines(), max_size=5),
    length=st.integers(min_value=65, max_value=300),
    lf=st.booleans(),
    points=st.lists(st.integers(min_value=0), max_size=30),
)
def test_over_long_lines_raise_line_too_long(replies, length, lf, points):
    head = b"".join(line for line, _ in replies if len(line) <= 65 and line.count(b"\n") == 1)
    stream = head + b"2" * length + (b"\n" if lf else b"")
    for chunks in ([stream], cut(stream, points)):
        _, error = run(AgiParser(max_line=64, expect_environment=False), chunks)
        assert error is LineTooLong


@pytest.mark.parametrize(
    "stream",
    [
        ENV + b"200 result=1\nHANGUP\n200 result=0 endpos=11234\r\n200 result=1 (x)\n",
        ENV + b"520-Invalid command syntax.  Proper usage follows:\nUsage: x\n520 End of proper usage.\n",
        ENV + b"200 result=1\n" + b"9" * (MAX_LINE + 1) + b"\n200 result=1\n",
        ENV + b"200 result=1\n\xff\xfe\n",
    ],
)
def test_reads_of_whole_lines_give_what_the_buffered_path_gives(stream):
    """Most reads end a line and take the unbuffered path; a read that leaves a part line pending sends the rest
    through the buffer: the events, the error and the events before it are the same either way."""

    def run(chunks):
        parser, events = AgiParser(), []
        try:
            for chunk in chunks:
                events += parser.feed(chunk)
        except AgiProtocolError as error:
            return events + list(error.events), type(error), str(error)
        return events, None, ""

    lines = [line + b"\n" for line in stream.split(b"\n")[:-1]]
    assert run(lines) == run([stream]) == run([stream[:1], stream[1:]])
