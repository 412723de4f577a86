"""Command formatting: what res_agi's parse_args reads back is exactly the verb and arguments given."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.agi.protocol import MAX_COMMAND_BYTES, MAX_COMMAND_WORDS, format_command, quote_arg, split_command
from tests.agi.res_agi_args import parse_args
from tests.transcripts import agi_transcripts, read_transcript, server_lines

ALL_SERVER_LINES = sorted({line for name in agi_transcripts() for line in server_lines(read_transcript(name))})

# Commands whose arguments we can state, with the exact bytes our capture server sent for them.
CAPTURED = [
    (b"ANSWER", ("ANSWER",)),
    (b"NOOP", ("NOOP",)),
    (b"HANGUP", ("HANGUP",)),
    (b"answer", ("answer",)),
    (b"SET VARIABLE IVR_LINE 12315", ("SET VARIABLE", "IVR_LINE", "12315")),
    (b"SET VARIABLE IVR_LINE 12315", ("SET VARIABLE", "IVR_LINE", 12315)),
    (b"SET VARIABLE AFTER_HANGUP yes", ("SET VARIABLE", "AFTER_HANGUP", "yes")),
    (b'STREAM FILE hello-world ""', ("STREAM FILE", "hello-world", "")),
    (b"EXEC Queue hotline-12345", ("EXEC", "Queue", "hotline-12345")),
    (b"EXEC Queue hotline-12345,c", ("EXEC", "Queue", "hotline-12345,c")),
    (b"EXEC Queue hotline-empty-wait,,,,5", ("EXEC", "Queue", "hotline-empty-wait,,,,5")),
    (b"EXEC Dial Local/busy@test,10", ("EXEC", "Dial", "Local/busy@test,10")),
    (b"EXEC Playback lab-test-prompt", ("EXEC", "Playback", "lab-test-prompt")),
    (b"GET VARIABLE CALLERID(num)", ("GET VARIABLE", "CALLERID(num)")),
    (b"GET FULL VARIABLE ${CALLERID(all)}", ("GET FULL VARIABLE", "${CALLERID(all)}")),
    (b"GET DATA lab-test-prompt 2000 1", ("GET DATA", "lab-test-prompt", 2000, 1)),
    (b"WAIT FOR DIGIT 3000", ("WAIT FOR DIGIT", 3000)),
    (b'VERBOSE "after hangup" 1', ("VERBOSE", "after hangup", 1)),
]

# Lines where the capture server quoted an argument that needs no quotes; res_agi reads both forms the same.
QUOTED_WITHOUT_NEED = {b'VERBOSE "hello" 1', b'STREAM FILE lab-long-prompt "0123456789*#"'}


@pytest.mark.parametrize(("captured", "command"), CAPTURED)
def test_reproduces_captured_bytes(captured, command):
    assert captured in ALL_SERVER_LINES
    assert format_command(*command) == captured + b"\n"


@pytest.mark.parametrize("line", ALL_SERVER_LINES)
def test_every_captured_command_round_trips(line):
    words = parse_args(line)
    formatted = format_command(words[0].decode(), *(word.decode() for word in words[1:]))
    assert formatted.endswith(b"\n") and formatted.count(b"\n") == 1
    assert parse_args(formatted[:-1]) == words
    if line not in QUOTED_WITHOUT_NEED:
        assert formatted == line + b"\n"


def test_the_res_agi_copy_behaves_like_the_c():
    assert parse_args(b'STREAM FILE hello-world ""') == [b"STREAM", b"FILE", b"hello-world", b""]
    assert parse_args(b'VERBOSE "after hangup" 1') == [b"VERBOSE", b"after hangup", b"1"]
    assert parse_args(b"a  \t b") == [b"a", b"b"]
    assert parse_args(b"a\\ b") == [b"a b"]
    assert parse_args(b'"a"b "c d"e') == [b"ab", b"c de"]
    assert parse_args(b'"x\\"y\\\\z"') == [b'x"y\\z']
    assert parse_args(b"a,b|c") == [b"a,b|c"]


QUOTING = [
    ("plain", "plain"),
    ("hello world", '"hello world"'),
    ("tab\there", '"tab\there"'),
    ('say "hi"', '"say \\"hi\\""'),
    ('"', '"\\""'),
    ("C:\\prompts\\zh", '"C:\\\\prompts\\\\zh"'),
    ("ends with \\", '"ends with \\\\"'),
    ("", '""'),
    ("hotline-12345,c", "hotline-12345,c"),
    ("a,b c", '"a,b c"'),
    ("您好，欢迎致电12345", "您好，欢迎致电12345"),
    ("市场监管 12315", '"市场监管 12315"'),
    ("${CALLERID(num)}", "${CALLERID(num)}"),
    ("-1", "-1"),
]


@pytest.mark.parametrize(("value", "quoted"), QUOTING)
def test_quoting(value, quoted):
    assert quote_arg(value) == quoted
    line = format_command("SET VARIABLE", "X", value)
    assert line == f"SET VARIABLE X {quoted}\n".encode()
    assert parse_args(line[:-1]) == [b"SET", b"VARIABLE", b"X", value.encode()]


def test_chinese_text_is_utf8():
    assert format_command("VERBOSE", "您好", 1) == "VERBOSE 您好 1\n".encode()


@pytest.mark.parametrize("bad", ["\n", "a\nHANGUP", "x\r", "\r\nEXEC Queue other", "nul\0byte"])
def test_line_breaks_and_nul_are_rejected(bad):
    with pytest.raises(ValueError, match="argument 2 of SET VARIABLE contains"):
        format_command("SET VARIABLE", "X", bad)


@pytest.mark.parametrize("verb", ["", " ANSWER", "ANSWER ", "SET  VARIABLE", "ANSWER\n", "EXEC;", "答", "GET\tDATA"])
def test_bad_verbs_are_rejected(verb):
    with pytest.raises(ValueError, match="AGI verb"):
        format_command(verb)


@pytest.mark.parametrize("arg", [True, 1.5, None, b"bytes"])
def test_only_str_and_int_arguments(arg):
    with pytest.raises(TypeError, match="must be str or int"):
        format_command("VERBOSE", arg)


def test_unencodable_text_is_rejected():
    with pytest.raises(ValueError, match="UTF-8"):
        format_command("VERBOSE", "\ud800")


def test_longest_line_res_agi_reads_in_one_piece():
    head = b"VERBOSE "
    fits = "x" * (MAX_COMMAND_BYTES - len(head) - 1)
    assert len(format_command("VERBOSE", fits)) == MAX_COMMAND_BYTES
    with pytest.raises(ValueError, match="second command"):
        format_command("VERBOSE", fits + "x")
    with pytest.raises(ValueError, match="second command"):
        format_command("VERBOSE", "字" * 700)  # 2100 bytes in UTF-8


def test_too_many_words():
    format_command("EXEC", *["a"] * (MAX_COMMAND_WORDS - 1))
    with pytest.raises(ValueError, match="words"):
        format_command("EXEC", *["a"] * MAX_COMMAND_WORDS)


argument_text = st.text(st.characters(blacklist_characters="\n\r\0", blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=500, deadline=None)
@given(args=st.lists(st.one_of(argument_text, st.integers()), max_size=8))
def test_res_agi_reads_back_exactly_the_arguments(args):
    line = format_command("SET VARIABLE", *args)  # at most 8 * 40 * 4 bytes: always fits
    assert line.endswith(b"\n") and b"\n" not in line[:-1] and b"\r" not in line and b"\0" not in line
    assert parse_args(line[:-1]) == [b"SET", b"VARIABLE", *(str(arg).encode() for arg in args)]


@pytest.mark.parametrize("line", ALL_SERVER_LINES)
def test_split_command_reads_captured_commands_like_res_agi(line):
    assert split_command(line.decode()) == [word.decode() for word in parse_args(line)]


def test_split_command():
    assert split_command('STREAM FILE hello-world ""') == ["STREAM", "FILE", "hello-world", ""]
    assert split_command('VERBOSE "after hangup" 1') == ["VERBOSE", "after hangup", "1"]
    assert split_command("EXEC Queue hotline-12345,c") == ["EXEC", "Queue", "hotline-12345,c"]
    assert split_command('SET VARIABLE X "say \\"hi\\" \\\\ 您好"') == ["SET", "VARIABLE", "X", 'say "hi" \\ 您好']
    assert split_command("  ANSWER  ") == ["ANSWER"]
    assert split_command("") == []
    assert len(split_command("x " * 200)) == MAX_COMMAND_WORDS


@settings(max_examples=500, deadline=None)
@given(line=st.text(st.sampled_from(' \t"\\ab,您\x01'), max_size=40))
def test_split_command_matches_res_agi_on_any_line(line):
    assert split_command(line) == [word.decode() for word in parse_args(line.encode())]


@settings(max_examples=300, deadline=None)
@given(args=st.lists(argument_text, max_size=8))
def test_split_command_inverts_format_command(args):
    assert split_command(format_command("SET VARIABLE", *args)[:-1].decode()) == ["SET", "VARIABLE", *args]
