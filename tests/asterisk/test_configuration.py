"""The generated configuration on a real Asterisk 22: loaded whole and without a warning, as an admin includes it."""

from __future__ import annotations

import re

from tests.asterisk.judge import account, assert_agree


def test_asterisk_loads_every_generated_file_without_a_warning(site):
    assert site.switch is not None
    log = site.switch.log.read_text(encoding="utf-8", errors="replace")
    ours = [
        line
        for line in log.splitlines()
        if re.search(r"\] (WARNING|ERROR)\[", line)
        and re.search(r" (pbx_config|app_queue|manager|config|pbx|res_musiconhold)\.c:|ivr-[a-z-]+\.conf", line)
    ]
    assert ours == []
    contexts = site.switch.cli("dialplan show ivr-engine").stdout
    assert f"agi://127.0.0.1:{site.engine_port}/route" in contexts, "the engine address of --engine"
    queues = site.switch.cli("queue show").stdout
    for queue in ("hotline-12345", "expert-12348", "expert-12333", "expert-12329", "expert-12320"):
        assert queue in queues
    users = site.switch.cli("manager show user ivr-monitor").stdout
    assert "ivr-monitor" in users and "secret: <Set>" in users, "the secret came from ivr-ami-secret.conf"


def test_a_call_to_12345_answered_by_an_agent_who_hangs_up_first(site):
    interface = site.agent("hotline-12345", "8001", "answer:2")
    try:
        call = site.call("12345", hold=40)
        site.hung_up(call)
        stub = site.ticket_of(call)
        found = account(site, call)
        assert found.answered_by == interface and found.left == [("hotline-12345", "COMPLETEAGENT")]
        assert_agree(stub, found)
        assert site.call_line(call)["result"] == "answered"
        assert stub["rating"] == "not-rated" and stub["rating_reason"] == "timed-out", "no key pressed"
    finally:
        site.logoff("hotline-12345", interface)
