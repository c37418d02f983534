"""The state store's seam between its queries and a database: SQLite or PostgreSQL.

The store's queries are written once, in the SQL both databases understand: `?` placeholders
(`:name` with a dict of values), upserts as `INSERT ... ON CONFLICT (key) DO UPDATE SET
column = excluded.column` (`upsert_sql` writes them), integers 0/1 for booleans, ISO 8601 text
for moments. A backend supplies only what differs: the connection (`db`, with `execute` and
`executemany`, as sqlite3's), the placeholder style, how a transaction starts, how an inserted
row's id comes back, and the few type names the schema leaves open (sync/migrations.py).

The SQLite backend hands out the sqlite3 connection itself: the embedded default runs exactly
as it did before PostgreSQL existed. PostgreSQL: sync/store_postgres.py.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Dialect:
    """What a backend's SQL says differently; `schema_tokens` fill the migrations' blanks."""

    name: str  # "sqlite" | "postgresql"
    schema_tokens: dict[str, str]
    # The order rows of a table were first inserted in (notes: the last note of a ticket).
    insertion_order: str

    def group_concat(self, expression: str) -> str:
        """The values of `expression` in a group, joined by commas, as text."""
        if self.name == "sqlite":
            return f"group_concat({expression})"
        return f"string_agg(({expression})::text, ',')"

    def json_text(self, column: str, key: str) -> str:
        """The text of top-level `key` of the JSON document in text column `column`."""
        if self.name == "sqlite":
            return f"json_extract({column}, '$.{key}')"
        return f"(({column})::json ->> '{key}')"

    def unindexed(self, column: str) -> str:
        """`column`, telling SQLite's planner not to use its index (PostgreSQL's decides well)."""
        return f"+{column}" if self.name == "sqlite" else column


SQLITE = Dialect(
    "sqlite",
    {"serial_key": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL", "insertion_seq": ""},
    "rowid",
)
POSTGRESQL = Dialect(
    "postgresql",
    {
        "serial_key": "BIGSERIAL PRIMARY KEY",
        "real": "DOUBLE PRECISION",
        # SQLite numbers every row (rowid); PostgreSQL's rows need a column for it.
        "insertion_seq": ", seq BIGSERIAL",
    },
    "seq",
)


class Connection(Protocol):
    """The part of sqlite3.Connection the store and the report use."""

    def execute(self, sql: str, parameters: Any = ...) -> Any: ...

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any]) -> Any: ...

    def close(self) -> None: ...


class Backend(Protocol):
    """One open database: the store's only way to it."""

    dialect: Dialect

    @property
    def db(self) -> Connection:
        """The connection the store's queries run on."""

    def begin(self) -> None:
        """Start a write transaction (taking the write lock at once where there is one)."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def insert_id(self, sql: str, parameters: Sequence[Any], id_column: str) -> int:
        """Run an INSERT of one row and return the id the database gave it."""

    def lock_schema(self) -> None:
        """Inside a transaction: hold off other processes applying migrations at once."""

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert many rows as they are, ids included (`state copy`); how many."""

    def reset_ids(self) -> None:
        """After ids were inserted as they are: the next id each table gives follows them."""

    def describe(self) -> str:
        """The state's name in messages: a file path, or a URL without its password."""

    def close(self) -> None: ...


def upsert_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """INSERT of every column that replaces the other columns of a row with the same key."""
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({names}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


WAL_CHECKPOINT_PAGES = 10_000  # ~40 MB of WAL between checkpoints (4 KiB pages)
CACHE_KIB = 16 * 1024  # the page cache's ceiling; it grows only as pages are read


class SqliteBackend:
    """One SQLite file (or ":memory:"), created owner-only: it holds customer data."""

    dialect = SQLITE

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Create it owner-only before SQLite opens it: it holds customer data.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)
            # SQLite creates -wal/-shm with the file's mode, but reuses ones left by a crash
            # or a copy as they are; they hold the same data.
            for suffix in ("-wal", "-shm", "-journal"):
                leftover = self.path.with_name(self.path.name + suffix)
                if leftover.exists():
                    os.chmod(leftover, 0o600)
        self.db: sqlite3.Connection = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        # A first run writes hundreds of MB: checkpointing the WAL every 1,000 pages (SQLite's
        # default: an fsync each time) and a 2 MB page cache for indexes of 100k+ rows made
        # the writes' bookkeeping copy, re-sync and re-read pages (a tenth of it; bench/README,
        # bench_accounts). The last connection still checkpoints and removes the WAL on close.
        self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        self.db.execute("ROLLBACK")

    def insert_id(self, sql: str, parameters: Sequence[Any], id_column: str) -> int:
        row_id = self.db.execute(sql, parameters).lastrowid
        assert row_id is not None, "an INSERT sets lastrowid"
        return row_id

    def lock_schema(self) -> None:
        """BEGIN IMMEDIATE already holds SQLite's one write lock."""

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        marks = ", ".join("?" for _ in columns)
        cursor = self.db.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )
        return cursor.rowcount

    def reset_ids(self) -> None:
        """AUTOINCREMENT continues from the largest id present by itself."""

    def describe(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self.db.close()
