"""Canonical records: what every layer after mapping/ speaks.

Connectors yield vendor-shaped `SourceRecord`s; mapping/ turns them into `Ticket` and
`Account`. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from vocabulary.attributes import (
    ACCOUNT_ATTRIBUTES,
    MERGED_TICKET_TAG,
    TICKET_ATTRIBUTES,
    UNKNOWN_TIER,
    TicketStatus,
)

# TicketStatus and UNKNOWN_TIER are part of the records' vocabulary; layers above mapping/
# may import them from here with the records.
__all__ = ["UNKNOWN_TIER", "Account", "SourceRecord", "Ticket", "TicketStatus"]


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A record as a vendor returned it, before mapping."""

    system: str  # "zendesk" | "jira" | "salesforce"
    kind: str  # "ticket" | "issue" | "organization" | "account" | "user"
    id: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Ticket:
    """A support ticket (Zendesk) or an issue (Jira), in canonical attributes."""

    system: str
    id: str
    subject: str
    status: TicketStatus
    created_at: datetime
    updated_at: datetime
    key: str | None = None  # Jira issue key; None for Zendesk
    url: str | None = None
    severity: int | None = None  # 1 is the most severe
    category: str | None = None
    first_response_at: datetime | None = None
    last_agent_update_at: datetime | None = None
    organization: str | None = None  # requester organisation name or id, as the source has it
    requester_email: str | None = None
    assignee: str | None = None
    tags: tuple[str, ...] = ()
    # Links to other tickets/issues as "system:id", e.g. ("jira:PROJ-12",)
    linked: tuple[str, ...] = ()
    # Values the join strategies may use, by strategy input name
    # (e.g. {"account_id": "001...", "organization_external_id": "...", "email_domain": "..."}).
    join_keys: dict[str, str] = field(default_factory=dict)
    # Account id after the join; None when unmatched.
    account_id: str | None = None
    # Current values of the fields we manage (output name -> value as the system holds it).
    managed_fields: dict[str, Any] = field(default_factory=dict)
    # Intervals the ticket spent paused (pending / on hold), oldest first; an open interval
    # has end None. Filled from observed status changes.
    paused_intervals: tuple[tuple[datetime, datetime | None], ...] = ()
    # When the status last changed, as the system says (Zendesk's metric set). A ticket first
    # seen paused has been paused since then; its updated_at also moves with our own writes.
    status_changed_at: datetime | None = None

    @property
    def ref(self) -> str:
        return f"{self.system}:{self.id}"

    @property
    def withdrawn(self) -> bool:
        """Deleted (spam too), or merged into another ticket: no longer a request of its own,
        so it counts in no fact, lends nothing to its links and is never written to."""
        return self.status is TicketStatus.DELETED or (
            self.status is TicketStatus.CLOSED and MERGED_TICKET_TAG in self.tags
        )


@dataclass(frozen=True, slots=True)
class Account:
    """A customer account from the CRM."""

    id: str
    name: str
    tier: str = UNKNOWN_TIER
    renewal_date: date | None = None
    arr: float | None = None
    owner: str | None = None
    csm: str | None = None
    region: str | None = None
    time_zone: str | None = None
    health: str | None = None
    external_id: str | None = None
    domains: tuple[str, ...] = ()
    managed_fields: dict[str, Any] = field(default_factory=dict)
    # Further fields the account matrix reads (mapping.salesforce.account.signals): signal
    # name -> number or text; a value missing or unreadable in Salesforce is absent.
    signals: dict[str, Any] = field(default_factory=dict)


def _check_against_records() -> None:
    # Fail at import if a record renames a field the mapping layer relies on.
    ticket_fields = {f.name for f in fields(Ticket)}
    account_fields = {f.name for f in fields(Account)}
    missing = (set(TICKET_ATTRIBUTES) - {"account_id"} - ticket_fields) | (
        set(ACCOUNT_ATTRIBUTES) - account_fields
    )
    if missing:
        raise ImportError(
            f"attributes of vocabulary/attributes.py missing from mapping/records.py: {sorted(missing)}"
        )


_check_against_records()
