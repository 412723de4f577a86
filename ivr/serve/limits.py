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
        if command.answer_wait is not None:
            return self._connect_seconds(command.args[0], command.answer_wait)
        return OTHER_SECONDS

    def _connect_seconds(self, app: str, wait: int) -> float:
        """A Queue or Dial without a wait of its own is given the longest the rules set for any queue or seat."""
        if not wait:
            queues, seats = self.rules.queues.values(), self.rules.seats.values()
            wait = max([q.timeout for q in queues] if app == "Queue" else [s.ring_timeout for s in seats], default=0)
        return wait + self.max_conversation + CONNECT_MARGIN_SECONDS
