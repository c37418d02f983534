"""Headless Chromium for tests that look at a page as a person would (Selenium + chromedriver).

Debian's `chromium` and `chromium-driver` (`make browser-deps` or .ci/run installs them).
Missing locally: the test is skipped with the reason. Missing under CI=true: the test fails,
so a CI machine without a browser cannot pass the browser tests by skipping them
(tests/system_packages.py).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.system_packages import missing_files, require

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def missing_browser() -> str | None:
    """Why no browser test can run here, or None when everything is installed."""
    reason = missing_files(((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")))
    if reason is not None:
        return reason
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[test]')"
    return None


def require_browser() -> None:
    """Skip the calling test when no browser is installed; fail instead under CI=true."""
    require(missing_browser(), "browser")


@contextmanager
def chromium() -> Iterator:
    """A Selenium WebDriver on headless Chromium with a fresh profile; quits on exit."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
