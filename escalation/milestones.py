"""When a ticket reached each further SLA milestone (sla.milestones), from its history.

Pure: the ticket's field changes and its linked issues' come in as data (Facts.changes,
Facts.linked_changes); a milestone is reached at the earliest change that satisfies one of
its clauses, and only changes at or before `now` count (a replay evaluates the past).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from config.matrix import Milestone, MilestoneClause
from escalation.facts import Change, Facts


def reached_at(milestones: Sequence[Milestone], facts: Facts, now: float) -> dict[str, datetime]:
    """Milestone name -> when it was reached, for the ones reached by `now` (epoch seconds)."""
    found: dict[str, datetime] = {}
    for milestone in milestones:
        times = [
            moment
            for clause in milestone.met_when
            if (moment := _first(clause, facts, now)) is not None
        ]
        if times:
            found[milestone.name] = min(times)
    return found


def _first(clause: MilestoneClause, facts: Facts, now: float) -> datetime | None:
    if clause.linked_status_reached is not None:
        wanted = clause.linked_status_reached.casefold()
        return _earliest(
            facts.linked_changes, now, lambda f, v: f == "status" and (v or "").casefold() == wanted
        )
    if clause.tag_added is not None:
        tag = clause.tag_added
        return _earliest(facts.changes, now, lambda f, v: f == "tags" and tag in _tags(v))
    field = (clause.field_set or "").casefold()
    return _earliest(facts.changes, now, lambda f, v: f.casefold() == field and bool(v))


def _earliest(changes: Sequence[Change], now: float, matches) -> datetime | None:  # noqa: ANN001
    best: datetime | None = None
    for at, field, value in changes:
        if at.timestamp() <= now and matches(field, value) and (best is None or at < best):
            best = at
    return best


def _tags(value: str | None) -> set[str]:
    """Zendesk sends a tag list (stored as JSON), Jira's changelog space-separated labels."""
    if not value:
        return set()
    if value.startswith("["):
        try:
            return {str(tag) for tag in json.loads(value)}
        except ValueError:
            pass
    return set(value.split())
