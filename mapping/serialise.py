"""Canonical records to and from JSON-safe dicts, for the state store's mirror."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Any

from mapping.records import Account, Ticket, TicketStatus

_TICKET_DATETIMES = (
    "created_at",
    "updated_at",
    "first_response_at",
    "last_agent_update_at",
    "status_changed_at",
)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def ticket_to_json(ticket: Ticket) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(Ticket):
        value = getattr(ticket, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif f.name == "paused_intervals":
            value = [[start.isoformat(), end.isoformat() if end else None] for start, end in value]
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, TicketStatus):
            value = value.value
        out[f.name] = value
    return out


def ticket_from_json(data: dict[str, Any]) -> Ticket:
    values = dict(data)
    for name in _TICKET_DATETIMES:
        values[name] = _dt(values.get(name))
    values["status"] = TicketStatus(values["status"])
    values["tags"] = tuple(values.get("tags") or ())
    values["linked"] = tuple(values.get("linked") or ())
    values["paused_intervals"] = tuple(
        (datetime.fromisoformat(start), _dt(end))
        for start, end in values.get("paused_intervals") or ()
    )
    return Ticket(**values)


def account_to_json(account: Account) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(Account):
        value = getattr(account, f.name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def account_from_json(data: dict[str, Any]) -> Account:
    values = dict(data)
    renewal = values.get("renewal_date")
    values["renewal_date"] = date.fromisoformat(renewal) if renewal else None
    values["domains"] = tuple(values.get("domains") or ())
    return Account(**values)
