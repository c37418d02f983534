"""The state store: cursors, the mirror, what we wrote, the audit log.

SQLite (one local file) by default, or PostgreSQL (`state.url`): the queries are written once
and run through a backend (sync/store_backend.py); the schema is versioned
(sync/migrations.py) and brought up to date when the store opens.

Every change a run makes to the store happens in a transaction together with the data it
depends on (a cursor is stored in the same transaction as the page behind it), so a crash at
any point leaves a consistent file and the next run resumes from it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from json import encoder as json_encoder
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from mapping.records import Account, Ticket
from mapping.serialise import account_from_json, account_to_json, ticket_from_json, ticket_to_json
from sync.migrations import migrate
from sync.store_backend import Backend, SqliteBackend

# Keys in one `IN (...)` list: below SQLite's oldest limit on parameters (999).
_KEYS_PER_QUERY = 500
_FAILURE_COLUMNS = "system, record_id, status, reason, attempts, first_failed_at, last_failed_at"


# json.dumps(value, sort_keys=True, default=str, ensure_ascii=False) builds this encoder anew
# for every call (it has non-default options); a run stores a few values per write, hundreds
# of thousands at a time, so it is built once. Same encoder, same options: the same text.
_ENCODER = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False)
# Its `encode` also makes a C encoder per call (with a dict to catch circular structures, which
# nothing we store is): the same C encoder, with the same options, made once. A fifth less
# time for an audit entry; the text is the same (tests/test_stored_json_text.py).
_C_ENCODER = getattr(json_encoder, "c_make_encoder", None)  # None without the C accelerator
_encode: Callable[[Any], str] = _ENCODER.encode
if _C_ENCODER is not None:
    _encode_chunks = _C_ENCODER(None, str, encode_basestring, None, ": ", ", ", True, False, True)

    def _encode_once(value: Any) -> str:
        return "".join(_encode_chunks(value, 0))

    _encode = _encode_once
# What that encoder's `encode` returns for a str (its first case, ensure_ascii=False).
_encode_text = encode_basestring


def _dumps(value: Any) -> str:
    """json.dumps(value, sort_keys=True, default=str, ensure_ascii=False), exactly: the
    stored text does not change. The usual written values (a level, a date, a number, none)
    skip the encoder's general path; only their exact types, so a subclass (an enum) still
    goes through it."""
    kind = type(value)
    if kind is str:
        return _encode_text(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)  # what the encoder writes for an int
    return _encode(value)


class StateStore:
    """A thin layer over one database. Not shared between processes: the run lock sees to it."""

    def __init__(self, path: Path | str | None = None, backend: Backend | None = None):
        """A SQLite file at `path`, or an open `backend` (sync/state_open.py picks one)."""
        if backend is None:
            if path is None:
                raise TypeError("StateStore needs a path or a backend")
            opened: Backend = SqliteBackend(path)
        else:
            opened = backend
        self.backend = opened
        self.path = Path(path) if path is not None else None
        self.dialect = opened.dialect
        self.db = opened.db
        try:
            migrate(opened)
        except BaseException:
            opened.close()
            raise
        self._depth = 0

    def close(self) -> None:
        self.backend.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested calls join the outer transaction."""
        if self._depth == 0:
            self.backend.begin()
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.backend.rollback()
            raise
        self._depth -= 1
        if self._depth == 0:
            self.backend.commit()

    # -- cursors ---------------------------------------------------------------------------
    def cursor(self, stream: str) -> str | None:
        row = self.db.execute("SELECT value FROM cursors WHERE stream = ?", (stream,)).fetchone()
        return row[0] if row else None

    def set_cursor(self, stream: str, value: str, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO cursors (stream, value, stored_at) VALUES (?, ?, ?) "
            "ON CONFLICT (stream) DO UPDATE SET value = excluded.value, stored_at = excluded.stored_at",
            (stream, value, now.isoformat()),
        )

    # -- the mirror ------------------------------------------------------------------------
    def upsert_tickets(self, tickets: Iterable[Ticket]) -> None:
        self.db.executemany(
            "INSERT INTO tickets (ref, is_open, data) VALUES (?, ?, ?) "
            "ON CONFLICT (ref) DO UPDATE SET is_open = excluded.is_open, data = excluded.data",
            [(t.ref, int(t.status.is_open), _dumps(ticket_to_json(t))) for t in tickets],
        )

    def ticket(self, ref: str) -> Ticket | None:
        row = self.db.execute("SELECT data FROM tickets WHERE ref = ?", (ref,)).fetchone()
        return ticket_from_json(json.loads(row[0])) if row else None

    def tickets_by_ref(self, refs: Iterable[str]) -> dict[str, Ticket]:
        """`ticket` of many refs in a few queries: ref -> ticket, for those the mirror holds
        (applying a chunk of writes read one row per write)."""
        return {
            ref: ticket_from_json(json.loads(data))
            for ref, data in self._rows_in("SELECT ref, data FROM tickets WHERE ref", refs)
        }

    def tickets(self, open_only: bool = False) -> list[Ticket]:
        query = "SELECT data FROM tickets" + (" WHERE is_open = 1" if open_only else "")
        return [ticket_from_json(json.loads(row[0])) for row in self.db.execute(query)]

    def upsert_accounts(self, accounts: Iterable[Account]) -> None:
        self.db.executemany(
            "INSERT INTO accounts (id, data) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            [(a.id, _dumps(account_to_json(a))) for a in accounts],
        )

    def remove_accounts(self, removed: Mapping[str, str | None]) -> None:
        """Accounts deleted in the CRM leave the mirror; one merged into another is remembered
        (id -> the winner's), so tickets still joined through its id reach the winner."""
        self.db.executemany("DELETE FROM accounts WHERE id = ?", [(i,) for i in removed])
        self.upsert_raw(
            "salesforce",
            "account_merged",
            [(i, {"into": into}) for i, into in removed.items() if into],
        )

    def merged_accounts(self) -> dict[str, str]:
        """Account id -> the id of the account it was merged into."""
        return {i: d["into"] for i, d in self.raw_records("salesforce", "account_merged").items()}

    def account(self, account_id: str) -> Account | None:
        row = self.db.execute("SELECT data FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return account_from_json(json.loads(row[0])) if row else None

    def accounts_by_id(self, account_ids: Iterable[str]) -> dict[str, Account]:
        """`account` of many ids in a few queries: id -> account, for those the mirror holds."""
        return {
            account_id: account_from_json(json.loads(data))
            for account_id, data in self._rows_in(
                "SELECT id, data FROM accounts WHERE id", account_ids
            )
        }

    def _rows_in(self, query: str, keys: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        """The rows of `query` (ending in the key column) whose key is one of `keys`, in
        statements of at most _KEYS_PER_QUERY keys (SQLite's limit on parameters)."""
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _KEYS_PER_QUERY):
            part = unique[start : start + _KEYS_PER_QUERY]
            marks = ", ".join("?" * len(part))
            yield from self.db.execute(f"{query} IN ({marks})", part)

    def accounts(self) -> list[Account]:
        return [
            account_from_json(json.loads(row[0]))
            for row in self.db.execute("SELECT data FROM accounts")
        ]

    def upsert_raw(
        self, system: str, kind: str, records: Iterable[tuple[str, dict[str, Any]]]
    ) -> None:
        self.db.executemany(
            "INSERT INTO raw_records (system, kind, id, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (system, kind, id) DO UPDATE SET data = excluded.data",
            [(system, kind, record_id, _dumps(data)) for record_id, data in records],
        )

    def raw_records(self, system: str, kind: str) -> dict[str, dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, data FROM raw_records WHERE system = ? AND kind = ?", (system, kind)
        )
        return {record_id: json.loads(data) for record_id, data in rows}

    # -- what the engine remembers between runs ----------------------------------------------
    def prior_states(self) -> dict[str, dict[str, Any]]:
        return {
            ref: json.loads(data)
            for ref, data in self.db.execute("SELECT ref, data FROM prior_states")
        }

    def save_prior_states(self, states: dict[str, dict[str, Any]]) -> None:
        self.db.executemany(
            "INSERT INTO prior_states (ref, data) VALUES (?, ?) "
            "ON CONFLICT (ref) DO UPDATE SET data = excluded.data",
            [(ref, _dumps(state)) for ref, state in states.items()],
        )

    # -- values we wrote -------------------------------------------------------------------
    def written(self) -> dict[tuple[str, str], dict[str, Any]]:
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for system, record_id, field, value in self.db.execute(
            "SELECT system, record_id, field, value FROM written"
        ):
            out.setdefault((system, record_id), {})[field] = json.loads(value)
        return out

    def record_written(
        self, system: str, record_id: str, values: dict[str, Any], now: datetime
    ) -> None:
        self.record_written_many([(system, record_id, values)], now)

    def record_written_many(
        self, records: Iterable[tuple[str, str, Mapping[str, Any]]], now: datetime
    ) -> None:
        """(system, record id, field -> value) of many records in one statement, in order."""
        at = now.isoformat()
        self.db.executemany(
            "INSERT INTO written (system, record_id, field, value, written_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (system, record_id, field) DO UPDATE SET value = excluded.value, "
            "written_at = excluded.written_at",
            [
                (system, record_id, field, _dumps(value), at)
                for system, record_id, values in records
                for field, value in values.items()
            ],
        )

    def forget_written(self, system: str, record_id: str) -> None:
        """The record was removed (an escalation record deleted): we hold nothing on it."""
        self.db.execute(
            "DELETE FROM written WHERE system = ? AND record_id = ?", (system, record_id)
        )

    def rename_record(self, system: str, old_id: str, new_id: str) -> None:
        """What we remember of a record (written values, overrides, a failure) under its new
        id; what the new id holds already wins."""
        for table, same in (("written", "AND n.field = o.field"), ("overrides", "AND n.field = o.field"), ("failures", "")):  # fmt: skip
            # Rows the new id holds already win: the old id's copies of them go first, so the
            # rename never collides (portable SQL: no UPDATE OR IGNORE).
            self.db.execute(
                f"DELETE FROM {table} AS o WHERE o.system = ? AND o.record_id = ? AND EXISTS "
                f"(SELECT 1 FROM {table} AS n WHERE n.system = o.system AND n.record_id = ? {same})",
                (system, old_id, new_id),
            )
            self.db.execute(
                f"UPDATE {table} SET record_id = ? WHERE system = ? AND record_id = ?",
                (new_id, system, old_id),
            )

    # -- human overrides -------------------------------------------------------------------
    def overrides(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        rows = self.db.execute(
            "SELECT system, record_id, field, human_value, level_at_detection, detected_at FROM overrides"
        )
        return {
            (s, r, f): {"human_value": json.loads(v), "level_at_detection": lvl, "detected_at": at}
            for s, r, f, v, lvl, at in rows
        }

    def record_override(
        self,
        system: str,
        record_id: str,
        field: str,
        human_value: Any,
        level: str | None,
        now: datetime,
    ) -> None:
        self.db.execute(
            "INSERT INTO overrides (system, record_id, field, human_value, level_at_detection, "
            "detected_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (system, record_id, field) "
            "DO UPDATE SET human_value = excluded.human_value",
            (system, record_id, field, _dumps(human_value), level, now.isoformat()),
        )

    def clear_override(self, system: str, record_id: str, field: str) -> None:
        self.db.execute(
            "DELETE FROM overrides WHERE system = ? AND record_id = ? AND field = ?",
            (system, record_id, field),
        )

    # -- failed writes ---------------------------------------------------------------------
    def failures(self) -> dict[tuple[str, str], dict[str, Any]]:
        rows = self.db.execute(
            "SELECT system, record_id, status, reason, attempts, first_failed_at, last_failed_at FROM failures"
        )
        return {
            (s, r): {
                "status": st,
                "reason": why,
                "attempts": n,
                "first_failed_at": first,
                "last_failed_at": last,
            }
            for s, r, st, why, n, first, last in rows
        }

    def record_failure(
        self, system: str, record_id: str, status: str, reason: str | None, now: datetime
    ) -> None:
        self.db.execute(
            f"INSERT INTO failures ({_FAILURE_COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (system, record_id) DO UPDATE SET "
            "status = excluded.status, reason = excluded.reason, attempts = failures.attempts + 1, "
            "last_failed_at = excluded.last_failed_at",
            (system, record_id, status, reason, now.isoformat(), now.isoformat()),
        )

    def clear_failure(self, system: str, record_id: str) -> None:
        self.clear_failures([(system, record_id)])

    def clear_failures(self, records: Iterable[tuple[str, str]]) -> None:
        """Forget the failures of these (system, record id), in one statement."""
        self.db.executemany("DELETE FROM failures WHERE system = ? AND record_id = ?", records)

    def mark_in_flight(self, system: str, record_id: str, now: datetime) -> None:
        """A write about to be sent: until its answer is remembered, its outcome is unknown."""
        self.mark_in_flight_many([(system, record_id)], now)

    def mark_in_flight_many(self, records: Iterable[tuple[str, str]], now: datetime) -> None:
        """`mark_in_flight` for many (system, record id), in one statement."""
        at = now.isoformat()
        why = "sent; the run ended before the answer"
        self.db.executemany(
            f"INSERT INTO failures ({_FAILURE_COLUMNS}) VALUES (?, ?, 'retry', ?, 0, ?, ?) ON CONFLICT (system, record_id) DO UPDATE "
            "SET status = 'retry', reason = excluded.reason",
            [(system, record_id, why, at, at) for system, record_id in records],
        )

    # -- private notes (sent at most once per level change) ---------------------------------
    def set_note_state(
        self, system: str, record_id: str, note_key: str, state: str, now: datetime
    ) -> None:
        self.set_note_states([(system, record_id, note_key, state)], now)

    def set_note_states(self, notes: Iterable[tuple[str, str, str, str]], now: datetime) -> None:
        """(system, record id, note key, state) of many notes in one statement, in order."""
        at = now.isoformat()
        self.db.executemany(
            "INSERT INTO notes (system, record_id, note_key, state, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (system, record_id, note_key) "
            "DO UPDATE SET state = excluded.state, at = excluded.at",
            [(system, record_id, key, state, at) for system, record_id, key, state in notes],
        )

    def last_notes(self) -> dict[str, str]:
        """Ticket ref -> the key of the last note known to be on it.

        Only sent notes count: a note whose write outcome is unknown must be planned again, so
        the run looks for it on the ticket (and sends it when it is not there).
        """
        rows = self.db.execute(
            "SELECT record_id, note_key FROM notes WHERE state = 'sent' "
            f"ORDER BY at, {self.dialect.insertion_order}"
        )
        return {ref: key for ref, key in rows}

    def notes(self) -> dict[tuple[str, str], str]:
        """(ticket ref, note key) -> sent | unknown (may have landed) | not_sent (refused)."""
        return {
            (ref, key): state
            for ref, key, state in self.db.execute("SELECT record_id, note_key, state FROM notes")
        }

    # -- runs and the audit log --------------------------------------------------------------
    def begin_run(self, now: datetime, dry_run: bool) -> int:
        return self.backend.insert_id(
            "INSERT INTO runs (started_at, dry_run) VALUES (?, ?)",
            (now.isoformat(), int(dry_run)),
            "run_id",
        )

    def end_run(self, run_id: int, now: datetime, exit_code: int, summary: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE runs SET finished_at = ?, exit_code = ?, summary = ? WHERE run_id = ?",
            (now.isoformat(), exit_code, _dumps(summary), run_id),
        )

    def audit(
        self, run_id: int, now: datetime, kind: str, ref: str, detail: dict[str, Any]
    ) -> None:
        self.db.execute(
            "INSERT INTO audit (run_id, at, kind, ref, detail) VALUES (?, ?, ?, ?, ?)",
            (run_id, now.isoformat(), kind, ref, _dumps(detail)),
        )

    def audit_many(
        self, run_id: int, now: datetime, entries: Iterable[tuple[str, str, dict[str, Any]]]
    ) -> None:
        at = now.isoformat()
        self.db.executemany(
            "INSERT INTO audit (run_id, at, kind, ref, detail) VALUES (?, ?, ?, ?, ?)",
            [(run_id, at, kind, ref, _dumps(detail)) for kind, ref, detail in entries],
        )

    def audit_entries(
        self, ref: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        query = "SELECT run_id, at, kind, ref, detail FROM audit WHERE 1=1"
        args: list[str] = []
        if ref:
            query, args = query + " AND ref = ?", [*args, ref]
        if kind:
            query, args = query + " AND kind = ?", [*args, kind]
        return [
            {"run_id": r, "at": at, "kind": k, "ref": rf, "detail": json.loads(d)}
            for r, at, k, rf, d in self.db.execute(query + " ORDER BY id", args)
        ]

    def audit_summary(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT kind, COUNT(*) FROM audit GROUP BY kind").fetchall())

    def run_numbers(self) -> dict[int, int]:
        """Run id -> the number people see: real runs counted on their own, from 1.

        Dry runs and plans keep an id (their row in `runs`) but no number, so a `plan` before
        the first sync does not make that sync "run 2".
        """
        rows = self.db.execute("SELECT run_id FROM runs WHERE dry_run = 0 ORDER BY run_id")
        return {run_id: number for number, (run_id,) in enumerate(rows, start=1)}

    def runs(self) -> list[dict[str, Any]]:
        numbers = self.run_numbers()
        rows = self.db.execute(
            "SELECT run_id, started_at, finished_at, dry_run, exit_code, summary FROM runs"
        )
        return [
            {
                "run_id": r,
                "number": numbers.get(r),
                "started_at": s,
                "finished_at": f,
                "dry_run": bool(d),
                "exit_code": e,
                "summary": json.loads(m) if m else None,
            }
            for r, s, f, d, e, m in rows
        ]
