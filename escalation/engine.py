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
from escalation.decision import Decision, Reason, ReasonKind, decision
from escalation.facts import NO_FACTS, Facts, PriorState
from escalation.levels import LevelWork
from mapping.records import Account, Ticket


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
    work = LevelWork(m, ctx, m.sla.pauses(ticket, now.epoch), plain, sla_triggers)

    prior_level = m.level_index.get(prior.level) if prior is not None else None
    held = prior_level or 0
    work.settle(max(held, work.plain_level))
    if work.top < held and prior is not None:
        work.hold_or_fall(prior, held)
    steps = prior.timed_steps if prior is not None else 0
    last_step = prior.last_timed_step_at if prior is not None else None
    if m.timed is not None and work.step_up(last_step):
        steps, last_step = steps + 1, now.at
    level, fired, notes = work.level, work.fired, work.notes

    fired_at_level = bool(fired) and work.top >= level
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
        work.sla,
        reasons + tuple(notes) if notes else reasons,
        state,
    )


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


def _ended(m: CompiledMatrix, now: _Now, ticket: Ticket, prior: PriorState | None) -> Decision:
    lowest = m.levels[0]
    since = prior.level_since if prior is not None and prior.level == lowest else now.at
    state = PriorState(level=lowest, level_since=since)
    text = f"Ticket is {ticket.status.value}: escalation ended"
    return Decision(
        ticket_ref=ticket.ref,
        level=lowest,
        previous_level=prior.level if prior is not None else None,
        level_since=since,
        owner=None,
        sla={},
        reasons=(Reason(ReasonKind.ENDED, ReasonKind.ENDED.value, lowest, text),),
        state=state,
    )


def _reason_order(trigger: CompiledTrigger) -> tuple[int, int]:
    return (-trigger.level, trigger.order)
