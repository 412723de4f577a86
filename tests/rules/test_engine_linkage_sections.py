"""The rules file's engine and linkage sections (and trunk names, which the dialplan passes to the engine): the
defaults when left out, and a precise message for every mistake."""

from __future__ import annotations

import pytest

from ivr.rules.loader import load_rules
from ivr.rules.model import Engine, Linkage
from tests.conftest import SMALL_RULES
from tests.rules.reporting import assert_reported_at

SECTIONS = """\
engine:
  agi_url: "agi://10.0.0.5:4573"
  max_conversation: 5400
linkage:
  outbound_context: pstn-out
  utilities:
    water: "96106"
    power: "95598"
"""


def test_left_out_they_mean_one_local_engine_and_only_the_emergency_numbers(write_rules):
    rules = load_rules(write_rules())
    assert rules.engine == Engine(("agi://127.0.0.1:4573",), 3600)
    assert rules.linkage == Linkage()
    assert rules.linkage.outbound_context is None and not rules.linkage.utilities


def test_the_sections_are_read(write_rules):
    rules = load_rules(write_rules(SMALL_RULES + SECTIONS))
    assert rules.engine == Engine(("agi://10.0.0.5:4573",), 5400)
    assert rules.linkage.outbound_context == "pstn-out"
    assert dict(rules.linkage.utilities) == {"water": "96106", "power": "95598"}


@pytest.mark.parametrize(
    "url", ["agi://127.0.0.1", "agi://engine.hotline.example:4573", "agi://[::1]:4573", "hagi://engines.example"]
)
def test_agi_urls(write_rules, url):
    text = SMALL_RULES + SECTIONS.replace('"agi://10.0.0.5:4573"', f'"{url}"')
    assert load_rules(write_rules(text)).engine.agi_urls == (url,)


def test_a_list_of_engines_is_kept_in_its_order(write_rules):
    listed = '["agi://10.0.0.6:4573", "hagi://engines.example", "agi://10.0.0.5"]'
    text = SMALL_RULES + SECTIONS.replace('"agi://10.0.0.5:4573"', listed)
    assert load_rules(write_rules(text)).engine.agi_urls == (
        "agi://10.0.0.6:4573",
        "hagi://engines.example",
        "agi://10.0.0.5",
    )


def test_the_shipped_file_writes_them_out(shipped):
    assert shipped.engine == Engine()
    assert shipped.linkage.outbound_context == "pstn-out"
    assert set(shipped.linkage.utilities.values()).isdisjoint(shipped.emergency.numbers)


# (replace this in SECTIONS, with that, the problem expected on the line of `at`, message fragment)
CASES = [
    pytest.param('"agi://10.0.0.5:4573"', '"http://10.0.0.5"', "http://", "agi://HOST[:PORT]", id="scheme"),
    pytest.param('"agi://10.0.0.5:4573"', '"agi://10.0.0.5:4573/route"', "/route", "without a path", id="path"),
    pytest.param('"agi://10.0.0.5:4573"', '"hagi://engines:4573"', "hagi://", "hagi://SRV-NAME", id="hagi-port"),
    pytest.param('"agi://10.0.0.5:4573"', "[]", "agi_url: []", "at least one engine", id="empty-list"),
    pytest.param(
        'agi_url: "agi://10.0.0.5:4573"',
        'agi_url:\n    - "agi://10.0.0.5:4573"\n    - "agi://10.0.0.6/route"',
        "/route",
        "without a path",
        id="list-path",
    ),
    pytest.param(
        'agi_url: "agi://10.0.0.5:4573"',
        'agi_url:\n    - "agi://10.0.0.5"\n    - "agi://10.0.0.6"\n    - "agi://10.0.0.5 "',
        '"agi://10.0.0.5 "',
        "agi://HOST[:PORT]",
        id="list-space",
    ),
    pytest.param(
        'agi_url: "agi://10.0.0.5:4573"',
        'agi_url:\n    - "agi://10.0.0.5"\n    - "agi://10.0.0.6"\n    - agi://10.0.0.5',
        "- agi://10.0.0.5",
        "listed twice",
        id="list-twice",
    ),
    pytest.param('"agi://10.0.0.5:4573"', "{url: x}", "{url: x}", "must be text", id="mapping"),
    pytest.param("max_conversation: 5400", "max_conversation: 10", "max_conversation", "60 to 86400", id="too-short"),
    pytest.param("max_conversation: 5400", "max_conversaton: 5400", "max_conversaton", "did you mean", id="typo"),
    pytest.param("outbound_context: pstn-out", "outbound_context: pstn out", "pstn out", "context", id="context"),
    pytest.param("  outbound_context: pstn-out\n", "", "utilities:", "missing key 'outbound_context'", id="no-context"),
    pytest.param('water: "96106"', 'water: "110"', 'water: "110"', "110 is an emergency number", id="emergency"),
    pytest.param('water: "96106"', 'water: "95598"', 'power: "95598"', "listed twice (already as water)", id="twice"),
    pytest.param('water: "96106"', 'water: "961O6"', "961O6", "a number made of digits", id="not-digits"),
    pytest.param('water: "96106"', 'Water: "96106"', "Water", "lower-case letters", id="name"),
    pytest.param("  utilities:\n", "  utilitys:\n", "utilitys", "did you mean 'utilities'?", id="typo-utilities"),
]


@pytest.mark.parametrize(("old", "new", "at", "message"), CASES)
def test_each_mistake_is_reported_where_it_is(write_rules, old, new, at, message):
    assert old in SECTIONS, old
    text = SMALL_RULES + SECTIONS.replace(old, new, 1)
    assert_reported_at(write_rules(text), text, at, message)


def test_a_trunk_name_must_be_fit_for_the_dialplan(write_rules):
    text = SMALL_RULES.replace(
        '  area_codes: ["0871"]\n', '  area_codes: ["0871"]\n  trunks:\n    "carrier A,B":\n      strip_prefixes: []\n'
    )
    assert_reported_at(write_rules(text), text, "carrier A,B", "lower-case letters, digits, - and _")
