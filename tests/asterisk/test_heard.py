"""What the citizen hears, from the citizen's own phone on a real Asterisk 22 (MixMonitor on the caller's half):
the router's prompts in the router's order, each recognised by its own samples and no prompt the plan does not
have; the music on hold, and the comfort prompt between it, while waiting in a queue; the welcome at once after
the answer. (How long the caller waits for it: bench/first_audio.py, with tests/asterisk/timing.py.)

The calls run at once (placed by one fixture, then each test reads its own): hotline-12345 has nobody logged in
all along, so every call that reaches it hears the final instruction at once (JOINEMPTY)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from ivr.agi.rating import ATTEMPTS, QUESTION, THANKS
from tests.asterisk import audio
from tests.asterisk.judge import account, assert_agree
from tests.asterisk.site import Call, Site
from tests.asterisk.timing import answer_to_first_prompt
from tests.conftest import ROOT

WAIT_12333 = 45  # expert-12333's timeout here: long enough for one comfort prompt (every 30 s) and music after it


def EDIT_RULES(text: str) -> str:
    """expert-12333 waits 45 s instead of 180 before the caller goes on to 12345."""
    where = r"(\n  expert-12333:.*?\n    timeout: )180\n"
    edited, count = re.subn(where, rf"\g<1>{WAIT_12333}\n", text, count=1, flags=re.S)
    assert count == 1, "expert-12333's timeout is not where it was"
    return edited


@cache
def prompt(name: str) -> list[int]:
    return audio.read_wav(ROOT / "recordings" / "zh" / f"{name}.wav")


@cache
def every_prompt() -> dict[str, list[int]]:
    """Every recording of the prompts, the plan's or not: what is heard is looked for among all of them."""
    return {path.stem: prompt(path.stem) for path in sorted((ROOT / "recordings" / "zh").glob("*.wav"))}


def steps(site: Site, number: str) -> list[dict[str, Any]]:
    """The router's plan for a call to `number` now (`ivr route --json` on the site's rules)."""
    return json.loads(site.ivr("route", number, "--json", "--rules", str(site.rules)))["steps"]


def prompts_before(plan: list[dict[str, Any]], answered_at: str | None = None) -> list[str]:
    """The plan's prompts in order, up to the queue or seat that answered (all of them when nobody did)."""
    names = []
    for step in plan:
        if step["kind"] in ("queue", "dial") and step["destination"] == answered_at:
            return names
        if step["kind"] == "play":
            names.append(step["prompt"])
    assert answered_at is None, f"{answered_at} is not in the plan"
    return names


def heard(site: Site, call: Call) -> tuple[list[int], list[audio.Heard]]:
    """The recording of the call, once Asterisk has closed it, and every prompt found in it, in the order heard."""
    recording = audio.read_wav(site.recording(call))
    return recording, audio.heard_in_order(recording, every_prompt())


def names(found: list[audio.Heard]) -> list[str]:
    return [h.name for h in found]


def music_between(recording: list[int], start: int, end: int) -> list[tuple[int, int]]:
    """The music on hold heard between two places of the recording (samples), each stretch at least a block."""
    clipped = [(max(a, start), min(b, end)) for a, b in audio.tone_runs(recording)]
    return [(a, b) for a, b in clipped if b - a >= audio.TONE_BLOCK]


@pytest.fixture(scope="module")
def calls(site: Site) -> Iterator[dict[str, Call]]:
    """Every long call of the module, placed at once."""
    site.world("SEAT_12329", "unreachable")
    site.world("SEAT_12333", "unreachable")
    late = site.agent("expert-12329", "8329", "late:6:2")  # rings 6 s, answers, talks 2 s, hangs up
    ringing = site.agent("expert-12333", "8333", "ring")  # never answers
    try:
        yield {
            "12345": site.call("12345", hold=60, heard=True),
            "12396": site.call("12396", hold=60, heard=True),
            "12348": site.call("12348", hold=60, heard=True),
            "12329": site.call("12329", hold=120, heard=True),
            "12333": site.call("12333", hold=150, heard=True),
        }
    finally:
        site.logoff("expert-12329", late)
        site.logoff("expert-12333", ringing)


def test_the_welcome_is_heard_at_once_after_the_answer(site, calls):
    """A call to 12345 whose caller hangs up 2 s in (while the module's other calls go on): the engine answers,
    then plays, and the recording opens with the welcome's first second."""
    call = site.call("12345", hold=2, heard=True)
    first = answer_to_first_prompt(site, call)
    site.hung_up(call)
    assert first.prompt == "welcome"
    # The recording is the welcome's first second and a bit. (Its opening words are also the call-back greeting's,
    # sample for sample, so only the welcome is looked for here.)
    opening = audio.find(audio.read_wav(site.recording(call)), prompt("welcome")[: audio.RATE], "welcome")
    assert [h.start < audio.RATE // 10 for h in opening] == [True], opening


def test_12345_with_nobody_logged_in_welcome_then_the_final_instruction(site, calls):
    call = calls["12345"]
    site.hung_up(call)
    recording, found = heard(site, call)
    assert names(found) == prompts_before(steps(site, "12345")) == ["welcome", "all-busy", "emergency-advisory"]
    assert audio.tone_runs(recording) == [], "no queue to wait in (JOINEMPTY), so no music"


def test_an_absorbed_line_says_its_notice_then_goes_to_12345(site, calls):
    call = calls["12396"]
    site.hung_up(call)
    _, found = heard(site, call)
    expected = prompts_before(steps(site, "12396"))
    assert expected[0] in ("stopped-12396", "transition-12396") and expected[1:] == [
        "connecting-12345",
        "all-busy",
        "emergency-advisory",
    ]
    assert names(found) == expected


def test_a_prompt_not_played_is_not_found(site, calls):
    """The recogniser can fail: the absorbed line's other notice and a neighbour's, which differs in its digits
    only, are not in the recording, though the line's own notice is."""
    call = calls["12396"]
    site.hung_up(call)
    recording = audio.read_wav(site.recording(call))
    played = prompts_before(steps(site, "12396"))[0]
    other = "transition-12396" if played == "stopped-12396" else "stopped-12396"
    neighbour = played.replace("12396", "12393")
    assert audio.find(recording, prompt(played), played)
    for name in (other, neighbour, "welcome", "dept-unavailable"):
        assert audio.find(recording, prompt(name), name) == [], f"{name} was never played but was found"


def test_a_dual_transfer_line_whose_seat_answers_hears_only_the_transfer_notice(site, calls):
    call = calls["12348"]
    site.hung_up(call)
    recording, found = heard(site, call)
    assert names(found) == prompts_before(steps(site, "12348"), "seat-12348") == ["transfer-dept"]
    assert audio.tone_runs(recording) == [], "a seat rung with Dial: ringing is signalled, not played"
    assert [status for _, status in account(site, call).seats] == ["ANSWER"]


def test_music_on_hold_until_the_expert_answers_then_the_rating(site, calls):
    """12329's seat is unreachable: the unavailable notice, then music in expert-12329 until its agent answers
    after 6 s of ringing; when the agent hangs up, the rating question (asked twice: no key) and the thanks."""
    call = calls["12329"]
    site.hung_up(call)
    recording, found = heard(site, call)
    plan = steps(site, "12329")
    assert [s["rating"] for s in plan if s["kind"] == "queue" and s["destination"] == "expert-12329"] == [True]
    before = prompts_before(plan, "expert-12329")
    assert before == ["transfer-dept", "dept-unavailable"]
    assert names(found) == [*before, *[QUESTION] * ATTEMPTS, THANKS]
    waited, asked = found[len(before) - 1], found[len(before)]
    assert music_between(recording, waited.end, asked.start), "no music while waiting for the expert"
    assert music_between(recording, 0, waited.end) == [] and music_between(recording, asked.start, len(recording)) == []
    found_by_switch = account(site, call)
    assert found_by_switch.answered_in == "expert-12329"
    assert_agree(site.ticket_of(call), found_by_switch)


def test_the_comfort_prompt_between_the_music_while_nobody_answers(site, calls):
    """12333's expert never answers: music, the comfort prompt after 30 s of waiting, music again, then the queue
    times out, 12345 has nobody (JOINEMPTY) and the final instruction follows."""
    call = calls["12333"]
    site.hung_up(call, timeout=180)
    recording, found = heard(site, call)
    before = prompts_before(steps(site, "12333"), "expert-12333")
    after = prompts_before(steps(site, "12333"))[len(before) :]
    assert before == ["transfer-dept", "dept-unavailable"] and after == ["all-busy", "emergency-advisory"]
    assert names(found) == [*before, "queue-comfort", *after]
    waited, comfort, told = found[len(before) - 1], found[len(before)], found[len(before) + 1]
    assert music_between(recording, waited.end, comfort.start), "no music before the comfort prompt"
    assert music_between(recording, comfort.end, told.start), "no music after the comfort prompt"
    assert account(site, call).left[0] == ("expert-12333", "EXITWITHTIMEOUT")
