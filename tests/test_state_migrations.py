"""The state store's schema is versioned (sync/migrations.py), the same on both backends.

Two state files made before schema versions existed, dumped as SQL text, each by two syncs of a
small sandbox world: tests/data/state-before-schema-versions.sql by the version before the
ticket changes, the outbox and the account matrix; tests/data/state-main-before-schema-versions.sql
by the last version without schema versions (main of 2026-12-07, with notifications on: its
outbox and account tables hold rows), made with that version's own code.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from errors import ExitCode
from sync import migrations
from sync.migrations import LATEST, Migration, SchemaTooNew, table_names
from sync.state import StateStore
from sync.state_faults import StateFault, state_faults
from sync.state_faults_pg import pg_faults
from sync.store_postgres import PostgresBackend
from tests.postgres_server import PASSWORD

DATA = Path(__file__).parent / "data"
STATE_BACKENDS = ("sqlite", "postgresql")


def _counts(db, names: list[str] | None = None) -> dict[str, int]:
    return {
        name: db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
        for name in names or table_names()
        if name != "schema_version"
    }


def _sqlite_tables(db) -> list[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [name for (name,) in rows if not name.startswith("sqlite_")]


def _open(state_url: str | None, tmp_path: Path) -> StateStore:
    if state_url is None:
        return StateStore(tmp_path / "state.sqlite")
    return StateStore(backend=PostgresBackend(state_url, PASSWORD))


@pytest.mark.parametrize(
    ("dump", "cursor", "filled"),
    [
        ("state-before-schema-versions.sql", "MTc5NjY1NzIwNi4wfHwxMDIwfA", ["ticket_history"]),
        ("state-main-before-schema-versions.sql", None, ["outbox", "account_states"]),
    ],
)
def test_a_state_file_from_before_schema_versions_is_migrated_in_place(
    tmp_path: Path, dump: str, cursor: str | None, filled: list[str]
):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript((DATA / dump).read_text(encoding="utf-8"))
    had = _sqlite_tables(old)
    before = _counts(old, had)
    old.close()
    assert before["tickets"] > 0 and before["audit"] > 0
    assert all(before[name] > 0 for name in filled)

    store = StateStore(path)
    try:
        versions = store.db.execute("SELECT version FROM schema_version").fetchall()
        assert versions == [(v,) for v in range(1, LATEST + 1)]
        after = _counts(store.db)
        assert {name: after[name] for name in had} == before  # every row kept
        assert set(after) - set(had) == set(table_names()) - set(had) - {"schema_version"}
        assert all(after[name] == 0 for name in set(after) - set(had))  # new tables, empty
        if cursor is not None:
            assert store.cursor("zendesk.tickets") == cursor
        assert len(store.tickets()) == before["tickets"]
        assert [run["number"] for run in store.runs()] == [1, 2]
    finally:
        store.close()
    again = StateStore(path)  # opened again: nothing to apply
    try:
        assert again.db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == LATEST
    finally:
        again.close()


def test_a_new_store_is_made_at_the_latest_version_with_every_table(
    state_url: str | None, tmp_path: Path
):
    store = _open(state_url, tmp_path)
    try:
        assert migrations.schema_version(store.backend) == LATEST
        assert set(_counts(store.db).values()) == {0}
        assert {"cursors", "notes", "audit", "ticket_history", "sla_outcomes"} <= set(table_names())
    finally:
        store.close()


def test_a_store_migrated_by_a_newer_version_is_refused_with_its_version(
    state_url: str | None, tmp_path: Path
):
    _open(state_url, tmp_path).close()
    store = _open(state_url, tmp_path)
    store.db.execute(
        "INSERT INTO schema_version (version, applied_at, description) VALUES (?, ?, ?)",
        (LATEST + 5, datetime.now(UTC).isoformat(), "from the future"),
    )
    store.close()
    with pytest.raises(SchemaTooNew, match=rf"schema version {LATEST + 5}, newer than"):
        _open(state_url, tmp_path)
    path = tmp_path / "state.sqlite"
    guard = (
        state_faults(path, path.with_name("lock"), move_damaged=False)
        if state_url is None
        else pg_faults(state_url)
    )
    with pytest.raises(StateFault, match="newer than this escalation-sync knows") as raised:
        with guard:
            _open(state_url, tmp_path)
    assert raised.value.exit_code == ExitCode.STATE_NOT_WRITABLE


def test_a_new_migration_is_applied_once_and_a_failing_one_changes_nothing(
    state_url: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _open(state_url, tmp_path).close()
    broken = Migration(
        LATEST + 1, "an inbox", "CREATE TABLE inbox (id {serial_key}, body TEXT); NOT SQL"
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    monkeypatch.setattr(migrations, "LATEST", LATEST + 1)
    with pytest.raises(Exception, match="syntax error"):
        _open(state_url, tmp_path)
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:-1])
    monkeypatch.setattr(migrations, "LATEST", LATEST)
    store = _open(state_url, tmp_path)
    try:  # the failed migration left neither its table nor its version behind
        assert migrations.schema_version(store.backend) == LATEST
        with pytest.raises(Exception, match="inbox"):
            store.db.execute("SELECT COUNT(*) FROM inbox")
    finally:
        store.close()

    inbox = Migration(
        LATEST + 1,
        "an inbox",
        "CREATE TABLE inbox (id {serial_key}, body TEXT, weight {real}); "
        "CREATE INDEX inbox_by_body ON inbox (body)",
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, inbox))
    monkeypatch.setattr(migrations, "LATEST", LATEST + 1)
    for _ in range(2):  # the second open finds it applied
        store = _open(state_url, tmp_path)
        try:
            store.db.execute("INSERT INTO inbox (body, weight) VALUES (?, ?)", ("hello", 0.5))
            assert store.db.execute("SELECT MAX(version) FROM schema_version").fetchone() == (
                LATEST + 1,
            )
        finally:
            store.close()
    store = _open(state_url, tmp_path)
    try:
        assert store.db.execute("SELECT body, weight FROM inbox ORDER BY id").fetchall() == [
            ("hello", 0.5),
            ("hello", 0.5),
        ]
    finally:
        store.close()
