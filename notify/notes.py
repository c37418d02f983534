"""The Zendesk private note that announces a level change, from the `incident_note` template.

The marker that lets a later run find the note (sync/shown.py) is added by the caller, outside
the template: an ops team's template cannot drop it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from escalation.decision import Decision
from mapping.records import Account, Ticket
from notify.context import no_debrief_extras, ticket_context
from notify.templates import templates_for

if TYPE_CHECKING:
    from config.schema import Config


def note_time_zone(config: Config) -> str:
    """Notes are read by many agents: UTC, unless the default calendar of quiet hours says."""
    notifications = config.notifications
    name = notifications.quiet_hours.default_calendar if notifications else None
    calendar = config.matrix.calendars.get(name) if name else None
    return calendar.time_zone if calendar is not None else "UTC"


def incident_note(
    config: Config,
    ticket: Ticket,
    account: Account | None,
    decision: Decision,
    previous_level: str,
    now: datetime,
) -> str:
    """The note's text (without its marker): level change, owner, next due, reasons, and for
    the higher levels a customer status update draft the agent can copy."""
    notifications = config.notifications
    templates = templates_for(notifications.templates_dir if notifications else None)
    context = ticket_context(
        ticket,
        account,
        decision,
        now,
        config.matrix.levels,
        previous_level=previous_level,
        time_zone=note_time_zone(config),
    )
    return templates.render("incident_note.j2", {**context, **no_debrief_extras()})
