"""Calendar tests run twice: with the machine's zone set to UTC and to Asia/Shanghai. Deadlines must not change."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def every_machine_zone(machine_zone: str) -> str:
    return machine_zone
