"""The state store's schema as versioned migrations, one list for SQLite and PostgreSQL.

`schema_version` has a row per migration applied (version, when, what). Opening a store
applies, in order, every migration it has not applied yet: each in a transaction of its own
together with its row, so a run that dies between two leaves a store the next open resumes.
Two processes opening the same store at once take turns (SQLite's write lock, PostgreSQL's
transaction-level advisory lock); the second finds the work done.

Version 1 is the schema as it stood before versions existed, written with CREATE ... IF NOT
EXISTS: a state file made then is recorded as version 1 in place, its rows untouched.

Adding a table or a column (an outbox, say):
- append `Migration(N + 1, "what it adds", STATEMENTS)` to MIGRATIONS; never edit or reorder
  one that has shipped: stores in the field have applied it.
- write the statements once, in SQL both databases take; `{serial_key}` (an integer primary
  key the database numbers), `{real}` (a double) and `{insertion_seq}` are filled in per
  backend (sync/store_backend.py, Dialect.schema_tokens). `ALTER TABLE t ADD COLUMN c TEXT`
  works in both; anything SQLite cannot alter in place (a changed key) needs a new table,
  an INSERT ... SELECT and a rename.
- tests/test_state_migrations.py opens a state made before versions and every store at the
  latest version: it needs no change for a new migration.
`state copy` (sync/state_copy.py) copies every table the migrations create, by its columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from errors import EscalationSyncError, ExitCode
from notify.outbox import OUTBOX_SCHEMA
from sync.accounts_schema import ACCOUNTS_SCHEMA
from sync.history_schema import HISTORY_SCHEMA
from sync.store_backend import Backend
from sync.ticket_changes import TICKET_CHANGES_SCHEMA

BASELINE = """
CREATE TABLE IF NOT EXISTS cursors (
    stream TEXT PRIMARY KEY, value TEXT NOT NULL, stored_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    ref TEXT PRIMARY KEY, is_open INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS raw_records (
    system TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (system, kind, id));
CREATE TABLE IF NOT EXISTS prior_states (ref TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS written (
    system TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT,
    written_at TEXT NOT NULL, PRIMARY KEY (system, record_id, field));
CREATE TABLE IF NOT EXISTS overrides (
    system TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT NOT NULL, human_value TEXT,
    level_at_detection TEXT, detected_at TEXT NOT NULL, PRIMARY KEY (system, record_id, field));
CREATE TABLE IF NOT EXISTS failures (
    system TEXT NOT NULL, record_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    attempts INTEGER NOT NULL, first_failed_at TEXT NOT NULL, last_failed_at TEXT NOT NULL,
    PRIMARY KEY (system, record_id));
CREATE TABLE IF NOT EXISTS notes (
    system TEXT NOT NULL, record_id TEXT NOT NULL, note_key TEXT NOT NULL, state TEXT NOT NULL,
    at TEXT NOT NULL{insertion_seq}, PRIMARY KEY (system, record_id, note_key));
CREATE TABLE IF NOT EXISTS runs (
    run_id {serial_key}, started_at TEXT NOT NULL, finished_at TEXT,
    dry_run INTEGER NOT NULL, exit_code INTEGER, summary TEXT);
CREATE TABLE IF NOT EXISTS audit (
    id {serial_key}, run_id INTEGER NOT NULL, at TEXT NOT NULL,
    kind TEXT NOT NULL, ref TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_ref ON audit (ref);
CREATE INDEX IF NOT EXISTS audit_by_run ON audit (run_id, kind);
"""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: str  # ";"-separated, with the Dialect's {tokens}


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "cursors, mirror, written values, overrides, failures, notes, runs, audit, history",
        BASELINE + HISTORY_SCHEMA,
    ),
    # Tables that state files gained, with CREATE ... IF NOT EXISTS, before versions existed:
    # on such a file these find their table there and change nothing.
    Migration(2, "ticket field changes with their times", TICKET_CHANGES_SCHEMA),
    Migration(3, "the notifications' outbox", OUTBOX_SCHEMA),
    Migration(4, "the account matrix: states, attribute history, breaches, tasks", ACCOUNTS_SCHEMA),
)
LATEST = MIGRATIONS[-1].version

VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
    "applied_at TEXT NOT NULL, description TEXT NOT NULL)"
)


class SchemaTooNew(EscalationSyncError):
    """The store was migrated by a newer escalation-sync: this one must not write to it."""

    exit_code = ExitCode.STATE_NOT_WRITABLE


def statements(migration: Migration, backend: Backend) -> list[str]:
    """The migration's statements in the backend's words, one by one (no driver runs a
    script inside a transaction the same way)."""
    text = migration.statements.format(**backend.dialect.schema_tokens)
    return [part.strip() for part in text.split(";") if part.strip()]


def schema_version(backend: Backend) -> int:
    """The highest migration applied (0: none, or no version table yet)."""
    row = backend.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(backend: Backend, now: datetime | None = None) -> list[int]:
    """Apply the migrations this store lacks; the versions applied. SchemaTooNew when the
    store is ahead of this code."""
    backend.db.execute(VERSION_TABLE)
    if schema_version(backend) == LATEST:  # the usual case: a read, no write lock taken
        return []
    applied: list[int] = []
    for migration in MIGRATIONS:
        backend.begin()
        try:
            backend.lock_schema()
            current = schema_version(backend)  # again: another process may have migrated
            if current > LATEST:
                raise SchemaTooNew(
                    f"the state {backend.describe()} has schema version {current}, newer than "
                    f"this escalation-sync knows ({LATEST}); run the version that wrote it, "
                    "or a newer one"
                )
            if migration.version > current:
                for statement in statements(migration, backend):
                    backend.db.execute(statement)
                backend.db.execute(
                    "INSERT INTO schema_version (version, applied_at, description) "
                    "VALUES (?, ?, ?)",
                    (
                        migration.version,
                        (now or datetime.now(UTC)).isoformat(),
                        migration.description,
                    ),
                )
                applied.append(migration.version)
        except BaseException:
            backend.rollback()
            raise
        backend.commit()
    return applied


def table_names() -> list[str]:
    """Every table the migrations create, in the order they create them."""
    names: list[str] = []
    for migration in MIGRATIONS:
        for part in migration.statements.split(";"):
            words = part.split()
            if words[:2] == ["CREATE", "TABLE"]:
                name = words[5] if words[2:5] == ["IF", "NOT", "EXISTS"] else words[2]
                name = name.split("(")[0]
                if name not in names:
                    names.append(name)
    return names
