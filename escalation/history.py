"""Paused intervals from a ticket's real status history (pure: the history comes in as data).

The sync layer reads each ticket's status changes (Zendesk's ticket events, Jira's changelog)
into the state store; this turns them into the intervals the SLA clocks skip. A poll only sees
the status at each run, so a ticket pending for ten minutes between two runs had no pause and
a pause's start was estimated; the history has both exactly.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from mapping.records import Ticket, TicketStatus

# (when, the status the ticket changed to), oldest first
StatusHistory = tuple[tuple[datetime, TicketStatus], ...]
Intervals = tuple[tuple[datetime, datetime | None], ...]


def paused_from_history(
    history: StatusHistory, pause_statuses: Collection[TicketStatus]
) -> Intervals:
    """The paused intervals the history describes; the last one open (None) if still paused.

    A change from one pause status to another (pending -> on hold) continues the same pause.
    """
    intervals: list[tuple[datetime, datetime | None]] = []
    paused_since: datetime | None = None
    for at, status in sorted(history, key=lambda change: change[0]):
        if status in pause_statuses:
            if paused_since is None:
                paused_since = at
        elif paused_since is not None:
            if at > paused_since:
                intervals.append((paused_since, at))
            paused_since = None
    if paused_since is not None:
        intervals.append((paused_since, None))
    return tuple(intervals)


def with_exact_pauses(
    ticket: Ticket, history: StatusHistory, pause_statuses: Collection[TicketStatus]
) -> Ticket:
    """The ticket with its paused intervals rebuilt from `history`.

    Intervals that ended before the history's first change are kept as they were (the history
    may have been pruned past its retention: the past it no longer holds stays as recorded).
    The ticket's own status is newer than the history when it was updated after the last
    change (the two exports lag differently): then it opens or closes the last interval, as
    a poll would.
    """
    if not history:
        return ticket
    changes = sorted(history, key=lambda change: change[0])
    first, last = changes[0][0], changes[-1][0]
    kept = [iv for iv in ticket.paused_intervals if iv[1] is not None and iv[1] <= first]
    intervals = kept + list(paused_from_history(tuple(changes), pause_statuses))
    if ticket.updated_at > last:
        paused_now = ticket.status in pause_statuses
        still_open = bool(intervals) and intervals[-1][1] is None
        if paused_now and not still_open:
            since = max(ticket.status_changed_at or ticket.updated_at, last)
            intervals.append((since, None))
        elif not paused_now and still_open:
            start = intervals[-1][0]
            intervals[-1] = (start, max(start, ticket.updated_at))
    found = tuple(intervals)
    if found == ticket.paused_intervals:
        return ticket
    return replace(ticket, paused_intervals=found)
