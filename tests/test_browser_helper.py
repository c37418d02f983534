"""tests/browser.py: without Chromium a browser test skips locally and fails under CI=true."""

from __future__ import annotations

import pytest

from tests import browser


def test_missing_chromium_skips_with_the_reason_locally(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-chromium not found"):
        browser.require_browser()


def test_missing_chromium_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMEDRIVER", tmp_path / "no-driver")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run under CI.*chromium-driver"):
        browser.require_browser()
