"""The attributes a trigger condition may name, and what kind of value each holds.

One catalog shared by the config validation (config/matrix/ checks names and value types at
load time) and the condition compiler (escalation/conditions.py reads the values); here, below
both, so neither imports the other for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from vocabulary.attributes import TicketStatus


class Kind(StrEnum):
    NUMBER = "number"  # int or float; every comparison
    TEXT = "text"  # string; eq, ne, in, not_in
    LIST = "list"  # tuple of strings; contains, contains_any
    ENUM = "enum"  # string from a fixed set; eq, ne, in, not_in
    # An account signal mapped from the CRM (usage, NPS, adoption): a number or a text, as
    # the mapping reads it; the config checks the values against the mapping's type.
    SIGNAL = "signal"


SlaMetric = Literal["acknowledge", "next_update", "resolve"]
SLA_METRICS: tuple[SlaMetric, ...] = ("acknowledge", "next_update", "resolve")
SLA_STATES = ("ok", "at_risk", "breached")


@dataclass(frozen=True)
class Attribute:
    kind: Kind
    # For ENUM: the allowed values. For TEXT: the name of a list the matrix may declare
    # ("categories", "tiers", "regions") against which literal values are checked.
    values: tuple[str, ...] = ()
    declared_in: str | None = None
    help: str = ""


_TEXT = Attribute(Kind.TEXT)

ATTRIBUTES: dict[str, Attribute] = {
    "ticket.system": Attribute(Kind.ENUM, values=("zendesk", "jira")),
    "ticket.id": _TEXT,
    "ticket.key": _TEXT,
    "ticket.subject": _TEXT,
    "ticket.status": Attribute(Kind.ENUM, values=tuple(s.value for s in TicketStatus)),
    "ticket.severity": Attribute(Kind.NUMBER, help="1 is the most severe"),
    "ticket.category": Attribute(Kind.TEXT, declared_in="categories"),
    "ticket.organization": _TEXT,
    "ticket.requester_email": _TEXT,
    "ticket.assignee": _TEXT,
    "ticket.tags": Attribute(Kind.LIST),
    "ticket.linked": Attribute(Kind.LIST),
    "account.id": _TEXT,
    "account.name": _TEXT,
    "account.tier": Attribute(Kind.TEXT, declared_in="tiers"),
    "account.arr": Attribute(Kind.NUMBER),
    "account.owner": _TEXT,
    "account.csm": _TEXT,
    "account.region": Attribute(Kind.TEXT, declared_in="regions"),
    "account.time_zone": _TEXT,
    "account.health": _TEXT,
    "account.external_id": _TEXT,
    "days_to_renewal": Attribute(Kind.NUMBER, help="whole days from today (UTC) to renewal"),
    "business_hours_age": Attribute(Kind.NUMBER, help="business hours since the ticket opened"),
    "linked_max_severity": Attribute(
        Kind.NUMBER, help="severity of the most severe linked issue (1 is the most severe)"
    ),
    **{f"sla.{metric}": Attribute(Kind.ENUM, values=SLA_STATES) for metric in SLA_METRICS},
}

SLA_STATE = Attribute(Kind.ENUM, values=SLA_STATES)


def attribute_named(name: str) -> Attribute:
    """The attribute `name`; "sla.<milestone>" (a milestone the matrix declares, which the
    config checks) holds an SLA state like the built-in metrics."""
    found = ATTRIBUTES.get(name)
    if found is None and name.startswith("sla."):
        return SLA_STATE
    if found is None:
        raise KeyError(name)
    return found


# Not in ATTRIBUTES because it takes a parameter: {recent_tickets: {days: 30, ge: 3}}.
RECENT_TICKETS = "recent_tickets"
# Account triggers only: {breaches: {days: 30, ge: 2}} (SLA breaches of the account's tickets
# in the last N days) and {changed: {field: ..., days: 30, from: [...], to: [...]}}.
BREACHES = "breaches"
CHANGED = "changed"

# The attributes an account trigger may name: the account, facts derived from it and from its
# tickets. `account.<signal>` names a field the Salesforce mapping reads under
# mapping.salesforce.account.signals (see account_attribute).
ACCOUNT_CONDITION_ATTRIBUTES: dict[str, Attribute] = {
    **{name: value for name, value in ATTRIBUTES.items() if name.startswith("account.")},
    "days_to_renewal": ATTRIBUTES["days_to_renewal"],
    "open_tickets": Attribute(Kind.NUMBER, help="the account's open tickets"),
    "escalated_tickets": Attribute(
        Kind.NUMBER, help="the account's open tickets above the lowest ticket level"
    ),
    "highest_ticket_level": Attribute(
        Kind.TEXT, declared_in="ticket_levels", help="the highest level among its open tickets"
    ),
}
_SIGNAL = Attribute(Kind.SIGNAL, help="an account field mapped from Salesforce")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


def account_attribute(name: str) -> Attribute | None:
    """The attribute an account trigger names: a known one, or `account.<signal>`."""
    found = ACCOUNT_CONDITION_ATTRIBUTES.get(name)
    if found is not None:
        return found
    head, _, signal = name.partition(".")
    return _SIGNAL if head == "account" and _IDENTIFIER.match(signal) else None


# Which operators each kind accepts.
OPERATORS: dict[Kind, frozenset[str]] = {
    Kind.NUMBER: frozenset({"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists"}),
    Kind.TEXT: frozenset({"eq", "ne", "in", "not_in", "exists"}),
    Kind.ENUM: frozenset({"eq", "ne", "in", "not_in", "exists"}),
    Kind.LIST: frozenset({"contains", "contains_any", "exists"}),
    Kind.SIGNAL: frozenset({"eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists"}),
}
