"""The history the report needs, kept in the state store by each run: ticket lifecycles,
level and owner changes with their times, SLA clocks; pruned past the retention."""

from __future__ import annotations

import sqlite3

from mapping.records import TicketStatus
from sync.history import prune_history
from sync.migrations import BASELINE
from sync.state import StateStore
from sync.store_backend import SQLITE
from tests.report_helpers import T0, History, account, later, replace, ticket


def _rows(store: StateStore, query: str, *args) -> list[tuple]:
    return store.db.execute(query, args).fetchall()


def test_history_keeps_lifecycle_level_changes_owner_and_sla_clocks(tmp_path):
    history = History(tmp_path / "state.sqlite")
    acme = account("001A", "Acme")
    leak = ticket("1", "001A", T0, category="privacy", subject="Data leak")
    history.run([leak], [acme], later(T0, minutes=5))
    acknowledged = replace(
        leak, first_response_at=later(T0, minutes=10), updated_at=later(T0, minutes=10)
    )
    history.run([acknowledged], [acme], later(T0, hours=1))
    solved = replace(acknowledged, status=TicketStatus.SOLVED, updated_at=later(T0, hours=2))
    history.run([solved], [acme], later(T0, hours=3))
    store = history.store

    (row,) = _rows(
        store,
        "SELECT account_id, tier, created_at, is_open, resolved_at, max_level, level "
        "FROM ticket_history WHERE ref = 'zendesk:1'",
    )
    assert row == (
        "001A",
        "enterprise",
        "2026-03-02T09:00:00+00:00",
        0,
        "2026-03-02T11:00:00+00:00",
        "executive-review",
        "none",
    )
    events = _rows(store, "SELECT at, kind, old_level, new_level FROM ticket_events ORDER BY id")
    assert events[0] == ("2026-03-02T09:05:00+00:00", "escalated", None, "executive-review")
    assert ("2026-03-02T12:00:00+00:00", "ended", "executive-review", "none") in events
    assert ("2026-03-02T12:00:00+00:00", "resolved", None, None) in events
    clocks = {
        metric: (met, taken, breached)
        for metric, met, taken, breached in _rows(
            store, "SELECT metric, met_at, taken_seconds, breached FROM sla_outcomes"
        )
    }
    # Acknowledged after 10 minutes of business time (Monday 09:00), within the 30m target.
    assert clocks["acknowledge"] == ("2026-03-02T09:10:00+00:00", 600.0, 0)
    assert clocks["resolve"][0] == "2026-03-02T11:00:00+00:00"
    history.close()


def test_owner_and_backup_over_time_and_handoffs_are_recorded(tmp_path):
    history = History(tmp_path / "state.sqlite")
    acme = account("001A", "Acme")
    defect = ticket("2", "001A", T0, severity=3)
    history.run([defect], [acme], later(T0, minutes=5))
    store = history.store
    assert _rows(store, "SELECT level, owner, backup, role FROM ticket_history") == [
        ("none", "support-tier1", "support-tier2", "technical")
    ]
    history.run([replace(defect, category="privacy")], [acme], later(T0, minutes=20))
    assert _rows(store, "SELECT level, owner, backup, role FROM ticket_history") == [
        ("executive-review", "dpo@acme.example", "ciso@acme.example", "executive")
    ]
    assert _rows(store, "SELECT at, kind, old_level, new_level, owner FROM ticket_events") == [
        ("2026-03-02T09:20:00+00:00", "escalated", "none", "executive-review", "dpo@acme.example"),
        (
            "2026-03-02T09:20:00+00:00",
            "owner_changed",
            "none",
            "executive-review",
            "dpo@acme.example",
        ),
    ]
    history.close()


def test_a_reopened_ticket_is_recorded_as_reopened(tmp_path):
    history = History(tmp_path / "state.sqlite")
    acme = account("001A", "Acme")
    leak = ticket("3", "001A", T0, category="privacy")
    history.run([leak], [acme], later(T0, minutes=5))
    solved = replace(leak, status=TicketStatus.SOLVED, updated_at=later(T0, hours=1))
    history.run([solved], [acme], later(T0, hours=2))
    reopened = replace(leak, status=TicketStatus.OPEN, updated_at=later(T0, hours=3))
    history.run([reopened], [acme], later(T0, hours=4))
    kinds = [k for (k,) in _rows(history.store, "SELECT kind FROM ticket_events ORDER BY id")]
    assert kinds.count("reopened") == 1 and kinds.index("resolved") < kinds.index("reopened")
    ((is_open, resolved_at),) = _rows(
        history.store, "SELECT is_open, resolved_at FROM ticket_history"
    )
    assert (is_open, resolved_at) == (1, None)
    history.close()


def test_each_update_interval_is_one_next_update_clock(tmp_path):
    history = History(tmp_path / "state.sqlite")
    acme = account("001A", "Acme")
    first = later(T0, minutes=10)
    outage = ticket(
        "4", "001A", T0, category="privacy", first_response_at=first, last_agent_update_at=first
    )
    history.run([outage], [acme], later(T0, minutes=30))
    second = later(T0, minutes=70)
    updated = replace(outage, last_agent_update_at=second, updated_at=second)
    history.run([updated], [acme], later(T0, minutes=80))
    intervals = _rows(
        history.store,
        "SELECT start_at, met_at, taken_seconds FROM sla_outcomes "
        "WHERE metric = 'next_update' ORDER BY start_at",
    )
    assert intervals == [
        ("2026-03-02T09:10:00+00:00", "2026-03-02T10:10:00+00:00", 3600.0),
        ("2026-03-02T10:10:00+00:00", None, None),
    ]
    history.close()


def test_a_state_file_from_before_the_history_tables_keeps_working(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(BASELINE.format(**SQLITE.schema_tokens))  # the schema as it was before
    old.execute("INSERT INTO cursors VALUES ('zendesk:tickets', '12345', '2026-01-01')")
    old.commit()
    old.close()
    history = History(path)
    assert history.store.cursor("zendesk:tickets") == "12345"
    history.run([ticket("5", "001A", T0, category="privacy")], [account("001A", "Acme")], T0)
    assert _rows(history.store, "SELECT COUNT(*) FROM ticket_history") == [(1,)]
    history.close()


def test_history_older_than_the_retention_is_pruned_but_open_tickets_stay(tmp_path):
    history = History(tmp_path / "state.sqlite")
    acme = account("001A", "Acme")
    old_leak = ticket("6", "001A", T0, category="privacy")
    still_open = ticket("7", "001A", T0, category="privacy")
    history.run([old_leak, still_open], [acme], later(T0, minutes=5))
    solved = replace(old_leak, status=TicketStatus.SOLVED, updated_at=later(T0, hours=1))
    history.run([solved, still_open], [acme], later(T0, hours=2))
    store = history.store
    prune_history(store, later(T0, days=30), keep_days=7)
    assert _rows(store, "SELECT ref FROM ticket_history") == [("zendesk:7",)]
    assert _rows(store, "SELECT COUNT(*) FROM ticket_events") == [(0,)]
    running = _rows(store, "SELECT ref FROM sla_outcomes WHERE met_at IS NULL")
    assert running and {ref for (ref,) in running} == {"zendesk:7"}
    history.close()
