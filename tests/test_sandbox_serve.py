"""`run_sync.py sandbox serve` as a person (or a service manager) runs it: stopped, it saves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from sandbox import catalogue
from tests.sync_world import write_world_data

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent


def start_serve(data: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """The serve command in a process of its own; its printed addresses once it serves."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run_sync.py"), "sandbox", "serve", "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    printed: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("serving"):
            return process, printed
        name, _, value = line.strip().partition(" ")
        printed[name] = value.strip()
    process.kill()
    raise AssertionError(f"serve stopped before serving: {process.communicate()[1]}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_saves_a_change_made_through_the_api_when_stopped(tmp_path: Path, signum):
    data = write_world_data(tmp_path / "data", tickets=10, accounts=3, jira_issues=2)
    tickets = json.loads((data / "zendesk.json").read_text())["tickets"]
    ticket_id = next(t["id"] for t in tickets if t["status"] != "closed")
    process, printed = start_serve(data)
    try:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify
        answer = session.put(
            f"{printed['zendesk']}/api/v2/tickets/{ticket_id}.json",
            json={"ticket": {"additional_tags": ["kept-after-stop"]}},
            auth=(f"{catalogue.ZENDESK_EMAIL}/token", catalogue.ZENDESK_API_TOKEN),
            verify=printed["CA"].removeprefix("file").strip(),
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "saved the sandbox's state" in out
    saved = json.loads((data / "zendesk.json").read_text())
    ticket = next(t for t in saved["tickets"] if t["id"] == ticket_id)
    assert "kept-after-stop" in ticket["tags"]


def exports_served_in_a_minute(zendesk_url: str, ca: str) -> tuple[int, str]:
    """Ticket export requests answered 200 before the first 429 (all within one minute), and
    the plan's limit the answers announce (X-Rate-Limit)."""
    session = requests.Session()
    session.trust_env = False
    auth = (f"{catalogue.ZENDESK_EMAIL}/token", catalogue.ZENDESK_API_TOKEN)
    announced = ""
    for served in range(100):
        answer = session.get(
            f"{zendesk_url}/api/v2/incremental/tickets/cursor.json",
            params={"start_time": 0, "per_page": 1},
            auth=auth,
            verify=ca,
            timeout=30,
        )
        if answer.status_code == 429:
            return served, announced
        assert answer.status_code == 200, answer.text
        announced = answer.headers["X-Rate-Limit"]
    raise AssertionError("no 429 in 100 export requests")


@pytest.mark.parametrize(("high_volume", "exports", "plan_limit"), [("", 10, 700), ("1", 30, 2500)])
def test_serve_emulates_the_high_volume_add_on_when_its_variable_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, high_volume: str, exports: int, plan_limit: int
):
    monkeypatch.setenv("SANDBOX_ZENDESK_HIGH_VOLUME", high_volume)
    data = write_world_data(tmp_path / "data", tickets=10, accounts=3, jira_issues=2)
    process, printed = start_serve(data)
    try:
        ca = printed["CA"].removeprefix("file").strip()
        assert exports_served_in_a_minute(printed["zendesk"], ca) == (exports, str(plan_limit))
        config = (ROOT / printed["config"]).read_text(encoding="utf-8")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    # The config it writes paces a sync to the same limits.
    paced = (
        f"export_per_minute: {exports}" in config and f"requests_per_minute: {plan_limit}" in config
    )
    assert paced == bool(high_volume), config
