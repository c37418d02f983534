"""The tickets' field changes in the state store: status, priority, tags, links, with their times.

Read from Zendesk's incremental ticket events (each Audit's "Change" children) and from Jira's
changelog (expand=changelog on the issue search), kept for `state.changes_days` days. The
status changes give exact pauses (escalation/history.py): a ticket pending between two runs
had a pause, and each pause starts when the status changed, not when a run noticed it.

The table is migration 2 of the state store (sync/migrations.py), written with CREATE ... IF
NOT EXISTS: a state file that gained it before schema versions keeps its rows.

ticket_changes  one row per changed field: the ticket's ref, the vendor's id for the change
                (a re-read page stores it once), the field, when, the new and previous value
                (lists as JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from config.read_mapping import ReadField
from escalation.history import StatusHistory
from mapping.records import TicketStatus
from sync.store_backend import Connection
from vocabulary.values import ValueProblem, to_datetime, translation_key

TICKET_CHANGES_SCHEMA = """
CREATE TABLE IF NOT EXISTS ticket_changes (
    ref TEXT NOT NULL, change_id TEXT NOT NULL, field TEXT NOT NULL, at TEXT NOT NULL,
    value TEXT, previous TEXT, PRIMARY KEY (ref, change_id, field));
CREATE INDEX IF NOT EXISTS ticket_changes_by_field ON ticket_changes (ref, field, at);
"""

# Jira's changelog names its fields as people see them; these few get the names the rest of
# the history uses, others (a "Workaround" field an SLA milestone waits for) keep theirs.
_JIRA_FIELDS = {"status": "status", "priority": "priority", "link": "link", "labels": "tags"}


@dataclass(frozen=True, slots=True)
class Change:
    ref: str
    change_id: str
    field: str
    at: datetime
    value: str | None
    previous: str | None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def zendesk_changes(event: Mapping[str, Any]) -> list[Change]:
    """The field changes of one Zendesk ticket event (an Audit with Change children).

    An event without a ticket id or a readable time is skipped: it cannot be placed.
    """
    try:
        ref = f"zendesk:{int(event['ticket_id'])}"
        at = to_datetime(event.get("created_at") or event.get("timestamp"))
    except (KeyError, TypeError, ValueError, ValueProblem):
        return []
    found = []
    for child in event.get("child_events") or []:
        # "Create" children carry a new ticket's first values, "Change" children the edits.
        if not isinstance(child, dict) or child.get("event_type") not in ("Create", "Change"):
            continue
        name = child.get("field_name")
        if not name:
            continue
        found.append(
            Change(
                ref,
                str(child.get("id") or event.get("id")),
                str(name),
                at,
                _text(child.get("value")),
                _text(child.get("previous_value")),
            )
        )
    return found


def jira_changes(issue: Mapping[str, Any]) -> list[Change]:
    """The field changes in an issue's expanded changelog (status, priority, links, labels as
    tags, and the other fields by their names)."""
    changelog = issue.get("changelog")
    if not isinstance(changelog, dict) or "id" not in issue:
        return []
    ref = f"jira:{issue['id']}"
    found = []
    for history in changelog.get("histories") or []:
        if not isinstance(history, dict):
            continue
        try:
            at = to_datetime(history.get("created"))
        except ValueProblem:
            continue
        for index, item in enumerate(history.get("items") or []):
            if not isinstance(item, dict):
                continue
            given = str(item.get("field") or "")
            if not given:
                continue
            name = _JIRA_FIELDS.get(given.casefold(), given)
            change_id = f"{history.get('id')}.{index}"
            found.append(
                Change(ref, change_id, name, at, item.get("toString"), item.get("fromString"))
            )
    return found


def store_changes(db: Connection, changes: Iterable[Change]) -> set[str]:
    """Store the changes (each once); returns the refs of the tickets they belong to."""
    rows = [
        (c.ref, c.change_id, c.field, c.at.astimezone(UTC).isoformat(), c.value, c.previous)
        for c in changes
    ]
    db.executemany(
        "INSERT INTO ticket_changes (ref, change_id, field, at, value, previous) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ref, change_id, field) DO NOTHING",
        rows,
    )
    return {row[0] for row in rows}


def status_translator(read: ReadField | None) -> Callable[[str | None], TicketStatus | None]:
    """The mapping's status translation (the ticket's own), for the statuses in the history."""
    table = read.translate if read is not None else None

    def translate(raw: str | None) -> TicketStatus | None:
        if raw is None:
            return None
        value = table.get(translation_key(raw), raw) if table else raw
        try:
            return TicketStatus(str(value).casefold())
        except ValueError:
            return None  # a workflow status the mapping does not know: not a pause

    return translate


def status_history(
    db: Connection, ref: str, translate: Callable[[str | None], TicketStatus | None]
) -> StatusHistory:
    """One ticket's status changes, oldest first, statuses as the mapping reads them."""
    found = []
    for at, value in db.execute(
        "SELECT at, value FROM ticket_changes WHERE ref = ? AND field = 'status' ORDER BY at",
        (ref,),
    ):
        status = translate(value)
        if status is not None:
            found.append((datetime.fromisoformat(at).astimezone(UTC), status))
    return tuple(found)


def changes_by_ref(
    db: Connection,
) -> dict[str, tuple[tuple[datetime, str, str | None], ...]]:
    """Every ticket's stored changes, (when, field, new value), oldest first."""
    found: dict[str, list[tuple[datetime, str, str | None]]] = {}
    for ref, at, field, value in db.execute(
        "SELECT ref, at, field, value FROM ticket_changes ORDER BY ref, at"
    ):
        found.setdefault(ref, []).append((datetime.fromisoformat(at).astimezone(UTC), field, value))
    return {ref: tuple(changes) for ref, changes in found.items()}


def milestone_changes(
    db: Connection, milestones: tuple[object, ...]
) -> dict[str, tuple[tuple[datetime, str, str | None], ...]] | None:
    """What the engine's SLA milestones read (sync.evaluate hands it on); None, and nothing
    read, when the matrix defines none."""
    return changes_by_ref(db) if milestones else None


def prune_changes(db: Connection, before: datetime) -> int:
    """Drop changes older than `before`, except each ticket's latest change of each field (the
    value still in effect); returns how many went."""
    cursor = db.execute(
        """DELETE FROM ticket_changes WHERE at < ? AND at < (
               SELECT MAX(u.at) FROM ticket_changes AS u
               WHERE u.ref = ticket_changes.ref AND u.field = ticket_changes.field)""",
        (before.astimezone(UTC).isoformat(),),
    )
    return cursor.rowcount
