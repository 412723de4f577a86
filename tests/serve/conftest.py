"""Fixtures of the session tests: a copy of the shipped rules to change, the engine's holder of them, and a clock
the test moves."""

from __future__ import annotations

import shutil

import pytest
from twisted.internet import task

from ivr.runtime.rulesholder import RulesHolder
from ivr.serve.limits import Limits
from tests.conftest import ROOT, SHIPPED_RULES


@pytest.fixture
def rules_dir(tmp_path):
    shutil.copy(SHIPPED_RULES, tmp_path / "routing_rules.yaml")
    shutil.copytree(ROOT / "recordings", tmp_path / "recordings", ignore=shutil.ignore_patterns("*.wav", "*.alaw"))
    return tmp_path


@pytest.fixture
def holder(rules_dir):
    return RulesHolder(rules_dir / "routing_rules.yaml", Limits.for_rules)


@pytest.fixture
def clock():
    return task.Clock()
