"""Several Asterisk hosts on one engine, over real sockets: calls with the same uniqueid from two hosts get a
ticket each, the same channel asking again keeps its ticket, and a host's systemname names it wherever it connects
from. The two hosts are two loopback source addresses the allowlist names."""

from __future__ import annotations

import json
import subprocess
import sys

from ivr.agi.simulator import SimulatedCall
from ivr.serve.callclient import call_engine
from ivr.tickets.sqlite import SqliteStore
from tests.serve.engine import start_engine
from tests.tickets.calls import call
from tests.tickets.test_engine import settled


def test_two_hosts_with_the_same_uniqueids_get_a_ticket_each_and_a_repeated_channel_keeps_its_own(tmp_path):
    engine = start_engine(tmp_path, "--allow", "ast-a=127.0.0.2,ast-b=127.0.0.3,127.0.0.1")
    try:

        def ticket(simulated: SimulatedCall, source: str) -> str:
            return call_engine("127.0.0.1", engine.port, simulated, source=source).variables["__TICKET_ID"]

        on_a = ticket(call(1, "12333"), "127.0.0.2")
        on_b = ticket(call(1, "12345"), "127.0.0.3")  # host B's first call: the same uniqueid as host A's
        again = ticket(call(1, "12333"), "127.0.0.2")  # host A's channel asking again (a second AGI session)
        named = SimulatedCall("12396", uniqueid=f"ast-c-{call(1).uniqueid}", linkedid=f"ast-c-{call(1).linkedid}")
        on_c = ticket(named, "127.0.0.1")  # unnamed peer, but Asterisk's systemname names it
        local = ticket(call(1, "12315"), "127.0.0.1")
        assert again == on_a
        assert len({on_a, on_b, on_c, local}) == 4
        found = settled(SqliteStore(tmp_path / "tickets.db"), 4)
        assert {(s.host, s.uniqueid, s.line, s.id) for s in found} == {
            ("ast-a", "1795849802.5", "12333", on_a),
            ("ast-b", "1795849802.5", "12345", on_b),
            ("ast-c", "ast-c-1795849802.5", "12396", on_c),
            ("local", "1795849802.5", "12315", local),
        }
        shown = subprocess.run(
            [sys.executable, "-m", "ivr.cli.main", "tickets", "show", on_b],
            capture_output=True, text=True, timeout=60, cwd=tmp_path, check=True,
        ).stdout  # fmt: skip
        assert "host ast-b" in shown
        listed = json.loads(
            subprocess.run(
                [sys.executable, "-m", "ivr.cli.main", "tickets", "list", "--json"],
                capture_output=True, text=True, timeout=60, cwd=tmp_path, check=True,
            ).stdout
        )  # fmt: skip
        assert sorted(s["host"] for s in listed) == ["ast-a", "ast-b", "ast-c", "local"]
        assert f"ticket={on_b} host=ast-b " in engine.log_text(), "the engine's call line names the host"
    finally:
        assert engine.stop() == 0


def test_a_name_in_the_allowlist_is_for_one_address(tmp_path):
    refused = subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "serve", "--allow", "ast-a=10.0.0.0/24"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines() == [
        "ivr serve: --allow: 'ast-a=10.0.0.0/24': a name is for one Asterisk host, so for one address"
    ]
