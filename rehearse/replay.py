"""Run one matrix over a stretch of the past, as cron would have run it at each moment.

The engine is the sync's (escalation.engine.evaluate_many), fed the tickets as they were
(rehearse/past.py) and chaining each ticket's state from one evaluation to the next, as the
state store does between runs. Which tickets are evaluated follows sync/evaluate.py: open
tickets, and closed ones whose escalation has yet to end.

A ticket is evaluated at a moment only when its decision may have changed since its last
evaluation (rehearse/wake.py); the moments skipped are ones where the engine would have
returned the same decision. One thing does move at such moments: the time a trigger of the
level last fired, which the quiet period counts from. It is carried forward to the last
skipped moment, exactly as evaluating it would have.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from escalation.compiled import CompiledMatrix
from escalation.decision import Decision, ReasonKind, SlaState
from escalation.engine import evaluate_many
from escalation.facts import Change, Facts, PriorState
from mapping.records import UNKNOWN_TIER, Account, Ticket
from rehearse.wake import INF, WakePlanner


class TicketHistory(Protocol):
    """A ticket whose past can be read at any moment (rehearse/past.py, rehearse/drill.py)."""

    ticket: Ticket
    changes: tuple[Change, ...]  # field changes SLA milestones read (escalation/facts.py)
    linked_changes: tuple[Change, ...]

    @property
    def created(self) -> float: ...

    def as_of(self, at: float) -> Ticket: ...

    def next_point(self, after: float) -> float: ...

    def linked_severities(self, at: float) -> tuple[int, ...]: ...


@dataclass(frozen=True, slots=True)
class Step:
    """A ticket's decision from `at` until its next step: what a run at `at` would decide."""

    at: float  # epoch seconds
    level: str
    previous_level: str | None  # None: the first evaluation of the ticket
    owner: str | None  # who should act (the backup when the primary is away)
    role: str | None
    due: float | None  # the soonest due time of a clock still running
    due_metric: str | None
    states: tuple[tuple[str, str], ...]  # (metric, ok|at_risk|breached) for clocks running
    reasons: tuple[str, ...]  # why the ticket has its level (in words)
    timed: bool = False  # a timed escalation step was taken here
    dues: tuple[tuple[str, float, bool], ...] = ()  # (metric, due, paused) of running clocks

    @property
    def changed(self) -> bool:
        """The level changed here (or the ticket was evaluated for the first time): what the
        sync's audit log records as a 'decision' entry."""
        return self.level != self.previous_level


@dataclass
class Trace:
    """What one matrix decided over the replayed moments, ticket by ticket."""

    levels: tuple[str, ...]
    steps: dict[str, list[Step]] = field(default_factory=dict)  # ref -> steps, oldest first
    tiers: dict[str, str] = field(default_factory=dict)  # ref -> its account's tier
    evaluations: int = 0  # engine calls made


def step_of(decision: Decision, at: float) -> Step:
    """The parts of a decision a replay compares and reports."""
    running = [
        (status.due_at.timestamp(), metric)
        for metric, status in decision.sla.items()
        if status.met_at is None
    ]
    due, due_metric = min(running) if running else (None, None)
    owner = decision.owner
    return Step(
        at=at,
        level=decision.level,
        previous_level=decision.previous_level,
        owner=owner.current if owner is not None else None,
        role=owner.role if owner is not None else None,
        due=due,
        due_metric=due_metric,
        states=tuple(
            (metric, status.state.value)
            for metric, status in decision.sla.items()
            if status.met_at is None or status.state is SlaState.BREACHED
        ),
        # A timed step is why the level is what it is: its reason comes first.
        reasons=tuple(
            reason.text
            for reason in sorted(decision.reasons, key=lambda r: r.kind is not ReasonKind.TIMED)
        ),
        timed=any(reason.kind is ReasonKind.TIMED for reason in decision.reasons),
        dues=tuple(
            (metric, status.due_at.timestamp(), status.paused)
            for metric, status in decision.sla.items()
            if status.met_at is None
        ),
    )


def _same(a: Step, b: Step) -> bool:
    return (a.level, a.owner, a.due, a.states) == (b.level, b.owner, b.due, b.states)


def replay(
    matrix: CompiledMatrix,
    tickets: dict[str, TicketHistory],
    accounts: dict[str, Account],
    account_created: dict[str, tuple[float, ...]],
    moments: Sequence[float],
    priors: dict[str, PriorState] | None = None,
    every_moment: bool = False,
) -> Trace:
    """Evaluate `matrix` at `moments` (sorted epoch seconds) over the tickets' pasts.

    priors: each ticket's state before the first moment (none: a first evaluation).
    every_moment: evaluate every open ticket at every moment (slow; tests compare with it).
    """
    lowest = matrix.levels[0]
    planner = WakePlanner(matrix, account_created)
    states: dict[str, PriorState] = dict(priors or {})
    last_at: dict[str, int] = {}  # ref -> index of the moment of its last evaluation
    trace = Trace(tuple(matrix.levels))
    buckets: list[list[str]] = [[] for _ in moments]
    for ref, past in tickets.items():
        index = bisect_left(moments, past.created)
        if index < len(moments):
            buckets[index].append(ref)
        account = accounts.get(past.ticket.account_id or "")
        trace.tiers[ref] = account.tier if account is not None else UNKNOWN_TIER

    def schedule(ref: str, index: int, wake: float) -> None:
        # The first moment at or after `wake`, and after the one just evaluated.
        later = max(bisect_left(moments, wake), index + 1)
        if later < len(moments):
            buckets[later].append(ref)

    for index, at in enumerate(moments):
        batch, buckets[index] = buckets[index], []
        if not batch:
            continue
        seen: set[str] = set()
        items, chosen = [], []
        for ref in batch:
            if ref in seen:
                continue
            seen.add(ref)
            past = tickets[ref]
            ticket = past.as_of(at)
            prior = _carried(states.get(ref), last_at.get(ref), index, moments)
            if not ticket.status.is_open and (prior is None or prior.level == lowest):
                if prior is not None:
                    states[ref] = prior
                schedule(ref, index, at if every_moment else past.next_point(at))
                continue
            account = accounts.get(ticket.account_id or "")
            facts = Facts(
                account_created.get(ticket.account_id or "", ()),
                past.linked_severities(at),
                prior,
                past.changes,
                past.linked_changes,
            )
            items.append((ticket, account, facts))
            chosen.append(ref)
        if not items:
            continue
        decisions = evaluate_many(items, datetime.fromtimestamp(at, UTC), matrix)
        trace.evaluations += len(decisions)
        for ref, (_, account, _), decision in zip(chosen, items, decisions, strict=True):
            states[ref] = decision.state
            last_at[ref] = index
            step = step_of(decision, at)
            steps = trace.steps.setdefault(ref, [])
            if not steps or step.changed or not _same(steps[-1], step):
                steps.append(step)
            if every_moment:
                schedule(ref, index, at)
                continue
            past = tickets[ref]
            clock = matrix.clock_for(
                account.tier if account else UNKNOWN_TIER, account.region if account else None
            )
            wake = planner.next_change(ref, decision, at, past.created, account, clock)
            wake = min(wake, past.next_point(at))
            if wake < INF:
                schedule(ref, index, wake)
    return trace


def _carried(
    prior: PriorState | None, last: int | None, index: int, moments: Sequence[float]
) -> PriorState | None:
    """The state evaluating every skipped moment would have left: a trigger of the level that
    fired at the last evaluation fired at each skipped moment too (nothing changed)."""
    if prior is None or last is None or last >= index - 1 or prior.last_trigger_at is None:
        return prior
    if prior.last_trigger_at.timestamp() != moments[last]:
        return prior
    return replace(prior, last_trigger_at=datetime.fromtimestamp(moments[index - 1], UTC))


def grid(start: float, end: float, step_seconds: float) -> list[float]:
    """start, start + step, ... up to end (included when it falls on the grid)."""
    count = int((end - start) // step_seconds)
    return [start + i * step_seconds for i in range(count + 1)]


def runs_between(runs: Sequence[float], start: float, end: float) -> list[float]:
    """The recorded runs' moments within [start, end]."""
    return list(runs[bisect_left(runs, start) : bisect_right(runs, end)])
