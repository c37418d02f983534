"""Pure: a solved ticket's debrief as two outbox rows, a Salesforce Task and a Zendesk note.

Both are stored in the outbox like any notification (the run's state transaction), under keys
that name the ticket and what is made, never the run: a retry or a run after a kill finds the
same row. Their channels (notify/debrief_send.py) also look for the marker on the record
before making one, so a row left `sending` by a kill, or planned again after the state file
was lost, never makes a second Task or note.

The marker is `[escalation-debrief:<ticket ref>]`: deliberately not `[escalation-sync:...]`,
the level note's marker (sync/shown.py), which a run without memory reads as the level the
ticket was last told of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notify.outbox import OutboxRow

TASK_CHANNEL = "debrief:salesforce-task"
NOTE_CHANNEL = "debrief:zendesk-note"
DEBRIEF_CHANNELS = (TASK_CHANNEL, NOTE_CHANNEL)
SUBJECT_LIMIT = 255  # Salesforce Task.Subject


def debrief_marker(ticket_ref: str) -> str:
    """What finds a debrief on its record, whatever a person does to the rest of the text."""
    return f"[escalation-debrief:{ticket_ref}]"


def task_subject(ticket_ref: str, subject: str) -> str:
    """The Task's subject: the ticket's subject cut so that the marker always fits."""
    marker = debrief_marker(ticket_ref)
    head = f"Debrief: {subject}"
    room = SUBJECT_LIMIT - len(marker) - 1
    return f"{head[:room]} {marker}"


def duration_words(seconds: float | None) -> str:
    """ "2h 15m", "3d 4h": a business duration as people say it; "-" when not known."""
    if seconds is None:
        return "-"
    minutes = max(int(seconds) // 60, 0)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes or not parts else []
    return " ".join(parts[:2])


def debrief_metrics(
    outcomes: Iterable[tuple[str, float | None, float, bool]],
) -> tuple[list[dict[str, Any]], int]:
    """(metric, taken, target, breached) rows of sla_outcomes -> the template's metrics, and the
    number of breaches. The update cadence is many intervals: shown as their count, the
    longest against the target, and how many were late."""
    by_metric: dict[str, list[tuple[float | None, float, bool]]] = {}
    for metric, taken, target, breached in outcomes:
        by_metric.setdefault(metric, []).append((taken, target, bool(breached)))
    metrics: list[dict[str, Any]] = []
    names = {
        "acknowledge": "time to acknowledge",
        "next_update": "update cadence",
        "resolve": "resolution",
    }
    for metric in ("acknowledge", "next_update", "resolve"):
        rows = by_metric.get(metric)
        if not rows:
            continue
        known = [taken for taken, _, _ in rows if taken is not None]
        longest = max(known) if known else None
        late = sum(1 for _, _, breached in rows if breached)
        name = names[metric]
        if metric == "next_update":
            name = f"{name} ({len(rows)} updates, {late} late; the longest)"
        metrics.append(
            {
                "name": name,
                "taken": duration_words(longest),
                "target": duration_words(rows[-1][1]),
                "breached": late > 0,
            }
        )
    return metrics, sum(1 for rows in by_metric.values() for _, _, b in rows if b)


def business_day_due(
    resolved_at: datetime,
    days: int,
    time_zone: str,
    is_business_day: Callable[[date], bool],
) -> date:
    """The date `days` business days after the resolution's date, in the owner's calendar."""
    day = resolved_at.astimezone(ZoneInfo(time_zone)).date()
    counted = 0
    for _ in range(days * 7 + 400):  # holidays can close a calendar for weeks, not forever
        if counted >= days:
            break
        day += timedelta(days=1)
        if is_business_day(day):
            counted += 1
    return day


def debrief_rows(
    *,
    ticket_ref: str,
    event_key: str,
    level: str,
    system: str,
    ticket_id: str,
    subject: str,
    account_id: str | None,
    owner: str | None,
    text: str,
    due: date,
    now: datetime,
) -> list[OutboxRow]:
    """The Task (when the ticket has an account) and the note (a Zendesk ticket) to make."""
    marker = debrief_marker(ticket_ref)  # in the payload: the channels look for it
    created = now.astimezone(UTC).isoformat()
    rows = []
    if account_id:
        task = {
            "key": f"{ticket_ref}|debrief|task",
            "channel": TASK_CHANNEL,
            "to": account_id,
            "subject": task_subject(ticket_ref, subject),
            "text": text,
            "payload": {"marker": marker, "owner": owner, "due": due.isoformat()},
        }
        rows.append(_row(task, ticket_ref, event_key, level, created))
    if system == "zendesk":
        note = {
            "key": f"{ticket_ref}|debrief|note",
            "channel": NOTE_CHANNEL,
            "to": ticket_id,
            "subject": f"Debrief {ticket_ref}",
            "text": f"{text.rstrip()}\n\n{marker}",
            "payload": {"marker": marker},
        }
        rows.append(_row(note, ticket_ref, event_key, level, created))
    return rows


def _row(
    message: Mapping[str, Any], ticket_ref: str, event_key: str, level: str, created: str
) -> OutboxRow:
    return OutboxRow(
        key=message["key"],
        event_key=event_key,
        ticket_ref=ticket_ref,
        event="debrief",
        level=level,
        channel=message["channel"],
        recipient=str(message["payload"].get("owner") or message["to"]),
        message={"html": None, "blocks": [], **message},
        state="pending",
        created_at=created,
        not_before=created,
    )


def timeline_owners(timeline: Sequence[Mapping[str, str]], first: str | None) -> list[str]:
    """The owners in the order they held the ticket (the handoffs), from the timeline."""
    owners = [first] if first else []
    prefix = "owner changed to "
    for step in timeline:
        text = step.get("text", "")
        name = text[len(prefix) :] if text.startswith(prefix) else None
        if name and (not owners or owners[-1] != name):
            owners.append(name)
    return owners
