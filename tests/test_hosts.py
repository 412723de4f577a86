"""The naming rule of Asterisk hosts and the key a call is found again by (ivr/hosts.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.hosts import (
    LOCAL,
    address_name,
    call_key,
    check_host_name,
    confusions,
    host_name,
    host_port,
    systemname,
)

UNIQUEIDS = st.builds(lambda epoch, seq: f"{epoch}.{seq}", st.integers(1, 2**40), st.integers(0, 2**31))
NAMES = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True).filter(lambda name: name != LOCAL)


@pytest.mark.parametrize(
    ("uniqueid", "name"),
    [
        ("1795849801.5", ""),  # no systemname: what two fresh servers both hand out
        ("ast-a-1795849801.5", "ast-a"),  # systemname = ast-a
        ("pbx.example-1795849801.12", "pbx.example"),
        ("callback-000123-1", ""),  # the dialler's own channel ids are not Asterisk's numbering
    ],
)
def test_systemname_is_read_from_the_uniqueid(uniqueid: str, name: str) -> None:
    assert systemname(uniqueid) == name


@pytest.mark.parametrize(
    ("address", "name"),
    [
        ("127.0.0.1", LOCAL),
        ("127.0.0.2", LOCAL),
        ("::1", LOCAL),
        ("::ffff:127.0.0.1", LOCAL),
        ("localhost", LOCAL),
        ("10.0.0.11", "10.0.0.11"),
        ("::ffff:10.0.0.11", "10.0.0.11"),
        ("fe80::1%eth0", "fe80::1"),
        ("Ast-A.example", "ast-a.example"),
    ],
)
def test_a_host_known_by_its_address(address: str, name: str) -> None:
    assert address_name(address) == name


def test_the_systemname_wins_over_the_given_name() -> None:
    assert host_name("ast-b-1795849801.5", "10.0.0.11") == "ast-b"
    assert host_name("1795849801.5", "10.0.0.11") == "10.0.0.11"


@given(UNIQUEIDS, NAMES, NAMES)
def test_two_named_hosts_never_share_a_key_and_one_channel_keeps_its_own(uniqueid: str, a: str, b: str) -> None:
    assert call_key(a, uniqueid) == call_key(a, uniqueid)
    assert (call_key(a, uniqueid) == call_key(b, uniqueid)) == (a == b)


def test_a_local_or_unnamed_or_systemnamed_call_keeps_its_uniqueid_as_key() -> None:
    """Stores written before hosts were named keyed calls by the uniqueid alone: those keys still find them."""
    assert call_key("", "1795849801.5") == "1795849801.5"
    assert call_key(LOCAL, "1795849801.5") == "1795849801.5"
    assert call_key("ast-a", "ast-a-1795849801.5") == "ast-a-1795849801.5"
    assert call_key("10.0.0.11", "1795849801.5") == "10.0.0.11/1795849801.5"


@pytest.mark.parametrize("bad", ["", "a/b", "-a", "a b", "x" * 64, "主机"])
def test_a_bad_host_name_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="host name"):
        check_host_name(bad)


def test_hosts_named_alike_are_reported() -> None:
    assert confusions({"10.0.0.11": "ast-a", "10.0.0.12": "ast-b"}) == []
    [problem] = confusions({"10.0.0.11": "ast-a", "10.0.0.12": "ast-a", "10.0.0.13": "ast-c"})
    assert problem.startswith("Asterisk hosts 10.0.0.11, 10.0.0.12 are all named 'ast-a'")


def test_host_and_port_as_an_admin_writes_them():
    assert host_port("10.0.0.12", 5038) == ("10.0.0.12", 5038)
    assert host_port("ast-b:5039", 5038) == ("ast-b", 5039)
    assert host_port("[fd00::12]:5039", 5038) == ("fd00::12", 5039)
    for bad, says in ((":5038", "a host is missing"), ("ast-b:70000", "is not a TCP port"), ("ast-b:x", "not a TCP")):
        with pytest.raises(ValueError, match=says):
            host_port(bad, 5038)
