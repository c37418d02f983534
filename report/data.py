"""What the report reads: the history tables, the accounts and the matrix's levels.

Only the state store is read, never a vendor: the report can run at any time, also while a
sync runs (SQLite's WAL lets a reader see the last committed run). The period (`since`)
limits the history read; open tickets are read whatever their age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mapping.records import Account
from sync.history import iso
from sync.state import StateStore


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
class ClockRow:
    """One SLA clock (sla_outcomes)."""

    ref: str
    metric: str
    start_at: str
    due_at: str
    met_at: str | None
    target_seconds: float
    taken_seconds: float | None
    breached: bool
    level: str


@dataclass(frozen=True, slots=True)
class EventRow:
    """One thing that happened to a ticket (ticket_events)."""

    ref: str
    at: str
    kind: str
    old_level: str | None
    new_level: str | None
    owner: str | None


@dataclass(frozen=True)
class ReportData:
    now: datetime
    since: datetime
    levels: tuple[str, ...]  # lowest first
    tickets: dict[str, TicketRow]
    clocks: list[ClockRow]
    events: list[EventRow]
    accounts: dict[str, Account]

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


def load_report_data(
    store: StateStore, levels: tuple[str, ...], now: datetime, since_days: int
) -> ReportData:
    """Everything the report shows, read in four queries."""
    since = now - timedelta(days=since_days)
    since_text = iso(since)
    db = store.db
    tickets = {
        row[0]: TicketRow(*row[:12], bool(row[12]), *row[13:])
        for row in db.execute(
            "SELECT ref, system, key, subject, url, account_id, unmatched_reason, tier, region, "
            "category, severity, created_at, is_open, resolved_at, level, level_since, max_level, "
            "owner, backup, role FROM ticket_history "
            "WHERE is_open = 1 OR created_at >= ? OR resolved_at >= ?",
            (since_text, since_text),
        )
    }
    clocks = [
        ClockRow(ref, metric, start, due, met, target, taken, bool(breached), level)
        for ref, metric, start, due, met, target, taken, breached, level in db.execute(
            "SELECT ref, metric, start_at, due_at, met_at, target_seconds, taken_seconds, "
            "breached, level FROM sla_outcomes WHERE start_at >= ? OR met_at IS NULL",
            (since_text,),
        )
    ]
    events = [
        EventRow(*row)
        for row in db.execute(
            "SELECT ref, at, kind, old_level, new_level, owner FROM ticket_events "
            "WHERE at >= ? ORDER BY id",
            (since_text,),
        )
    ]
    accounts = {account.id: account for account in store.accounts()}
    return ReportData(now, since, levels, tickets, clocks, events, accounts)
