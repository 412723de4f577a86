"""`ivr diff` on pairs of rules files: each change an admin makes under pressure, and what callers get from it."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.admin.diff import NO_CHANGE, RulesDiff, diff_rules, render
from ivr.rules.loader import load_rules
from tests.admin.command import ivr
from tests.conftest import SHIPPED_RULES, SMALL_MANIFEST, SMALL_RULES

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=ZONE)
SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=ZONE)

ABSORBED_12396 = """\
    mode: absorbed
    prompts: [transition-12396]
    destination: hotline-12345
    transition:
      starts: 2021-09-01
      ends: 2021-11-30
      after:
        prompts: [stopped-12396]
        connect: false
"""
SEAT_12333 = """\
  seat-12333:
    dial: PJSIP/12333@dept
    name_zh: 人社座席
    name_en: HR seat
    ring_timeout: 20
    hours:
      - {days: mon-fri, from: "09:00", to: "17:00"}
    unavailable_prompt: dept-unavailable
    fallback: hotline-12345
"""
LINE_12333 = """\
    mode: dual-transfer
    prompts: []
    destination: seat-12333
"""
QUEUE_KEY = "  hotline-12345:\n    queue: hotline-12345\n"


def edit(*replacements: tuple[str, str]) -> str:
    text = SMALL_RULES
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text


SEAT_NOW_QUEUE = "department seat seat-12333 → 12345 queue hotline-12345"
QUEUE_RENAMED = "12345 queue hotline-12345 → 12345 queue hotline-main"

# (what the admin did, NEW, [(number, when, in short)], [tag changes]); OLD is SMALL_RULES.
CASES = [
    (
        "an absorbed line becomes dual-merged",
        edit((ABSORBED_12396, "    mode: dual-merged\n    prompts: []\n    destination: hotline-12345\n")),
        [
            ("12396", "until 2021-12-01 00:00", "drops play transition-12396"),
            ("12396", "from 2021-12-01 00:00", "no one (an instruction, then hang up) → 12345 queue hotline-12345"),
        ],
        ["12396: mode absorbed → dual-merged"],
    ),
    (
        "a seat closes its afternoons",
        edit(('to: "17:00"', 'to: "12:00"')),
        [("12333", "mon-fri 12:00-17:00", SEAT_NOW_QUEUE)],
        [],
    ),
    (
        "a department closes its seat: the line is answered by 12345",
        edit(
            ("seats:\n" + SEAT_12333, ""),
            (LINE_12333, "    mode: dual-merged\n    prompts: []\n    destination: hotline-12345\n"),
        ),
        [
            ("12333", "outside mon-fri 09:00-17:00", "drops play dept-unavailable"),
            ("12333", "mon-fri 09:00-17:00", SEAT_NOW_QUEUE),
        ],
        ["12333: mode dual-transfer → dual-merged"],
    ),
    (
        "a transition period is extended by a month",
        edit(("ends: 2021-11-30", "ends: 2021-12-31")),
        [
            (
                "12396",
                "from 2021-12-01 00:00 until 2022-01-01 00:00",
                "no one (an instruction, then hang up) → 12345 queue hotline-12345",
            )
        ],
        [],
    ),
    (
        "a transition starts later",
        edit(("starts: 2021-09-01", "starts: 2021-10-01")),
        [],
        [],
    ),
    (
        "a queue is renamed, in the file and in Asterisk",
        SMALL_RULES.replace("hotline-12345", "hotline-main"),
        [
            ("12345", "at all times", QUEUE_RENAMED),
            ("12396", "until 2021-12-01 00:00", QUEUE_RENAMED),
            ("12333", "outside mon-fri 09:00-17:00", QUEUE_RENAMED),
            ("12333", "mon-fri 09:00-17:00", "queue hotline-12345 (300 s) → queue hotline-main (300 s)"),
            ("12315", "at all times", QUEUE_RENAMED),
        ],
        [],
    ),
    (
        "a queue is renamed in the file only: the same Asterisk queue answers",
        edit((QUEUE_KEY, "  agents:\n    queue: hotline-12345\n"))
        .replace("destination: hotline-12345", "destination: agents")
        .replace("fallback: hotline-12345", "fallback: agents"),
        [],
        [],
    ),
    (
        "a queue waits less",
        edit(("timeout: 300", "timeout: 120")),
        [
            ("12345", "at all times", "queue hotline-12345 (300 s) → queue hotline-12345 (120 s)"),
            ("12396", "until 2021-12-01 00:00", "queue hotline-12345 (300 s) → queue hotline-12345 (120 s)"),
            ("12333", "outside mon-fri 09:00-17:00", "queue hotline-12345 (300 s) → queue hotline-12345 (120 s)"),
            ("12333", "mon-fri 09:00-17:00", "queue hotline-12345 (300 s) → queue hotline-12345 (120 s)"),
            ("12315", "at all times", "queue hotline-12345 (300 s) → queue hotline-12345 (120 s)"),
        ],
        [],
    ),
    (
        "a seat gets a new dial string",
        edit(("PJSIP/12333@dept", "PJSIP/12333@dept-new")),
        [("12333", "mon-fri 09:00-17:00", "ring seat seat-12333 (20 s): dial PJSIP/12333@dept → PJSIP/12333@dept-new")],
        [],
    ),
    (
        "a line is dropped from the file: it is routed as an unknown number, as 12345",
        edit(
            (
                '  "12315":\n    name_zh: 市场\n    name_en: Market\n',
                '  "12999":\n    name_zh: 市场\n    name_en: Market\n',
            )
        ),
        [("12999", "at all times", "drops play welcome"), ("12315", "at all times", "adds play welcome")],
        [],
    ),
    (
        "a line moves to another department: agents and tickets see it, callers do not",
        edit(("    department: science\n    mode: dual-merged", "    department: hotline\n    mode: dual-merged")),
        [],
        ["12315: department science → hotline"],
    ),
    (
        "a line becomes an emergency number",
        edit(('"122": traffic police}', '"122": traffic police, "12315": market}'), ('  "12315":\n', '  "12316":\n')),
        [
            ("12316", "at all times", "drops play welcome"),
            ("12315", "at all times", "12345 queue hotline-12345 → never routed (emergency context emergency-out)"),
        ],
        [],
    ),
    ("nothing changes but a comment", edit(("version: 1\n", "# checked by the admin\nversion: 1\n")), [], []),
]


def changes(diff: RulesDiff) -> list[tuple[str, str, str]]:
    return [
        (change.number, "; ".join(c.describe(diff.zone, diff.week) for c in change.when), change.summary)
        for change in diff.routes
    ]


@pytest.mark.parametrize(("what", "new", "expected", "tags"), CASES, ids=[case[0] for case in CASES])
def test_diff_of_a_change(rules_pair, what, new, expected, tags):
    old_path, new_path = rules_pair(new)
    diff = diff_rules(load_rules(old_path), load_rules(new_path), MONDAY_10)
    assert changes(diff) == expected
    assert [f"{tag.number}: {'; '.join(tag.changes)}" for tag in diff.tags] == tags
    text = render(diff, "now")
    if not expected and not tags:
        assert text == [NO_CHANGE]
    else:
        assert text[-1] != NO_CHANGE


def test_a_dropped_line_and_a_new_one_say_so(rules_pair):
    old_path, new_path = rules_pair(edit(('  "12315":\n', '  "12999":\n')))
    text = render(diff_rules(load_rules(old_path), load_rules(new_path), MONDAY_10), "now")
    headers = [line for line in text if line.endswith(":") and not line.startswith(" ")]
    assert headers == [
        "12999 (new: dual-merged, science), at all times ← now:",
        "12315 (no longer a line: was dual-merged, science), at all times ← now:",
    ]


def test_a_prompt_with_a_new_text_is_a_change(rules_pair, tmp_path):
    old_path, new_path = rules_pair(edit(("prompt_manifest: prompts.yaml", "prompt_manifest: new/prompts.yaml")))
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "prompts.yaml").write_text(SMALL_MANIFEST.replace("您好", "您好，请讲"), encoding="utf-8")
    diff = diff_rules(load_rules(old_path), load_rules(new_path), MONDAY_10)
    assert changes(diff) == [("12345", "at all times", "play welcome: text_zh 您好 → 您好，请讲")]


def test_changes_are_marked_when_they_hold_at_the_time_asked_about(rules_pair):
    old_path, new_path = rules_pair(edit(('to: "17:00"', 'to: "12:00"')))
    old, new = load_rules(old_path), load_rules(new_path)
    on_monday = render(diff_rules(old, new, MONDAY_10.replace(hour=13)), "2026-11-30 13:00")
    assert on_monday[0] == "12333 (dual-transfer, science), mon-fri 12:00-17:00 ← 2026-11-30 13:00:"
    assert on_monday[-1] == "1 number changes for callers, 1 of them at 2026-11-30 13:00"
    on_saturday = render(diff_rules(old, new, SATURDAY_10), "now")
    assert on_saturday[0] == "12333 (dual-transfer, science), mon-fri 12:00-17:00:"
    assert on_saturday[-1] == "1 number changes for callers, none of them now"


def test_a_period_over_before_the_time_asked_about_reads_past(rules_pair):
    old_path, new_path = rules_pair(edit(("ends: 2021-11-30", "ends: 2021-12-31")))
    old, new = load_rules(old_path), load_rules(new_path)
    assert render(diff_rules(old, new, MONDAY_10), "now")[0].endswith("until 2022-01-01 00:00 (past):")
    in_2021 = datetime(2021, 12, 15, 9, 0, tzinfo=ZONE)
    assert render(diff_rules(old, new, in_2021), "then")[0].endswith("until 2022-01-01 00:00 ← then:")


def test_lines_that_change_alike_share_one_block(tmp_path):
    """The shipped file's transition moved by a month: one block for the 18 absorbed lines, not 18 blocks."""
    moved = SHIPPED_RULES.read_text(encoding="utf-8").replace("ends: 2021-11-30", "ends: 2021-12-31")
    moved = moved.replace(
        "prompt_manifest: recordings/prompts.yaml", f"prompt_manifest: {SHIPPED_RULES.parent}/recordings/prompts.yaml"
    )
    (tmp_path / "new.yaml").write_text(moved, encoding="utf-8")
    diff = diff_rules(load_rules(SHIPPED_RULES), load_rules(tmp_path / "new.yaml"), MONDAY_10)
    assert len(diff.numbers) == 18
    text = render(diff, "now")
    assert text[0].endswith("(18 absorbed lines), from 2021-12-01 00:00 until 2022-01-01 00:00 (past):")
    assert text[1] == "  play stopped-NNNNN, play connecting-12345 → play transition-NNNNN"
    assert text[-1] == "18 numbers change for callers, none of them now"


def test_a_new_emergency_context_is_reported(rules_pair):
    old_path, new_path = rules_pair(edit(("context: emergency-out", "context: emergency-new")))
    diff = diff_rules(load_rules(old_path), load_rules(new_path), MONDAY_10)
    assert diff.routes == ()
    text = render(diff, "now")
    assert text[0] == (
        "110 119 120 122 (emergency numbers, never routed): the dialplan sends them to context "
        "emergency-out → emergency-new"
    )
    assert text[-1] == "no routed number changes for callers; the emergency numbers go to another dialplan context"


# The command: files, standard input, problems, JSON.


def test_no_change_exits_0_and_says_so():
    result = ivr("diff", "routing_rules.yaml", "routing_rules.yaml")
    assert (result.returncode, result.stdout, result.stderr) == (0, NO_CHANGE + "\n", "")


def test_old_from_standard_input_as_git_show_gives_it():
    """`git show HEAD:routing_rules.yaml | ivr diff -`: NEW defaults to the rules file in the current folder."""
    result = ivr("diff", "-", stdin=SHIPPED_RULES.read_text(encoding="utf-8"))
    assert (result.returncode, result.stdout) == (0, NO_CHANGE + "\n"), result.stderr


def test_a_change_exits_0_with_the_blocks_and_the_count(rules_pair):
    old_path, new_path = rules_pair(edit(('to: "17:00"', 'to: "12:00"')))
    result = ivr("diff", str(old_path), str(new_path), "--at", "2026-11-30 13:00")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "12333 (dual-transfer, science), mon-fri 12:00-17:00 ← 2026-11-30 13:00:",
        f"  {SEAT_NOW_QUEUE}",
        "  old: ring seat seat-12333 (20 s) → play dept-unavailable → queue hotline-12345 (300 s) → play all-busy → "
        "hang up",
        "  new: play dept-unavailable → queue hotline-12345 (300 s) → play all-busy → hang up",
        "",
        "1 number changes for callers, 1 of them at 2026-11-30 13:00",
    ]


def test_json_lists_every_change_per_number(rules_pair):
    old_path, new_path = rules_pair(edit(('to: "17:00"', 'to: "12:00"')))
    result = ivr("diff", str(old_path), str(new_path), "--at", "2026-11-30T13:00:00+08:00", "--json")
    body = json.loads(result.stdout)
    assert body["at"] == "2026-11-30T13:00:00+08:00"
    assert body["numbers_changed"] == body["numbers_changed_at"] == ["12333"]
    (change,) = body["changes"]
    assert change["when"] == [
        {"from": None, "until": None, "hours": "mon-fri 12:00-17:00", "text": "mon-fri 12:00-17:00"}
    ]
    assert [step["kind"] for step in change["old"]["steps"]] == ["dial", "play", "queue", "play", "hangup"]
    assert change["new"]["steps"][0] == {"prompt": "dept-unavailable", "text_zh": "无法接听", "kind": "play"}


def test_problems_in_both_files_are_reported_as_ivr_check_reports_them(rules_pair):
    old_path, new_path = rules_pair(
        SMALL_RULES.replace("timeout: 300", "timeout: soon"), old=SMALL_RULES.replace("mode: main", "mode: mian")
    )
    result = ivr("diff", str(old_path), str(new_path))
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    checked = ivr("check", str(old_path)).stderr.splitlines() + ivr("check", str(new_path)).stderr.splitlines()
    assert sorted(result.stderr.splitlines()) == sorted(checked)
    assert len(checked) == 2


def test_problems_in_standard_input_name_it(rules_pair):
    """Its prompt manifest is found from the current folder, where `git show ... | ivr diff -` runs."""
    _, new_path = rules_pair(SMALL_RULES)
    bad = SMALL_RULES.replace("version: 1", "version: 2")
    result = ivr("diff", "-", new_path.name, stdin=bad, cwd=new_path.parent)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "<stdin>:1:10: version must be a whole number from 1 to 1, not '2' (allowed: 1 to 1)"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff", "-", "-"], "OLD and NEW cannot both be - (standard input)"),
        (["diff", "routing_rules.yaml", "--at", "soon"], "--at: expected 'YYYY-MM-DD HH:MM'"),
        (["diff"], "the following arguments are required: OLD"),
    ],
)
def test_bad_command_lines_exit_2_with_one_line(args, message):
    result = ivr(*args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["diff", "graph", "explain"])
def test_every_admin_command_has_help(command):
    result = ivr(command, "--help")
    assert result.returncode == 0 and result.stdout.startswith(f"usage: ivr {command}")
