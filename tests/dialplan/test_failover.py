"""Several engines in `engine.agi_url`: the engine subroutine tries the next only while IVR_STAGE is empty (the one
before was not reached, refused the call, or ended before any prompt, queue or seat). Whatever the first engine
left, a call is never routed twice: once it set a stage, the dialplan goes on exactly as with one engine."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.agi.executor import STAGE
from ivr.dialplan import names
from ivr.dialplan.build import EXTENSIONS
from ivr.rules.loader import load_rules
from ivr.rules.model import Rules
from tests.conftest import SHIPPED_RULES
from tests.dialplan.calls import connects, dialplan_events, dialplan_of, engine_leaves, instructed, router_events
from tests.dialplan.interpreter import Call, Channel, Dialplan, Engine, World, run, unreachable
from tests.dialplan.test_fallback import stages
from tests.dialplan.test_generated import ivr

ONE = load_rules(SHIPPED_RULES)
URLS = ("agi://10.0.0.5:4573", "agi://10.0.0.6:4573", "hagi://engines.hotline.example")
RULES = dataclasses.replace(ONE, engine=dataclasses.replace(ONE.engine, agi_urls=URLS))
AT = datetime(2021, 11, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def call(number: str, rules: Rules, engine: Engine, **by_url: Engine) -> Call:
    world = World(int(AT.timestamp()), engine, dict(by_url))
    return run(dialplan_of(rules), names.INBOUND, number, world)


def refusing(channel: Channel, args: list[str]) -> None:
    """An engine at --max-sessions: it closes before any command (Asterisk reads the end of the script)."""
    channel.variables["AGISTATUS"] = "SUCCESS"


def hung_up(channel: Channel, args: list[str]) -> None:
    """The caller put the phone down while the engine was being reached: AGI returns -1."""
    channel.alive = False
    channel.variables["AGISTATUS"] = "HANGUP"


def tried(result: Call) -> list[str]:
    return [event.name.removesuffix("/route") for event in result.of("agi")]


@pytest.mark.parametrize("number", list(ONE.lines))
def test_once_an_engine_set_a_stage_the_call_goes_on_as_with_one_engine(number):
    for agistatus in ("SUCCESS", "FAILURE"):
        for stage, _, variables in stages(RULES):
            if not stage:
                continue
            first = engine_leaves(agistatus, {STAGE: stage, **variables})
            where = f"{number} AGISTATUS={agistatus} {STAGE}={stage!r} {variables}"
            several, alone = call(number, RULES, first), call(number, ONE, first)
            assert tried(several) == [URLS[0]], f"{where}: the next engine would route the call again"
            assert dialplan_events(several) == dialplan_events(alone), where
            assert several.of("userevent") == alone.of("userevent"), where


@pytest.mark.parametrize("number", list(ONE.lines))
@pytest.mark.parametrize(
    "first", [unreachable, refusing, engine_leaves("SUCCESS", {})], ids=["down", "refusing", "no-stage"]
)
def test_an_engine_that_did_nothing_hands_the_call_to_the_next(number, first):
    finished = engine_leaves("SUCCESS", {STAGE: "done"})
    result = call(number, RULES, unreachable, **{URLS[0]: first, URLS[1]: finished})
    assert tried(result) == list(URLS[:2])
    assert [event.detail for event in result.of("agi")] == [(number, ""), (number, "")]
    assert result.ending == "hangup" and not result.played and not connects(result) and not result.of("userevent")


@pytest.mark.parametrize("number", list(ONE.lines))
def test_with_every_engine_down_the_static_plan_runs_once(number):
    result = call(number, RULES, unreachable)
    assert tried(result) == list(URLS)
    assert dialplan_events(result) == router_events(RULES, number, AT)
    assert instructed(result, RULES)
    (event,) = result.of("userevent")
    assert event.detail[1:3] == ("Stage: ", "AgiStatus: FAILURE")


def test_the_second_engine_acting_is_the_last_one_tried():
    second = engine_leaves("SUCCESS", {STAGE: "prompt"})
    result = call("12345", RULES, unreachable, **{URLS[1]: second})
    assert tried(result) == list(URLS[:2])
    assert result.of("userevent")[0].detail[1] == "Stage: prompt", "the fallback goes on from the second's stage"


def test_a_caller_who_hangs_up_while_the_first_is_reached_is_not_sent_to_the_next():
    result = call("12345", RULES, unreachable, **{URLS[0]: hung_up})
    assert tried(result) == [URLS[0]] and result.ending == "gone"


def test_one_engine_writes_the_subroutine_as_before():
    subroutine = dialplan_of(ONE).contexts[names.ENGINE]["s"]
    assert [p.app for p in subroutine].count("GotoIf") == 0
    assert [p.app for p in dialplan_of(RULES).contexts[names.ENGINE]["s"]].count("AGI") == len(URLS)


def test_engine_options_in_their_order_replace_the_rules_engines(tmp_path):
    first, second = "agi://127.0.0.1:4573", "agi://10.0.0.6:4573"
    built = ivr("dialplan", "build", "--out", str(tmp_path), "--engine", first, "--engine", second)
    assert built.returncode == 0, built.stderr
    subroutine = Dialplan.parse((tmp_path / EXTENSIONS).read_text(encoding="utf-8")).contexts[names.ENGINE]["s"]
    assert [p.data.partition("/route")[0] for p in subroutine if p.app == "AGI"] == [first, second]
    twice = ivr("dialplan", "build", "--out", str(tmp_path / "no"), "--engine", first, "--engine", first)
    assert twice.returncode == 2 and twice.stderr.splitlines() == [
        f"ivr dialplan: --engine {first} is given twice: the dialplan would try it twice"
    ]
    assert not (tmp_path / "no").exists()
