"""How a ticket's level is settled: triggers up to a fixed point, no flapping, timed escalation.

`LevelWork` is the working state of one ticket's evaluation; engine._decide drives it. The
rules are described in escalation/engine.py's module docstring.
"""

from __future__ import annotations

from datetime import datetime

from escalation.compiled import CompiledMatrix, CompiledTrigger
from escalation.context import TicketContext
from escalation.decision import MetricSla, Reason, ReasonKind, SlaState
from escalation.facts import PriorState
from escalation.milestones import reached_at
from escalation.sla import Pauses, measure
from vocabulary.durations import format_seconds

_BREACHED = SlaState.BREACHED
_MISSED = {"acknowledge": "not acknowledged", "next_update": "no update", "resolve": "not resolved"}


class LevelWork:
    """One ticket's level being decided: the current level, its SLA, the triggers that fired
    (plain ones first, each group highest level first), and notes for the reasons."""

    __slots__ = (
        "m",
        "ctx",
        "pauses",
        "plain",
        "plain_level",
        "sla_triggers",
        "_last",
        "level",
        "sla",
        "fired",
        "top",
        "notes",
        "reached",
    )

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
        self.level = 0
        self.sla: dict[str, MetricSla] = {}
        self.fired: list[CompiledTrigger] = plain
        self.top = 0  # the highest level among the fired triggers
        self.notes: list[Reason] = []
        milestones = m.sla.milestones
        # When the ticket reached each further milestone (none configured: nothing to read).
        self.reached = reached_at(milestones, ctx.facts, ctx.now) if milestones else None

    def settle(self, level: int) -> None:
        """Start at `level`; measure SLA there, add the SLA triggers, rise to a fixed point."""
        while True:
            sla, on_sla = self._sla_at(level)
            top = max(self.plain_level, on_sla[0].level if on_sla else 0)
            if top <= level:
                self.level, self.sla, self.top = level, sla, top
                self.fired = self.plain + on_sla if on_sla else self.plain
                return
            level = top

    def hold_or_fall(self, prior: PriorState, held: int) -> None:
        """The triggers say less than the level held: keep it, or let it fall if allowed."""
        blocker = self._fall_blocker(prior)
        levels = self.m.levels
        if blocker is not None:
            self.notes.append(_note(ReasonKind.HELD, levels[self.level], blocker))
            return
        self.settle(self.plain_level)
        quiet = self.m.config.de_escalation.quiet_for
        text = (
            f"Lowered from {levels[held]} to {levels[self.level]}: no {levels[held]} trigger "
            f"for {quiet} of business time"
        )
        self.notes.append(_note(ReasonKind.DE_ESCALATED, levels[self.level], text))

    def step_up(self, last_step: datetime | None) -> bool:
        """Timed escalation: move up when a target is missed; True when it did."""
        policy, ctx = self.m.timed, self.ctx
        if policy is None or self.level >= policy.max_level:
            return False
        missed = self._missed(policy.metrics)
        if not missed:
            return False
        if last_step is not None:  # re-armed: the new level's target must pass again
            rearm = min(status.target_seconds for status in missed)
            if ctx.clock.between(last_step.timestamp(), ctx.now) < rearm:
                return False
        higher = min(self.level + policy.step, policy.max_level)
        levels = self.m.levels
        text = (
            f"Moved up from {levels[self.level]} to {levels[higher]}: "
            f"{_missed_words(missed[0].metric)} within the {format_seconds(missed[0].target_seconds)} "
            "target"
        )
        self.notes.append(_note(ReasonKind.TIMED, levels[higher], text))
        self.settle(higher)
        return True

    def _missed(self, metrics: tuple[str, ...]) -> list[MetricSla]:
        missed = []
        for metric in metrics:
            status = self.sla.get(metric)
            if status is not None and status.state is _BREACHED and status.met_at is None:
                missed.append(status)
        return missed

    def _fall_blocker(self, prior: PriorState) -> str | None:
        """Why the level may not fall now; None when it may."""
        m, ctx, level = self.m, self.ctx, prior.level
        if m.quiet_for is None:
            return f"Kept at {level}: levels do not fall while the ticket is open"
        if m.timed is not None:
            for status in self._missed(m.timed.metrics):
                metric = status.metric.replace("_", " ")
                return f"Kept at {level}: the {metric} target is still missed"
        since = prior.level_since
        if prior.last_trigger_at is not None and prior.last_trigger_at > since:
            since = prior.last_trigger_at
        needed = m.quiet_for.business_seconds(ctx.clock.working_day_seconds)
        if ctx.clock.between(since.timestamp(), ctx.now) >= needed:
            return None
        quiet = m.config.de_escalation.quiet_for
        return f"Kept at {level} until no {level} trigger has fired for {quiet} of business time"

    def _sla_at(self, level: int) -> tuple[dict[str, MetricSla], list[CompiledTrigger]]:
        m, ctx = self.m, self.ctx
        if ctx.ticket.system in m.sla.systems:
            targets = m.sla.targets(m.levels[level], ctx.account.tier, ctx.clock)
        else:
            targets = ()  # this system's tickets run no SLA clock
        last = self._last
        if last is not None and last[0] is targets:  # same targets (interned): same answers
            return last[1], last[2]
        sla = measure(
            m.sla, targets, ctx.ticket, ctx.created, ctx.clock, self.pauses, ctx.now, self.reached
        )
        on_sla: list[CompiledTrigger] = []
        if self.sla_triggers:
            ctx.sla_states = {metric: status.state for metric, status in sla.items()}
            on_sla = [t for t in self.sla_triggers if t.holds(ctx)]
        self._last = (targets, sla, on_sla)
        return sla, on_sla


def _missed_words(metric: str) -> str:
    return _MISSED.get(metric) or f"{metric.replace('_', ' ')} not reached"


def _note(kind: ReasonKind, level: str, text: str) -> Reason:
    return Reason(kind, kind.value, level, text)
