"""A data link's delivery: read as written, the defaults a department needs, and a precise line for each mistake."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ivr.rules.loader import load_rules
from ivr.rules.model import DEFAULT_FIELDS, STUB_FIELDS
from tests.conftest import SMALL_RULES
from tests.rules.reporting import assert_reported_at
from tests.tickets.calls import call, stubs_of

SECTION = """\
data_links:
  12348-system:
    name_zh: 12348公共法律服务系统
    name_en: 12348 public legal service system
    delivery:
      url: https://12348.example.gov.cn/ivr/tickets
      secret_env: IVR_SECRET_12348
      timeout: 5
      events: [updated]
      fields: [line, outcome, caller]
      caller: full
      retry_hours: 2
      ca_file: /etc/ivr12345/12348-ca.pem
"""


def test_the_delivery_is_read(write_rules):
    delivery = load_rules(write_rules(SMALL_RULES + SECTION)).data_links["12348-system"].delivery
    assert delivery is not None
    assert (delivery.url, delivery.secret_env, delivery.timeout, delivery.retry_seconds) == (
        "https://12348.example.gov.cn/ivr/tickets", "IVR_SECRET_12348", 5.0, 7200,
    )  # fmt: skip
    assert delivery.events == {"updated"} and delivery.full_caller
    assert delivery.fields == ("id", "revision", "line", "outcome", "caller")  # the receiver's key always goes
    assert delivery.ca_file == "/etc/ivr12345/12348-ca.pem"


def test_defaults_send_both_events_with_the_caller_masked_for_a_day(write_rules):
    text = SMALL_RULES + "\n".join(SECTION.splitlines()[:7]) + "\n"
    delivery = load_rules(write_rules(text)).data_links["12348-system"].delivery
    assert delivery is not None
    assert delivery.events == {"created", "updated"} and not delivery.full_caller
    assert delivery.fields == DEFAULT_FIELDS and delivery.retry_seconds == 24 * 3600 and delivery.timeout == 10


def test_a_data_link_without_a_delivery_is_still_a_data_link(shipped):
    assert all(link.delivery is None for link in shipped.data_links.values())


def test_the_fields_a_delivery_may_name_are_the_stubs():
    opening, _ = stubs_of(call(1, "12348"))
    assert set(STUB_FIELDS) == set(opening.as_json())


@pytest.mark.parametrize(
    ("this", "that", "at", "message"),
    [
        ("https://12348.example.gov.cn", "ftp://12348.example.gov.cn", "url:", "an https:// URL"),
        ("https://12348.example.gov.cn", "http://12348.example.gov.cn", "url:", "plain http only to a loopback"),
        ("https://12348.example.gov.cn", "https://me:pw@12348.example.gov.cn", "url:", "no user or password"),
        ("secret_env: IVR_SECRET_12348", "secret_env: s3cr3t-value", "secret_env", "never the secret"),
        ("events: [updated]", "events: [closed]", "events", "one of: created, updated"),
        ("events: [updated]", "events: []", "events", "name at least one"),
        ("fields: [line, outcome, caller]", "fields: [line, password]", "fields", "password: not a stub field"),
        ("caller: full", "caller: clear", "caller:", "one of: masked, full"),
        ("timeout: 5", "timeout: 0", "timeout: 0", "1 to 120"),
        ("retry_hours: 2", "retry_hours: forever", "retry_hours", "a whole number"),
        ("      url: https://12348.example.gov.cn/ivr/tickets\n", "", "secret_env:", "missing key 'url'"),
        ("timeout: 5", "timout: 5", "timout", "did you mean 'timeout'"),
    ],
)
def test_mistakes(write_rules, this, that, at, message):
    text = SMALL_RULES + SECTION.replace(this, that)
    assert_reported_at(write_rules(text), text, at, message)


def test_check_warns_of_plain_http_to_loopback(write_rules):
    text = SMALL_RULES + SECTION.replace("https://12348.example.gov.cn", "http://127.0.0.1:8443")
    done = subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "check", str(write_rules(text)), "--no-recordings"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "warning: data link 12348-system is delivered over plain http (http://127.0.0.1:8443" in done.stdout
