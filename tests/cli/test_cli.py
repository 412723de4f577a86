"""The `ivr` command as an admin runs it: real processes, real exit codes, no tracebacks."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.cli.main import build_parser
from tests.conftest import ROOT, SMALL_RULES

IVR = [sys.executable, "-m", "ivr.cli.main"]


def ivr(*args: str, tz: str = "UTC", cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TZ": tz}
    env.pop("IVR_RULES", None)
    return subprocess.run([*IVR, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60)


def test_check_lists_29_routable_numbers():
    result = ivr("check", "routing_rules.yaml")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line[:1].isdigit()]
    assert len(rows) == 29
    assert [
        "12333",
        "dual-transfer",
        "hr-social-security",
        "seat-12333",
        "expert-12333",
        "->",
        "hotline-12345",
        "->",
        "all-busy",
    ] in rows
    assert "OK, 29 routable numbers" in result.stdout
    assert "never routed: 110 119 120 122" in result.stdout


def test_check_defaults_to_the_rules_in_the_current_folder():
    assert ivr("check").returncode == 0


def test_check_reports_problems_with_exit_1_and_no_traceback(write_rules):
    path = write_rules(SMALL_RULES.replace("timeout: 300", "timeout: x").replace("mode: main", "mode: mian"))
    result = ivr("check", str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{path}:") for line in lines)
    assert "Traceback" not in result.stderr


def test_route_absorbed_line_in_transition():
    result = ivr("route", "12396", "--at", "2021-11-20 09:00")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "line 12396" in out and "absorbed" in out
    assert "transition: transition" in out
    assert "Play transition-12396" in out
    assert "Queue the caller in hotline-12345" in out
    assert out.index("Play transition-12396") < out.index("Queue the caller")


def test_route_json_is_the_same_whatever_the_machine_zone():
    outputs = [
        ivr("route", "12333", "--at", "2021-11-20 09:00", "--json", tz=tz).stdout
        for tz in ("UTC", "Asia/Shanghai", "America/New_York")
    ]
    assert outputs[0] == outputs[1] == outputs[2]
    plan = json.loads(outputs[0])
    assert plan["number"] == "12333" and plan["mode"] == "dual-transfer"
    assert plan["department"]["id"] == "hr-social-security"
    assert plan["at"] == "2021-11-20T09:00:00+08:00"
    kinds = [step["kind"] for step in plan["steps"]]
    assert kinds[:8] == ["answer", "set", "set", "set", "set", "set", "set", "play"]
    dial = next(step for step in plan["steps"] if step["kind"] == "dial")
    assert dial == {
        "kind": "dial",
        "destination": "seat-12333",
        "dial": "PJSIP/12333@dept-hr-social-security",
        "ring_timeout": 25,
    }


def test_route_seat_down_skips_the_seat():
    plan = json.loads(ivr("route", "12333", "--seat-down", "--json").stdout)
    assert "dial" not in [step["kind"] for step in plan["steps"]]
    assert "destination-down" in plan["flags"]


def test_route_emergency_number_is_refused():
    result = ivr("route", "+86110")
    assert result.returncode == 0
    assert "110 is an emergency number (police)" in result.stdout
    assert "emergency-out" in result.stdout
    refusal = json.loads(ivr("route", "0871-120", "--json").stdout)
    assert refusal == {
        "dialed": "0871-120",
        "refused": "emergency",
        "number": "120",
        "service": "ambulance",
        "context": "emergency-out",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["route", "12345", "--at", "yesterday"], "--at: expected 'YYYY-MM-DD HH:MM'"),
        (["route", "12345", "--at", "2021-02-30 09:00"], "--at: expected"),
        (["route", "12345", "--down", "no-such-queue"], "--down: no-such-queue is not a queue or seat"),
        (["route"], "the following arguments are required: number"),
        (["route", "abc"], "NUMBER: 'abc' is not a telephone number"),
        (["route", "12345", "--caller", "1380013800O"], "--caller: '1380013800O' is not a telephone number"),
        (["route", "12345", "--redirecting", "x"], "--redirecting: 'x' is not a telephone number"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_command_lines_exit_2_with_one_line(args, message):
    result = ivr(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_route_with_a_broken_rules_file_exits_1(write_rules):
    path = write_rules(SMALL_RULES.replace("version: 1", "version: 2"))
    result = ivr("route", "12345", "--rules", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:1:10: version must be a whole number from 1 to 1")


def test_every_sub_command_and_option_says_what_it_is_for():
    """`ivr --help` and each `ivr COMMAND --help` explain every choice: no bare option in any of them."""
    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {choice.dest: choice.help for choice in action._choices_actions}
                for name, sub in action.choices.items():
                    if not helped.get(name):
                        missing.append(f"{path} {name}")
                    walk(sub, f"{path} {name}")
            elif not action.help and not isinstance(action, argparse._HelpAction):
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "ivr")
    assert missing == []


@pytest.mark.parametrize("command", ["check", "route", "deadlines"])
def test_every_command_has_help(command):
    result = ivr(command, "--help")
    assert result.returncode == 0 and "usage: ivr" in result.stdout
