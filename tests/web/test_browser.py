"""The wallboard in a real headless Chromium, fed end to end: a real `ivr serve` routes the captured calls (their
stubs), a real `ivr monitor` follows the loopback AMI peer replaying what Asterisk said, and a real `ivr web`
pushes it to the page. Every figure asserted comes from the replayed transcripts, none is written by the test.
Waits are hang guards (poll with a deadline), never timings."""

from __future__ import annotations

import pytest

from ivr.agi.simulator import QueueBehaviour, SimulatedCall
from ivr.serve.callclient import call_engine
from tests.ami.monitor import start_monitor, wait_for
from tests.ami.peer import LAB_SECRET, AmiPeer
from tests.serve.engine import start_engine
from tests.web.browser import artifacts, chromium
from tests.web.server import start_web

# The captured calls as the engine saw them over AGI: agi-02 (answered by Agent One in hotline-12345) and agi-07b
# (the last agent left hotline-empty-leave); uniqueids and linkedids as in ami-02 and ami-07b.
AMI_02 = SimulatedCall("12345", uniqueid="1795849801.5", linkedid="1795849801.4")
AMI_07B = SimulatedCall(
    "12345", uniqueid="1795849861.41", linkedid="1795849861.40", queues={"hotline-12345": QueueBehaviour.LEAVEEMPTY}
)


@pytest.fixture
def centre(tmp_path):
    """Engine stubs, then monitor and wallboard on one SQLite store; yields (peer, web)."""
    store = f"sqlite:///{tmp_path / 'tickets.db'}"
    engine = start_engine(tmp_path, "--store", store, "--spool", str(tmp_path / "spool"))
    try:
        for call in (AMI_02, AMI_07B):
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
    """The text of the first element `css` finds now, or None: the page redraws rows on every push."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].text if found else None
    except StaleElementReferenceException:
        return None


def queue(driver, name, field):
    return text(driver, f"#queues tr[data-queue='{name}'] td[data-field='{field}']")


def test_the_page_shows_the_replayed_centre_live_and_warns_when_asterisk_goes(centre, tmp_path):
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

        peer.play("ami-02-queue-connect.txt")
        wait_for("ami-02 answered by Agent One", lambda: "Local/agent1@agents" in (text(driver, "#stubs") or ""))
        assert queue(driver, "hotline-12345", "answered") == "1"
        assert queue(driver, "hotline-empty-leave", "abandoned") == "0"

        peer.play("ami-07b-queue-empty-leavewhenempty.txt")
        wait_for("ami-07b left the empty queue", lambda: queue(driver, "hotline-empty-leave", "abandoned") == "1")
        assert queue(driver, "hotline-12345", "service_level") == "100%", "07b waited in the queue Asterisk names"
        assert queue(driver, "hotline-12345", "connection_rate") == "100%"
        assert text(driver, "#lines tr[data-line='12345'] td[data-field='calls']") == "2"
        assert text(driver, "#kpi-abandoned") == "0", "07b's caller did not give up: the queue let the call go"
        assert text(driver, "#chart") is not None
        totals = driver.execute_script(
            "return [...document.querySelectorAll('#chart g[data-hour]')].map(g => +g.dataset.total)"
        )
        assert sum(totals) == 2, "both calls in the chart"
        caller = text(driver, "#stubs tr td[data-field='caller']")
        assert caller and "*" in caller, "callers masked"
        driver.save_screenshot(str(artifacts() / "wallboard.png"))

        peer.shutdown()
        wait_for("the warning", lambda: "AMI 连接中断" in (text(driver, "#alert") or ""))
        assert text(driver, "#alert") == "AMI 连接中断：Asterisk shut down (Cleanly)"
        assert text(driver, "#live") == "数据不可信"
        driver.save_screenshot(str(artifacts() / "wallboard-warning.png"))

        driver.find_element("id", "switch").click()
        assert text(driver, "#alert") == "AMI link down: Asterisk shut down (Cleanly)"
        assert text(driver, "h1") == "12345 hotline wallboard"
        assert driver.execute_script("return window.sameDocument === true"), "never reloaded"
