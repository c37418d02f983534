"""The canonical attributes a read mapping may fill, and the kind of value each holds.

Names are those of `Ticket` and `Account` in mapping/records.py, minus what the code sets
itself (system, id, the joined account_id). `account_id` on a ticket is the account id the
ticket carries in a field of its own; the join strategy `account_id_field` uses it.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Literal

from mapping.records import Account, Ticket

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


def _check_against_records() -> None:
    # Fail at import if records.py renames a field the mapping layer relies on.
    ticket_fields = {f.name for f in fields(Ticket)}
    account_fields = {f.name for f in fields(Account)}
    missing = (set(TICKET_ATTRIBUTES) - {"account_id"} - ticket_fields) | (
        set(ACCOUNT_ATTRIBUTES) - account_fields
    )
    if missing:
        raise ImportError(
            f"canonical attributes missing from mapping/records.py: {sorted(missing)}"
        )


_check_against_records()
