"""How long a caller waits from the answer to the first prompt, by the Timestamp Asterisk puts on every AMI event
(switch.py sets manager.conf's timestampevents): the switch's own clock, not the judge's, so the AMI connection's
own delay is not in the figure. Used by test_heard.py and by bench/first_audio.py."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.ami.protocol import Message
from tests.asterisk.site import Call, Site


@dataclass(frozen=True)
class FirstPrompt:
    """Seconds from the inbound half's answer (Newstate Up) to the start of its first prompt (`total`), and of
    those the part the engine had, from Asterisk's reply to its ANSWER on (`engine`; 0 for the dialplan alone)."""

    total: float
    engine: float
    prompt: str  # the file played first


def _at(message: Message) -> float:
    return float(message.get("Timestamp") or "nan")


def _answered(site: Site, call: Call, timeout: float) -> Message:
    return site.ami.wait_event("Newstate", timeout, call.since, Uniqueid=call.inbound, ChannelStateDesc="Up")


def answer_to_first_prompt(site: Site, call: Call, timeout: float = 30) -> FirstPrompt:
    """The engine's call: from Newstate Up to the AGIExecStart of its first STREAM FILE. The engine's part starts
    at the AGIExecEnd of its ANSWER; the rest is Asterisk's own: its ANSWER waits for the caller's first media
    frame, up to 500 ms (main/channel.c, __ast_answer)."""

    def agi(phase: str, command: str) -> Message:
        return site.ami.wait_for(
            lambda m: (
                m.event == phase and m.get("Uniqueid") == call.inbound and (m.get("Command") or "").startswith(command)
            ),
            timeout,
            call.since,
            f"{phase} {command}",
        )

    up = _answered(site, call, timeout)
    answered, played = agi("AGIExecEnd", "ANSWER"), agi("AGIExecStart", "STREAM FILE ")
    prompt = (played.get("Command") or "").split()[2]
    return FirstPrompt(_at(played) - _at(up), _at(played) - _at(answered), prompt)


def answer_to_playback(site: Site, call: Call, timeout: float = 30) -> FirstPrompt:
    """The generated dialplan's call without the engine: from Newstate Up (its Answer()) to the Newexten of its
    first Playback, the same two ends on the same clock as the engine's figure."""
    up = _answered(site, call, timeout)
    played = site.ami.wait_event("Newexten", timeout, call.since, Uniqueid=call.inbound, Application="Playback")
    return FirstPrompt(_at(played) - _at(up), 0.0, played.get("AppData") or "")
