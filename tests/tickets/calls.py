"""Simulated calls and their ticket stubs, for the ticket tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ivr.agi.simulator import SimulatedCall, simulate
from ivr.calendar.deadlines import DeadlineClock
from ivr.hosts import LOCAL
from ivr.rules.loader import load_rules
from ivr.tickets.fromcall import closing_stub, opening_stub
from ivr.tickets.stub import Stub
from tests.conftest import SHIPPED_RULES

RULES = load_rules(SHIPPED_RULES)
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZONE)  # a Thursday, in working hours
FIRST_EPOCH = 1795849801


def call(n, number="12345", **behaviour):
    """The n-th call of a run: its own uniqueid, and a linkedid that differs from it as on a Local channel."""
    return SimulatedCall(number, uniqueid=f"{FIRST_EPOCH + n}.5", linkedid=f"{FIRST_EPOCH + n}.4", **behaviour)


def stubs_of(simulated, now=NOW, engine="e1"):
    """The opening and the closing stub of one simulated call, not yet numbered."""
    openings = []

    def record(executor):
        openings.append(opening_stub(executor, engine, DeadlineClock(RULES), LOCAL))

    sim = simulate(RULES, simulated, now, record=record)
    return openings[0], closing_stub(openings[0], sim.executor, now + timedelta(seconds=42))


def numbered(stub: Stub, n: int) -> Stub:
    return replace(stub, id=f"12345-{stub.day}-e1-{n:06d}")
