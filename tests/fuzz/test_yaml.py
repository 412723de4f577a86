"""The rules loader under hostile files: arbitrary bytes, the small rules file with bytes cut, inserted or changed,
deep nesting, alias expansion (billion laughs), long scalars and many keys. Only RulesError may come out, each
problem at a real position, and a limit that stops a file names itself.

tests/rules/test_validation.py has one hand-made file per limit; these targets generate them by the thousand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.rules.loader import load_rules
from ivr.rules.model import Rules
from ivr.rules.yamlsource import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, Problem, RulesError
from tests.conftest import SMALL_MANIFEST, SMALL_RULES
from tests.fuzz.common import FUZZ, bounded

RULES = SMALL_RULES.encode()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every example: the manifest beside a rules file each example writes over."""
    path = tmp_path_factory.mktemp("fuzz-yaml")
    (path / "prompts.yaml").write_text(SMALL_MANIFEST, encoding="utf-8")
    return path


def load(folder: Path, data: bytes) -> Rules | RulesError:
    path = folder / "rules.yaml"
    path.write_bytes(data)
    with bounded():
        try:
            return load_rules(path)
        except RulesError as error:
            assert error.problems, "a RulesError always says what is wrong"
            for problem in error.problems:
                assert problem.line >= 1 and problem.col >= 1 and problem.message
            return error


def messages(result: Rules | RulesError) -> str:
    return "\n".join(problem.message for problem in messages_of(result))


def test_a_control_character_is_one_problem_line_at_its_position(folder):
    """Found by the target below: every other problem is one `file:line:col: message` line."""
    (problem,) = messages_of(load(folder, "version: 1\nname: 名a\x00b\n".encode()))
    assert (problem.line, problem.col, problem.message) == (
        2,
        9,
        "YAML error: character #x0000: special characters are not allowed",
    )


@pytest.mark.parametrize("breaks", ["\n", "\r\n", "\r", "\u2028"])
def test_a_control_characters_line_counts_every_line_break_yaml_counts(folder, breaks):
    (problem,) = messages_of(load(folder, f"version: 1{breaks}x: 2{breaks}\x01".encode()))
    assert (problem.line, problem.col) == (3, 1)


def messages_of(result: Rules | RulesError) -> list[Problem]:
    assert isinstance(result, RulesError), "a hostile file was accepted"
    return result.problems


@FUZZ
@given(data=st.binary(max_size=4000))
def test_arbitrary_bytes_are_refused_with_rules_errors(folder, data):
    messages(load(folder, data))


HOSTILE = [
    b"\xff",
    b"\xc3",
    b"\x00",
    b"\t",
    b"&a ",
    b"*a ",
    b"&a [*a]",
    b"<<: {}\n",
    b"!!python/object:os.system ",
    b"!<tag:yaml.org,2002:str> ",
    b"? ",
    b"%YAML 1.1\n---\n",
    b"---\n",
    b"...\n",
    b'"\\x',
    b"'",
    b"{",
    b"[",
    b"- ",
    b": ",
    b"#",
    b"\n  ",
    b"\r",
    b"\xef\xbb\xbf",
    "一二三".encode(),
]


@st.composite
def edits(draw: st.DrawFn) -> bytes:
    """The small, valid rules file with a few cuts, inserts and replacements, as a bad edit or a torn write."""
    data = RULES
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 40)))
        insert = draw(st.sampled_from(HOSTILE) | st.binary(max_size=8))
        data = data[:start] + (b"" if draw(st.booleans()) and end > start else insert) + data[end:]
    return data


@FUZZ
@given(data=edits())
def test_edited_rules_load_or_are_refused_with_rules_errors(folder, data):
    load(folder, data)


def nested(depth: int, flow: bool) -> str:
    if flow:
        return "[" * depth + "x" + "]" * depth
    return "\n" + "".join("  " * level + "- \n" for level in range(depth - 1)) + "  " * depth + "- x"


@FUZZ
@given(depth=st.integers(1, 3 * MAX_DEPTH), flow=st.booleans(), in_rules=st.booleans())
def test_nesting_past_the_limit_is_refused_by_name(folder, depth, flow, in_rules):
    value = nested(depth, flow)
    data = (SMALL_RULES + f"extra: {value}\n") if in_rules else f"deep: {value}\n"
    found = messages(load(folder, data.encode()))
    levels = 1 + depth + 1  # the file's mapping, the lists, the scalar inside
    assert (f"nesting deeper than {MAX_DEPTH}" in found) == (levels > MAX_DEPTH)


def walked(width: int, levels: int) -> int:
    """Nodes the loader's walk visits in the alias file below: each alias is walked again where it is used."""
    size = 1 + width  # a0: a list of `width` scalars
    total = 1 + (levels + 1) + size  # the file's mapping, its keys, a0
    for _ in range(levels):
        size = 1 + width * size
        total += size
    return total


@FUZZ
@given(width=st.integers(2, 12), levels=st.integers(1, 9), in_rules=st.booleans())
def test_alias_expansion_past_the_limit_is_refused_by_name(folder, width, levels, in_rules):
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    prefix = SMALL_RULES if in_rules else ""
    found = messages(load(folder, (prefix + "\n".join(lines) + "\n").encode()))
    if walked(width, levels) > MAX_NODES:
        assert "aliases expand too far" in found
    elif walked(width, levels) + 1000 < MAX_NODES:  # the small rules file adds a few hundred nodes
        assert "aliases expand too far" not in found


@FUZZ
@given(
    length=st.sampled_from(sorted({0, 1, 2, 8191, 8192, 8193, 65535, 65536, 65537, 2**20 - 1, 2**20, 2**20 + 1}))
    | st.integers(0, 2000),
    quoted=st.booleans(),
    where=st.sampled_from(["key", "value", "line name"]),
)
def test_long_scalars_are_read_or_refused_by_size(folder, length, quoted, where):
    scalar = "x" * length
    scalar = f'"{scalar}"' if quoted else scalar or "''"
    if where == "key":
        data = SMALL_RULES + f"{scalar}: 1\n"
    elif where == "value":
        data = SMALL_RULES + f"extra: {scalar}\n"
    else:
        data = SMALL_RULES.replace("name_en: Science\n", f"name_en: {scalar}\n", 1)
    result = load(folder, data.encode())
    if len(data.encode()) > MAX_FILE_BYTES:
        assert f"file is larger than {MAX_FILE_BYTES} bytes" in messages(result)
    elif where == "line name":
        assert isinstance(result, Rules) == (length > 0), "a long name is a name; an empty one is refused"


@FUZZ
@given(count=st.sampled_from([1000, 5000]) | st.integers(1, 300), flow=st.booleans(), in_departments=st.booleans())
def test_many_keys_are_each_reported(folder, count, flow, in_departments):
    keys = [f"k{i}" for i in range(count)]
    if in_departments:
        data = SMALL_RULES.replace("departments:\n", "departments:\n" + "".join(f"  {k}: v\n" for k in keys), 1)
        assert messages(load(folder, data.encode())).count("must be a mapping") == count
        return
    body = "{" + ", ".join(f"{key}: v" for key in keys) + "}" if flow else "\n" + "".join(f"  {k}: v\n" for k in keys)
    assert "unknown key 'extra'" in messages(load(folder, (SMALL_RULES + f"extra: {body}\n").encode()))
