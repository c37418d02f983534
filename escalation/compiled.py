"""A MatrixConfig compiled once for fast evaluation: calendars, closures, lookups, caches.

Compiling is pure; the caches inside (calendar windows, target and routing lookups) only
remember answers, so decisions do not depend on what was evaluated before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from config.matrix import MatrixConfig, Trigger
from escalation.calendar import Clock, build_calendar
from escalation.conditions import (
    Predicate,
    compile_condition,
    compile_template,
    required_values,
    uses_sla,
)
from escalation.context import TicketContext
from escalation.routing import Router
from escalation.sla import SlaPolicy
from vocabulary.durations import Duration, parse_duration


@dataclass(frozen=True, slots=True)
class CompiledTrigger:
    name: str
    level: int  # index into the levels
    order: int  # position in the config
    holds: Predicate
    reason: Callable[[TicketContext], str]
    categories: frozenset[str] | None  # the trigger can only fire for these; None: any


TriggerList = tuple[CompiledTrigger, ...]


@dataclass(frozen=True, slots=True)
class TimedPolicy:
    metrics: tuple[str, ...]
    step: int
    max_level: int


class CompiledMatrix:
    def __init__(self, config: MatrixConfig):
        self.config = config
        self.levels = config.levels
        self.level_index = {name: index for index, name in enumerate(config.levels)}
        self.clocks: dict[str, Clock] = {
            name: build_calendar(name, calendar) for name, calendar in config.calendars.items()
        }
        triggers = [self._trigger(i, t) for i, t in enumerate(config.triggers)]
        # Highest level first, so reasons read from the most to the least serious.
        order = sorted(range(len(triggers)), key=lambda i: -triggers[i].level)
        self.plain_triggers = tuple(
            triggers[i] for i in order if not uses_sla(config.triggers[i].when)
        )
        self.sla_triggers = tuple(triggers[i] for i in order if uses_sla(config.triggers[i].when))
        self.sla = SlaPolicy(config.sla)
        self.router = Router(config.routing, config.out_of_office)
        timed = config.timed_escalation
        self.timed = (
            TimedPolicy(tuple(timed.metrics), timed.step, self.level_index[timed.max_level])
            if timed
            else None
        )
        quiet = config.de_escalation.quiet_for
        self.quiet_for: Duration | None = (
            parse_duration(quiet)
            if config.de_escalation.policy == "quiet_period" and quiet
            else None
        )
        self._clock_cache: dict[tuple[str, str | None], Clock] = {}
        self._by_category: dict[str | None, tuple[TriggerList, TriggerList]] = {}

    def _trigger(self, order: int, trigger: Trigger) -> CompiledTrigger:
        return CompiledTrigger(
            name=trigger.name,
            level=self.level_index[trigger.level],
            order=order,
            holds=compile_condition(trigger.when),
            reason=compile_template(trigger.reason),
            categories=required_values(trigger.when, "ticket.category"),
        )

    def triggers_for(self, category: str | None) -> tuple[TriggerList, TriggerList]:
        """(plain, SLA-reading) triggers that can fire for a ticket of this category."""
        found = self._by_category.get(category)
        if found is None:
            plain, sla = (
                tuple(t for t in group if t.categories is None or category in t.categories)
                for group in (self.plain_triggers, self.sla_triggers)
            )
            found = self._by_category[category] = (plain, sla)
        return found

    def clock_for(self, tier: str, region: str | None) -> Clock:
        """The calendar a ticket's business time runs in: by tier, then region, else default."""
        key = (tier, region)
        found = self._clock_cache.get(key)
        if found is None:
            choice = self.config.calendar_for
            if choice is None:
                name = next(iter(self.clocks))
            else:
                name = (
                    choice.by_tier.get(tier)
                    or (choice.by_region.get(region) if region is not None else None)
                    or choice.default
                )
            found = self._clock_cache[key] = self.clocks[name]
        return found


_COMPILED: dict[int, tuple[MatrixConfig, CompiledMatrix]] = {}


def compile_matrix(config: MatrixConfig) -> CompiledMatrix:
    """Compile (or reuse the compiled form of) a matrix config."""
    found = _COMPILED.get(id(config))
    if found is not None and found[0] is config:
        return found[1]
    if len(_COMPILED) > 16:  # replays against draft matrices should not grow this forever
        _COMPILED.clear()
    compiled = CompiledMatrix(config)
    _COMPILED[id(config)] = (config, compiled)
    return compiled
