"""Debian's Chromium, headless, driven over WebDriver by Debian's chromedriver. Both paths are given, so Selenium
never runs its Selenium Manager and nothing is ever downloaded."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import ROOT, need_tools

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--window-size=1920,1400",
)


def artifacts() -> Path:
    """Where screenshots go: $IVR_TEST_ARTIFACTS, else tests/artifacts (ignored by git)."""
    folder = Path(os.environ.get("IVR_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium(folder: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    need_tools(CHROMIUM, CHROMEDRIVER, packages="chromium chromium-driver")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={folder / 'chromium-profile'}"):
        options.add_argument(flag)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(folder / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()
