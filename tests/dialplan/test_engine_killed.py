"""The engine killed mid-call, after each command it sent: the real plan executor runs against the simulated
Asterisk until it is cut off, and the generated dialplan carries on with the channel variables it left. Whatever
the moment, the caller reaches a person or hears the final instruction, and is never connected twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.agi.executor import CLOSE, PlanExecutor
from ivr.agi.protocol import AgiEnvironment, AgiParser
from ivr.agi.simulator import AsteriskSimulator, DialBehaviour, QueueBehaviour, SimulatedCall
from ivr.dialplan import names
from ivr.rules.loader import load_rules
from tests.conftest import SHIPPED_RULES
from tests.dialplan.calls import connects, dialplan_of, instructed
from tests.dialplan.interpreter import Call, Channel, World, run

RULES = load_rules(SHIPPED_RULES)
ZONE = ZoneInfo("Asia/Shanghai")
MOMENTS = [datetime(2021, 11, 20, 9, 0, tzinfo=ZONE), datetime(2021, 12, 20, 3, 0, tzinfo=ZONE)]
Q, D = QueueBehaviour, DialBehaviour

# How the queues and seats behave: everyone answers; nobody (each kind of failure); the first seat busy and the
# expert queue empty, then 12345 answers.
WORLDS = {
    "answers": ({}, {}),
    "timeouts": (
        {q.queue: Q.TIMEOUT for q in RULES.queues.values()},
        {s.dial: D.NOANSWER for s in RULES.seats.values()},
    ),
    "empty": ({q.queue: Q.JOINEMPTY for q in RULES.queues.values()}, {s.dial: D.BUSY for s in RULES.seats.values()}),
    "left": (
        {q.queue: Q.LEAVEEMPTY for q in RULES.queues.values()},
        {s.dial: D.CHANUNAVAIL for s in RULES.seats.values()},
    ),
    "late": (
        {q.queue: Q.JOINEMPTY for q in RULES.queues.values() if q.name != "hotline-12345"},
        {s.dial: D.CONGESTION for s in RULES.seats.values()},
    ),
}


@dataclass
class Cut:
    """The engine's side of a call it did not finish: what it left on the channel, and whom it connected."""

    simulator: AsteriskSimulator
    finished: bool

    @property
    def connected(self) -> bool:
        """A queue or seat that answers was run by the engine (EXEC Queue / Dial reached Asterisk)."""
        call = self.simulator.call
        for direction, line in self.simulator.wire:
            words = line.split()
            if direction != ">>" or words[0] != "EXEC" or words[1] not in ("Queue", "Dial"):
                continue
            target = words[2].split(",")[0]
            behaviour = call.queues.get(target, Q.ANSWER) if words[1] == "Queue" else call.seats.get(target, D.ANSWER)
            if behaviour in (Q.ANSWER, D.ANSWER):
                return True
        return False


def cut_after(call: SimulatedCall, now: datetime, commands: int) -> Cut:
    """The executor and the simulator, stopped once `commands` commands were answered."""
    simulator = AsteriskSimulator(call)
    parser = AgiParser()
    env = parser.feed(simulator.open())[0]
    assert isinstance(env, AgiEnvironment)
    executor = PlanExecutor(env, RULES, now)
    action = executor.start()
    for _ in range(commands):
        if action is CLOSE or action is None:
            break
        action = executor.feed(parser.feed(simulator.receive(action.encode())))
    return Cut(simulator, action is CLOSE)


def after_the_engine(cut: Cut, number: str, now: datetime, agistatus: str) -> Call:
    def engine(channel: Channel, args: list[str]) -> None:
        channel.answered = any(line == "ANSWER" for direction, line in cut.simulator.wire if direction == ">>")
        channel.variables.update({name.lstrip("_"): value for name, value in cut.simulator.variables.items()})
        channel.variables["AGISTATUS"] = "HANGUP" if cut.simulator.dead else agistatus
        channel.alive = not cut.simulator.dead

    queues, seats = cut.simulator.call.queues, cut.simulator.call.seats
    world = World(
        int(now.timestamp()),
        engine,
        queues={name: behaviour.value.upper() for name, behaviour in queues.items()},
        seats={dial: behaviour.value.upper() for dial, behaviour in seats.items()},
    )
    world.queues = {q.queue: world.queues.get(q.queue, "ANSWER") for q in RULES.queues.values()}
    world.seats = {s.dial: world.seats.get(s.dial, "ANSWER") for s in RULES.seats.values()}
    return run(dialplan_of(RULES), names.INBOUND, number, world)


@pytest.mark.parametrize("world", list(WORLDS))
@pytest.mark.parametrize("number", list(RULES.lines))
def test_the_engine_killed_after_any_command_still_gets_the_caller_a_person_or_an_instruction(number, world):
    queues, seats = WORLDS[world]
    call = SimulatedCall(number, queues=queues, seats=seats)
    for now in MOMENTS:
        commands = 0
        while True:
            cut = cut_after(call, now, commands)
            for agistatus in ("SUCCESS", "FAILURE"):
                rest = after_the_engine(cut, number, now, agistatus)
                where = f"{number} {world} at {now:%Y-%m-%d}, engine killed after {commands} commands ({agistatus})"
                if cut.finished or cut.connected:
                    assert not connects(rest) and not rest.played, f"{where}: the dialplan carried on"
                    assert rest.ending == "hangup", where
                elif world in ("answers", "late"):
                    assert rest.ending == "person", f"{where}: someone would answer, but {rest.ending} {rest.events}"
                else:
                    assert rest.ending == "person" or instructed(rest, RULES), f"{where}: {rest.ending} {rest.events}"
            if cut.finished:
                break
            commands += 1


def test_a_caller_who_hung_up_during_the_engine_gets_nothing_more():
    call = SimulatedCall("12345", queues={"hotline-12345": Q.CALLER_HANGUP})
    cut = cut_after(call, MOMENTS[0], 100)
    assert cut.simulator.dead
    rest = after_the_engine(cut, "12345", MOMENTS[0], "SUCCESS")
    assert rest.ending == "gone" and not rest.played and not connects(rest)
