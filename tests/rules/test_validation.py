"""Every kind of mistake an admin can make in the rules file gets a precise file:line:col message."""

from __future__ import annotations

import os
import re

import pytest

from ivr.rules.loader import load_rules
from ivr.rules.yamlsource import MAX_DEPTH, MAX_FILE_BYTES
from tests.conftest import SHIPPED_RULES, SMALL_MANIFEST, SMALL_RULES
from tests.rules.reporting import assert_reported_at, problems


def test_small_rules_are_valid(write_rules):
    rules = load_rules(write_rules())
    assert set(rules.lines) == {"12345", "12396", "12333", "12315"}


# (replace this, with that, the problem expected on the line of `at` ("text@N": its N-th line), message fragment)
CASES = [
    pytest.param(
        "    timeout: 300",
        "    timout: 300",
        "timout: 300",
        "unknown key 'timout'; did you mean 'timeout'?",
        id="typo-key",
    ),
    pytest.param(
        "    timeout: 300",
        "    timeout: soon",
        "timeout: soon",
        "must be a whole number from 5 to 3600",
        id="wrong-type-int",
    ),
    pytest.param("    timeout: 300", "    timeout: 99999", "timeout: 99999", "allowed: 5 to 3600", id="out-of-range"),
    pytest.param(
        "    prompts: [welcome]",
        "    prompts: welcome",
        "prompts: welcome",
        "prompts must be a list",
        id="wrong-type-list",
    ),
    pytest.param('  "12315":', '  "123l5":', '"123l5"', "line number '123l5' must be digits only", id="not-digits"),
    pytest.param(
        "    mode: dual-merged",
        "    mode: dual-merge",
        "mode: dual-merge",
        "did you mean 'dual-merged'?",
        id="unknown-mode",
    ),
    pytest.param(
        "    destination: seat-12333",
        "    destination: seat-12334",
        "seat-12334",
        "destination 'seat-12334' is not a defined queue or seat",
        id="undefined-seat",
    ),
    pytest.param(
        '    destination: hotline-12345\n  "12396"',
        '    destination: hotline-1234\n  "12396"',
        "destination: hotline-1234",
        "destination 'hotline-1234' is not a defined queue or seat",
        id="undefined-queue",
    ),
    pytest.param(
        "    prompts: [welcome]",
        "    prompts: [welcom]",
        "[welcom]",
        "prompt 'welcom' is not defined in the prompt manifest",
        id="undefined-prompt",
    ),
    pytest.param(
        "    fallback: hotline-12345",
        "    fallback: nowhere",
        "  seat-12333:",
        "fallback 'nowhere' is not a defined queue, seat or announcement",
        id="chain-ends-nowhere",
    ),
    pytest.param("      ends: 2021-11-30", "      ends: 2021-02-30", "2021-02-30", "must be YYYY-MM-DD", id="bad-date"),
    pytest.param(
        "      ends: 2021-11-30",
        "      ends: 2021-08-01",
        "2021-08-01",
        "the transition ends before it starts",
        id="transition-backwards",
    ),
    pytest.param('from: "09:00"', 'from: "9h"', '"9h"', "from must be HH:MM", id="bad-time"),
    pytest.param('to: "17:00"', 'to: "08:00"', '"08:00"', "opening hours end before they start", id="hours-backwards"),
    pytest.param("days: mon-fri", "days: mon-fry", "mon-fry", "days such as mon-fri", id="bad-days"),
    pytest.param(
        '  "12315":',
        '  "110":',
        '  "110":',
        "110 is an emergency number: it must never be routed",
        id="emergency-as-line",
    ),
    pytest.param(
        "    mode: main\n",
        '    mode: main\n    aliases: ["120"]\n',
        '["120"]',
        "120 is an emergency number",
        id="emergency-as-alias",
    ),
    pytest.param(
        "    mode: main\n",
        '    mode: main\n    aliases: ["12396"]\n',
        '["12396"]',
        "number 12396 is used twice",
        id="alias-duplicates-number",
    ),
    pytest.param('  "12315":', '  "12333":', '"12333"@2', "'12333' is defined twice", id="same-number-twice"),
    pytest.param(
        "    mode: dual-merged",
        "    mode: dual-transfer",
        "destination: hotline-12345@3",
        "its destination must be a seat",
        id="mode-destination-mismatch",
    ),
    pytest.param(
        "    connect: false", "    connect: maybe", "connect: maybe", "must be true or false", id="bad-boolean"
    ),
    pytest.param(
        "timezone: Asia/Shanghai", "timezone: Asia/Beijing", "Asia/Beijing", "must be a time zone", id="bad-zone"
    ),
    pytest.param(
        '  numbers: {"110": police,',
        "  numbers: {",
        "numbers: {",
        "emergency.numbers must include 110",
        id="emergency-list-incomplete",
    ),
    pytest.param(
        '  area_codes: ["0871"]', '  area_codes: ["871"]', '"871"', "with its leading 0", id="area-code-without-zero"
    ),
    pytest.param(
        "    dial: PJSIP/12333@dept",
        "    dial: PJSIP/12333@dept,t",
        "dial:",
        "an Asterisk dial string",
        id="dial-string-injection",
    ),
]


@pytest.mark.parametrize(("old", "new", "at", "message"), CASES)
def test_each_mistake_is_reported_where_it_is(write_rules, old, new, at, message):
    assert old in SMALL_RULES, old
    text = SMALL_RULES.replace(old, new, 1)
    assert_reported_at(write_rules(text), text, at, message)


def test_fallback_loop_is_reported(write_rules):
    text = SMALL_RULES.replace("    fallback: all-busy", "    fallback: seat-12333")
    found = problems(write_rules(text))
    assert any("fallback chain loops: hotline-12345 -> seat-12333 -> hotline-12345" in p for p in found), found


def test_missing_key_points_at_the_mapping(write_rules):
    text = SMALL_RULES.replace("    ring_timeout: 20\n", "")
    found = problems(write_rules(text))
    assert any(re.search(r":\d+:\d+: seat 'seat-12333': missing key 'ring_timeout'$", p) for p in found), found


def test_all_problems_are_reported_at_once(write_rules):
    text = SMALL_RULES.replace("timeout: 300", "timeout: x").replace("prompts: [welcome]", "prompts: [nope]")
    text = text.replace("mode: dual-merged", "mode: merged")
    found = problems(write_rules(text))
    assert len(found) >= 3
    assert found == sorted(found, key=lambda p: (int(p.split(":")[1]), int(p.split(":")[2])))


def test_yaml_syntax_error_has_line_and_column(write_rules):
    text = SMALL_RULES.replace("    queue: hotline-12345", "    queue: [hotline-12345")
    found = problems(write_rules(text))
    assert len(found) == 1
    assert "YAML syntax error" in found[0]
    assert re.match(r".*rules\.yaml:\d+:\d+: ", found[0])


def test_a_quote_left_open_is_reported_where_it_opens(tmp_path):
    """PyYAML reports the token after the runaway string, at the next quote of the file (the shipped rules: 118
    lines below, in a comment); the admin needs the line where the quote was opened."""
    lines = SHIPPED_RULES.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if "name_en: City 12345 hotline management office" in line)
    lines[at] = lines[at].replace("name_en: ", 'name_en: "')
    path = tmp_path / "routing_rules.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (found,) = problems(path)
    column = lines[at].index('"') + 1
    assert re.fullmatch(rf".*rules\.yaml:{at + 1}:{column}: YAML syntax error: this quoted string runs on to line \d+ "
                        r"\(a closing quote missing\?\)", found), found  # fmt: skip


def test_manifest_problems_name_the_manifest(write_rules):
    manifest = SMALL_MANIFEST.replace("welcome: {zh: 您好, en: Hello}", "welcome: {zh: 您好}")
    path = write_rules(manifest=manifest)
    found = problems(path)
    assert any(p.startswith(f"{path.parent / 'prompts.yaml'}:2:") and "missing key 'en'" in p for p in found), found


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"version: 1\nname: \xff\xfe\n", "not valid UTF-8", id="invalid-utf8"),
        pytest.param(b"a: !!python/object:os.system {}\n", "YAML tag", id="python-tag"),
        pytest.param(b"x: &a {k: 1}\ny:\n  <<: *a\n", "merge keys", id="merge-key"),
        pytest.param(b"[" * (MAX_DEPTH + 5) + b"]" * (MAX_DEPTH + 5), "nesting deeper", id="deep"),
        pytest.param(b"- x\n" * 3, "rules file must be a mapping", id="not-a-mapping"),
    ],
)
def test_hostile_or_broken_files_are_refused_cleanly(tmp_path, content, message):
    path = tmp_path / "rules.yaml"
    path.write_bytes(content)
    found = problems(path)
    assert any(message in p for p in found), found


def test_invalid_utf8_position_is_reported(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_bytes(b"version: 1\nname: \xff\n")
    assert problems(path) == [f"{path}:2:7: not valid UTF-8"]


def test_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    path = tmp_path / "rules.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert any("aliases expand too far" in p for p in problems(path))


def test_oversized_file_is_refused(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 10))
    assert problems(path) == [f"{path}:1:1: file is larger than {MAX_FILE_BYTES} bytes"]


def test_missing_file(tmp_path):
    found = problems(tmp_path / "nope.yaml")
    assert len(found) == 1 and "cannot read the file" in found[0]


def test_a_fifo_is_refused_instead_of_waited_on(write_rules):
    """Nobody will ever write into it: reading would hang `ivr check` and every reload, as the manifest too."""
    rules = write_rules()
    fifo = rules.parent / "pipe.yaml"
    os.mkfifo(fifo)
    assert problems(fifo) == [f"{fifo}:1:1: not a regular file (a FIFO or a device)"]
    (rules.parent / "prompts.yaml").unlink()
    os.mkfifo(rules.parent / "prompts.yaml")
    assert [p for p in problems(rules) if "not a regular file" in p], problems(rules)


def test_yes_no_and_leading_zeros_are_not_reinterpreted(write_rules):
    """YAML 1.1 would read `connect: no` as False (fine) but 0871 as an octal number: we read raw text."""
    text = SMALL_RULES.replace('area_codes: ["0871"]', "area_codes: [0871]").replace("connect: false", "connect: no")
    rules = load_rules(write_rules(text))
    assert rules.numbering.area_codes == ("0871",)
    assert rules.lines["12396"].transition.after.connect is False
