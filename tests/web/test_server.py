"""A real `ivr web` over HTTP: the paths, the live stream, and the token rule."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.ami.monitor import wait_for
from tests.serve.engine import copy_rules, save
from tests.web.server import get, start_web

TOKEN = "s3cret-wallboard-token-0123"


def web_command(tmp_path, *extra, env=None):
    return subprocess.run(
        [sys.executable, "-m", "ivr.cli.main", "web", "--rules", str(copy_rules(tmp_path)), *extra],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env=env,
    )


def read(base):
    """The state once the store was read (before that it says "not read yet")."""
    state = json.loads(get(base + "/state.json")[2])
    return state if state["alert"]["why"] != "not read yet" else None


def test_paths_and_the_first_pushed_state(tmp_path):
    store = f"sqlite:///{tmp_path / 'tickets.db'}"
    web = start_web(tmp_path, store, copy_rules(tmp_path))
    try:
        base = f"http://127.0.0.1:{web.port}"
        status, headers, body = get(base + "/")
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert "script-src 'sha256-" in headers["Content-Security-Policy"]
        assert "12345 热线实时看板" in body.decode()
        assert "12345 hotline wallboard" in get(base + "/?lang=en")[2].decode()
        state = wait_for("a first read", lambda: read(base))
        assert state["alert"]["kind"] == "store", "nothing written yet: the wall says so"
        status, headers, body = get(base + "/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
        assert "ivr_store_up 0.0" in body.decode()
        assert get(base + "/nothing")[0] == 404
        with socket.create_connection(("127.0.0.1", web.port), timeout=10) as sse:
            sse.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            seen = b""
            while seen.count(b"\ndata: ") < 2:  # the state at once, then the next read: pushed, not asked for
                seen += sse.recv(65536)
        assert b"content-type: text/event-stream" in seen.lower() and b"retry: 2000" in seen
    finally:
        assert web.stop() == 0, "SIGTERM closes the streams and exits cleanly"


def test_a_non_loopback_address_needs_a_token(tmp_path):
    done = web_command(tmp_path, "--host", "0.0.0.0", "--port", "0", env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "ivr web: --host 0.0.0.0 is not a loopback address: give a token (--token-file, IVR_WEB_TOKEN or "
        "IVR_WEB_TOKEN_FILE)"
    ]
    (tmp_path / "short").write_text("short\n")
    done = web_command(tmp_path, "--host", "0.0.0.0", "--token-file", str(tmp_path / "short"))
    assert done.returncode == 2 and "at least 16 characters" in done.stderr and "short\n" not in done.stderr


def test_with_a_token_every_request_needs_it_and_no_log_shows_it(tmp_path):
    store = f"sqlite:///{tmp_path / 'tickets.db'}"
    (tmp_path / "token").write_text(TOKEN + "\n")
    web = start_web(tmp_path, store, copy_rules(tmp_path), "--token-file", str(tmp_path / "token"), "--log-level",
                    "DEBUG")  # fmt: skip
    try:
        base = f"http://127.0.0.1:{web.port}"
        for path in ("/", "/state.json", "/events", "/metrics", "/nothing"):
            status, headers, _ = get(base + path)
            assert status == 401, path
            assert headers["WWW-Authenticate"] == 'Bearer realm="ivr web"'
        assert get(base + "/?token=" + TOKEN[:-1] + "x")[0] == 401
        assert get(base + "/", {"Authorization": "Bearer wrong"})[0] == 401
        assert get(base + "/?token=" + TOKEN)[0] == 200
        assert get(base + "/metrics", {"Authorization": "Bearer " + TOKEN})[0] == 200
        assert get(base + "/state.json?lang=en&token=" + TOKEN)[0] == 200
    finally:
        web.stop()
    log = web.log_text()
    assert "every request needs the token" in log
    assert log.count("no or wrong token") == 1, "once a minute per address"
    assert "/state.json" in log, "the access log is on (DEBUG)"
    assert TOKEN not in log and TOKEN[:-1] not in log


def test_a_port_in_use_is_one_line(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = web_command(tmp_path, "--port", str(port), "--store", f"sqlite:///{tmp_path / 't.db'}")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith(f"ivr web: cannot listen on 127.0.0.1:{port}: ")


def test_the_wall_follows_the_rules_file_and_keeps_the_old_rules_when_it_is_invalid(tmp_path):
    """Names, zone and the call-back window come from the rules: a change is on the wall without a restart, as
    for `ivr serve` and `ivr monitor`; a broken file is refused once and the wall carries on."""
    rules = copy_rules(tmp_path)
    web = start_web(tmp_path, f"sqlite:///{tmp_path / 'tickets.db'}", rules)
    try:
        base = f"http://127.0.0.1:{web.port}"

        def clock_in(zone):
            state = read(base)
            return state and state["clock"] == f"{datetime.fromtimestamp(state['now'], ZoneInfo(zone)):%H:%M:%S}"

        wait_for("the clock in Shanghai time", lambda: clock_in("Asia/Shanghai"))
        text = rules.read_text(encoding="utf-8")
        save(rules, text.replace("timezone: Asia/Shanghai", "timezone: Asia/Tokyo"))
        wait_for("the clock in Tokyo time, without a restart", lambda: clock_in("Asia/Tokyo"))
        save(rules, text.replace("timezone: Asia/Shanghai", "timezone: Mars/Olympus"))
        wait_for("the refusal", lambda: "rules reload refused" in web.log_text())
        web.process.send_signal(signal.SIGHUP)
        wait_for("still Tokyo after the broken file and a SIGHUP", lambda: clock_in("Asia/Tokyo"))
        log = web.log_text()
        assert log.count("rules reload refused") == 1 and "Mars/Olympus" in log, "logged once, where and what"
    finally:
        assert web.stop() == 0
