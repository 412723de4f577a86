"""The prompts on a real Asterisk 22: the caller hangs up in each prompt a caller can hear before being connected,
and a prompt is missing on the Asterisk host. Asterisk's AGIExecStart/AGIExecEnd (the STREAM FILE in flight when
the citizen's phone hung up, and its result), the Hangup cause and the CDR judge the stub and the call line."""

from __future__ import annotations

import re
import shutil

from tests.asterisk.judge import account, assert_agree
from tests.conftest import ROOT

# 12396 is still in its transition here (the shipped rules' transitions ended in 2021), so its transition prompt
# is heard too; every other absorbed line plays its stopped prompt, then connecting-12345.
TRANSITION_LINE = "12396"


def EDIT_RULES(text: str) -> str:
    """12396's transition ends in 2099 instead of 2021-11-30: the one change from the shipped rules."""
    return re.sub(r'("12396":.*?ends: )2021-11-30', r"\g<1>2099-12-31", text, count=1, flags=re.S)


# Each prompt a caller can hear before a person answers, the line that plays it, the seat's behaviour, and the
# steps the engine has ended before it. Nobody is logged in: every queue is empty (JOINEMPTY).
PROMPTS = {
    "welcome": ("12345", "", ""),
    "transition-12396": (TRANSITION_LINE, "", ""),
    "stopped-12349": ("12349", "", ""),
    "connecting-12345": ("12336", "", ""),
    "transfer-dept": ("12348", "", ""),
    "dept-unavailable": ("12333", "busy", "dial:seat-12333:seat-failed"),
    "all-busy": ("12369", "", "queue:hotline-12345:queue-failed"),
    "emergency-advisory": ("12318", "", "queue:hotline-12345:queue-failed"),
}


def test_the_caller_hangs_up_in_each_prompt(site):
    for line, seat, _ in PROMPTS.values():
        if seat:
            site.world(f"SEAT_{line}", seat)
    since = site.ami.mark()
    calls = {prompt: site.call(line, hold=300) for prompt, (line, _, _) in PROMPTS.items()}
    waiting = {call.inbound: (prompt, call) for prompt, call in calls.items()}
    try:
        # Hang each citizen up as soon as Asterisk starts streaming that call's prompt, in its first frame: Asterisk
        # answers `200 result=-1 endpos=160` (main/file.c reads a frame before it writes it, so an existing file
        # never gives the missing file's endpos=0, which the engine takes for a missing prompt).
        while waiting:
            started = site.ami.wait_for(
                lambda m: (
                    m.event == "AGIExecStart"
                    and m.get("Uniqueid") in waiting
                    and (m.get("Command") or "").startswith(f"STREAM FILE {waiting[m.get('Uniqueid') or ''][0]} ")
                ),
                timeout=90,
                since=since,
                what=f"the prompts {sorted(p for p, _ in waiting.values())}",
            )
            site.hang_up(waiting.pop(started.get("Uniqueid") or "")[1])
    finally:
        for line, seat, _ in PROMPTS.values():
            if seat:
                site.world(f"SEAT_{line}", "")
    for prompt, call in calls.items():
        site.hung_up(call)
        stub, said, found = site.ticket_of(call), site.call_line(call), account(site, call)
        assert found.hung_up_in_prompt == prompt and found.citizen_cause == "16", (prompt, found.hung_up_in)
        assert found.prompts[-1] == (prompt, "-1"), f"Asterisk ended STREAM FILE {prompt} by the hang-up"
        assert not found.acted_after_hangup, (prompt, found.after_hangup)
        assert_agree(stub, found)
        assert stub["outcome"] == "hung-up-in-prompt" and stub["stage"] == "prompt", (prompt, stub["outcome"])
        assert not [s for s in stub["route"] if s["what"] == "prompt-missing"], f"{prompt}: a hang-up, not a file"
        before = PROMPTS[prompt][2]
        assert (said["result"], said["stage"], said["steps"]) == ("hung-up-in-prompt", "prompt", before or "-")
        assert not found.fell_back and found.entered == [], "the dialplan does not carry a caller who hung up on"
        where = [(m.get("Context"), m.get("Cause")) for m in site.events(call, "Hangup", Uniqueid=call.inbound)]
        assert where == [("ivr-engine", "16")], f"{prompt}: the call ended in the engine's AGI, not a fallback"
        # The engine answered the call: ANSWERED. After a busy seat the only row is the Dial's (BUSY): cdr_csv
        # starts no row for what the caller heard after it.
        dispositions = [row["disposition"] for row in found.cdrs]
        assert dispositions == (["BUSY"] if found.seats else ["ANSWERED"]), (prompt, found.cdrs)


def test_a_prompt_missing_on_the_asterisk_host_still_connects_the_caller(site):
    """welcome and transfer-dept are gone from sounds/zh: STREAM FILE answers `200 result=-1 endpos=0` (agi-01), the
    engine logs an ALARM naming the file and goes on; 12345's agent and 12348's seat still answer the callers.
    Asterisk's AGISTATUS is FAILURE from then on, even for a caller who later hangs up (12333, in dept-unavailable):
    res_agi keeps the first failure, so the generated dialplan must (and does) go by IVR_STAGE, not AGISTATUS."""
    assert site.switch is not None
    zh = site.switch.sounds / "zh"
    missing = ("welcome", "transfer-dept")
    for name in missing:
        for path in zh.glob(f"{name}.*"):
            path.unlink()
    interface = site.agent("hotline-12345", "8001", "answer:2")
    site.world("SEAT_12348", "answer:2")
    site.world("SEAT_12333", "busy")
    try:
        calls = {"welcome": site.call("12345", hold=120), "transfer-dept": site.call("12348", hold=120)}
        leaving = site.call("12333", hold=300)
        site.ami.wait_command(leaving.inbound, "STREAM FILE dept-unavailable ", 60, leaving.since)
        site.hang_up(leaving)
        for prompt, call in [*calls.items(), ("transfer-dept", leaving)]:
            site.hung_up(call)
            stub, said, found = site.ticket_of(call), site.call_line(call), account(site, call)
            assert found.prompts[0] == (prompt, "-1"), f"Asterisk could not stream {prompt}: {found.prompts}"
            assert_agree(stub, found)
            assert [s["detail"] for s in stub["route"] if s["what"] == "prompt-missing"] == [prompt]
            assert not found.fell_back, "the dialplan goes by IVR_STAGE whatever AGISTATUS says"
            status = [m.get("Value") for m in site.events(call, "VarSet", Variable="AGISTATUS")]
            assert status == ["FAILURE"], f"Asterisk's AGISTATUS after a missing file: {status}"
        assert found.hung_up_in_prompt == "dept-unavailable" and stub["outcome"] == "hung-up-in-prompt"
        assert (said["result"], said["steps"]) == ("hung-up-in-prompt", "dial:seat-12333:seat-failed")
        for prompt, call in calls.items():
            stub, said, found = site.ticket_of(call), site.call_line(call), account(site, call)
            assert found.hung_up_in == "" and (said["result"], said["stage"]) == ("answered", "done"), prompt
            assert found.answered_by == interface if prompt == "welcome" else found.seat_answered
            assert stub["outcome"] == ("answered" if prompt == "welcome" else "transferred")
        log = site.engine.log_text() if site.engine else ""
        for prompt in missing:
            assert f"ALARM prompt {prompt!r} is missing on the Asterisk host" in log
            assert f"File {prompt} does not exist in any format" in site.switch.log.read_text(errors="replace")
    finally:
        site.logoff("hotline-12345", interface)
        for line in ("12348", "12333"):
            site.world(f"SEAT_{line}", "")
        for name in missing:
            for path in (ROOT / "recordings" / "zh").glob(f"{name}.*"):
                shutil.copy(path, zh / path.name)


def test_with_the_engine_down_a_missing_prompt_does_not_stop_the_dialplan(site):
    """The generated dialplan's own Playback of a missing welcome (the engine is stopped, so its connect fails)
    sets PLAYBACKSTATUS=FAILED and goes on: the caller still reaches 12345's agent."""
    assert site.switch is not None and site.engine is not None
    zh = site.switch.sounds / "zh"
    for path in zh.glob("welcome.*"):
        path.unlink()
    interface = site.agent("hotline-12345", "8001", "answer:2")
    site.engine.stop()
    try:
        call = site.call("12345", hold=120)
        site.hung_up(call)
        found = account(site, call)
        assert [m.get("Value") for m in site.events(call, "VarSet", Variable="AGISTATUS")] == ["FAILURE"]
        fallback = site.events(call, "UserEvent", UserEvent="IvrFallback")
        assert [(m.get("Stage"), m.get("AgiStatus")) for m in fallback] == [("", "FAILURE")]
        played = [m.get("Value") for m in site.events(call, "VarSet", Variable="PLAYBACKSTATUS")]
        assert played == ["FAILED"], f"the dialplan's Playback(welcome): {played}"
        assert found.answered_by == interface and found.left == [("hotline-12345", "COMPLETEAGENT")], found
    finally:
        site.logoff("hotline-12345", interface)
        for path in (ROOT / "recordings" / "zh").glob("welcome.*"):
            shutil.copy(path, zh / path.name)
        site.start_engine()
