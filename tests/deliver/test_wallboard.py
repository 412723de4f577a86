"""A failing data link on the wall, in a real headless Chromium fed by a real `ivr web`: shown while an event is
parked, gone once it is sent again."""

from __future__ import annotations

from ivr.tickets.open import open_store
from tests.ami.monitor import wait_for
from tests.deliver.conftest import rules_with_delivery
from tests.deliver.test_cli import parked
from tests.deliver.test_sender import write_calls
from tests.web.browser import chromium
from tests.web.server import start_web
from tests.web.test_browser import text


def test_the_wall_shows_a_failing_link_until_its_events_are_sent_again(tmp_path, department):
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    store = open_store(url)
    write_calls(store, 1)
    parked(store, 2)
    web = start_web(tmp_path, url, rules_with_delivery(tmp_path, department()))
    try:
        with chromium(tmp_path) as driver:
            driver.get(f"http://127.0.0.1:{web.port}/")
            shown = wait_for("the failing link", lambda: text(driver, "#links div[data-link='12348-system']"))
            assert shown == "数据对接异常：12348公共法律服务系统：2 条发送失败，0 条待发"
            store.deliveries().retry(["12348-system"], [])
            wait_for("the link healthy again", lambda: text(driver, "#links div") is None)
    finally:
        web.stop()
