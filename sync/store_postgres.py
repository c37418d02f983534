"""The PostgreSQL backend of the state store (`state.url: postgresql://user@host/db`).

For runs where no local disk survives (a container, a CI job) or that move between machines.
psycopg 3 in autocommit mode, transactions begun and ended by the store as with SQLite, so a
run that dies mid-transaction leaves the last committed step (the server rolls back the rest).

The queries stay SQLite's (sync/store_backend.py): `?` and `:name` placeholders become
psycopg's `%s` and `%(name)s` here, once per distinct query. The password never travels in
the URL: it is read from the environment variable `state.password_env` names and handed to
libpq on its own; without one libpq's own sources apply (PGPASSWORD, ~/.pgpass, a trusted
unix socket). `display_url` is the form every message and log line uses.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from collections.abc import Iterable, Sequence
from typing import Any

from config.state_url import display_url
from sync.store_backend import POSTGRESQL

_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|(?<!:):([A-Za-z_]\w*)|%")


def application_name() -> str:
    """Who a session is, in pg_stat_activity and in the lock's "held by" message."""
    return f"escalation-sync pid {os.getpid()} on {socket.gethostname()}"[:63]


def connect(url: str, password: str | None) -> Any:
    """A psycopg connection in autocommit mode (the store begins its own transactions)."""
    import psycopg  # only a PostgreSQL state needs it

    extra: dict[str, Any] = {"application_name": application_name(), "autocommit": True}
    if password is not None:
        extra["password"] = password
    if "connect_timeout" not in url:
        extra["connect_timeout"] = 10
    return psycopg.connect(url, **extra)


def translate(sql: str) -> str:
    """SQLite's placeholders as psycopg's; every literal % doubled (psycopg reads them all).
    A ? or :name inside a string literal stays as it is."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match.group(1):
            return f"%({match.group(1)})s"
        return token.replace("%", "%%")  # a string literal: psycopg reads % in it too

    return _TOKENS.sub(replace, sql)


class PgConnection:
    """sqlite3.Connection's execute/executemany over a psycopg connection."""

    def __init__(self, connection: Any):
        self.connection = connection
        self._translated: dict[str, str] = {}

    def _sql(self, sql: str) -> str:
        found = self._translated.get(sql)
        if found is None:
            found = self._translated[sql] = translate(sql)
        return found

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        return self.connection.execute(self._sql(sql), parameters)

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any]) -> None:
        rows = list(seq_of_parameters)
        if rows:  # psycopg sends them in one pipeline
            with self.connection.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)

    def close(self) -> None:
        self.connection.close()


class PostgresBackend:
    """One PostgreSQL database (and schema: the URL's search_path) as the state store."""

    dialect = POSTGRESQL

    def __init__(self, url: str, password: str | None):
        self.url = url
        self.db = PgConnection(connect(url, password))

    def begin(self) -> None:
        self.db.execute("BEGIN")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if not self.db.connection.closed:
            self.db.execute("ROLLBACK")

    def insert_id(self, sql: str, parameters: Sequence[Any], id_column: str) -> int:
        return int(self.db.execute(f"{sql} RETURNING {id_column}", parameters).fetchone()[0])

    def lock_schema(self) -> None:
        self.db.execute("SELECT pg_advisory_xact_lock(?)", (identity_key(self, "migrations"),))

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """COPY: an order of magnitude faster than INSERTs for a whole state."""
        count = 0
        with self.db.connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count

    def reset_ids(self) -> None:
        serials = self.db.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'"
        ).fetchall()
        for table, column in serials:
            self.db.execute(
                f"SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX({column}), 0) + 1, "
                f"false) FROM {table}",
                (table, column),
            )

    def describe(self) -> str:
        return display_url(self.url)

    def close(self) -> None:
        self.db.close()


def identity_key(backend: PostgresBackend, purpose: str) -> int:
    """A signed 64-bit advisory-lock key for this state (its database and schema) and
    `purpose`: two states in one server never share a key, two runs on one state always do."""
    database, schema = backend.db.execute("SELECT current_database(), current_schema()").fetchone()
    digest = hashlib.blake2b(
        f"escalation-sync:{purpose}:{database}:{schema}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)
