"""Which instance of a system a record belongs to, written into its id.

A config may name several Zendesks (connections.instances). A record of a named instance
carries the name before its vendor id, `eu/12345`, so its reference (`zendesk:eu/12345`), the
state store's keys and the audit log tell the two apart; the default instance's ids stay
bare, exactly as with one connection, so a state file from before keeps working. Vendor ids
never hold a slash after a lowercase name (Zendesk numbers, Jira keys, Salesforce Ids), and an
id is split only on the names the config declares.
"""

from __future__ import annotations

from collections.abc import Collection

SEPARATOR = "/"


def qualify(instance: str | None, record_id: str) -> str:
    """The id as the rest of the run knows it: bare for the default instance (None)."""
    return record_id if instance is None else f"{instance}{SEPARATOR}{record_id}"


def split_instance(record_id: str, names: Collection[str]) -> tuple[str | None, str]:
    """(instance name or None for the default, the vendor's own id)."""
    name, separator, bare = record_id.partition(SEPARATOR)
    if separator and name in names:
        return name, bare
    return None, record_id


def cursor_name(stream: str, instance: str | None) -> str:
    """A stream's cursor name: `zendesk.tickets` for the default, `zendesk.tickets@eu`."""
    return stream if instance is None else f"{stream}@{instance}"
