"""The debriefs the sync opened (issue 12): one row per solved ticket that reached the debrief
level, with where its Salesforce Task and Zendesk note stand. Read from the notifications'
outbox, where each debrief is planned once and sent exactly once (notify/debrief.py)."""

from __future__ import annotations

from notify.debrief import NOTE_CHANNEL, TASK_CHANNEL
from report.tables import Table
from sync.state import StateStore

# What an outbox state means to the person reading the report.
_SHOWN = {
    "pending": "to send",
    "sending": "sending",
    "sent": "made",
    "failed": "retrying",
    "rejected": "refused",
    "unknown": "outcome unknown",
    "given_up": "given up",
}


def debriefs(store: StateStore) -> Table:
    """Debriefs by when they were opened, newest first."""
    found: dict[str, dict[str, str]] = {}
    for ref, channel, level, state, created_at in store.db.execute(
        "SELECT ticket_ref, channel, level, state, created_at FROM outbox "
        "WHERE channel IN (?, ?) ORDER BY created_at, ticket_ref",
        (TASK_CHANNEL, NOTE_CHANNEL),
    ):
        row = found.setdefault(ref, {"level": level, "opened": created_at[:16].replace("T", " ")})
        row["task" if channel == TASK_CHANNEL else "note"] = _SHOWN.get(state, state)
    rows = [
        (ref, row["level"], row["opened"], row.get("task", "-"), row.get("note", "-"))
        for ref, row in sorted(found.items(), key=lambda item: item[1]["opened"], reverse=True)
    ]
    return Table(
        "debriefs",
        "Debriefs",
        ("ticket", "level reached", "opened", "Salesforce task", "Zendesk note"),
        rows,
        "A solved ticket that reached the debrief level gets a task for its owner and a note "
        "with its timeline (notifications.yaml, debrief).",
        html_limit=200,
    )
