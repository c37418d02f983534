"""The account matrix's state tables: what we wrote is read back as it was written (the
reader skips the JSON parser for plain strings; escaped ones must still come back whole)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync.accounts_store import AccountStore
from sync.state import StateStore

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
VALUES = [
    "at-risk",
    "2026-03-04",
    'Initech said "renew later"',
    "C:\\path\\with\\backslashes",
    "two\nlines",
    "tab\there",
    "Zürich – ünïcode ✓",
    "",
    '"',
    "\\",
    12,
    900000.5,
    None,
    True,
    ["a", "b"],
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_written_values_are_read_back_unchanged(tmp_path: Path, value: object) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    try:
        with store.transaction():
            store.record_written("salesforce.task", "001/x", {"description": value}, NOW)
        found = AccountStore(store).written(("salesforce.task",))
        assert found == {("salesforce.task", "001/x"): {"description": value}}
    finally:
        store.close()
