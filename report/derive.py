"""Facts several sections share, derived once from the report data: per ticket its running
SLA clocks, soonest due time and breaches; per account its open escalations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from report.data import ReportData, RunningSla, TicketRow


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
    by_account: dict[str, list[TicketRow]]  # open escalations per account id


def derive(data: ReportData) -> Derived:
    open_tickets = list(data.tickets.values())
    running: dict[str, list[RunningSla]] = {}
    for sla in data.running:
        running.setdefault(sla.ref, []).append(sla)
    state = {}
    for ticket in open_tickets:
        metrics = running.get(ticket.ref, [])
        due = [m for m in metrics if m.due_at is not None]
        soonest = min(due, key=lambda m: m.due_at or "", default=None)
        state[ticket.ref] = OpenState(
            soonest.due_at if soonest else None,
            soonest.metric if soonest else None,
            tuple(sorted(m.metric for m in metrics if m.breached)),
        )
    escalations = [t for t in open_tickets if data.rank(t.level) > 0]
    escalations.sort(key=lambda t: (-data.rank(t.level), state[t.ref].due_soonest or "9999", t.ref))
    by_account: dict[str, list[TicketRow]] = {}
    for ticket in escalations:
        if ticket.account_id:
            by_account.setdefault(ticket.account_id, []).append(ticket)
    return Derived(open_tickets, escalations, state, by_account)


def hours_between(start: str, end: str | datetime) -> float:
    """Wall-clock hours from one stored time to another (or to a moment)."""
    finish = end if isinstance(end, datetime) else datetime.fromisoformat(end)
    return (finish - datetime.fromisoformat(start)).total_seconds() / 3600


def short_time(text: str | None) -> str | None:
    """A stored time as people read it in a table: 2026-11-23 09:00 UTC."""
    return f"{text[:10]} {text[11:16]} UTC" if text else None
