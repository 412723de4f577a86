"""Property tests: whatever is dialed, whenever, every plan ends in a person or an instruction, and no
emergency number ever gets a plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.router.decide import CallFacts, Presentation, route
from ivr.router.plan import CONNECTING, Answer, EmergencyNumberRefused, Hangup, Play
from ivr.rules.loader import load_rules
from tests.conftest import SHIPPED_RULES

RULES = load_rules(SHIPPED_RULES)
KNOWN = sorted(set(RULES.lines) | set(RULES.by_alias) | set(RULES.emergency.numbers))
PREFIXES = ["", "+86", "0086", "0871", "+86871", "0871-", "17909"]
numbers = st.one_of(
    st.builds(lambda p, n: p + n, st.sampled_from(PREFIXES), st.sampled_from(KNOWN)),
    st.text(alphabet="0123456789", min_size=0, max_size=16),
    st.text(alphabet="0123456789+-() ", max_size=20),
)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
destinations = st.frozensets(st.sampled_from(sorted(set(RULES.queues) | set(RULES.seats))))


@settings(max_examples=500, deadline=None)
@given(
    dialed=numbers,
    redirecting=st.one_of(st.none(), numbers),
    at=moments,
    down=destinations,
    presentation=st.sampled_from(list(Presentation)),
    trunk=st.sampled_from([None, "default", "ip-longdistance", "no-such-trunk"]),
)
def test_every_plan_ends_in_a_person_or_an_instruction(dialed, redirecting, at, down, presentation, trunk):
    facts = CallFacts(dialed, at, redirecting=redirecting, down=down, presentation=presentation, trunk=trunk)
    try:
        plan = route(facts, RULES)
    except EmergencyNumberRefused as refused:
        assert refused.number in RULES.emergency.numbers
        return
    steps = plan.steps
    assert steps, "no plan is empty"
    assert isinstance(steps[0], Answer)
    assert isinstance(steps[-1], Hangup), "the call never just stops: it ends with an instruction and a hang-up"
    assert isinstance(steps[-2], Play), "the last thing a caller hears is a spoken instruction"
    assert plan.line.number not in RULES.emergency.numbers
    # Every connecting step is followed by something to do if it fails.
    for i, step in enumerate(steps):
        if isinstance(step, CONNECTING):
            assert i < len(steps) - 2


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(PREFIXES[:-1]),
    number=st.sampled_from(sorted(RULES.emergency.numbers)),
    offset=st.integers(min_value=0, max_value=10**9),
)
def test_no_emergency_number_ever_gets_a_plan(prefix, number, offset):
    at = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(seconds=offset)
    try:
        route(CallFacts(prefix + number, at), RULES)
    except EmergencyNumberRefused:
        return
    raise AssertionError(f"{prefix + number} got a plan")
