"""What the fuzz targets share: how many examples (`IVR_FUZZ_EXAMPLES`), a hang guard, and chunkings.

The CI run uses hypothesis's default example count; `bench/fuzz_long.py` sets `IVR_FUZZ_EXAMPLES=100000` for the
long pass. The count is applied per target through `FUZZ`, not by loading a global hypothesis profile, so the rest
of the suite keeps its own settings.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("IVR_FUZZ_EXAMPLES", "100"))
# Seconds one example may take before it counts as a hang. A guard, not a timing: the slowest example in the long
# pass (a 1 MiB YAML file) takes well under one second.
HANG_SECONDS = 30.0

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # hypothesis measures an example only after it returns, so it cannot catch a hang: `bounded` does
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


class Hung(AssertionError):
    """An input made the code under test run past HANG_SECONDS."""


@contextmanager
def bounded(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Interrupts the code inside after `seconds`, so an endless loop fails its example instead of the whole run."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"no result within {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def chunkings() -> st.SearchStrategy[tuple[int, list[int]]]:
    """A fixed chunk size (1 byte and up) and free cut points: the two ways a socket splits a stream."""
    return st.tuples(st.integers(min_value=1, max_value=10_000), st.lists(st.integers(min_value=0), max_size=30))


def split(data: bytes, size: int) -> list[bytes]:
    """`data` in chunks of `size` bytes, the last one shorter."""
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]
