"""evaluate(ticket, account, facts, now, matrix) -> Decision: the escalation matrix applied.

A ticket's level, in order:
1. Triggers: the highest level among the triggers that fire. SLA targets depend on the level
   and triggers may read SLA states, so the level is settled by iterating up to a fixed point
   (levels only rise, so this ends; usually after one pass).
2. No flapping: an open ticket keeps its previous level while no trigger of that level fires,
   unless the de-escalation policy lets it fall (quiet_period: no trigger of the level for the
   configured business time, and no timed-escalation target still missed). It then falls to
   what the triggers say now.
3. Timed escalation: an acknowledge / update target missed and still unmet moves the ticket up
   `step` levels, capped at max_level; at most one step per evaluation, and the next step only
   after the new level's target for that metric has passed again (PagerDuty-style re-arming).
4. A solved or closed ticket drops to the lowest level with no owner and no SLA: its
   escalation is over, and leaving it at executive-review would keep it in the executive
   views. If it reopens, triggers and timed escalation decide afresh.
A previous level the matrix no longer has is ignored (treated as the lowest).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from config.matrix import MatrixConfig
from escalation.compiled import CompiledMatrix, CompiledTrigger, compile_matrix
from escalation.context import NO_ACCOUNT, TicketContext
from escalation.decision import (
    Decision,
    MetricSla,
    Reason,
    ReasonKind,
    SlaState,
    decision,
)
from escalation.durations import format_seconds
from escalation.facts import NO_FACTS, Facts, PriorState
from escalation.sla import Pauses, measure
from mapping.records import Account, Ticket

_BREACHED = SlaState.BREACHED
_MISSED = {"acknowledge": "not acknowledged", "next_update": "no update", "resolve": "not resolved"}


@dataclass(frozen=True, slots=True)
class _Now:
    at: datetime
    epoch: float
    today: date


def evaluate(
    ticket: Ticket,
    account: Account | None,
    facts: Facts | None,
    now: datetime,
    matrix: MatrixConfig | CompiledMatrix,
) -> Decision:
    """The decision for one ticket at `now` (timezone-aware)."""
    return evaluate_many([(ticket, account, facts)], now, matrix)[0]


def evaluate_many(
    items: Iterable[tuple[Ticket, Account | None, Facts | None]],
    now: datetime,
    matrix: MatrixConfig | CompiledMatrix,
) -> list[Decision]:
    """Decisions for many tickets at the same `now`, in input order."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    compiled = compile_matrix(matrix) if isinstance(matrix, MatrixConfig) else matrix
    at = now.astimezone(UTC)
    moment = _Now(at, at.timestamp(), at.date())
    # A batch allocates a few small, acyclic objects per ticket; the cyclic collector would
    # rescan the growing heap again and again (a third of the time at 100k tickets).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [_decide(compiled, moment, t, a, f or NO_FACTS) for t, a, f in items]
    finally:
        if collecting:
            gc.enable()


def _decide(
    m: CompiledMatrix, now: _Now, ticket: Ticket, account: Account | None, facts: Facts
) -> Decision:
    prior = facts.prior
    if not ticket.status.is_open:
        return _ended(m, now, ticket, prior)
    acct = account if account is not None else NO_ACCOUNT
    ctx = TicketContext(
        ticket, acct, facts, now.epoch, now.today, m.clock_for(acct.tier, acct.region)
    )
    plain_triggers, sla_triggers = m.triggers_for(ticket.category)
    plain = [t for t in plain_triggers if t.holds(ctx)]
    run = _Settle(m, ctx, m.sla.pauses(ticket, now.epoch), plain, sla_triggers)

    prior_level = m.level_index.get(prior.level) if prior is not None else None
    held = prior_level or 0
    level, sla, fired, top = run(max(held, run.plain_level))
    notes: list[Reason] = []
    if top < held:
        blocker = _fall_blocker(m, ctx, prior, sla)
        if blocker is None:
            level, sla, fired, top = run(run.plain_level)
            notes.append(
                _note(ReasonKind.DE_ESCALATED, m.levels[level], _fell_text(m, held, level))
            )
        else:
            notes.append(_note(ReasonKind.HELD, m.levels[level], blocker))

    steps = prior.timed_steps if prior is not None else 0
    last_step = prior.last_timed_step_at if prior is not None else None
    stepped = _timed_step(m, ctx, level, sla, last_step) if m.timed is not None else None
    if stepped is not None:
        higher, missed = stepped
        text = (
            f"Moved up from {m.levels[level]} to {m.levels[higher]}: {_MISSED[missed.metric]} "
            f"within the {format_seconds(missed.target_seconds)} target"
        )
        notes.append(_note(ReasonKind.TIMED, m.levels[higher], text))
        level, sla, fired, top = run(higher)
        steps, last_step = steps + 1, now.at

    fired_at_level = bool(fired) and top >= level
    state = _next_state(m, now, prior, prior_level, level, fired_at_level, steps, last_step)
    owner = m.router.owner(
        state.level, ticket.category, acct.tier, acct.region, acct.owner, acct.csm, now.epoch
    )
    ordered = sorted(fired, key=_reason_order) if len(fired) > 1 else fired
    reasons = tuple(
        [Reason(ReasonKind.TRIGGER, t.name, m.levels[t.level], t.reason(ctx)) for t in ordered]
    )
    return decision(
        ticket.ref,
        state.level,
        prior.level if prior is not None else None,
        state.level_since,
        owner,
        sla,
        reasons + tuple(notes) if notes else reasons,
        state,
    )


class _Settle:
    """Settles the level for one ticket: SLA at a level, SLA triggers, up to a fixed point."""

    __slots__ = ("m", "ctx", "pauses", "plain", "plain_level", "sla_triggers", "_last")

    def __init__(
        self,
        m: CompiledMatrix,
        ctx: TicketContext,
        pauses: Pauses,
        plain: list[CompiledTrigger],
        sla_triggers: tuple[CompiledTrigger, ...],
    ):
        self.m, self.ctx, self.pauses, self.plain = m, ctx, pauses, plain
        self.plain_level = plain[0].level if plain else 0  # triggers are sorted high to low
        self.sla_triggers = sla_triggers
        self._last: tuple[object, dict[str, MetricSla], list[CompiledTrigger]] | None = None

    def __call__(self, level: int) -> tuple[int, dict[str, MetricSla], list[CompiledTrigger], int]:
        """(settled level, SLA at it, triggers that fired, the highest level among them)."""
        while True:
            sla, on_sla = self._sla_at(level)
            top = max(self.plain_level, on_sla[0].level if on_sla else 0)
            if top <= level:
                return level, sla, (self.plain + on_sla if on_sla else self.plain), top
            level = top

    def _sla_at(self, level: int) -> tuple[dict[str, MetricSla], list[CompiledTrigger]]:
        m, ctx = self.m, self.ctx
        targets = m.sla.targets(m.levels[level], ctx.account.tier, ctx.clock)
        last = self._last
        if last is not None and last[0] is targets:  # same targets (interned): same answers
            return last[1], last[2]
        sla = measure(m.sla, targets, ctx.ticket, ctx.created, ctx.clock, self.pauses, ctx.now)
        on_sla: list[CompiledTrigger] = []
        if self.sla_triggers:
            ctx.sla_states = {metric: status.state for metric, status in sla.items()}
            on_sla = [t for t in self.sla_triggers if t.holds(ctx)]
        self._last = (targets, sla, on_sla)
        return sla, on_sla


def _next_state(
    m: CompiledMatrix,
    now: _Now,
    prior: PriorState | None,
    prior_level: int | None,
    level: int,
    fired_at_level: bool,
    steps: int,
    last_step: datetime | None,
) -> PriorState:
    """The state to persist; the prior object itself when nothing changed (the common case)."""
    if prior is not None and prior_level == level:
        if not fired_at_level and steps == prior.timed_steps:
            return prior
        last_trigger = now.at if fired_at_level else prior.last_trigger_at
        return PriorState(prior.level, prior.level_since, last_trigger, steps, last_step)
    return PriorState(m.levels[level], now.at, now.at if fired_at_level else None, steps, last_step)


def _fall_blocker(
    m: CompiledMatrix, ctx: TicketContext, prior: PriorState | None, sla: dict[str, MetricSla]
) -> str | None:
    """Why the level may not fall now; None when it may."""
    level = prior.level if prior is not None else m.levels[0]
    if m.quiet_for is None or prior is None:
        return f"Kept at {level}: levels do not fall while the ticket is open"
    if m.timed is not None:
        for metric, status in sla.items():
            if metric in m.timed.metrics and status.state is _BREACHED and status.met_at is None:
                return f"Kept at {level}: the {metric.replace('_', ' ')} target is still missed"
    since = prior.level_since
    if prior.last_trigger_at is not None and prior.last_trigger_at > since:
        since = prior.last_trigger_at
    needed = m.quiet_for.business_seconds(ctx.clock.working_day_seconds)
    if ctx.clock.between(since.timestamp(), ctx.now) >= needed:
        return None
    quiet = m.config.de_escalation.quiet_for
    return f"Kept at {level} until no {level} trigger has fired for {quiet} of business time"


def _fell_text(m: CompiledMatrix, held: int, level: int) -> str:
    quiet = m.config.de_escalation.quiet_for
    return (
        f"Lowered from {m.levels[held]} to {m.levels[level]}: no {m.levels[held]} trigger "
        f"for {quiet} of business time"
    )


def _timed_step(
    m: CompiledMatrix,
    ctx: TicketContext,
    level: int,
    sla: dict[str, MetricSla],
    last_step: datetime | None,
) -> tuple[int, MetricSla] | None:
    """(new level, the missed metric) when timed escalation moves the ticket up now."""
    policy = m.timed
    if policy is None or level >= policy.max_level:
        return None
    missed = []
    for metric in policy.metrics:
        status = sla.get(metric)
        if status is not None and status.state is _BREACHED and status.met_at is None:
            missed.append(status)
    if not missed:
        return None
    if last_step is not None:
        rearm = min(status.target_seconds for status in missed)
        if ctx.clock.between(last_step.timestamp(), ctx.now) < rearm:
            return None
    return min(level + policy.step, policy.max_level), missed[0]


def _ended(m: CompiledMatrix, now: _Now, ticket: Ticket, prior: PriorState | None) -> Decision:
    lowest = m.levels[0]
    since = prior.level_since if prior is not None and prior.level == lowest else now.at
    state = PriorState(level=lowest, level_since=since)
    text = f"Ticket is {ticket.status.value}: escalation ended"
    return Decision(
        ticket_ref=f"{ticket.system}:{ticket.id}",
        level=lowest,
        previous_level=prior.level if prior is not None else None,
        level_since=since,
        owner=None,
        sla={},
        reasons=(_note(ReasonKind.ENDED, lowest, text),),
        state=state,
    )


def _note(kind: ReasonKind, level: str, text: str) -> Reason:
    return Reason(kind, kind.value, level, text)


def _reason_order(trigger: CompiledTrigger) -> tuple[int, int]:
    return (-trigger.level, trigger.order)
