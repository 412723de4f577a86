"""How long the engine waits for each reply before it gives the call back to the dialplan.

Pure. Queue and Dial replies come only after the whole conversation, so their limit is the queue wait or ring
time plus the longest conversation the rules allow; a limit shorter than that would cut live calls. Everything
else is quick on a healthy Asterisk: a short limit there means a stuck peer is noticed in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.agi.executor import Command
from ivr.rules.model import Rules

ENVIRONMENT_SECONDS = 5.0
VARIABLE_SECONDS = 5.0
ANSWER_SECONDS = 10.0  # Asterisk waits up to 500 ms for the first media frame; a loaded box takes longer
PROMPT_MARGIN_SECONDS = 10.0
CONNECT_MARGIN_SECONDS = 30.0
SECONDS_PER_CHARACTER = 0.4  # an upper bound for spoken Mandarin, used when no recording length is known
OTHER_SECONDS = 10.0
# The opening ticket stub, before ANSWER: the caller hears ringing meanwhile. A store that cannot commit in this
# time does not hold the call, which is routed without TICKET_ID (the write still lands, or is spooled).
STORE_SECONDS = 3.0


@dataclass(frozen=True)
class Limits:
    """Per-command limits for one rule set; built once per (re)load, off the call path."""

    rules: Rules
    prompt_seconds: dict[str, float]
    max_conversation: int

    @classmethod
    def for_rules(cls, rules: Rules, recorded: dict[str, float] | None = None) -> Limits:
        """`recorded`: real lengths of the recordings, by prompt name, where they are known."""
        lengths = {
            name: (recorded or {}).get(name, len(prompt.text_zh) * SECONDS_PER_CHARACTER)
            for name, prompt in rules.prompts.items()
        }
        return cls(rules, lengths, rules.engine.max_conversation)

    def seconds(self, command: Command) -> float:
        if command.verb in ("GET VARIABLE", "SET VARIABLE"):
            return VARIABLE_SECONDS
        if command.verb == "STREAM FILE":
            return self.prompt_seconds.get(command.args[0], 60.0) + PROMPT_MARGIN_SECONDS
        if command.verb == "GET DATA":  # the question, then the wait for a key
            wait = int(command.args[1]) / 1000 if command.args[1].isdigit() else 0.0
            return self.prompt_seconds.get(command.args[0], 60.0) + wait + PROMPT_MARGIN_SECONDS
        if command.verb == "ANSWER":
            return ANSWER_SECONDS
        if command.verb == "EXEC":
            return self._exec_seconds(command.args[0], command.args[1])
        return OTHER_SECONDS

    def _exec_seconds(self, app: str, data: str) -> float:
        parts = data.split(",")
        if app == "Queue":
            wait = int(parts[4]) if len(parts) > 4 and parts[4].isdigit() else 0
            longest_wait = max((q.timeout for q in self.rules.queues.values()), default=0)
            return (wait or longest_wait) + self.max_conversation + CONNECT_MARGIN_SECONDS
        if app == "Dial":
            ring = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            longest_ring = max((s.ring_timeout for s in self.rules.seats.values()), default=0)
            return (ring or longest_ring) + self.max_conversation + CONNECT_MARGIN_SECONDS
        return OTHER_SECONDS
