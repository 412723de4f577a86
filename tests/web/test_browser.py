"""The wallboard in a real headless Chromium, fed end to end: a real `ivr serve` routes the captured calls (their
stubs), a real `ivr monitor` follows the loopback AMI peer replaying what Asterisk said, and a real `ivr web`
pushes it to the page. Every figure asserted comes from the replayed transcripts and the engine's own routing of
the calls, none is written by the test. Waits are hang guards (poll with a deadline), never timings."""

from __future__ import annotations

import pytest

from ivr.agi.simulator import SimulatedCall
from ivr.serve.callclient import call_engine
from tests.ami.monitor import start_monitor, wait_for
from tests.ami.peer import LAB_SECRET, AmiPeer
from tests.ami.test_monitor import AMI_02, AMI_07B, AMI_08
from tests.serve.engine import start_engine
from tests.web.browser import artifacts, chromium
from tests.web.server import start_web

# A caller of 12396 who presses 1 (satisfied) when the agent hangs up: the rating is the engine's alone (AGI),
# the AMI says nothing of it, so its ids are in no capture. Another caller than ami-08's, and routed before it: a
# later call from ami-08's number that reached an agent would take ami-08 off the call-back list (reached-agent).
RATED = SimulatedCall(
    "12396", caller="13912345678", uniqueid="1795849990.91", linkedid="1795849990.90", rating_keys=("1",)
)


@pytest.fixture
def centre(tmp_path):
    """Engine stubs, then monitor and wallboard on one SQLite store; yields (peer, web)."""
    store = f"sqlite:///{tmp_path / 'tickets.db'}"
    engine = start_engine(tmp_path, "--store", store, "--spool", str(tmp_path / "spool"))
    try:
        for call in (AMI_02, AMI_07B, RATED, AMI_08):
            call_engine("127.0.0.1", engine.port, call)
    finally:
        engine.stop()
    with AmiPeer() as peer:
        monitor = start_monitor(tmp_path, peer.port, store, LAB_SECRET, engine.rules)
        web = start_web(tmp_path, store, engine.rules, "--spool", str(tmp_path / "spool"))
        try:
            yield peer, web
        finally:
            web.stop()
            monitor.stop()


def text(driver, css):
    """The text of the first element `css` finds now, or None when there is none. The page redraws rows on every
    push: an element replaced between finding and reading is found again (a hang guard bounds the retries)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def read():
        try:
            found = driver.find_elements(By.CSS_SELECTOR, css)
            return (found[0].text if found else None,)
        except StaleElementReferenceException:
            return None

    return wait_for(f"a steady read of {css}", read)[0]


def queue(driver, name, field):
    return text(driver, f"#queues tr[data-queue='{name}'] td[data-field='{field}']")


def rated(driver, table, key, field):
    return text(driver, f"#ratings-{table} tr[data-key='{key}'] td[data-field='{field}']")


def screenshot(driver, name):
    """The whole page, not only the window's height: the docs show every panel."""
    chrome = driver.get_window_size()["height"] - driver.execute_script("return window.innerHeight")
    driver.set_window_size(1920, chrome + driver.execute_script("return document.documentElement.scrollHeight"))
    driver.save_screenshot(str(artifacts() / name))


def callback(driver, field):
    return text(driver, f"#callbacks tr[data-ticket] td[data-field='{field}']")


def test_the_page_shows_the_replayed_centre_live_warns_when_asterisk_goes_and_recovers(centre, tmp_path):
    peer, web = centre
    peer.wait_actions("queuestatus", 1)
    with chromium(tmp_path) as driver:
        driver.get(f"http://127.0.0.1:{web.port}/")
        driver.execute_script("window.sameDocument = true")  # gone if the page ever reloads
        wait_for("the board from the snapshot", lambda: queue(driver, "hotline-12345", "free") == "1")
        assert text(driver, "#alert") == "", "live: no warning"
        assert text(driver, "#live") == "实时"
        assert [queue(driver, "hotline-12345", s) for s in ("busy", "paused", "unavailable")] == ["0", "0", "0"]
        assert queue(driver, "hotline-empty-leave", "free") == "0", "the captured snapshot: nobody in the empty queues"

        assert (rated(driver, "lines", "12396", "satisfied"), rated(driver, "lines", "12396", "satisfaction")) == (
            "1",
            "100%",
        ), "the rated call: 1 pressed"
        assert rated(driver, "lines", "12345", "not_rated") == "1", "ami-02's caller pressed nothing: asked, not rated"
        assert rated(driver, "agents", "Local/agent1@agents", "asked") == "2"
        assert text(driver, "#callbacks tbody") == "没有待处理的回拨", "the engine's word alone lists nobody"
        assert (text(driver, "#callback-counts [data-state='due'] b"), text(driver, "#kpi-callbacks")) == ("0", "0")

        peer.play("ami-02-queue-connect.txt")
        wait_for("ami-02 answered by Agent One", lambda: "Local/agent1@agents" in (text(driver, "#stubs") or ""))
        assert queue(driver, "hotline-empty-leave", "abandoned") == "0"

        peer.play("ami-07b-queue-empty-leavewhenempty.txt")
        wait_for("ami-07b left the empty queue", lambda: queue(driver, "hotline-empty-leave", "abandoned") == "1")

        peer.play("ami-actions.txt")  # Asterisk's QueueCallerAbandon for ami-08's caller
        wait_for("ami-08's caller on the call-back list", lambda: callback(driver, "state") == "待回拨")
        assert (callback(driver, "caller"), callback(driver, "line"), callback(driver, "attempts")) == (
            "138****8000",
            "12345",
            "0",
        )
        assert (text(driver, "#callback-counts [data-state='due'] b"), text(driver, "#kpi-callbacks")) == ("1", "1")
        assert "13800138000" not in driver.page_source, "masked before it left the server"
        assert queue(driver, "hotline-empty-wait", "abandoned") == "1", "where Asterisk says the caller waited"
        assert queue(driver, "hotline-12345", "answered") == "2", "ami-02 and the rated call"
        assert queue(driver, "hotline-12345", "service_level") == "100%", "07b and 08 waited in other queues"
        assert queue(driver, "hotline-12345", "connection_rate") == "100%"
        assert text(driver, "#lines tr[data-line='12345'] td[data-field='calls']") == "3"
        assert text(driver, "#kpi-abandoned") == "1", "only ami-08's caller gave up: the queue let 07b's call go"
        assert text(driver, "#chart") is not None
        totals = driver.execute_script(
            "return [...document.querySelectorAll('#chart g[data-hour]')].map(g => +g.dataset.total)"
        )
        assert sum(totals) == 4, "every call in the chart"
        caller = text(driver, "#stubs tr td[data-field='caller']")
        assert caller and "*" in caller, "callers masked"
        screenshot(driver, "wallboard.png")

        peer.shutdown()
        wait_for("the warning", lambda: "AMI 连接中断" in (text(driver, "#alert") or ""))
        assert text(driver, "#alert") == "AMI 连接中断：Asterisk shut down (Cleanly)"
        assert text(driver, "#live") == "数据不可信"
        screenshot(driver, "wallboard-warning.png")

        driver.find_element("id", "switch").click()
        assert text(driver, "#alert") == "AMI link down: Asterisk shut down (Cleanly)"
        assert text(driver, "h1") == "12345 hotline wallboard"
        assert callback(driver, "state") == "due"

        peer.come_back()
        peer.wait_actions("queuestatus", 2)  # the monitor came back and asked for a new snapshot
        wait_for("live again", lambda: text(driver, "#alert") == "")
        assert text(driver, "#live") == "Live"
        assert queue(driver, "hotline-12345", "free") == "1", "the board rebuilt from the new snapshot"
        assert driver.execute_script("return window.sameDocument === true"), "never reloaded"
