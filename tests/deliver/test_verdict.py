"""What each answer means for an event, and how long the deliverer waits before the next attempt."""

from __future__ import annotations

import random

import pytest

from ivr.deliver.verdict import Verdict, backoff, verdict


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Verdict.DELIVERED),
        (201, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (429, Verdict.RETRY),  # too many requests: the department asks for later
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (503, Verdict.RETRY),
        (400, Verdict.PARK),
        (401, Verdict.PARK),  # a wrong secret does not mend itself
        (404, Verdict.PARK),
        (413, Verdict.PARK),
        (301, Verdict.PARK),  # a redirect is not a receiver: the URL in the rules is wrong
        (101, Verdict.PARK),
    ],
)
def test_each_answer(status, expected):
    assert verdict(status) is expected


def test_the_wait_doubles_with_jitter_and_stops_growing_at_five_minutes():
    rng = random.Random(1)
    for failures, ceiling in ((1, 1.0), (2, 2.0), (5, 16.0), (9, 256.0), (10, 300.0), (60, 300.0)):
        waits = [backoff(failures, rng) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 100, "deliverers that failed together do not come back together"
