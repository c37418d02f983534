"""When a ticket's decision can next change, so a replay looks at it only then.

Between two changes of the ticket itself (rehearse/past.py's change points), a decision
moves only with time, and the engine's inputs say when:
- an SLA clock turns at-risk (its business time left reaches the threshold) or breaches
  (its due time), unless it is paused (a paused clock stands still until the status changes);
- timed escalation re-arms (the level's target has passed again since the last step);
- the de-escalation quiet period ends (no trigger of the level for `quiet_for`);
- a trigger's threshold on business-hours age, days to renewal (a UTC midnight) or the
  account's recent tickets (a ticket enters or leaves the window) is crossed;
- an out-of-office period starts or ends (routing).
A moment returned may change nothing (it is a bound, not a promise); a change never happens
at a moment not returned. tests/test_replay.py checks it against evaluating every step.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from config.matrix import Condition
from escalation.calendar import Clock
from escalation.compiled import CompiledMatrix
from escalation.decision import Decision
from mapping.records import Account

INF = float("inf")
_DAY = 86400.0
# A moment computed in floating point may land a hair before the engine sees the change;
# candidates this close to `at` still count (the replay then looks again at its next step).
EPSILON = 1e-3


def _conditions(condition: Condition) -> Iterator[Condition]:
    yield condition
    for part in (*(condition.all_ or ()), *(condition.any_ or ())):
        yield from _conditions(part)
    if condition.not_ is not None:
        yield from _conditions(condition.not_)


def _compared_values(condition: Condition) -> list[float]:
    values = [condition.eq, condition.ne, condition.lt, condition.le, condition.gt, condition.ge]
    values += [*(condition.in_ or ()), *(condition.not_in or ())]
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def _midnight(day: date) -> float:
    return datetime.combine(day, time(0), UTC).timestamp()


def _instant(moment: date | datetime, end_of_day: bool) -> float:
    # As escalation.routing reads out-of-office dates: whole UTC days, both included.
    if isinstance(moment, datetime):
        return moment.timestamp()
    if end_of_day and moment == date.max:
        return INF
    return _midnight(moment + timedelta(days=1) if end_of_day else moment)


class WakePlanner:
    """The next moment a decision under one compiled matrix may change."""

    def __init__(self, matrix: CompiledMatrix, account_created: dict[str, tuple[float, ...]]):
        self.m = matrix
        config = matrix.config
        ages: set[float] = set()
        renewal_days: set[int] = set()
        windows: set[int] = set()
        for trigger in config.triggers:
            for part in _conditions(trigger.when):
                if part.recent_tickets is not None:
                    windows.add(part.recent_tickets.days)
                elif part.field == "business_hours_age":
                    ages.update(_compared_values(part))
                elif part.field == "days_to_renewal":
                    renewal_days.update(int(v) for v in _compared_values(part))
        self.ages = sorted(ages)
        self.renewal_days = sorted(renewal_days)
        self.windows = sorted(windows)
        away = set()
        for entry in config.out_of_office:
            away.add(_instant(entry.from_, False))
            away.add(_instant(entry.until, True))
        self.away = tuple(sorted(away - {INF}))
        self.account_created = account_created
        self._window_moments: dict[str, tuple[float, ...]] = {}
        self._static: dict[str, tuple[float, ...]] = {}

    def next_change(
        self,
        ref: str,
        decision: Decision,
        at: float,
        created: float,
        account: Account | None,
        clock: Clock,
    ) -> float:
        """The first moment after `at` (or within EPSILON of it) at which `decision` may change."""
        floor = at - EPSILON
        soonest = self._next_static(ref, created, account, clock, floor)
        if account is not None and self.windows:
            moments = self._windows(account.id)
            index = bisect_right(moments, floor)
            if index < len(moments):
                soonest = min(soonest, moments[index])
        if not decision.sla and decision.owner is None:
            return soonest  # ended: nothing runs until the ticket changes
        m = self.m
        tier = account.tier if account is not None else "unknown"
        thresholds = {name: risk for name, _, risk in m.sla.targets(decision.level, tier, clock)}
        for metric, status in decision.sla.items():
            left = status.business_seconds_left
            if status.met_at is not None or status.paused or left is None:
                continue
            risk = thresholds.get(metric, 0.0)
            if left > risk:
                soonest = min(soonest, clock.add(at, left - risk))
            due = status.due_at.timestamp()
            if due > floor:
                soonest = min(soonest, due)
        state = decision.state
        level = m.level_index.get(decision.level, 0)
        timed = m.timed
        if timed is not None and state.last_timed_step_at is not None and level < timed.max_level:
            last_step = state.last_timed_step_at.timestamp()
            for metric in timed.metrics:
                status = decision.sla.get(metric)
                if status is not None:
                    rearmed = clock.add(last_step, status.target_seconds)
                    if rearmed > floor:
                        soonest = min(soonest, rearmed)
        if m.quiet_for is not None and level > 0:
            fired = state.last_trigger_at is not None and state.last_trigger_at.timestamp() == at
            if not fired:
                since = state.level_since
                if state.last_trigger_at is not None and state.last_trigger_at > since:
                    since = state.last_trigger_at
                needed = m.quiet_for.business_seconds(clock.working_day_seconds)
                quiet_end = clock.add(since.timestamp(), needed)
                if quiet_end > floor:
                    soonest = min(soonest, quiet_end)
        return soonest

    def _next_static(
        self, ref: str, created: float, account: Account | None, clock: Clock, floor: float
    ) -> float:
        moments = self._static.get(ref)
        if moments is None:
            found = set(self.away)
            found.update(clock.add(created, hours * 3600.0) for hours in self.ages if hours > 0)
            renewal = account.renewal_date if account is not None else None
            if renewal is not None:
                for days in self.renewal_days:
                    day = renewal - timedelta(days=days)
                    found.add(_midnight(day))
                    found.add(_midnight(day + timedelta(days=1)))
            moments = self._static[ref] = tuple(sorted(found))
        index = bisect_right(moments, floor)
        return moments[index] if index < len(moments) else INF

    def _windows(self, account_id: str) -> tuple[float, ...]:
        """When a ticket of the account enters or leaves a recent-tickets window."""
        found = self._window_moments.get(account_id)
        if found is None:
            created = self.account_created.get(account_id, ())
            moments = set(created)
            for days in self.windows:
                moments.update(c + days * _DAY for c in created)
            found = self._window_moments[account_id] = tuple(sorted(moments))
        return found
