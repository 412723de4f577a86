"""`ivr explain`: which numbers end up at a queue or seat, when, and through which steps."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from ivr.admin.explain import explain, render
from ivr.rules.loader import load_rules
from tests.admin.command import ivr

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=ZONE)


def blocks(lines: list[str]) -> list[tuple[str, str]]:
    """(who and when, route) of each block of the text."""
    return [(head, route.strip()) for head, route in pairwise(lines) if head.endswith(":") and route.startswith("  ")]


def test_every_way_to_the_12345_queue_in_the_small_rules(write_rules):
    rules = load_rules(write_rules())
    text = render(explain("hotline-12345", rules, None, NOW), rules, "")
    assert text[0].startswith("queue hotline-12345: Agents (座席); Asterisk queue hotline-12345, waits up to 300 s;")
    assert text[1] == "4 numbers end up here (in every period of the rules, at every hour), in 5 ways:"
    assert blocks(text) == [
        ("12345 (main, hotline), at all times:", "play welcome → queue hotline-12345 (300 s)"),
        ("12396 (absorbed, science), until 2021-12-01 00:00:", "play transition-12396 → queue hotline-12345 (300 s)"),
        (
            "12333 (dual-transfer, science), outside mon-fri 09:00-17:00:",
            "play dept-unavailable → queue hotline-12345 (300 s)",
        ),
        (
            "12333 (dual-transfer, science), mon-fri 09:00-17:00:",
            "ring seat seat-12333 (20 s) [busy, unanswered or unreachable] → play dept-unavailable → "
            "queue hotline-12345 (300 s)",
        ),
        ("12315 (dual-merged, science), at all times:", "queue hotline-12345 (300 s)"),
    ]
    assert text[-1] == "Any other number that reaches the engine is routed as 12345 (flag unknown-number)."


def test_a_seat_is_reached_only_in_its_opening_hours(write_rules):
    rules = load_rules(write_rules())
    text = render(explain("seat-12333", rules, None, NOW), rules, "")
    assert blocks(text) == [("12333 (dual-transfer, science), mon-fri 09:00-17:00:", "ring seat seat-12333 (20 s)")]
    assert "open mon-fri 09:00-17:00" in text[0]
    assert "unknown-number" not in "\n".join(text)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (
            datetime(2026, 11, 30, 10, 0, tzinfo=ZONE),
            [("12333 (dual-transfer, science):", "ring seat seat-12333 (20 s)")],
        ),
        (NOW, []),
    ],
)
def test_at_one_moment(write_rules, at, expected):
    rules = load_rules(write_rules())
    text = render(explain("seat-12333", rules, at, NOW), rules, f"{at:%Y-%m-%d %H:%M}")
    assert blocks(text) == expected
    if not expected:
        assert text[1] == f"No number ends up here (at {at:%Y-%m-%d %H:%M})."


def test_the_shipped_12345_queue_in_six_ways(shipped):
    """Lines whose routes differ only by their own number share a block, which writes it NNNNN."""
    text = render(explain("hotline-12345", shipped, None, NOW), shipped, "")
    assert text[1] == "29 numbers end up here (in every period of the rules, at every hour), in 6 ways:"
    heads = [head for head, _ in blocks(text)]
    routes = dict(blocks(text))
    absorbed = "12396 12349 12336 12319 12316 12312 12301 96301 12356 12350 12330 12331 12358 12365 12393 12300"
    assert heads[1] == f"{absorbed} 12322 96119 (18 absorbed lines), until 2021-12-01 00:00:"
    assert routes[heads[1]] == "play transition-NNNNN → queue hotline-12345 (600 s)"
    assert routes[heads[2]] == "play stopped-NNNNN → play connecting-12345 → queue hotline-12345 (600 s)"
    assert heads[0] == "12345 (main, hotline; also dialed as 63112345), at all times:"
    assert heads[3] == "12348 12333 12329 12320 (4 dual-transfer lines), at all times:"
    assert routes[heads[3]].startswith("play transfer-dept → ring seat seat-NNNNN (25 s) [busy, unanswered or")


def test_the_command_and_its_json():
    result = ivr("explain", "expert-12333", "--at", "2026-11-28 10:00", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["at"] == "2026-11-28T10:00:00+08:00"
    assert body["arrivals"] == [
        {
            "number": "12333",
            "mode": "dual-transfer",
            "department": "hr-social-security",
            "when": None,
            "steps": [
                "play transfer-dept",
                "ring seat seat-12333 (25 s)",
                "play dept-unavailable",
                "queue expert-12333 (180 s)",
            ],
        }
    ]
    text = ivr("explain", "expert-12333").stdout.splitlines()
    assert text[1] == "1 number ends up here (in every period of the rules, at every hour), in 1 way:"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["explain", "all-busy"], "all-busy is not a queue or seat in routing_rules.yaml (there are: hotline-12345"),
        (["explain", "hotline-12345", "--at", "noon"], "--at: expected 'YYYY-MM-DD HH:MM'"),
        (["explain"], "the following arguments are required: QUEUE_OR_SEAT"),
    ],
)
def test_bad_command_lines_exit_2_with_one_line(args, message):
    result = ivr(*args)
    assert result.returncode == 2 and message in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
