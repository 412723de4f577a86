"""The interpreter itself, on small dialplans: the Asterisk behaviours the other dialplan tests rely on."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.dialplan.interpreter import Dialplan, DialplanError, World, evaluate, run

PLAN = Dialplan.parse(
    """
[in]
exten => 110,1,Goto(emergency-out,110,1)  ; a comment
exten => _X.,1,Set(SEEN=${EXTEN}\\;x)
 same => n,GotoIf($["${SEEN}" = "12345\\;x"]?known)
 same => n,Hangup()
 same => n(known),Gosub(sub,s,1(${EXTEN},two))
 same => n,Set(BACK=${RESULT})
exten => i,1,Set(BAD=${INVALID_EXTEN})
 same => n,Hangup()

[sub]
exten => s,1,Set(RESULT=${ARG1}-${ARG2})
 same => n,Return()

[clock]
exten => s,1,GotoIfTime(09:00-16:59,mon-fri,*,*,Asia/Shanghai?open)
 same => n,Hangup()
 same => n(open),Playback(open)
 same => n,Hangup()
"""
)


def test_an_exact_extension_wins_over_a_pattern_and_unknown_ones_go_to_i():
    assert run(PLAN, "in", "110", World(0)).where == ("emergency-out", "110")
    call = run(PLAN, "in", "abc", World(0))
    assert call.channel.variables["BAD"] == "abc" and call.ending == "hangup"


def test_escaped_semicolons_gosub_arguments_and_running_off_the_end():
    call = run(PLAN, "in", "12345", World(0))
    assert call.channel.variables["SEEN"] == "12345;x"
    assert call.channel.variables["BACK"] == "12345-two"
    assert call.ending == "fell-off"


def test_two_patterns_for_one_number_are_refused():
    plan = Dialplan.parse("[c]\nexten => _X.,1,Hangup()\nexten => _1X.,1,Hangup()\n")
    with pytest.raises(DialplanError, match="several patterns"):
        run(plan, "c", "123", World(0))


@pytest.mark.parametrize(
    ("local", "open_"),
    [("2027-03-05 08:59", False), ("2027-03-05 09:00", True), ("2027-03-05 16:59", True), ("2027-03-05 17:00", False)],
)
def test_gotoiftime_counts_the_end_minute_in_and_uses_the_zone(local, open_):
    moment = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert (run(PLAN, "clock", "s", World(int(moment.timestamp()))).played == ["open"]) is open_


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ('"TIMEOUT" =~ "^(TIMEOUT|FULL)$"', "TIMEOUT"),
        ('"BUSY" =~ "^(TIMEOUT|FULL)$"', ""),
        ('"" != "" | "CONTINUE" = "CONTINUE"', "1"),
        ('"a" != "" & "b" = "c"', "0"),
        ("1638288000 >= 1638287999", "1"),
        ('"queue:x" = "queue:x"', "1"),
        # As the real switch evaluates them (tests/asterisk/test_interpreter_vs_switch.py):
        ('"xTIMEOUT" =~ "TIMEOUT"', "7"),
        ('"b" =~ "(a)|b"', "1"),
        ('"10" > "9"', "0"),
        ("9.5 > 10", "0"),
        ('"a" = a', "0"),
        ('"abc"', '"abc"'),
        ('"" | x', '""'),
        ("05 | x", "5"),
        ('"a" = "a" = 1', "1"),
    ],
)
def test_expressions(expression, value):
    assert evaluate(expression) == value


def test_a_dash_counts_for_nothing_in_a_number_and_blanks_are_a_true_condition():
    plan = Dialplan.parse("[c]\nexten => 0871110,1,Set(X=1)\nexten => _X.,1,GotoIf( ?yes)\n same => n(yes),Hangup()\n")
    assert plan.find("c", "0871-1-10") == "0871110"
    call = run(plan, "c", "5-5", World(0))
    assert [step.data for step in call.trace] == [" ?yes", ""] and call.ending == "hangup"
