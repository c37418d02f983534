"""What the report reads: the history tables, the accounts and the matrix's levels.

Only the state store is read, never a vendor: the report can run at any time, also while a
sync runs (SQLite's WAL lets a reader see the last committed run). Open tickets are read
whatever their age; the period (`since`) limits the history the metrics aggregate.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mapping.records import Account
from sync.history import iso
from sync.state import StateStore
from sync.store_backend import SQLITE, Connection, Dialect


@dataclass(frozen=True, slots=True)
class TicketRow:
    """A ticket as the last run left it (sync/history_schema.py, ticket_history)."""

    ref: str
    system: str
    key: str | None
    subject: str
    url: str | None
    account_id: str | None
    unmatched_reason: str | None
    tier: str
    region: str | None
    category: str | None
    severity: int | None
    created_at: str
    is_open: bool
    resolved_at: str | None
    level: str
    level_since: str
    max_level: str
    owner: str | None
    backup: str | None
    role: str | None

    @property
    def label(self) -> str:
        """How people name the ticket: the Jira key, or system:id."""
        return self.key or self.ref


@dataclass(frozen=True, slots=True)
class RunningSla:
    """One SLA metric of an open ticket now, from its clocks (sla_outcomes)."""

    ref: str
    metric: str
    breached: bool  # met late, or overdue now (next_update: the running interval only)
    due_at: str | None  # the due time of its running clock; None once met


@dataclass(frozen=True)
class ReportData:
    """The report's inputs. Open tickets come as rows; the period's history stays in the
    database (`db`) for the metrics, which aggregate it in SQL: a quarter of history is
    millions of rows, too many to hold as objects."""

    now: datetime
    since: datetime
    levels: tuple[str, ...]  # lowest first
    db: Connection  # sqlite3's, or PostgreSQL's through sync/store_postgres.py
    tickets: dict[str, TicketRow]  # open tickets
    running: list[RunningSla]  # the SLA metrics of the open tickets
    handoffs: Counter[str]  # owner changes in the period, per open ticket
    recent_requests: dict[str, int]  # per account: its own tickets of the last 30 days
    accounts: dict[str, Account]
    dialect: Dialect = SQLITE  # the few words the metrics' SQL says per database
    # The account matrix (matrix.accounts): its levels, lowest first, and each evaluated
    # account's level as the last run left it. Empty without the account matrix.
    account_level_names: tuple[str, ...] = ()
    account_levels: dict[str, str] = field(default_factory=dict)

    @property
    def now_text(self) -> str:
        return iso(self.now)

    @property
    def since_text(self) -> str:
        return iso(self.since)

    def rank(self, level: str) -> int:
        """A level's place, lowest 0; a level the matrix no longer has counts as the lowest."""
        return _rank(self.levels).get(level, 0)


_RANKS: dict[tuple[str, ...], dict[str, int]] = {}


def _rank(levels: tuple[str, ...]) -> dict[str, int]:
    found = _RANKS.get(levels)
    if found is None:
        found = _RANKS[levels] = {name: i for i, name in enumerate(levels)}
    return found


REPEAT_WINDOW_DAYS = 30


def load_report_data(
    store: StateStore,
    levels: tuple[str, ...],
    now: datetime,
    since_days: int,
    account_levels: tuple[str, ...] = (),
) -> ReportData:
    """The open tickets with their clocks and handoffs, and the accounts (with their account
    levels when `account_levels`, the account matrix's levels, are given)."""
    since = now - timedelta(days=since_days)
    db = store.db
    tickets = {
        row[0]: TicketRow(*row[:12], bool(row[12]), *row[13:])
        for row in db.execute(
            "SELECT ref, system, key, subject, url, account_id, unmatched_reason, tier, region, "
            "category, severity, created_at, is_open, resolved_at, level, level_since, max_level, "
            "owner, backup, role FROM ticket_history WHERE is_open = 1"
        )
    }
    running = [
        RunningSla(ref, metric, bool(breached), due)
        for ref, metric, breached, due in db.execute(
            "SELECT c.ref, c.metric, MAX(CASE WHEN c.metric = 'next_update' AND c.met_at IS NOT "
            "NULL THEN 0 WHEN c.breached = 1 OR (c.met_at IS NULL AND c.due_at < :now) THEN 1 "
            "ELSE 0 END), "
            "MIN(CASE WHEN c.met_at IS NULL THEN c.due_at END) FROM ticket_history h "
            "JOIN sla_outcomes c ON c.ref = h.ref WHERE h.is_open = 1 GROUP BY 1, 2",
            {"now": iso(now)},
        )
    ]
    handoffs = Counter(
        dict(
            db.execute(
                "SELECT e.ref, COUNT(*) FROM ticket_history h JOIN ticket_events e "
                "ON e.ref = h.ref WHERE h.is_open = 1 AND e.kind = 'owner_changed' "
                "AND e.at >= ? GROUP BY e.ref",
                (iso(since),),
            )
        )
    )
    # The customer's own requests: Jira issues are engineering's (as in the engine's
    # repeated-tickets fact).
    recent = dict(
        db.execute(
            "SELECT account_id, COUNT(*) FROM ticket_history WHERE account_id IS NOT NULL "
            "AND system != 'jira' AND created_at >= ? GROUP BY account_id",
            (iso(now - timedelta(days=REPEAT_WINDOW_DAYS)),),
        )
    )
    accounts = {account.id: account for account in store.accounts()}
    return ReportData(
        now, since, levels, db, tickets, running, handoffs, recent, accounts, store.dialect,
        account_levels, _account_levels(db) if account_levels else {},
    )  # fmt: skip


def _account_levels(db: Connection) -> dict[str, str]:
    """Account id -> its level in the account matrix's states (sync/accounts_store.py; the
    table is one of the state store's migrations), empty before a run evaluated accounts."""
    rows = db.execute("SELECT account_id, data FROM account_states")
    return {account_id: str(json.loads(data).get("level")) for account_id, data in rows}
