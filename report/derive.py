"""Facts several sections share, derived once from the report data: per ticket its running
SLA clocks, soonest due time and breaches; per account its open escalations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from report.data import ClockRow, ReportData, TicketRow


@dataclass(frozen=True)
class OpenState:
    """A running ticket's clocks as of now."""

    due_soonest: str | None  # ISO time of the earliest unmet due time
    due_metric: str | None
    breached: tuple[str, ...]  # metrics breached (met late or overdue now)


@dataclass(frozen=True)
class Derived:
    open_tickets: list[TicketRow]  # open, every level
    escalations: list[TicketRow]  # open, above the lowest level
    state: dict[str, OpenState]  # by ticket ref, open tickets only
    handoffs: Counter[str]  # owner changes per ticket in the period
    by_account: dict[str, list[TicketRow]]  # open escalations per account id


def derive(data: ReportData) -> Derived:
    open_tickets = [t for t in data.tickets.values() if t.is_open]
    running: dict[str, list[ClockRow]] = {}
    for clock in data.clocks:
        ticket = data.tickets.get(clock.ref)
        if ticket is not None and ticket.is_open:
            running.setdefault(clock.ref, []).append(clock)
    now = data.now_text
    state = {}
    for ticket in open_tickets:
        clocks = running.get(ticket.ref, [])
        unmet = [c for c in clocks if c.met_at is None]
        soonest = min(unmet, key=lambda c: c.due_at, default=None)
        breached = sorted(
            {c.metric for c in clocks if c.breached or (c.met_at is None and c.due_at < now)}
        )
        state[ticket.ref] = OpenState(
            soonest.due_at if soonest else None,
            soonest.metric if soonest else None,
            tuple(breached),
        )
    escalations = [t for t in open_tickets if data.rank(t.level) > 0]
    escalations.sort(key=lambda t: (-data.rank(t.level), state[t.ref].due_soonest or "9999", t.ref))
    by_account: dict[str, list[TicketRow]] = {}
    for ticket in escalations:
        if ticket.account_id:
            by_account.setdefault(ticket.account_id, []).append(ticket)
    handoffs = Counter(e.ref for e in data.events if e.kind == "owner_changed")
    return Derived(open_tickets, escalations, state, handoffs, by_account)


def hours_between(start: str, end: str | datetime) -> float:
    """Wall-clock hours from one stored time to another (or to a moment)."""
    finish = end if isinstance(end, datetime) else datetime.fromisoformat(end)
    return (finish - datetime.fromisoformat(start)).total_seconds() / 3600


def short_time(text: str | None) -> str | None:
    """A stored time as people read it in a table: 2026-11-23 09:00 UTC."""
    return f"{text[:10]} {text[11:16]} UTC" if text else None
