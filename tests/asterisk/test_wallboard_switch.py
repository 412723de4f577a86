"""The wallboard in a real headless Chromium, fed by the real Asterisk: `ivr monitor` logged in as the generated AMI
user, `ivr web` over the site's store. Callers waiting show on the page with their line, a caller who gives up is on
the call-back panel, and Asterisk stopped shows the AMI-link warning; `/state.json` and `/metrics` say the same as
Asterisk's own record (its AMI events and queue_log)."""

from __future__ import annotations

from tests.ami.monitor import wait_for
from tests.asterisk.lead import metric, state
from tests.asterisk.site import Site
from tests.web.browser import chromium
from tests.web.server import start_web
from tests.web.test_browser import callback, queue, text

QUEUE = "hotline-12345"


def test_the_wallboard_follows_the_switch(site: Site):
    assert site.switch is not None
    site.start_monitor()
    web = start_web(site.folder, site.store, site.rules, "--spool", str(site.folder / "spool"))
    site.agent(QUEUE, "8001", "ring")  # rings, never answers: callers wait; Asterisk is stopped at the end
    try:
        with chromium(site.folder) as driver:
            driver.get(f"http://127.0.0.1:{web.port}/")
            wait_for("the board from the snapshot", lambda: queue(driver, QUEUE, "free") == "1")
            assert text(driver, "#alert") == ""
            calls = [site.call("12345", caller=f"1390000001{n}") for n in (1, 2)]
            for call in calls:
                site.ami.wait_event("QueueCallerJoin", 60, call.since, Uniqueid=call.inbound)
            wait_for("two waiting on the page", lambda: queue(driver, QUEUE, "waiting") == "2")
            shown = next(q for q in state(web.port)["queues"] if q["queue"] == QUEUE)
            assert (shown["live"], shown["waiting"]) == (True, 2)
            assert metric(web.port, "ivr_queue_waiting", queue=QUEUE) == 2
            # The page lists each waiting caller's call (in progress) with the line dialled, the number masked.
            rows = [r.split(" ") for r in (text(driver, "#stubs tbody") or "").splitlines()]
            assert sorted((r[2], r[3], r[4]) for r in rows) == [
                ("12345", "139****0011", "进行中"),
                ("12345", "139****0012", "进行中"),
            ]

            site.hang_up(calls[0])
            site.hung_up(calls[0])
            wait_for("the abandon on the call-back panel", lambda: callback(driver, "state") == "待回拨")
            assert (callback(driver, "caller"), callback(driver, "line")) == ("139****0011", "12345")
            wait_for("one waits", lambda: queue(driver, QUEUE, "waiting") == "1")
            # The caller's own stay (an agent's phone rung meanwhile adds RINGNOANSWER or RINGCANCELED rows).
            log = [r[4] for r in site.switch.queue_log() if r[1] == calls[0].inbound and not r[4].startswith("RING")]
            assert log == ["ENTERQUEUE", "ABANDON"], "Asterisk's record: the first caller gave up"
            assert metric(web.port, "ivr_callbacks", state="due") == 1
            assert metric(web.port, "ivr_queue_calls_today", queue=QUEUE, result="abandoned") == 1
            assert metric(web.port, "ivr_queue_waiting", queue=QUEUE) == 1

            site.switch.stop()  # `core stop now`: Shutdown, then the socket closes; the monitor retries
            wait_for("the warning", lambda: "AMI 连接中断" in (text(driver, "#alert") or ""))
            # Asterisk publishes Shutdown through stasis and goes on to its atexit cleanups, which close the AMI
            # sessions, without waiting for the sessions' threads to write it (main/asterisk.c, really_quit): under
            # load the monitor sees the socket close first (seen in CI), and says so.
            reasons = ("Asterisk shut down (Cleanly)", "connection lost")
            assert text(driver, "#alert") in {f"AMI 连接中断：{why}" for why in reasons}
            assert text(driver, "#live") == "数据不可信"
            assert state(web.port)["alert"]["kind"] == "link-down"
            assert metric(web.port, "ivr_ami_link_up", monitor="m1") == 0
    finally:
        web.stop()
