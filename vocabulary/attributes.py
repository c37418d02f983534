"""The canonical attributes a read mapping may fill, the kind of value each holds, and the
values every layer names: ticket statuses and the tier of a ticket without an account.

Names are those of `Ticket` and `Account` in mapping/records.py (which checks at import that
they still are), minus what the code sets itself (system, id, the joined account_id).
`account_id` on a ticket is the account id the ticket carries in a field of its own; the join
strategy `account_id_field` uses it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"
    # Zendesk's export keeps deleted tickets (status "deleted", exclude_deleted defaults to
    # false): a deleted ticket ends its escalation and is never written to again.
    DELETED = "deleted"

    @property
    def is_open(self) -> bool:
        return self not in (TicketStatus.SOLVED, TicketStatus.CLOSED, TicketStatus.DELETED)


UNKNOWN_TIER = "unknown"
# Zendesk closes a ticket merged into another with this tag; the surviving ticket carries on.
MERGED_TICKET_TAG = "closed_by_merge"

# How a value is parsed. "status" is text that must name a TicketStatus; "tier" is text
# lower-cased; "email" is lower-cased text; "domains" a list of bare domain names;
# "time_zone" an IANA zone name.
ValueKind = Literal[
    "str",
    "int",
    "float",
    "date",
    "datetime",
    "list",
    "status",
    "tier",
    "email",
    "domains",
    "time_zone",
]

TICKET_ATTRIBUTES: dict[str, ValueKind] = {
    "subject": "str",
    "status": "status",
    "created_at": "datetime",
    "updated_at": "datetime",
    "key": "str",
    "url": "str",
    "severity": "int",
    "category": "str",
    "first_response_at": "datetime",
    "last_agent_update_at": "datetime",
    "status_changed_at": "datetime",
    "organization": "str",
    "requester_email": "email",
    "assignee": "str",
    "tags": "list",
    "linked": "list",
    "account_id": "str",  # goes to Ticket.join_keys["account_id"], see the join
}
REQUIRED_TICKET_ATTRIBUTES = ("status", "created_at", "updated_at")

ACCOUNT_ATTRIBUTES: dict[str, ValueKind] = {
    "name": "str",
    "tier": "tier",
    "renewal_date": "date",
    "arr": "float",
    "owner": "str",
    "csm": "str",
    "region": "str",
    "time_zone": "time_zone",
    "health": "str",
    "external_id": "str",
    "domains": "domains",
}

# The `type:` a mapping may declare for each kind: how the source value is read before it is
# turned into the canonical kind. Anything else cannot fill the attribute.
COMPATIBLE_TYPES: dict[ValueKind, tuple[str, ...]] = {
    "str": ("str", "int", "float", "date", "datetime"),
    "email": ("str",),
    "status": ("str",),
    "tier": ("str",),
    "time_zone": ("str",),
    "int": ("int",),
    "float": ("float", "int"),
    "date": ("date", "datetime"),
    "datetime": ("datetime", "date"),
    "list": ("list",),
    "domains": ("list", "str"),
}
