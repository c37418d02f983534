"""The report as a person sees it: opened from disk in headless Chromium, offline.

Skipped with the reason when Chromium is not installed; under CI=true that fails instead
(tests/browser.py)."""

from __future__ import annotations

import pytest

from report.build import build_report, write_report
from report.page import PALETTE
from report.tables import GRADE_NAMES
from tests.browser import chromium
from tests.report_helpers import History
from tests.test_report import HOSTILE_ACCOUNT, HOSTILE_TICKET, LEVELS, _world


def _rgb(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


@pytest.fixture
def report_file(tmp_path):
    history = History(tmp_path / "state.sqlite")
    try:
        now = _world(history)
        report = build_report(history.store, LEVELS, now, 90, 90)
    finally:
        history.close()
    return report, write_report(report, tmp_path / "out")


def test_report_renders_tables_and_heat_map_colours_in_chromium(report_file, tmp_path):
    report, html_path = report_file
    with chromium() as browser:
        browser.get(html_path.as_uri())
        heat = report.table("heat_map")
        shown = browser.execute_script(
            "return [...document.querySelectorAll('#heat_map tbody tr')].map("
            "tr => [...tr.cells].map(td => td.firstChild ? td.firstChild.textContent : ''))"
        )
        assert [row[1] for row in shown] == [row[1] for row in heat.rows]
        assert shown[0][0] == "yes" and shown[0][1] == "Acme"
        cells = browser.execute_script(
            "return [...document.querySelectorAll('#heat_map td.graded')].map(td => "
            "[td.dataset.grade, getComputedStyle(td).backgroundColor, getComputedStyle(td).color,"
            " td.querySelector('.grade').textContent])"
        )
        expected_cells = sum(len(grades) for grades in heat.grades)
        assert len(cells) == expected_cells
        for grade, background, colour, word in cells:
            index = GRADE_NAMES.index(grade)
            assert (background, colour) == (_rgb(PALETTE[index][0]), _rgb(PALETTE[index][1]))
            assert word == grade  # the colour is also readable as a word
        for key in (
            "open_escalations",
            "owner_accountability",
            "unmatched_tickets",
            "sla_metrics",
            "escalation_frequency",
            "weekly_trend",
            "renewal_risk",
        ):
            rows = browser.execute_script(
                f"return document.querySelectorAll('#{key} tbody tr').length"
            )
            assert rows == len(report.table(key).rows), key
        # Hostile names are text: no element was made from them, and they read as written.
        assert browser.execute_script("return document.querySelectorAll('img, script').length") == 0
        text = browser.execute_script("return document.body.innerText")
        assert HOSTILE_TICKET in text and HOSTILE_ACCOUNT in text
        screenshot = tmp_path / "report.png"
        assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
