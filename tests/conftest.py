"""Shared fixtures. Tests that need the APIs start the sandbox themselves, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_SPECS = REPO_ROOT.parent / "shared" / "specs"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator:
    """A fresh, empty sandbox of the three APIs with quotas off (tests switch them on)."""
    from sandbox.runner import Sandbox

    with Sandbox(work_dir=tmp_path / "sandbox", quotas=False) as running:
        yield running


@pytest.fixture
def sandbox_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Export the sandbox's credentials under the env var names the example configs use."""
    from sandbox import catalogue

    values = {
        "ZENDESK_EMAIL": catalogue.ZENDESK_EMAIL,
        "ZENDESK_API_TOKEN": catalogue.ZENDESK_API_TOKEN,
        "JIRA_EMAIL": catalogue.JIRA_EMAIL,
        "JIRA_API_TOKEN": catalogue.JIRA_API_TOKEN,
        "SALESFORCE_CLIENT_ID": catalogue.SALESFORCE_CLIENT_ID,
        "SALESFORCE_CLIENT_SECRET": catalogue.SALESFORCE_CLIENT_SECRET,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
