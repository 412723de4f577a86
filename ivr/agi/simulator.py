"""The Asterisk side of a FastAGI session, for tests and `ivr call`: sans-I/O, speaking only captured lines.

A SimulatedCall says how the world behaves (which queues answer, time out or are empty, which seats are busy,
where the caller hangs up); the simulator answers each command the way the real Asterisk 22 did in the captured
transcripts, including the awkward parts: HANGUP between a command and its reply (a caller leaving a queue),
HANGUP right after the reply of an interrupted prompt, an unsolicited HANGUP while the engine is idle, 200 for
EXEC/GET/SET/VERBOSE/NOOP on a dead channel and 511 for the rest, and the final HANGUP after the engine
half-closes. A command it has no captured answer for raises SimulatorError instead of inventing one.

Queues are set up as the generated queues.conf sets them (`setinterfacevar=yes`): an answered call has
MEMBERINTERFACE, the agent's interface as the AMI capture shows it. CHANNEL(linkedid) is the call's `linkedid`,
the `;1` half of the Local channel in the captures, so it differs from agi_uniqueid as it does in Asterisk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ivr.agi import captured
from ivr.agi.executor import CLOSE, LINKEDID, RECORD, PlanExecutor
from ivr.agi.protocol import AgiEnvironment, AgiParser, split_command
from ivr.rules.model import Rules

# Verbs res_agi knows (a command outside them gets 510), and those it refuses on a dead channel (511).
KNOWN_VERBS = frozenset({"ANSWER", "EXEC", "GET", "HANGUP", "NOOP", "SAY", "SET", "STREAM", "VERBOSE", "WAIT"})
DEAD_REFUSED = frozenset({"ANSWER", "GET", "HANGUP", "SAY", "STREAM", "WAIT"})


MAX_EXCHANGES = 500
HANG_UP = "hang-up"  # a rating key: the caller hangs up during the question


class SimulatorError(Exception):
    """The engine sent something the simulator has no captured reply for."""


class QueueBehaviour(StrEnum):
    """How a queue ends, each as captured: agi-02/02b, 08, 07c, 07a, 07b, 07d, 09."""

    ANSWER = "answer"
    CALLER_HANGUP = "caller-hangup"
    TIMEOUT = "timeout"
    JOINEMPTY = "joinempty"
    LEAVEEMPTY = "leaveempty"
    UNKNOWN = "unknown"
    ASTERISK_STOPPED = "asterisk-stopped"


class DialBehaviour(StrEnum):
    """How a Dial to a department seat ends: agi-03 (BUSY, NOANSWER, CONGESTION, CHANUNAVAIL), and answered."""

    ANSWER = "answer"
    BUSY = "busy"
    NOANSWER = "noanswer"
    CONGESTION = "congestion"
    CHANUNAVAIL = "chanunavail"


@dataclass(frozen=True)
class SimulatedCall:
    """One caller and the world they call into. Queues are keyed by Asterisk queue name, seats by dial string."""

    number: str
    caller: str = "13800138000"
    callingpres: int = 0
    rdnis: str = "unknown"
    trunk: str | None = None
    number_as_argument: bool = True
    queues: Mapping[str, QueueBehaviour] = field(default_factory=dict)
    seats: Mapping[str, DialBehaviour] = field(default_factory=dict)
    missing_prompts: frozenset[str] = frozenset()
    hangup_in_prompt: str | None = None
    hangup_after_replies: int | None = None
    uniqueid: str = "1795849801.5"
    linkedid: str = "1795849801.4"
    agent: str = "Local/agent1@agents"
    # What the caller does at each GET DATA (the rating question), in order: keys pressed, "" for nothing (the
    # timeout), or HANG_UP. Past the end: nothing.
    rating_keys: tuple[str, ...] = ()


@dataclass
class AsteriskSimulator:
    call: SimulatedCall
    variables: dict[str, str] = field(default_factory=dict)
    wire: list[tuple[str, str]] = field(default_factory=list)
    dead: bool = False
    closed: bool = False
    _buffer: bytes = b""
    _hangup_before_next_reply: bool = False
    _replies: int = 0
    _questions: int = 0

    def open(self) -> bytes:
        """The environment block Asterisk sends as soon as the TCP connection is up."""
        c = self.call
        args = [c.number] + ([c.trunk] if c.trunk else []) if c.number_as_argument else []
        script = "route" + "".join(f",{a}" for a in args) if args else "route"
        values = {
            "agi_network_script": script,
            "agi_request": f"agi://127.0.0.1:4573/{script}",
            "agi_channel": f"Local/{c.number}@from-pstn-00000002;2",
            "agi_uniqueid": c.uniqueid,
            "agi_callerid": c.caller,
            "agi_callingpres": str(c.callingpres),
            "agi_rdnis": c.rdnis,
            "agi_extension": c.number,
        }
        lines = [f"{key}: {value if value is not None else values[key]}" for key, value in captured.ENVIRONMENT]
        lines += [f"agi_arg_{i}: {arg}" for i, arg in enumerate(args, start=1)]
        self.variables.update({"CALLERID(num)": c.caller, "HANGUPCAUSE": "0", LINKEDID: c.linkedid})
        return self._emit([*lines, ""])

    def receive(self, data: bytes) -> bytes:
        """Bytes from the engine in; Asterisk's bytes out (possibly nothing yet, for a partial line)."""
        self._buffer += data
        out = b""
        while b"\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n", 1)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise SimulatorError(f"not an AGI command (not UTF-8): {raw[:40]!r}") from None
            self.wire.append((">>", line))
            out += self._answer(line)
        return out

    def engine_closed(self) -> bytes:
        """The engine half-closed: Asterisk writes one last HANGUP, whatever the channel state, and closes."""
        self.closed = True
        return self._emit([captured.HANGUP])

    # --- replies ---------------------------------------------------------------------------------------------

    def _emit(self, lines: list[str]) -> bytes:
        self.wire.extend(("<<", line) for line in lines)
        return "".join(line + "\n" for line in lines).encode("utf-8")

    def _answer(self, line: str) -> bytes:
        words = split_command(line)
        verb = " ".join(w.upper() for w in words[:3])
        lines: list[str] = []
        if self._hangup_before_next_reply:
            self._hangup_before_next_reply = False
            lines.append(captured.HANGUP)
        lines += self._reply(verb, words)
        self._replies += 1
        if self.call.hangup_after_replies == self._replies and not self.dead:
            self.dead = True
            lines.append(captured.HANGUP)
        return self._emit(lines)

    def _reply(self, verb: str, words: list[str]) -> list[str]:
        first = verb.split(" ")[0]
        if first not in KNOWN_VERBS:
            return [captured.INVALID]
        if verb.startswith("SET VARIABLE") and len(words) == 4:
            self.variables[words[2]] = words[3]
            return [captured.SET_OK]
        if verb.startswith("GET VARIABLE") and len(words) == 3:
            value = self.variables.get(words[2], "")
            return [captured.value(value) if value else captured.UNSET]
        if first == "EXEC" and len(words) >= 2:
            return self._exec(words[1], words[2] if len(words) > 2 else "")
        if first == "VERBOSE":
            return [captured.SET_OK]
        if first == "NOOP":
            return [captured.OK]
        if self.dead and first in DEAD_REFUSED:
            return [captured.DEAD_CHANNEL]
        if first == "ANSWER" and len(words) == 1:
            return [captured.OK]
        if verb.startswith("STREAM FILE") and len(words) == 4:
            return self._stream(words[2])
        if verb.startswith("GET DATA") and len(words) >= 3:
            return self._get_data()
        raise SimulatorError(f"no captured reply for {' '.join(words)!r}")

    def _stream(self, prompt: str) -> list[str]:
        if prompt in self.call.missing_prompts:
            return [captured.STREAM_MISSING]
        if prompt == self.call.hangup_in_prompt:
            self.dead = True
            return [captured.STREAM_HUNG_UP, captured.HANGUP]
        return [captured.STREAM_PLAYED]

    def _get_data(self) -> list[str]:
        keys = self.call.rating_keys[self._questions] if self._questions < len(self.call.rating_keys) else ""
        self._questions += 1
        if keys == HANG_UP:
            self.dead = True
            return [captured.MINUS_ONE, captured.HANGUP]
        return [captured.digits(keys) if keys else captured.GET_DATA_TIMEOUT]

    def _exec(self, app: str, data: str) -> list[str]:
        parts = data.split(",")
        if app == "Queue":
            if self.dead:
                return [captured.MINUS_ONE]  # 4c: it still rings an agent for a caller who has gone
            return self._queue(parts[0], parts[1] if len(parts) > 1 else "")
        if app == "Dial":
            if self.dead:
                raise SimulatorError("no captured reply for EXEC Dial on a dead channel")
            return self._dial(parts[0])
        if app == "Playback":
            return [captured.OK]
        raise SimulatorError(f"no captured reply for EXEC {app}")

    def _queue(self, name: str, options: str) -> list[str]:
        behaviour = self.call.queues.get(name, QueueBehaviour.ANSWER)
        v = self.variables
        if behaviour is QueueBehaviour.ANSWER:
            v.update(ANSWEREDTIME="5", DIALEDTIME="5", QUEUEWAIT="0", MEMBERINTERFACE=self.call.agent)
            if "c" in options:
                v["QUEUESTATUS"] = "CONTINUE"
                return [captured.OK]
            return [captured.MINUS_ONE]
        if behaviour in (QueueBehaviour.CALLER_HANGUP, QueueBehaviour.ASTERISK_STOPPED):
            v["ABANDONED"] = "TRUE"
            self.dead = True
            self._hangup_before_next_reply = True
            return [captured.MINUS_ONE]
        v["QUEUESTATUS"] = behaviour.value.upper()
        if behaviour in (QueueBehaviour.TIMEOUT, QueueBehaviour.LEAVEEMPTY):
            v["ABANDONED"] = "TRUE"
        return [captured.OK]

    def _dial(self, target: str) -> list[str]:
        behaviour = self.call.seats.get(target, DialBehaviour.ANSWER)
        self.variables["DIALSTATUS"] = behaviour.value.upper()
        if behaviour is DialBehaviour.ANSWER:
            self.variables["ANSWEREDTIME"] = "5"
            return [captured.MINUS_ONE]
        return [captured.OK]


@dataclass
class Simulation:
    """A whole call carried out between the engine's executor and the simulator, with the wire as it went."""

    simulator: AsteriskSimulator
    executor: PlanExecutor

    @property
    def wire(self) -> list[tuple[str, str]]:
        return self.simulator.wire

    @property
    def commands(self) -> list[str]:
        return [line for direction, line in self.wire if direction == ">>"]


def simulate(
    rules: Rules,
    call: SimulatedCall,
    now: datetime,
    down: frozenset[str] = frozenset(),
    record: Callable[[PlanExecutor], str | None] | None = None,
) -> Simulation:
    """Run one call to its end: the executor's commands go to the simulator, its bytes back through the parser.

    Each reply the simulator writes is one read for the engine, as on a socket; the engine's close is a
    half-close, after which Asterisk's last HANGUP is still read. With `record`, the call has its ticket prelude
    and `record` plays the ticket store: it gets the executor when the stub is due and returns its id."""
    simulator = AsteriskSimulator(call)
    parser = AgiParser()
    events = parser.feed(simulator.open())
    if not events or not isinstance(events[0], AgiEnvironment):
        raise SimulatorError("the simulator sent no environment block")
    executor, action = PlanExecutor.begin(events, rules, now, down, ticketing=record is not None)
    for _ in range(MAX_EXCHANGES):
        if action is RECORD:
            assert record is not None, "the prelude runs only with `record`"
            action = executor.ticket_recorded(record(executor))
            continue
        if action is CLOSE:
            executor.feed(parser.feed(simulator.engine_closed()))
            return Simulation(simulator, executor)
        if action is None:
            raise SimulatorError("the engine is waiting but Asterisk has nothing more to say")
        action = executor.feed(parser.feed(simulator.receive(action.encode())))
    raise SimulatorError(f"the call did not end within {MAX_EXCHANGES} commands")
