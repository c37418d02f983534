"""The tickets' status history is pulled into the state store (Zendesk's incremental ticket
events, Jira's changelog) and gives exact pauses: real clients, the sandbox over HTTPS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.state import StateStore
from sync.ticket_changes import Change, prune_changes, store_changes
from tests.sync_world import World


def _open_zendesk_ticket(world: World) -> int:
    return min(
        int(t["id"])
        for t in world.sandbox.zendesk.store.tickets.values()
        if t.get("status") == "open"
    )


def test_pending_between_two_runs_is_a_pause_with_its_exact_times(world: World) -> None:
    world.run()
    ticket_id = _open_zendesk_ticket(world)
    zendesk = world.sandbox.zendesk
    zendesk.agent_edit(ticket_id, {"status": "pending"})
    paused_at = datetime.fromtimestamp(int(zendesk.clock.timestamp()), UTC)
    zendesk.advance_clock(600)
    zendesk.agent_edit(ticket_id, {"status": "open"})
    resumed_at = datetime.fromtimestamp(int(zendesk.clock.timestamp()), UTC)
    world.settle()
    world.run(now=world.now + timedelta(minutes=12))
    store = world.store()
    try:
        ticket = store.ticket(f"zendesk:{ticket_id}")
        rows = store.db.execute(
            "SELECT field, value, previous FROM ticket_changes WHERE ref = ? ORDER BY at",
            (f"zendesk:{ticket_id}",),
        ).fetchall()
    finally:
        store.close()
    assert ("status", "pending", "open") in rows and ("status", "open", "pending") in rows
    # Both runs saw "open": only the history knows the ten minutes pending.
    assert ticket is not None
    assert ticket.paused_intervals[-1] == (paused_at, resumed_at)


def test_a_jira_status_change_comes_with_the_changelog(world: World) -> None:
    world.run()
    jira = world.sandbox.jira
    key = min(k for k, i in jira.store.issues.items() if i["fields"]["status"]["name"] == "To Do")
    jira.transition(key, "indeterminate")
    world.run(now=world.now + timedelta(minutes=2))
    store = world.store()
    try:
        ref = f"jira:{jira.store.issues[key]['id']}"
        rows = store.db.execute(
            "SELECT field, value, previous FROM ticket_changes WHERE ref = ?", (ref,)
        ).fetchall()
    finally:
        store.close()
    assert rows == [("status", "In Progress", "To Do")]


def _change(ref: str, change_id: str, day: int) -> Change:
    at = datetime(2026, 3, day, 12, tzinfo=UTC)
    return Change(ref, change_id, "status", at, "open", "pending")


@pytest.mark.parametrize("days_kept", [10])
def test_retention_drops_old_changes_but_keeps_each_tickets_latest(tmp_path, days_kept) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    try:
        store_changes(
            store.db,
            [
                _change("zendesk:1", "a", 1),
                _change("zendesk:1", "b", 2),
                _change("zendesk:2", "c", 1),
            ],
        )
        gone = prune_changes(store.db, datetime(2026, 3, 20, tzinfo=UTC) - timedelta(days_kept))
        left = store.db.execute("SELECT ref, change_id FROM ticket_changes ORDER BY ref").fetchall()
    finally:
        store.close()
    assert gone == 1
    assert left == [("zendesk:1", "b"), ("zendesk:2", "c")]


def test_a_state_file_from_before_the_changes_table_gains_it_empty(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE cursors (stream TEXT PRIMARY KEY, value TEXT NOT NULL, stored_at TEXT NOT NULL)"
    )
    old.execute("INSERT INTO cursors VALUES ('zendesk.tickets', 'c1', '2026-01-01')")
    old.commit()
    old.close()
    store = StateStore(path)
    try:
        assert store.cursor("zendesk.tickets") == "c1"
        assert store.db.execute("SELECT COUNT(*) FROM ticket_changes").fetchone() == (0,)
    finally:
        store.close()
