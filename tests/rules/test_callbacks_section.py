"""The rules file's callbacks section: off and listed-only when left out, and a precise message for each mistake."""

from __future__ import annotations

import pytest

from ivr.rules.loader import load_rules
from ivr.rules.model import Callbacks
from tests.conftest import SMALL_MANIFEST, SMALL_RULES
from tests.rules.reporting import assert_reported_at

SECTION = """\
callbacks:
  automatic: true
  hours:
    - {days: mon-fri, from: "09:00", to: "17:30"}
  queue: hotline-12345
  priority: 20
  max_attempts: 3
  retry_minutes: 45
  window_hours: 12
  dial: "PJSIP/{number}@carrier"
"""


def test_left_out_call_backs_are_listed_but_never_dialled(write_rules):
    assert load_rules(write_rules()).callbacks == Callbacks()
    assert not Callbacks().automatic


def test_the_section_is_read(write_rules):
    found = load_rules(write_rules(SMALL_RULES + SECTION)).callbacks
    assert (found.automatic, found.priority, found.max_attempts, found.retry_minutes, found.window_hours) == (
        True, 20, 3, 45, 12,
    )  # fmt: skip
    assert found.hours.describe() == "mon,tue,wed,thu,fri 09:00-17:30"
    assert found.dial == "PJSIP/{number}@carrier"


def test_the_shipped_file_lists_but_does_not_dial(shipped):
    assert not shipped.callbacks.automatic and "{number}" in shipped.callbacks.dial


@pytest.mark.parametrize(
    ("this", "that", "at", "message"),
    [
        ("queue: hotline-12345", "queue: nowhere", "queue: nowhere", "'nowhere' is not a defined queue"),
        ('dial: "PJSIP/{number}@carrier"', 'dial: "PJSIP/x@carrier"', "PJSIP/x", "must hold {number}"),
        ("max_attempts: 3", "max_attempts: 0", "max_attempts", "1 to 10"),
        ("priority: 20", "priority: high", "priority", "priority"),
        ('dial: "PJSIP/{number}@carrier"\n', "", "automatic: true", "callbacks.automatic needs callbacks.dial"),
    ],
)
def test_mistakes(write_rules, this, that, at, message):
    text = SMALL_RULES + SECTION.replace(this, that)
    assert_reported_at(write_rules(text), text, at, message)


def test_automatic_call_backs_need_their_greeting_in_the_manifest(write_rules):
    """The citizen who answers hears who calls before the agent speaks: without the prompt, no automatic dialling."""
    text = SMALL_RULES + SECTION
    manifest = SMALL_MANIFEST.replace("  callback-greeting: {zh: 回拨, en: Calling back}\n", "")
    assert_reported_at(
        write_rules(text, manifest), text, "automatic: true", "prompt 'callback-greeting' is not defined"
    )
    listed_only = SMALL_RULES + SECTION.replace("automatic: true", "automatic: false")
    assert not load_rules(write_rules(listed_only, manifest)).callbacks.automatic, "a list needs no greeting"
