"""What an answer (or its absence) means for an event: delivered, try again later, or park it. Pure."""

from __future__ import annotations

import random
from enum import StrEnum

FIRST_DELAY = 1.0  # seconds before the second attempt
LONGEST_DELAY = 300.0  # the backoff stops growing here: a department back after an outage is reached within 5 min


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PARK = "park"


def verdict(status: int) -> Verdict:
    """2xx delivered; 429 and 5xx (the department busy or broken) later; any other answer will not change by
    itself (a 4xx: the request is refused as it is; a 1xx or 3xx: not a receiver), so it is parked at once."""
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status == 429 or 500 <= status < 600:
        return Verdict.RETRY
    return Verdict.PARK


def backoff(failures: int, rng: random.Random) -> float:
    """Seconds to wait after `failures` failed attempts in a row: exponential, then a random half to all of it,
    so deliverers that failed together do not all come back at once."""
    ceiling = min(LONGEST_DELAY, FIRST_DELAY * 2 ** min(failures - 1, 30))
    return rng.uniform(ceiling / 2, ceiling)
