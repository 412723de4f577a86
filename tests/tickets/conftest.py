"""Fixtures of the ticket tests: a real Redis server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tickets.redisserver import RedisServer


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()
