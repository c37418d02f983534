"""The mirror's tickets as they were at a past moment, rebuilt from what the state store holds.

The mirror keeps each ticket as last read. What changed since is recovered from:
- the ticket itself: created_at, first_response_at, paused_intervals (from the status
  history, sync/ticket_changes.py, else the status changes runs observed), status_changed_at, and its current status with the time it was solved;
- the report's history: `sla_outcomes` (each next_update clock starts at an agent update, so
  they list the updates the runs saw), `ticket_history.resolved_at`, `ticket_events`
  (resolved / reopened);
- the audit log: the level each ticket had before the replayed period (its last `decision`).

Approximated (the store does not keep them): severity, category, tags, links, assignee and
the account's fields (tier, ARR, renewal date, owner) are taken as they are now; a ticket
solved and reopened is taken as solved from the run that saw it solved; the join to an
account is today's. A ticket's past therefore changes only at its "change points", which
the replay uses to know when to look at it again.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from config.schema import Config
from escalation.facts import Change, PriorState, index_ticket_creation
from mapping.join import join
from mapping.records import Account, Ticket, TicketStatus
from sync.state import StateStore
from sync.ticket_changes import changes_by_ref

_INF = float("inf")


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).astimezone(UTC).timestamp()


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class TicketPast:
    """One ticket's reconstructable past; `as_of(t)` is the ticket as a run at t saw it."""

    ticket: Ticket  # as the mirror holds it now (joined to its account)
    closed: tuple[tuple[float, float], ...]  # solved/closed intervals, end inf while still closed
    updates: tuple[float, ...]  # agent updates (epoch, sorted)
    points: tuple[float, ...]  # every moment at which as_of's answer changes (sorted)
    pause_status: TicketStatus = TicketStatus.PENDING  # what a past pause is shown as
    linked: tuple[tuple[int, TicketPast], ...] = ()  # (severity, linked Jira issue)
    # Its field changes and its linked issues' (sync/ticket_changes.py): SLA milestones read
    # them (escalation/milestones.py counts only those at or before the moment evaluated).
    changes: tuple[Change, ...] = ()
    linked_changes: tuple[Change, ...] = ()
    _cache_index: int = -1
    _cache: Ticket | None = None

    @property
    def created(self) -> float:
        return self.ticket.created_at.timestamp()

    def is_open_at(self, at: float) -> bool:
        return at >= self.created and not any(a <= at < b for a, b in self.closed)

    def next_point(self, after: float) -> float:
        """The first change point strictly after `after` (inf when none)."""
        index = bisect_right(self.points, after)
        return self.points[index] if index < len(self.points) else _INF

    def as_of(self, at: float) -> Ticket:
        """The ticket as it was at `at` (epoch seconds); the same object between change points."""
        index = bisect_right(self.points, at)
        if index == self._cache_index and self._cache is not None:
            return self._cache
        self._cache_index, self._cache = index, self._rebuild(at)
        return self._cache

    def _rebuild(self, at: float) -> Ticket:
        now = self.ticket
        moment = _moment(at)
        pauses = tuple(
            (start, None if end is None or end > moment else end)
            for start, end in now.paused_intervals
            if start <= moment
        )
        status = self._status(at, pauses)
        first = (
            now.first_response_at
            if now.first_response_at and now.first_response_at <= moment
            else None
        )
        index = bisect_right(self.updates, at)
        latest = _moment(self.updates[index - 1]) if index else None
        changed = (
            now.status_changed_at
            if now.status_changed_at and now.status_changed_at <= moment
            else None
        )
        return replace(
            now,
            status=status,
            updated_at=min(now.updated_at, moment),
            first_response_at=first,
            last_agent_update_at=latest if first is not None else None,
            paused_intervals=pauses,
            status_changed_at=changed,
        )

    def _status(self, at: float, pauses: tuple) -> TicketStatus:
        now = self.ticket.status
        for start, end in self.closed:
            if start <= at < end:
                return now if not now.is_open and end == _INF else TicketStatus.SOLVED
        if pauses and pauses[-1][1] is None:
            last_open = (
                not self.ticket.paused_intervals or self.ticket.paused_intervals[-1][1] is None
            )
            current_pause = last_open and len(pauses) == len(self.ticket.paused_intervals)
            return now if current_pause and now.is_open else self.pause_status
        return (
            now
            if now.is_open and now not in (TicketStatus.PENDING, TicketStatus.ON_HOLD)
            else TicketStatus.OPEN
        )

    def linked_severities(self, at: float) -> tuple[int, ...]:
        """Severities of the linked Jira issues open at `at` (as sync.evaluate counts them)."""
        return tuple(sorted(sev for sev, issue in self.linked if issue.is_open_at(at)))


@dataclass(frozen=True)
class Past:
    """Everything a replay reads: the tickets' pasts, accounts, the audit's levels and runs."""

    tickets: dict[str, TicketPast]
    accounts: dict[str, Account]
    account_created: dict[str, tuple[float, ...]]  # account id -> its tickets' creation times
    audit_levels: dict[str, list[tuple[float, str]]]  # ref -> (when, level) of each decision
    runs: tuple[float, ...]  # when each real (not dry) run evaluated

    def prior_before(self, ref: str, at: float) -> PriorState | None:
        """The level the audit log last recorded for the ticket before `at`, as a prior state.

        Only level and since are known: timer steps and the last trigger time start afresh.
        """
        found = None
        for when, level in self.audit_levels.get(ref, ()):
            if when >= at:
                break
            found = PriorState(level=level, level_since=_moment(when))
        return found


def load_past(store: StateStore, config: Config, with_changes: bool = False) -> Past:
    """Read the mirror, history and audit log into a Past (read only).

    with_changes: attach the tickets' field changes (a matrix replayed has SLA milestones);
    without, a ticket's change points stay those of its own lifecycle.
    """
    accounts = store.accounts()
    joined = join(store.tickets(), accounts, config.join)
    rows = {
        ref: (resolved_at, is_open)
        for ref, resolved_at, is_open in store.db.execute(
            "SELECT ref, resolved_at, is_open FROM ticket_history"
        )
    }
    events: dict[str, list[tuple[float, str]]] = {}
    for ref, at, kind in store.db.execute(
        "SELECT ref, at, kind FROM ticket_events WHERE kind IN ('resolved', 'reopened') ORDER BY id"
    ):
        events.setdefault(ref, []).append((_epoch(at), kind))
    updates: dict[str, set[float]] = {}
    for ref, start in store.db.execute(
        "SELECT ref, start_at FROM sla_outcomes WHERE metric = 'next_update'"
    ):
        updates.setdefault(ref, set()).add(_epoch(start))
    pauses = config.matrix.sla.pause_statuses
    pause_status = TicketStatus(pauses[0]) if pauses else TicketStatus.PENDING
    pasts = {
        t.ref: _ticket_past(t, rows.get(t.ref), events.get(t.ref, ()), updates.get(t.ref, set()))
        for t in joined.tickets
    }
    for past in pasts.values():
        past.pause_status = pause_status
    _link(pasts)
    if with_changes:
        _attach_changes(pasts, changes_by_ref(store.db))
    audit: dict[str, list[tuple[float, str]]] = {}
    for ref, at, detail in store.db.execute(
        "SELECT ref, at, detail FROM audit WHERE kind = 'decision' ORDER BY id"
    ):
        audit.setdefault(ref, []).append((_epoch(at), json.loads(detail)["level"]))
    runs = tuple(
        sorted(
            _epoch(at)
            for (at,) in store.db.execute("SELECT started_at FROM runs WHERE dry_run = 0")
        )
    )
    created = index_ticket_creation(t for t in joined.tickets if t.ref not in joined.via_links)
    return Past(pasts, {a.id: a for a in accounts}, created, audit, runs)


def _ticket_past(
    ticket: Ticket,
    row: tuple[str | None, int] | None,
    events: Iterable[tuple[float, str]],
    agent_updates: set[float],
) -> TicketPast:
    closed: list[tuple[float, float]] = []
    solved_at: float | None = None
    for at, kind in events:
        if kind == "resolved" and solved_at is None:
            solved_at = at
        elif kind == "reopened" and solved_at is not None:
            closed.append((solved_at, at))
            solved_at = None
    if not ticket.status.is_open:
        resolved = row[0] if row is not None and row[0] else None
        start = _epoch(resolved) if resolved else ticket.updated_at.timestamp()
        if closed and start < closed[-1][1]:
            start = closed[-1][1]
        closed.append((start, _INF))
    if ticket.last_agent_update_at is not None:
        agent_updates = agent_updates | {ticket.last_agent_update_at.timestamp()}
    points = {ticket.created_at.timestamp(), *agent_updates}
    for start, end in closed:
        points.update((start, end))
    for start, end in ticket.paused_intervals:
        points.add(start.timestamp())
        if end is not None:
            points.add(end.timestamp())
    for moment in (ticket.first_response_at, ticket.status_changed_at):
        if moment is not None:
            points.add(moment.timestamp())
    points.discard(_INF)
    return TicketPast(ticket, tuple(closed), tuple(sorted(agent_updates)), tuple(sorted(points)))


def _attach_changes(pasts: dict[str, TicketPast], changes: dict[str, tuple[Change, ...]]) -> None:
    """Each ticket's changes and its linked issues'; their times become change points."""
    if not changes:
        return
    for past in pasts.values():
        own = changes.get(past.ticket.ref, ())
        linked = tuple(c for _, issue in past.linked for c in changes.get(issue.ticket.ref, ()))
        if not own and not linked:
            continue
        past.changes, past.linked_changes = own, linked
        past.points = tuple(sorted({*past.points, *(c[0].timestamp() for c in own + linked)}))


def _link(pasts: dict[str, TicketPast]) -> None:
    """Attach each ticket's linked Jira issues (either side may record the link)."""
    issues = {p.ticket.key: p for p in pasts.values() if p.ticket.system == "jira" and p.ticket.key}
    found: dict[str, dict[str, tuple[int, TicketPast]]] = {}
    for past in pasts.values():
        ticket = past.ticket
        for link in ticket.linked:
            if ticket.system != "jira" and link.startswith("jira:"):
                issue = issues.get(link[5:])
                if issue is not None and issue.ticket.severity is not None:
                    found.setdefault(ticket.ref, {})[issue.ticket.ref] = (
                        issue.ticket.severity,
                        issue,
                    )
            elif (
                ticket.system == "jira"
                and link.startswith("zendesk:")
                and ticket.severity is not None
            ):
                found.setdefault(link, {})[ticket.ref] = (ticket.severity, past)
    for ref, by_issue in found.items():
        past = pasts.get(ref)
        if past is None:
            continue
        past.linked = tuple(by_issue.values())
        extra = set(past.points)
        for _, issue in past.linked:
            extra.add(issue.created)
            for start, end in issue.closed:
                extra.update((start, end))
        extra.discard(_INF)
        past.points = tuple(sorted(extra))
