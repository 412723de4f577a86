"""Every ```console block of README.md and docs/*.md is run and compared with what it shows, so no example can go
stale without a failing test. Commands without output, or that need a live Asterisk, belong in ```sh blocks.

How a block is read:
- A line `$ COMMAND` is a command; the lines after it, up to the next `$ ` line or the end of the block, are what it
  prints (stdout and stderr together, as a terminal shows them). Trailing spaces and trailing blank lines do not
  count. A block indented inside a list is read without its indentation.
- `$ echo $?` prints the exit code of the command before it. Every other command must exit 0.
- A command runs in `sh`, from the repository's root, where `ivr` is `python -m ivr.cli.main` of this interpreter
  (so pipes and `> /dev/null` work as written). The shipped routing_rules.yaml is used. A command whose `--at`
  defaults to now must give `--at` in the example, so its output cannot depend on the day the test runs.
- Each block gets a fresh ticket store (`IVR_STORE`). A block that runs `ivr call` gets its own `ivr serve` on a
  free 127.0.0.1 port (`IVR_PORT`), started from a copy of the shipped rules: as the first screen of the README has
  the reader start it with `sh bin/run`.

Placeholders in the output, for what differs from run to run:
- `…` stands for any text within its line (none included);
- a line that is only `...` stands for any number of lines (none included);
- `{ID}` is a ticket id, `12345-YYYYMMDD-ENGINE-NNNNNN`; in a command, `{ID}` is the last ticket id the block printed;
- `{UNIQUEID}` is an Asterisk uniqueid or linkedid (`1796603782.7568`);
- `{TIME}` is a date and time, `YYYY-MM-DD HH:MM` with or without `:SS`.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.cli.main import build_parser
from ivr.tickets.open import open_store
from ivr.tickets.store import Query
from ivr.tickets.stub import StubOutcome
from tests.conftest import ROOT
from tests.serve.engine import start_engine

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent>\s*)```console\s*$")
FENCE_END = re.compile(r"^\s*```\s*$")
EXIT_CODE = "echo $?"
ANY_LINES = "..."
ANY_TEXT = "…"
TICKET_ID = r"12345-\d{8}-[a-z0-9]+-\d{6}"
TOKENS = {
    "{ID}": TICKET_ID,
    "{UNIQUEID}": r"\d+\.\d+",
    "{TIME}": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?",
}
PIECES = re.compile("(" + "|".join(re.escape(piece) for piece in [*TOKENS, ANY_TEXT]) + ")")
# `ivr` as the reader's activated .venv has it, but always this checkout's code under this interpreter.
SHELL_PRELUDE = f'ivr() {{ {shlex.quote(sys.executable)} -m ivr.cli.main "$@"; }}\n'


@dataclass(frozen=True)
class Step:
    command: str
    expected: list[str]


@dataclass(frozen=True)
class Block:
    where: str
    steps: list[Step]


def read_blocks(path: Path) -> list[Block]:
    """The console blocks of one Markdown file, each split into its commands and their expected output."""
    blocks = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        index += 1
        if not fence:
            continue
        start = index
        while not FENCE_END.match(lines[index]):
            index += 1
        body = [line.removeprefix(fence["indent"]) for line in lines[start:index]]
        blocks.append(Block(f"{path.relative_to(ROOT)}:{start}", split_steps(body)))
    return blocks


def split_steps(body: list[str]) -> list[Step]:
    """Commands with the lines they print; text before the first command would be compared with nothing."""
    steps: list[Step] = []
    for line in body:
        if line.startswith("$ "):
            steps.append(Step(line[2:].strip(), []))
        elif steps:
            steps[-1].expected.append(line)
        elif line.strip():
            raise AssertionError(f"output before any command: {line!r}")
    return steps


def normalised(lines: list[str]) -> list[str]:
    """Without what a reader cannot see in a transcript: trailing spaces, and blank lines at the end."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def output_pattern(expected: list[str]) -> re.Pattern[str]:
    """The expected lines as one regular expression over the whole output, a newline after every line."""
    pattern = []
    for line in normalised(expected):
        if line == ANY_LINES:
            pattern.append(r"(?:.*\n)*?")
            continue
        for piece in PIECES.split(line):
            if piece == ANY_TEXT:
                pattern.append(".*?")
            else:
                pattern.append(TOKENS.get(piece) or re.escape(piece))
        pattern.append(r"\n")
    return re.compile("".join(pattern))


def matches(expected: list[str], actual: str) -> bool:
    """Whether the output is what the example shows, placeholders filled by anything of their kind."""
    text = "".join(line + "\n" for line in normalised(actual.splitlines()))
    return output_pattern(expected).fullmatch(text) is not None


def ivr_invocations(command: str) -> list[list[str]]:
    """The arguments of each `ivr` in a command line (a pipeline may hold more than one)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    invocations: list[list[str]] = []
    current: list[str] | None = None
    for word in lexer:
        if word and set(word) <= set(lexer.punctuation_chars):  # |, ;, &&, > ...: the invocation's words end
            current = None
        elif current is not None:
            current.append(word)
        elif word == "ivr":
            current = []
            invocations.append(current)
    return invocations


def parser_for(arguments: list[str]) -> argparse.ArgumentParser:
    """The (sub-)parser that reads an `ivr` command's options: `ivr tickets list` is read by `list`'s."""
    parser = build_parser()
    for word in arguments:
        choices = next(
            (action.choices for action in parser._actions if isinstance(action, argparse._SubParsersAction)), None
        )
        if not choices or word not in choices:
            break
        parser = choices[word]
    return parser


def needs_a_fixed_time(arguments: list[str]) -> bool:
    """Whether this command's output depends on the day it runs: it takes `--at`, which defaults to now, and the
    example does not give it."""
    at = next((a for a in parser_for(arguments)._actions if "--at" in a.option_strings), None)
    return at is not None and "default: now" in (at.help or "") and "--at" not in arguments


def run_block(block: Block, folder: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("IVR_")}
    env.update(PYTHONUNBUFFERED="1", IVR_STORE=f"sqlite:///{folder / 'tickets.db'}")
    engine = None
    if any(args[:1] == ["call"] for step in block.steps for args in ivr_invocations(step.command)):
        engine = start_engine(folder)
        env["IVR_PORT"] = str(engine.port)
    try:
        printed = ""
        exit_code = 0
        for number, step in enumerate(block.steps):
            if step.command == EXIT_CODE:
                actual = f"{exit_code}\n"
            else:
                invocations = ivr_invocations(step.command)
                assert invocations, f"{block.where}: `{step.command}` runs no `ivr`"
                for arguments in invocations:
                    assert not needs_a_fixed_time(arguments), (
                        f"{block.where}: `{step.command}` depends on today's date: give it --at"
                    )
                ids = re.findall(TICKET_ID, printed)
                command = step.command.replace("{ID}", ids[-1] if ids else "{ID}")
                result = subprocess.run(
                    ["sh", "-c", SHELL_PRELUDE + command],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=120,
                )
                actual, exit_code = result.stdout, result.returncode
                if any(args[:1] == ["call"] for args in invocations):
                    closed_stubs(env["IVR_STORE"])
                followed_by_exit_code = number + 1 < len(block.steps) and block.steps[number + 1].command == EXIT_CODE
                assert followed_by_exit_code or exit_code == 0, (
                    f"{block.where}: `{step.command}` exited {exit_code}; show it with `$ echo $?`:\n{actual}"
                )
            assert matches(step.expected, actual), (
                f"{block.where}: `{step.command}` printed\n{actual}\nwhere the example shows\n"
                + "\n".join(step.expected)
            )
            printed += actual
    finally:
        if engine is not None:
            engine.stop()


def closed_stubs(store_url: str, timeout: float = 20.0) -> None:
    """The engine writes a call's closing stub just after the session ends, in its writer thread: the next
    example (`ivr tickets list`) must find it written, as a person typing it a second later does."""
    store = open_store(store_url)
    deadline = time.monotonic() + timeout
    try:
        while any(stub.outcome is StubOutcome.IN_PROGRESS for stub in store.find(Query())):
            assert time.monotonic() < deadline, "the engine never closed the example's stub"
            time.sleep(0.05)
    finally:
        store.close()


BLOCKS = [block for path in DOCUMENTS for block in read_blocks(path)]


@pytest.mark.parametrize("block", BLOCKS, ids=[block.where for block in BLOCKS])
def test_example(block: Block, tmp_path: Path) -> None:
    run_block(block, tmp_path)


def test_every_console_block_is_collected() -> None:
    fences = sum(1 for path in DOCUMENTS for line in path.read_text(encoding="utf-8").splitlines() if FENCE.match(line))
    assert fences == len(BLOCKS) > 0
    assert all(block.steps for block in BLOCKS), [block.where for block in BLOCKS if not block.steps]


@pytest.mark.parametrize(
    ("expected", "actual", "verdict"),
    [
        (["a b", "c"], "a b\nc\n", True),
        (["a b", "c"], "a b\nd\n", False),
        (["a b"], "a b\nc\n", False),
        (["a …", "c"], "a anything at all\nc\n", True),
        (["a …"], "a\nmore\n", False),
        (["a", "...", "d"], "a\nb\nc\nd\n", True),
        (["a", "...", "d"], "a\nd\n", True),
        (["a", "...", "d"], "a\nb\n", False),
        (["id {ID} at {TIME}"], "id 12345-20261207-e1-000001 at 2026-12-07 08:36:22\n", True),
        (["id {ID}"], "id 12345-2026127-e1-000001\n", False),
        (["linkedid ({UNIQUEID})"], "linkedid (1796603782.7568)\n", True),
        (["x", ""], "x   \n\n\n", True),
        ([], "", True),
        ([], "x\n", False),
    ],
)
def test_placeholders(expected: list[str], actual: str, verdict: bool) -> None:
    assert matches(expected, actual) is verdict


def test_a_command_taking_at_must_give_it() -> None:
    assert needs_a_fixed_time(["check", "routing_rules.yaml"])
    assert not needs_a_fixed_time(["check", "routing_rules.yaml", "--at", "2026-12-01 09:00"])
    assert not needs_a_fixed_time(["explain", "expert-12333"])  # without --at: every period, not now
    assert not needs_a_fixed_time(["tickets", "list"])
    assert ivr_invocations("sed s/a/b/ routing_rules.yaml | ivr diff routing_rules.yaml - # see") == [
        ["diff", "routing_rules.yaml", "-"]
    ]
    assert ivr_invocations("ivr call 12333 --seat busy > /dev/null;ivr queues") == [
        ["call", "12333", "--seat", "busy"],
        ["queues"],
    ]
