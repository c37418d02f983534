"""`escalation-sync state copy --to postgresql://...` moves a SQLite state whole: after it, a
sync on PostgreSQL carries on where the file left off, and the report reads the same."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

import run_sync
from config.loader import load_config
from sandbox import catalogue
from sync.migrations import table_names
from sync.state import StateStore
from sync.state_open import open_store
from tests.postgres_server import PASSWORD, PASSWORD_ENV
from tests.sync_world import World, use_state_url

pytestmark = pytest.mark.integration
WORLD_SIZES = {"tickets": 120, "accounts": 20, "jira_issues": 15}


def _rows(store: StateStore, table: str) -> list[tuple]:
    """Every row, without PostgreSQL's insertion counter, sorted."""
    cursor = store.db.execute(f"SELECT * FROM {table}")
    names = [column[0] for column in cursor.description]
    keep = [i for i, name in enumerate(names) if name != "seq"]
    return sorted((tuple(row[i] for i in keep) for row in cursor), key=repr)


def _copy(world: World, url: str, *extra: str) -> int:
    return run_sync.main(
        ["state", "copy", "--config", str(world.config_path), "--to", url,
         "--password-env", PASSWORD_ENV, *extra]
    )  # fmt: skip


def _report(config_path: Path, out: Path, now: str) -> dict[str, str]:
    assert run_sync.main(["report", "--config", str(config_path), "--out", str(out),
                          "--now", now]) == 0  # fmt: skip
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.json"))}


def _sqlite_state_with_every_table(world: World) -> None:
    """Two syncs with a person's override between them, and a failure and a note by hand."""
    world.run()
    store = world.store()
    try:
        ticket_id = next(record for system, record in store.written() if system == "zendesk")
    finally:
        store.close()
    world.sandbox.zendesk.agent_edit(
        int(ticket_id),
        {"custom_fields": [{"id": catalogue.ZD_FIELD_OWNER, "value": "maria.agent"}]},
    )
    world.settle()
    world.run(now=world.now + timedelta(minutes=2))
    store = world.store()
    try:
        with store.transaction():
            store.record_failure("jira", "ESC-1", "retry", "50% of a test", world.now)
    finally:
        store.close()


def test_state_copy_moves_every_table_and_the_sync_carries_on_from_it(
    world: World, postgres_url: str, capsys, tmp_path: Path
):
    _sqlite_state_with_every_table(world)
    sqlite_config = world.config_path.read_text(encoding="utf-8")
    capsys.readouterr()

    assert _copy(world, postgres_url) == 0
    out = capsys.readouterr().out
    assert "the counts match the source" in out and PASSWORD not in out

    source = world.store()
    use_state_url(world.config_path, postgres_url)
    world.config = load_config(world.config_path)
    target = open_store(world.config.state)
    try:
        for table in table_names():
            if table != "schema_version":
                assert _rows(target, table) == _rows(source, table), table
        assert target.overrides() and target.failures() and target.notes()
        assert target.last_notes() == source.last_notes()
        last_run = max(run["run_id"] for run in source.runs())
    finally:
        source.close()
        target.close()

    # The report reads the same from either store (its SQL is the same on both).
    now = world.now.isoformat()
    postgres_config = world.config_path.read_text(encoding="utf-8")
    from_postgres = _report(world.config_path, tmp_path / "report-pg", now)
    world.config_path.write_text(sqlite_config, encoding="utf-8")
    from_sqlite = _report(world.config_path, tmp_path / "report-sqlite", now)
    world.config_path.write_text(postgres_config, encoding="utf-8")
    assert from_postgres and {k: json.loads(v) for k, v in from_postgres.items()} == {
        k: json.loads(v) for k, v in from_sqlite.items()
    }

    world.settle()
    writes_before = world.writes()
    # The same moment as the last run on the file: a minute on, an SLA clock may move a level
    # (the data is anchored to the wall clock; CI once saw a ticket cross at-risk there).
    again = world.run(now=world.now)
    assert again.exit_code == 0, again.summary()
    assert again.run_id == last_run + 1, "the run ids go on after the copied ones"
    assert world.writes() == writes_before, "nothing written again: cursors and values moved"


def test_state_copy_refuses_a_target_with_a_state_unless_forced(
    world: World, postgres_url: str, capsys
):
    world.run()
    assert _copy(world, postgres_url) == 0
    capsys.readouterr()
    assert _copy(world, postgres_url) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("escalation-sync: the target postgresql://")
    assert "already holds a state (1 runs," in err and "Add --force to replace it" in err
    assert _copy(world, postgres_url, "--force") == 0


def test_state_copy_from_a_database_state_or_to_a_non_postgresql_url_is_refused(
    world: World, postgres_url: str, capsys
):
    assert _copy(world, "mysql://someone@host/db") == 2
    assert "expected a postgresql://user@host/database URL" in capsys.readouterr().err
    use_state_url(world.config_path, postgres_url)
    assert _copy(world, postgres_url) == 2
    assert "state copy moves a SQLite state" in capsys.readouterr().err
