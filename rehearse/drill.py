"""Run a scenario through the matrix on a simulated clock and tell its timeline.

The ticket's life is scripted (rehearse/scenario.py); the decisions are the replay's
(rehearse/replay.py): the engine evaluated at every `run_every` of the simulated cron, the
state carried from run to run. Nothing is read from or written to any system or state file.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from config.matrix import MatrixConfig
from escalation.compiled import compile_matrix
from mapping.records import Account, Ticket, TicketStatus
from rehearse.events import Event, ticket_events
from rehearse.replay import Step, grid, replay
from rehearse.scenario import Scenario, renewal, wall_seconds


class ScriptedTicket:
    """The scenario's ticket at any moment: the snapshot of the last step at or before it."""

    changes: tuple = ()  # a scenario scripts no field history (SLA milestones stay unreached)
    linked_changes: tuple = ()

    def __init__(self, snapshots: list[tuple[float, Ticket]]):
        self.times = [at for at, _ in snapshots]
        self.snapshots = [ticket for _, ticket in snapshots]
        self.ticket = self.snapshots[-1]

    @property
    def created(self) -> float:
        return self.times[0]

    def as_of(self, at: float) -> Ticket:
        return self.snapshots[max(0, bisect_right(self.times, at) - 1)]

    def next_point(self, after: float) -> float:
        index = bisect_right(self.times, after)
        return self.times[index] if index < len(self.times) else float("inf")

    def linked_severities(self, at: float) -> tuple[int, ...]:
        return ()


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def script(scenario: Scenario, pause_statuses: frozenset[TicketStatus]) -> ScriptedTicket:
    """The ticket after each step, from the scenario's definition."""
    start = scenario.start.astimezone(UTC)
    spec, account = scenario.ticket, scenario.account
    ticket = Ticket(
        system=spec.system,
        id=spec.id,
        subject=spec.subject,
        status=spec.status,
        created_at=start,
        updated_at=start,
        severity=spec.severity,
        category=spec.category,
        tags=spec.tags,
        account_id=account.id,
    )
    snapshots = [(start.timestamp(), ticket)]
    for step in sorted(scenario.steps, key=lambda s: wall_seconds(s.after)):
        at = start.timestamp() + wall_seconds(step.after)
        ticket = apply_step(ticket, step, _moment(at), pause_statuses)
        snapshots.append((at, ticket))
    return ScriptedTicket(snapshots)


def apply_step(
    ticket: Ticket, step, at: datetime, pause_statuses: frozenset[TicketStatus]
) -> Ticket:
    """One scripted step; a status change opens or closes a pause as sync/pull.py records it."""
    changes: dict = {"updated_at": at}
    status = step.status
    if step.customer_reply and status is None and ticket.status in pause_statuses:
        status = TicketStatus.OPEN  # as Zendesk does when the requester answers
    if step.agent_reply:
        changes["first_response_at"] = ticket.first_response_at or at
        changes["last_agent_update_at"] = at
        if status is None and ticket.status is TicketStatus.NEW:
            status = TicketStatus.OPEN
    for name in ("severity", "category", "tags"):
        if getattr(step, name) is not None:
            changes[name] = getattr(step, name)
    if status is not None and status is not ticket.status:
        changes["status"] = status
        changes["status_changed_at"] = at
        pauses = list(ticket.paused_intervals)
        if status in pause_statuses and not (pauses and pauses[-1][1] is None):
            pauses.append((at, None))
        elif status not in pause_statuses and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], at)
        changes["paused_intervals"] = tuple(pauses)
    return replace(ticket, **changes)


@dataclass(frozen=True)
class Timeline:
    scenario: Scenario
    steps: list[Step]  # the decision after each run where something moved
    events: list[Event]
    moments: list[float]


def run_drill(scenario: Scenario, matrix: MatrixConfig) -> Timeline:
    """The scenario's decisions at every simulated run, and the notifications they raise."""
    compiled = compile_matrix(matrix)
    scripted = script(scenario, frozenset(matrix.sla.pause_statuses))
    spec = scenario.account
    account = Account(
        id=spec.id,
        name=spec.name,
        tier=spec.tier,
        region=spec.region,
        arr=spec.arr,
        renewal_date=renewal(spec, scenario.start.astimezone(UTC).date()),
        owner=spec.owner,
        csm=spec.csm,
        health=spec.health,
    )
    start = scripted.created
    last_step = scripted.times[-1]
    end = start + wall_seconds(scenario.until) if scenario.until else last_step + 86400.0
    moments = grid(start, end, wall_seconds(scenario.run_every))
    ref = scripted.ticket.ref
    trace = replay(
        compiled, {ref: scripted}, {account.id: account}, {account.id: (start,)}, moments
    )
    steps = trace.steps.get(ref, [])
    rank = {level: i for i, level in enumerate(compiled.levels)}
    return Timeline(scenario, steps, ticket_events(ref, steps, rank), moments)
