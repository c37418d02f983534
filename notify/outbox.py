"""The outbox: every notification is stored before it is sent, under a key that names it.

The table lives in the state store (the same SQLite file, added with CREATE ... IF NOT EXISTS,
like the report's history: an older state file gains it, empty). A row is written in the
transaction that stores the engine states the event was derived from, so after a crash either
both are there (the row is sent by a later run) or neither (the next run derives the event
again, under the same key). ON CONFLICT DO NOTHING on the key: the same event is never stored
twice. The SQL is the state store's portable kind (SQLite and PostgreSQL, sync/store_backend.py).

States: pending (to send at `not_before`), sending (marked, and committed, before the request
leaves), sent, rejected (for good), unknown (the answer was lost: not resent, see
connectors/channels.py), given_up (failing for longer than `give_up_after`), digest (waits for
its recipient's daily digest), digested (went out in one), suppressed (told before the state
file was lost: stored so no later run sends it, never sent).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    key TEXT PRIMARY KEY, event_key TEXT NOT NULL, ticket_ref TEXT NOT NULL,
    event TEXT NOT NULL, level TEXT NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL,
    message TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    detail TEXT, created_at TEXT NOT NULL, not_before TEXT NOT NULL, first_failed_at TEXT,
    sent_at TEXT, remote_id TEXT);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox (state, not_before);
CREATE INDEX IF NOT EXISTS outbox_by_ticket ON outbox (ticket_ref, sent_at);
"""
FINISHED = ("sent", "rejected", "unknown", "given_up", "digested", "suppressed")


def _iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass(frozen=True)
class OutboxRow:
    """A stored notification, ready to send (`message`: connectors.channels.Message fields)."""

    key: str
    event_key: str
    ticket_ref: str
    event: str
    level: str
    channel: str
    recipient: str
    message: dict[str, Any]
    state: str
    attempts: int = 0
    created_at: str = ""
    not_before: str = ""
    first_failed_at: str | None = None


_COLUMNS = (
    "key, event_key, ticket_ref, event, level, channel, recipient, message, state, attempts, "
    "created_at, not_before, first_failed_at"
)


def _row(values: tuple) -> OutboxRow:
    key, event_key, ticket_ref, event, level, channel, recipient = values[:7]
    message, state, attempts, created, not_before, failed = values[7:]
    return OutboxRow(
        key,
        event_key,
        ticket_ref,
        event,
        level,
        channel,
        recipient,
        json.loads(message),
        state,
        attempts,
        created,
        not_before,
        failed,
    )


class Database(Protocol):
    """What the outbox needs of the state store's connection: sqlite3's, or the PostgreSQL
    store's (sync/store_postgres.py), which takes the same SQL."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Any: ...


class Outbox:
    """The outbox table of one state store's connection (isolation_level=None: each statement
    outside an explicit transaction commits by itself, which is what the send path needs)."""

    def __init__(
        self,
        db: Database,
        transaction: Callable[[], AbstractContextManager[None]] | None = None,
    ):
        # The table is one of the state store's migrations (sync/migrations.py). `transaction`:
        # the store's (StateStore.transaction, either backend); without, SQLite's own.
        self.db = db
        self.transaction = transaction or self._sqlite_transaction

    @contextmanager
    def _sqlite_transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def add(self, rows: Iterable[OutboxRow]) -> int:
        """Store new rows; a key already stored (in any state) is left as it is. How many
        were new (the first of a key repeated in `rows` counts)."""
        fresh: dict[str, OutboxRow] = {}
        for row in rows:
            fresh.setdefault(row.key, row)
        for key in self.known(fresh):
            del fresh[key]
        self.db.executemany(
            f"INSERT INTO outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING",
            [
                (
                    r.key,
                    r.event_key,
                    r.ticket_ref,
                    r.event,
                    r.level,
                    r.channel,
                    r.recipient,
                    json.dumps(r.message, sort_keys=True, default=str),
                    r.state,
                    r.attempts,
                    r.created_at,
                    r.not_before,
                    r.first_failed_at,
                )
                for r in fresh.values()
            ],
        )
        return len(fresh)

    def known(self, keys: Iterable[str]) -> set[str]:
        """The keys among `keys` already stored."""
        wanted = list(keys)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found |= {
                key
                for (key,) in self.db.execute(
                    f"SELECT key FROM outbox WHERE key IN ({marks})", chunk
                )
            }
        return found

    def due(self, now: datetime) -> list[OutboxRow]:
        """Pending rows whose time has come, oldest first."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state = 'pending' AND not_before <= ? "
            "ORDER BY created_at, key",
            (_iso(now),),
        )
        return [_row(r) for r in rows]

    def in_state(self, state: str) -> list[OutboxRow]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state = ? ORDER BY key", (state,)
        )
        return [_row(r) for r in rows]

    def has_unknown_since(self, since: datetime) -> bool:
        """Whether an unknown row stored after `since` waits to be looked for."""
        found = self.db.execute(
            "SELECT 1 FROM outbox WHERE state = 'unknown' AND created_at >= ? LIMIT 1",
            (_iso(since),),
        )
        return found.fetchone() is not None

    def set_state(self, key: str, state: str, detail: str | None = None, **extra: Any) -> None:
        """Move one row on; `extra` sets sent_at, remote_id, not_before, attempts, ..."""
        columns = {"state": state, "detail": detail, **extra}
        assignments = ", ".join(f"{name} = ?" for name in columns)
        self.db.execute(f"UPDATE outbox SET {assignments} WHERE key = ?", (*columns.values(), key))

    def events_sent_since(self, ticket_ref: str, since: datetime) -> set[str]:
        """The event keys of a ticket with a message sent after `since` (the hourly cap)."""
        rows = self.db.execute(
            "SELECT DISTINCT event_key FROM outbox WHERE ticket_ref = ? AND sent_at > ?",
            (ticket_ref, _iso(since)),
        )
        return {key for (key,) in rows}

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())

    def prune(self, now: datetime, keep_days: int) -> None:
        """Forget finished rows older than `keep_days` (their events cannot come again)."""
        cutoff = _iso(now - timedelta(days=keep_days))
        marks = ", ".join("?" * len(FINISHED))
        self.db.execute(
            f"DELETE FROM outbox WHERE created_at < ? AND state IN ({marks})", (cutoff, *FINISHED)
        )
