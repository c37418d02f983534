"""The notes of a chunk of writes (sync/apply.py): each marked unknown before the chunk is
sent, then sent / not sent / still unknown by its write's outcome; in one statement per step
of the chunk (StateStore.set_note_states), not one per write, on both state backends."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.write_mapping import WriteField
from connectors.base import ConnectorStats, FieldWrite, WriteResult, WriteStatus
from sync.apply import apply_writes
from sync.plan import PlannedWrite, plan_target
from sync.state import StateStore
from sync.wanted import Target
from tests.postgres_server import BOTH_BACKENDS

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
RANKS = {"none": 0, "advisory": 1}
LEVEL = WriteField(field="360000000201", format="text")


def open_store(tmp_path: Path, state_url: str | None) -> StateStore:
    """A fresh store: a SQLite file, or a fresh PostgreSQL schema (the `state_url` fixture)."""
    if state_url is None:
        return StateStore(tmp_path / "state.sqlite")
    from sync.store_postgres import PostgresBackend
    from tests.postgres_server import PASSWORD

    return StateStore(backend=PostgresBackend(state_url, PASSWORD))


def noted(ticket_id: str, note: bool = True) -> PlannedWrite:
    target = Target(
        "zendesk",
        "ticket",
        ticket_id,
        "advisory",
        {"level": "esc_advisory"},
        {"level": LEVEL},
        note_key="advisory@2026-03-04" if note else None,
        note="Escalated to advisory" if note else None,
        ref=f"zendesk:{ticket_id}",
    )
    return plan_target(target, {}, {}, RANKS, True, False)


class Answers:
    """Answers each write with the status given for its ref (else OK); notes what the
    store's notes held when the chunk was sent."""

    def __init__(self, store: StateStore, statuses: dict[str, WriteStatus]):
        self.store, self.statuses = store, statuses
        self.notes_when_sent: dict[tuple[str, str], str] = {}

    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        self.notes_when_sent = self.store.notes()
        return [WriteResult(w, self.statuses.get(w.ref, WriteStatus.OK), "no") for w in writes]

    def stats(self) -> ConnectorStats:
        return ConnectorStats()


@BOTH_BACKENDS
def test_each_note_is_unknown_while_sent_then_follows_its_writes_outcome(
    tmp_path: Path, state_url: str | None
) -> None:
    store = open_store(tmp_path, state_url)
    try:
        key = "advisory@2026-03-04"
        planned = [noted("1"), noted("2"), noted("3"), noted("4"), noted("5", note=False)]
        zendesk = Answers(
            store,
            {
                "zendesk:2": WriteStatus.REJECTED,
                "zendesk:3": WriteStatus.CONFLICT,
                "zendesk:4": WriteStatus.RETRY,
            },
        )
        apply_writes(planned, {"zendesk": zendesk}, store, store.begin_run(NOW, False), NOW)
        refs = ("zendesk:1", "zendesk:2", "zendesk:3", "zendesk:4")
        assert zendesk.notes_when_sent == {(ref, key): "unknown" for ref in refs}
        assert store.notes() == {
            ("zendesk:1", key): "sent",
            ("zendesk:2", key): "not_sent",
            ("zendesk:3", key): "not_sent",
            ("zendesk:4", key): "unknown",
        }
        assert store.last_notes() == {"zendesk:1": key}
    finally:
        store.close()


class Counting:
    """The store's connection, counting the statements that touch the notes."""

    def __init__(self, db: Any):
        self.db = db
        self.notes_statements = 0

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        self.notes_statements += "INTO notes" in sql
        return self.db.execute(sql, parameters)

    def executemany(self, sql: str, rows: Iterable[Any]) -> Any:
        self.notes_statements += "INTO notes" in sql
        return self.db.executemany(sql, rows)


def test_a_chunks_notes_are_written_in_one_statement_before_and_one_after(
    tmp_path: Path,
) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    try:
        counting = Counting(store.db)
        store.db = counting
        planned = [noted(str(n)) for n in range(300)]
        zendesk = Answers(store, {"zendesk:7": WriteStatus.RETRY})
        apply_writes(planned, {"zendesk": zendesk}, store, 1, NOW)
        assert counting.notes_statements == 2
        assert len(store.notes()) == 300 and store.notes()[
            ("zendesk:7", "advisory@2026-03-04")
        ] == ("unknown")
    finally:
        store.db = counting.db
        store.close()
