"""The parser against every captured Asterisk 22 FastAGI session: events, their order, and the values in them."""

from __future__ import annotations

import pytest

from ivr.agi.protocol import AgiEnvironment, AgiParser, Event, Hangup, Reply
from tests.transcripts import ASTERISK, agi_transcripts, asterisk_stream, read_transcript, server_lines

NAMES = agi_transcripts()  # raises at collection when shared/asterisk-transcripts is missing

# E = environment, R = reply, H = HANGUP, read off the transcripts by hand.
EXPECTED_KINDS = {
    "agi-01-normal-flow.txt": "E" + "R" * 8 + "H",
    "agi-01b-dtmf.txt": "E" + "R" * 7 + "H",
    "agi-02-queue-connect.txt": "E" + "R" * 8 + "H",
    "agi-02b-queue-connect-continue.txt": "E" + "R" * 9 + "H",
    "agi-03-dial-busy-noanswer.txt": "E" + "R" * 10 + "H",
    "agi-04a-caller-hangup-during-stream.txt": "ERRH" + "R" * 9 + "H",
    "agi-04b-ami-hangup-during-stream.txt": "ERRH" + "R" * 9 + "H",
    "agi-04c-hangup-while-agi-idle.txt": "ERHRRRH",
    "agi-05-invalid-and-bad-syntax.txt": "E" + "R" * 12 + "H",
    "agi-07a-queue-empty-joinempty-no.txt": "ERRRRH",
    "agi-07b-queue-empty-leavewhenempty.txt": "ERRRRH",
    "agi-07c-queue-empty-timeout.txt": "ERRRRH",
    "agi-07d-queue-nonexistent.txt": "ERRRRH",
    "agi-08-ami-hangup-while-in-queue.txt": "ERRHRRH",
    "agi-09-asterisk-stopped-during-call.txt": "ERRHRRH",
}

# README fact 1: the 22 variables, in this order.
ENV_NAMES = [
    "agi_network", "agi_network_script", "agi_request", "agi_channel", "agi_language", "agi_type", "agi_uniqueid",
    "agi_version", "agi_callerid", "agi_calleridname", "agi_callingpres", "agi_callingani2", "agi_callington",
    "agi_callingtns", "agi_dnid", "agi_rdnis", "agi_context", "agi_extension", "agi_priority", "agi_enhanced",
    "agi_accountcode", "agi_threadid",
]  # fmt: skip

DEAD = "Command Not Permitted on a dead channel or intercept routine"


def kinds(events: list[Event]) -> str:
    return "".join({AgiEnvironment: "E", Reply: "R", Hangup: "H"}[type(event)] for event in events)


def parse(name: str) -> list[Event]:
    parser = AgiParser()
    events = parser.feed(asterisk_stream(read_transcript(name)))
    parser.feed_eof()
    assert parser.pending == 0
    return events


def dialogue(name: str) -> tuple[AgiEnvironment, list[tuple[bytes, Reply]], list[bytes | None]]:
    """Replays the session in wire order, one Asterisk line at a time, pairing each reply with the oldest
    command still waiting. Also returns, for each HANGUP, the command that was waiting for its reply (or None)."""
    parser = AgiParser()
    waiting: list[bytes] = []
    pairs: list[tuple[bytes, Reply]] = []
    hangups: list[bytes | None] = []
    env = None
    for direction, line in read_transcript(name):
        if direction != ASTERISK:
            waiting.append(line)
            continue
        for event in parser.feed(line + b"\n"):
            if isinstance(event, AgiEnvironment):
                assert env is None and not pairs and not waiting
                env = event
            elif isinstance(event, Hangup):
                hangups.append(waiting[0] if waiting else None)
            else:
                assert waiting, f"a reply with no command waiting: {event.raw!r}"
                pairs.append((waiting.pop(0), event))
    assert env is not None and not waiting
    return env, pairs, hangups


def fields(reply: Reply) -> tuple[int, str, str | None, int | None]:
    return reply.code, reply.result, reply.data, reply.endpos


def test_every_transcript_has_an_expectation():
    assert set(EXPECTED_KINDS) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_events_match_the_transcript(name):
    events = parse(name)
    assert kinds(events) == EXPECTED_KINDS[name]
    # exactly one reply per command, and the session ends with the HANGUP sent after our half-close
    assert kinds(events).count("R") == len(server_lines(read_transcript(name)))
    assert isinstance(events[-1], Hangup)


@pytest.mark.parametrize("name", NAMES)
def test_environment(name):
    env = parse(name)[0]
    assert isinstance(env, AgiEnvironment)
    assert list(env.variables) == ENV_NAMES
    line = env.extension
    assert line.isdigit() and len(line) == 4
    assert env.network_script == f"route?line={line}"
    assert env.request == f"agi://127.0.0.1:4573/route?line={line}"
    assert env.channel.startswith(f"Local/{line}@from-pstn-") and env.channel.endswith(";2")
    assert env.get("agi_accountcode") == "" and env.get("accountcode") == ""
    assert (env.callerid, env.calleridname, env.callingpres) == ("13800138000", "PSTN Caller", 0)
    assert (env.dnid, env.rdnis) == ("unknown", "unknown")
    assert (env.context, env.language, env.version) == ("from-pstn", "en", "22.10.1")
    assert env.get("type") == "Local" and env.get("enhanced") == "0.0" and env.get("priority") == "2"
    assert env.args == ()
    assert env.uniqueid.replace(".", "").isdigit()
    assert env.get("agi_no_such_variable") is None


def test_normal_flow_values():
    env, pairs, hangups = dialogue("agi-01-normal-flow.txt")
    assert env.uniqueid == "1795849780.1"
    assert [(command, fields(reply)) for command, reply in pairs] == [
        (b"ANSWER", (200, "0", None, None)),
        (b"GET VARIABLE CALLERID(num)", (200, "1", "13800138000", None)),
        (b"SET VARIABLE IVR_LINE 12315", (200, "1", None, None)),
        (b'STREAM FILE hello-world ""', (200, "0", None, 11234)),
        (b'STREAM FILE nonexistent-file ""', (200, "-1", None, 0)),
        (b"EXEC Playback lab-test-prompt", (200, "0", None, None)),
        (b"GET DATA lab-test-prompt 2000 1", (200, "", "timeout", None)),
        (b'VERBOSE "hello" 1', (200, "1", None, None)),
    ]
    timeout = pairs[6][1]
    assert timeout.raw == "200 result= (timeout)" and timeout.result_int is None
    assert pairs[4][1].result_int == -1 and pairs[4][1].raw == "200 result=-1 endpos=0"
    assert hangups == [None]  # only the one after our half-close


def test_dtmf_values():
    _, pairs, _ = dialogue("agi-01b-dtmf.txt")
    assert [(command, fields(reply)) for command, reply in pairs] == [
        (b"ANSWER", (200, "0", None, None)),
        (b'STREAM FILE lab-long-prompt "0123456789*#"', (200, "53", None, 9120)),
        (b"GET DATA lab-test-prompt 5000 4", (200, "12", None, None)),
        (b"WAIT FOR DIGIT 3000", (200, "55", None, None)),
        (b"WAIT FOR DIGIT 1000", (200, "0", None, None)),
        (b"GET DATA lab-test-prompt 1500 3", (200, "", "timeout", None)),
        (b"SET VARIABLE IVR_LINE 12315", (200, "1", None, None)),
    ]
    assert chr(pairs[1][1].result_int) == "5" and chr(pairs[3][1].result_int) == "7"
    assert pairs[2][1].result_int == 12


def queue_values(name: str) -> dict[str, str | None]:
    _, pairs, _ = dialogue(name)
    return {
        command.split()[-1].decode(): reply.data
        for command, reply in pairs
        if command.startswith(b"GET VARIABLE") and reply.result_int in (0, 1)
    }


def exec_result(name: str) -> int | None:
    _, pairs, _ = dialogue(name)
    (reply,) = [reply for command, reply in pairs if command.startswith(b"EXEC Queue")]
    return reply.result_int


def test_queue_connect_values():
    assert exec_result("agi-02-queue-connect.txt") == -1
    assert queue_values("agi-02-queue-connect.txt") == {
        "QUEUESTATUS": None, "ANSWEREDTIME": "5", "DIALEDTIME": "5", "QUEUEWAIT": "0",
        "DIALEDPEERNUMBER": None, "ABANDONED": None,
    }  # fmt: skip
    assert exec_result("agi-02b-queue-connect-continue.txt") == 0
    assert queue_values("agi-02b-queue-connect-continue.txt")["QUEUESTATUS"] == "CONTINUE"


@pytest.mark.parametrize(
    ("name", "status", "abandoned"),
    [
        ("agi-07a-queue-empty-joinempty-no.txt", "JOINEMPTY", None),
        ("agi-07b-queue-empty-leavewhenempty.txt", "LEAVEEMPTY", "TRUE"),
        ("agi-07c-queue-empty-timeout.txt", "TIMEOUT", "TRUE"),
        ("agi-07d-queue-nonexistent.txt", "UNKNOWN", None),
    ],
)
def test_empty_queue_values(name, status, abandoned):
    assert exec_result(name) == 0
    assert queue_values(name) == {"QUEUESTATUS": status, "ABANDONED": abandoned}


def test_dial_values():
    _, pairs, _ = dialogue("agi-03-dial-busy-noanswer.txt")
    statuses = [reply.data for command, reply in pairs if command == b"GET VARIABLE DIALSTATUS"]
    assert statuses == ["BUSY", "NOANSWER", "CONGESTION", "CHANUNAVAIL"]
    assert all(fields(reply) == (200, "0", None, None) for command, reply in pairs if command.startswith(b"EXEC"))


@pytest.mark.parametrize(
    ("name", "endpos"),
    [("agi-04a-caller-hangup-during-stream.txt", 28000), ("agi-04b-ami-hangup-during-stream.txt", 16160)],
)
def test_hangup_during_stream(name, endpos):
    events = parse(name)
    assert fields(events[2]) == (200, "-1", None, endpos)
    assert isinstance(events[3], Hangup)
    _, pairs, hangups = dialogue(name)
    assert hangups == [None, None]  # after the STREAM FILE reply, and after our half-close
    refused = [command for command, reply in pairs if reply.code == 511]
    assert refused == [b'STREAM FILE hello-world ""', b"ANSWER", b"GET DATA lab-test-prompt 2000 1", b"HANGUP"]
    for _, reply in pairs:
        if reply.code == 511:
            assert (reply.result, reply.data, reply.result_int, reply.extra) == ("", None, None, DEAD)
            assert reply.raw == f"511 {DEAD}" and not reply.ok
    still_working = {command: fields(reply) for command, reply in pairs[2:] if reply.code == 200}
    assert still_working == {
        b"GET VARIABLE CALLERID(num)": (200, "1", "13800138000", None),
        b"SET VARIABLE AFTER_HANGUP yes": (200, "1", None, None),
        b"EXEC Playback hello-world": (200, "0", None, None),
        b'VERBOSE "after hangup" 1': (200, "1", None, None),
        b"NOOP": (200, "0", None, None),
    }


def test_unsolicited_hangup_while_idle():
    _, pairs, hangups = dialogue("agi-04c-hangup-while-agi-idle.txt")
    assert hangups == [None, None]
    assert [(command, reply.code, reply.result) for command, reply in pairs] == [
        (b"ANSWER", 200, "0"),
        (b"GET VARIABLE CALLERID(num)", 200, "1"),
        (b'STREAM FILE hello-world ""', 511, ""),
        (b"EXEC Queue hotline-12345", 200, "-1"),
    ]


@pytest.mark.parametrize("name", ["agi-08-ami-hangup-while-in-queue.txt", "agi-09-asterisk-stopped-during-call.txt"])
def test_hangup_between_a_command_and_its_reply(name):
    _, pairs, hangups = dialogue(name)
    assert hangups == [b"GET VARIABLE QUEUESTATUS", None]
    assert [(command, fields(reply)) for command, reply in pairs][1:] == [
        (pairs[1][0], (200, "-1", None, None)),
        (b"GET VARIABLE QUEUESTATUS", (200, "0", None, None)),
        (b"GET VARIABLE ABANDONED", (200, "1", "TRUE", None)),
    ]


STREAM_FILE_USAGE = [
    "Send the given file, allowing playback to be interrupted by the given digits, if any. Returns "
    "<literal>0</literal> if playback completes without a digit being pressed, or the ASCII numerical value of "
    "the digit if one was pressed, or <literal>-1</literal> on error or if the channel was disconnected. If "
    "musiconhold is playing before calling stream file it will be automatically stopped and will not be "
    "restarted after completion.",
    "It sets the following channel variables upon completion:",
    "<variable>PLAYBACKSTATUS</variable>: The status of the playback attempt as a text string.",
    "    <value>SUCCESS</value>",
    "    <value>FAILED</value>",
]


def test_invalid_and_bad_syntax():
    _, pairs, _ = dialogue("agi-05-invalid-and-bad-syntax.txt")
    by_command = dict(pairs)
    unknown = by_command[b"FOO BAR"]
    assert (unknown.code, unknown.result, unknown.extra, unknown.raw) == (
        510,
        "",
        "Invalid or unknown command",
        "510 Invalid or unknown command",
    )
    usage = by_command[b"STREAM FILE"]
    assert (usage.code, usage.result, usage.data, usage.endpos) == (520, "", None, None)
    assert usage.extra == "Invalid command syntax.  Proper usage follows:"
    assert usage.usage == "\n".join(STREAM_FILE_USAGE)
    assert usage.raw.split("\n") == [
        "520-Invalid command syntax.  Proper usage follows:",
        *STREAM_FILE_USAGE,
        "520 End of proper usage.",
    ]
    assert by_command[b"GET DATA"].usage == (
        "Stream the given <replaceable>file</replaceable>, and receive DTMF data.\n"
        "Returns the digits received from the channel at the other end."
    )
    assert by_command[b"SAY NUMBER"].usage.startswith("Say a given number, returning early")
    assert by_command[b"EXEC"].usage.count("\n") == 2
    assert by_command[b"EXEC"].usage.endswith("<literal>yes</literal>.")
    assert fields(by_command[b"EXEC NoSuchApplication foo"]) == (200, "-2", None, None)
    assert fields(by_command[b"answer"]) == (200, "0", None, None)
    assert fields(by_command[b"get variable CALLERID(num)"]) == (200, "1", "13800138000", None)
    assert fields(by_command[b"GET VARIABLE NOSUCHVAR"]) == (200, "0", None, None)
    assert by_command[b"GET FULL VARIABLE ${CALLERID(all)}"].data == '"PSTN Caller" <13800138000>'
    assert [reply.code for _, reply in pairs] == [200, 510, 520, 520, 520, 520, 200, 200, 200, 200, 200, 200]


def feed_in_chunks(data: bytes, size: int) -> list[Event]:
    parser = AgiParser()
    events = []
    for start in range(0, len(data), size):
        events += parser.feed(data[start : start + size])
    parser.feed_eof()
    return events


@pytest.mark.parametrize("name", NAMES)
def test_any_chunk_size_gives_the_same_events(name):
    data = asterisk_stream(read_transcript(name))
    whole = parse(name)
    for size in range(1, 65):
        assert feed_in_chunks(data, size) == whole, f"chunks of {size} bytes"
    assert feed_in_chunks(data, len(data)) == whole


@pytest.mark.parametrize("name", NAMES)
def test_crlf_gives_the_same_events(name):
    data = asterisk_stream(read_transcript(name)).replace(b"\n", b"\r\n")
    assert feed_in_chunks(data, 7) == parse(name)
