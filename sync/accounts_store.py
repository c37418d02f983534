"""What the account matrix remembers between runs, in the run's state file (its own tables).

- account_states: each account's engine state (level, since, last trigger), as PriorState.
- account_history: the values of the account attributes `changed` conditions follow, one row
  per observed change (the engine compares the value now with the ones held in the period).
- account_breaches: SLA targets of an account's tickets that fell due unmet, so a breach
  still counts after its ticket is solved.
- account_tasks: per account and playbook, the task we made (or found) and for which stay at
  the level ("since"): a task a person closed or deleted in that stay is left alone.
Kept in the same store and transactions as the rest of the state (sync/state.py); the tables
are a migration of the store (sync/accounts_schema.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any

from escalation.account_context import History
from escalation.facts import PriorState
from sync.state import StateStore


def _decode(text: str) -> Any:
    """json.loads, without the parser for the usual value (a level, a date, a sentence): a
    JSON string with no backslash has no escapes, so its text between the quotes is it."""
    if text[:1] == '"' and "\\" not in text:
        return text[1:-1]
    if text.isascii() and text.isdigit():  # a count (usage): json.loads gives this int
        return int(text)
    return json.loads(text)


def _observed_text(value: Any) -> str:
    """json.dumps(value), exactly: the text stored for an observed value (a first run observes
    every account's); the usual ones (a count, a score, a picklist value) without the encoder.
    Exact types only: bool (an int) and anything else take json.dumps."""
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)  # json.dumps's for a str (ensure_ascii)
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    return json.dumps(value)


@dataclass(frozen=True)
class TaskMemory:
    """Our task for one account and playbook: its Id, the stay it was made for, and whether a
    person closed or deleted it in that stay (then it is left alone)."""

    task_id: str | None
    since: str
    left_alone: bool = False


class AccountStore:
    """The account matrix's tables, on the run's StateStore connection."""

    def __init__(self, store: StateStore):
        self.store = store
        self.db = store.db

    # -- what we wrote -------------------------------------------------------------------------
    def written(self, systems: tuple[str, ...]) -> dict[tuple[str, str], dict[str, Any]]:
        """StateStore.written() for these system labels only: the tickets' rows (most of the
        table) are not read. One query per label, its rows by record (the primary key's
        order): 170k rows for 20k accounts, so no label or lookup repeated per row."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for system in systems:
            last: str | None = None
            values: dict[str, Any] = {}
            for record_id, name, value in self.db.execute(
                "SELECT record_id, field, value FROM written WHERE system = ? "
                "ORDER BY record_id, field",
                (system,),
            ):
                if record_id != last:
                    last, values = record_id, {}
                    found[(system, record_id)] = values
                values[name] = _decode(value)
        return found

    # -- engine states -------------------------------------------------------------------------
    def states(self) -> dict[str, dict[str, Any]]:
        rows = self.db.execute("SELECT account_id, data FROM account_states")
        return {account_id: json.loads(data) for account_id, data in rows}

    def state_texts(self) -> dict[str, str]:
        """Account id -> its state as stored (JSON): the run parses each distinct text once."""
        return dict(self.db.execute("SELECT account_id, data FROM account_states").fetchall())

    def save_states(self, states: Mapping[str, PriorState]) -> None:
        """Account id -> its state. Accounts that reached a level in the same run share their
        state: each distinct one is encoded once."""
        texts: dict[PriorState, str] = {}
        for state in states.values():
            if state not in texts:
                texts[state] = json.dumps(state.to_dict(), sort_keys=True)
        self.db.executemany(
            "INSERT INTO account_states (account_id, data) VALUES (?, ?) "
            "ON CONFLICT (account_id) DO UPDATE SET data = excluded.data",
            [(key, texts[state]) for key, state in states.items()],
        )

    # -- history of values ---------------------------------------------------------------------
    def history(self, attributes: Iterable[str]) -> dict[tuple[str, str], History]:
        """(account id, attribute) -> observations oldest first, for these attributes."""
        wanted = tuple(attributes)
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        rows = self.db.execute(
            "SELECT account_id, attribute, at, value FROM account_history "
            f"WHERE attribute IN ({marks}) ORDER BY account_id, attribute, at",
            wanted,
        )
        found: dict[tuple[str, str], list[tuple[float, Any]]] = {}
        for account_id, attribute, at, value in rows:
            found.setdefault((account_id, attribute), []).append((at, _decode(value)))
        return {key: tuple(values) for key, values in found.items()}

    def add_observations(self, rows: Iterable[tuple[str, str, float, Any]]) -> None:
        """(account id, attribute, epoch seconds, value) observed now."""
        self.db.executemany(
            "INSERT INTO account_history (account_id, attribute, at, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (account_id, attribute, at) DO UPDATE SET value = excluded.value",
            [(a, name, at, _observed_text(value)) for a, name, at, value in rows],
        )

    def forget_history_before(self, cutoff: float) -> None:
        """Drop observations older than `cutoff`, keeping the last one before it (the value
        held at the start of the longest period a condition looks at)."""
        self.db.execute(
            "DELETE FROM account_history WHERE at < ? AND at < (SELECT MAX(h.at) FROM "
            "account_history h WHERE h.account_id = account_history.account_id AND "
            "h.attribute = account_history.attribute AND h.at <= ?)",
            (cutoff, cutoff),
        )

    # -- breaches ------------------------------------------------------------------------------
    def breaches(self) -> dict[str, tuple[float, ...]]:
        """Account id -> when its tickets' missed targets fell due, sorted, each due time
        once (two tickets missing targets at the same time are one breach of the account)."""
        found: dict[str, list[float]] = {}
        for account_id, due_at in self.db.execute(
            "SELECT account_id, due_at FROM account_breaches ORDER BY account_id, due_at"
        ):
            times = found.get(account_id)
            if times is None:
                found[account_id] = [due_at]
            elif times[-1] != due_at:
                times.append(due_at)
        return {key: tuple(values) for key, values in found.items()}

    def add_breaches(self, rows: Iterable[tuple[str, str, str, float]]) -> None:
        """(account id, ticket ref, metric, due epoch) of targets missed."""
        self.db.executemany(
            "INSERT INTO account_breaches (account_id, ticket_ref, metric, due_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (ticket_ref, metric, due_at) DO NOTHING",
            list(rows),
        )

    def forget_breaches_before(self, cutoff: float) -> None:
        self.db.execute("DELETE FROM account_breaches WHERE due_at < ?", (cutoff,))

    # -- tasks -----------------------------------------------------------------------------------
    def tasks(self) -> dict[tuple[str, str], TaskMemory]:
        rows = self.db.execute(
            "SELECT account_id, playbook, task_id, since, left_alone FROM account_tasks"
        )
        return {(a, p): TaskMemory(t, s, bool(left)) for a, p, t, s, left in rows}

    def remember_task(self, account_id: str, playbook: str, memory: TaskMemory) -> None:
        self.remember_tasks([(account_id, playbook, memory)])

    def remember_tasks(self, tasks: Iterable[tuple[str, str, TaskMemory]]) -> None:
        """(account id, playbook, memory) each, in one statement."""
        self.db.executemany(
            "INSERT INTO account_tasks (account_id, playbook, task_id, since, left_alone) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, playbook) DO UPDATE SET "
            "task_id = excluded.task_id, since = excluded.since, left_alone = excluded.left_alone",
            [(a, p, m.task_id, m.since, int(m.left_alone)) for a, p, m in tasks],
        )

    def forget_written(self, system: str, record_ids: Iterable[str]) -> None:
        """New records under keys we wrote before (a new task for a new stay at a level):
        what we wrote and the overrides found on the old ones do not describe them."""
        rows = [(system, record_id) for record_id in record_ids]
        for table in ("written", "overrides"):
            self.db.executemany(f"DELETE FROM {table} WHERE system = ? AND record_id = ?", rows)
