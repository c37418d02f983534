"""Pure: what happened to a ticket between the last run and this one, as notification events.

An event is derived from what the last run left (the level, the owner, whether the state store
remembers the ticket at all), the new decision and `now`; nothing is read here. Its key names
the event, never the run that saw it: (ticket, event, level, due). For SLA events "due" is the
due time; for a level change, when the level was reached; for a handoff, the new owner. The
outbox stores each key once, so an event derived again by a later run (a retry, a run after a
kill) is the same row, not a second message.

A ticket the store does not remember (a first run, a lost state file) starts from what it
shows: the level in our field (sync/shown.py) is no change; of a ticket that shows our work,
an SLA state our SLA state field shows (all of them, when that field is not mapped) and the
cadence reminder are stored as told without being sent (a message before the loss may have
gone; missing one beats sending it twice). Stored, they keep later runs from sending them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from escalation.decision import Decision, ReasonKind, SlaState

# The ranks of the SLA states our field shows; an event at or below the shown rank is old news.
_SHOWN_RANK = {"ok": 0, "at_risk": 1, "breached": 2}
# acknowledge and resolve warn before their due; next_update has its own cadence reminder.
AT_RISK_METRICS = ("acknowledge", "resolve")


@dataclass(frozen=True)
class Before:
    """What the last run left of a ticket (or, for one the store forgot, what it shows)."""

    level: str | None  # None: never seen, or seen at no level
    owner: str | None = None  # the owner the last run recorded (the report's history)
    remembered: bool = True  # False: a first run or a lost state file
    shown_sla_state: str | None = None  # our SLA state field, as the ticket holds it
    shows_our_work: bool = False
    max_level: str | None = None  # the highest level the ticket reached (history)


@dataclass(frozen=True)
class Event:
    ticket_ref: str
    kind: str  # one of config.notifications_rules.EVENTS
    level: str
    due: str  # see the module docstring
    previous_level: str | None = None
    previous_owner: str | None = None
    metric: str | None = None
    debrief: bool = False  # a resolved ticket that reached the debrief level
    # Stored as told, never sent: the ticket showed it before the store forgot the ticket.
    suppressed: bool = False

    @property
    def key(self) -> str:
        return f"{self.ticket_ref}|{self.kind}|{self.level}|{self.due}"


@dataclass(frozen=True)
class Timing:
    at_risk_lead: timedelta
    update_due_lead: timedelta
    debrief_rank: int | None  # None: no debriefs


def derive_events(
    before: Before,
    decision: Decision,
    is_open: bool,
    now: datetime,
    rank: dict[str, int],
    timing: Timing,
) -> list[Event]:
    """The events of one ticket at `now`, in the order people should read them."""
    ref, level = decision.ticket_ref, decision.level
    old = before.level
    old_rank = rank.get(old, 0) if old is not None else 0
    new_rank = rank.get(level, 0)
    owner = decision.owner.current if decision.owner is not None else None
    since = decision.level_since.isoformat()
    events: list[Event] = []
    ended = any(r.kind is ReasonKind.ENDED for r in decision.reasons)
    if ended or not is_open:
        if old is not None and old_rank > 0:
            top = before.max_level or old
            debrief = timing.debrief_rank is not None and rank.get(top, 0) >= timing.debrief_rank
            events.append(Event(ref, "resolved", old, since, old, before.owner, None, debrief))
        return events
    if new_rank > old_rank:
        # A ticket that shows our work but no level we can read (a Jira issue's level field
        # holds its customers' highest) was announced before the store forgot it.
        told = not before.remembered and before.shows_our_work and old is None
        events.append(Event(ref, "level_raised", level, since, old, before.owner, suppressed=told))
    elif new_rank < old_rank:
        events.append(Event(ref, "de_escalated", level, since, old, before.owner))
    if before.owner is not None and owner is not None and owner != before.owner:
        events.append(Event(ref, "owner_changed", level, owner, old, before.owner))
    events += _sla_events(before, decision, now, timing)
    return events


def _sla_events(before: Before, decision: Decision, now: datetime, timing: Timing) -> list[Event]:
    # A ticket the store forgot that shows our work may have been told of these already:
    # what its SLA state field shows was announced; without that field, all of it was.
    forgot = not before.remembered and before.shows_our_work
    shown = _SHOWN_RANK.get(before.shown_sla_state or "")

    def told(state_rank: int) -> bool:
        return forgot and (shown is None or shown >= state_rank)

    events = []
    ref, level = decision.ticket_ref, decision.level
    for metric in decision.sla.values():
        if metric.met_at is not None or metric.paused:
            continue
        due = metric.due_at.isoformat()
        if metric.state is SlaState.BREACHED:
            events.append(
                Event(ref, "sla_breached", level, due, metric=metric.metric, suppressed=told(2))
            )
        elif metric.metric == "next_update":
            if now >= metric.due_at - timing.update_due_lead:
                events.append(
                    Event(ref, "update_due", level, due, metric=metric.metric, suppressed=forgot)
                )
        elif metric.metric in AT_RISK_METRICS and now >= metric.due_at - timing.at_risk_lead:
            events.append(
                Event(ref, "sla_at_risk", level, due, metric=metric.metric, suppressed=told(1))
            )
    return events
