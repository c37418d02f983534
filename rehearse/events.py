"""The notifications a matrix would have sent, derived from a ticket's consecutive decisions.

Three kinds, each addressed to whoever should act at the new decision:
- level_raised: the level rose (a first decision above the lowest level counts);
- owner_changed: the person who should act changed (routing, out of office, a new level);
- breached: an SLA clock turned breached.
Only the events: sending them is the notification channels' job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rehearse.replay import Step

LEVEL_RAISED, OWNER_CHANGED, BREACHED = "level_raised", "owner_changed", "breached"
KINDS = (LEVEL_RAISED, OWNER_CHANGED, BREACHED)


@dataclass(frozen=True, slots=True)
class Event:
    at: float  # epoch seconds
    ticket: str
    kind: str
    to: str | None  # who is notified
    detail: str  # in words


def ticket_events(ref: str, steps: Iterable[Step], rank: Mapping[str, int]) -> list[Event]:
    """The events between each step of one ticket and the one before."""
    found: list[Event] = []
    before: Step | None = None
    for step in steps:
        old_rank = rank.get(before.level, 0) if before is not None else 0
        if rank.get(step.level, 0) > old_rank:
            origin = before.level if before is not None else "first seen"
            why = f": {step.reasons[0]}" if step.reasons else ""
            text = f"{origin} -> {step.level}{why}"
            found.append(Event(step.at, ref, LEVEL_RAISED, step.owner, text))
        if before is not None and before.owner is not None and step.owner is not None:
            if before.owner != step.owner:
                text = f"{before.owner} -> {step.owner} ({step.role})"
                found.append(Event(step.at, ref, OWNER_CHANGED, step.owner, text))
        was = dict(before.states) if before is not None else {}
        for metric, state in step.states:
            if state == "breached" and was.get(metric) != "breached":
                found.append(Event(step.at, ref, BREACHED, step.owner, f"{metric} target missed"))
        before = step
    return found


def all_events(steps: Mapping[str, list[Step]], rank: Mapping[str, int]) -> list[Event]:
    """Every ticket's events, in time order."""
    found = [
        event
        for ref, ticket_steps in steps.items()
        for event in ticket_events(ref, ticket_steps, rank)
    ]
    found.sort(key=lambda e: (e.at, e.ticket, KINDS.index(e.kind)))
    return found
