"""The judge of a dialplan that lists several engines (engine.agi_url as a list), from Asterisk's own AMI events and
queue_log: which engines the dialplan asked for a call, whether the next was asked only while the one before had set
no IVR_STAGE, and that the caller was routed once: one stay in one queue, one agent, each prompt of the line heard
at most once. Shared by the failover test and the soak of two hosts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ivr.ami.protocol import Message
from ivr.rules.loader import load_rules
from tests.asterisk.judge import account
from tests.asterisk.site import Call, Site
from tests.asterisk.test_engine_faults import dialplan_played, queue_events


def engines_tried(site: Site, call: Call, names: Mapping[int, str]) -> list[str]:
    """The engines the dialplan's AGI() asked for this call, in order, named by `names` (port -> name)."""
    return [_engine(m, names) for m in site.events(call, "Newexten", Uniqueid=call.inbound, Application="AGI")]


def stages_before_the_next_engine(site: Site, call: Call, names: Mapping[int, str]) -> list[str]:
    """The IVR_STAGE commands Asterisk ran for this call (AGIExecStart) before the dialplan asked a second engine."""
    first = ""
    found: list[str] = []
    for m in list(site.ami.events)[call.since :]:
        if m.get("Uniqueid") != call.inbound:
            continue
        if m.event == "Newexten" and m.get("Application") == "AGI":
            if first and _engine(m, names) != first:
                return found
            first = first or _engine(m, names)
        command = m.get("Command") or ""
        if m.event == "AGIExecStart" and command.startswith("SET VARIABLE IVR_STAGE"):
            found.append(command)
    return []


def routed_once(site: Site, call: Call, order: list[str], names: Mapping[int, str]) -> list[str]:
    """The call was routed once and reached an agent (no call in silence); the engines tried, which are the first
    of `order` (the dialplan's list), the next only while the one before had set no stage."""
    tried = engines_tried(site, call, names)
    assert tried and tried == order[: len(tried)], tried
    if len(tried) > 1:
        assert stages_before_the_next_engine(site, call, names) == [], "the next engine asked after one had acted"
    stays = [event for _, event in queue_events(site, call)]
    assert stays.count("ENTERQUEUE") == 1 and stays.count("CONNECT") == 1, stays
    assert account(site, call).answered_by.startswith("Local/80"), "a call in silence"
    heard = Counter(_prompts_heard(site, call))
    line = load_rules(site.rules).lines[call.number]
    assert all(heard[prompt] <= 1 for prompt in line.prompts), heard
    return tried


def _engine(newexten: Message, names: Mapping[int, str]) -> str:
    url = (newexten.get("AppData") or "").split("/")[2]  # agi://127.0.0.1:PORT/route,...
    return names[int(url.rsplit(":", 1)[1])]


def _prompts_heard(site: Site, call: Call) -> list[str]:
    """Every prompt played to the caller: the engines' STREAM FILE and the dialplan's Playback."""
    streamed = [
        (m.get("Command") or "").split()[2]
        for m in site.events(call, "AGIExecStart", Uniqueid=call.inbound)
        if (m.get("Command") or "").startswith("STREAM FILE ")
    ]
    return streamed + dialplan_played(site, call)
