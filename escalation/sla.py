"""SLA clocks: due times, business time left and state per metric, in the ticket's calendar.

acknowledge  counted from creation, met by the first agent response.
next_update  counted from the last agent update (or the first response); starts only once the
             ticket has been acknowledged, and is never "met": each update restarts it.
resolve      counted from creation; open tickets have not met it.
Paused intervals (ticket.paused_intervals, plus "since the last update" when the current status
pauses and no open interval was recorded) do not count, for the metrics the config names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from config.matrix import ANY, Sla, SlaTarget
from escalation.attributes import SLA_METRICS
from escalation.calendar import Clock
from escalation.decision import MetricSla, SlaState
from escalation.durations import Duration, parse_duration, parse_percent
from mapping.records import Ticket

Pauses = tuple[tuple[float, float], ...]
# (metric, target seconds, at-risk threshold seconds) for the metrics tracked
Targets = tuple[tuple[str, float, float], ...]

_OK, _AT_RISK, _BREACHED = SlaState.OK, SlaState.AT_RISK, SlaState.BREACHED


class SlaPolicy:
    """The SLA section compiled: target lookup (cached) and the clocks."""

    def __init__(self, config: Sla):
        self.pause_statuses = frozenset(config.pause_statuses)
        self.pause_metrics = frozenset(config.pause_applies_to)
        self._at_risk_fraction = parse_percent(config.at_risk_when_remaining)
        self._at_risk = (
            None
            if self._at_risk_fraction is not None
            else parse_duration(config.at_risk_when_remaining)
        )
        self._rows = {(row.level, row.tier): row for row in config.targets}
        self._cache: dict[tuple[str, str, str], Targets] = {}

    def targets(self, level: str, tier: str, clock: Clock) -> Targets:
        """The tracked metrics for level x tier, resolved to seconds in `clock`."""
        key = (level, tier, clock.name)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._resolve(level, tier, clock)
        return found

    def _resolve(self, level: str, tier: str, clock: Clock) -> Targets:
        rows = [
            self._rows.get(key) for key in ((level, tier), (level, ANY), (ANY, tier), (ANY, ANY))
        ]
        resolved = []
        for metric in SLA_METRICS:
            text = _first_given(rows, metric)
            if text is None:
                continue
            seconds = parse_duration(text).business_seconds(clock.working_day_seconds)
            resolved.append((metric, seconds, self._threshold(seconds, clock)))
        return tuple(resolved)

    def _threshold(self, target_seconds: float, clock: Clock) -> float:
        if self._at_risk_fraction is not None:
            return target_seconds * self._at_risk_fraction
        assert isinstance(self._at_risk, Duration)
        return self._at_risk.business_seconds(clock.working_day_seconds)

    def pauses(self, ticket: Ticket, now: float) -> Pauses:
        """Paused intervals as sorted, merged epoch pairs, open ones ending at `now`."""
        if not self.pause_statuses:
            return ()
        raw = [
            (start.timestamp(), end.timestamp() if end is not None else now)
            for start, end in ticket.paused_intervals
        ]
        still_open = any(end is None for _, end in ticket.paused_intervals)
        if ticket.status in self.pause_statuses and not still_open:
            raw.append((ticket.updated_at.timestamp(), now))  # best estimate of when it paused
        merged: list[tuple[float, float]] = []
        for start, end in sorted(raw):
            end = min(end, now)
            if end <= start:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return tuple(merged)


def _first_given(rows: Sequence[SlaTarget | None], metric: str) -> str | None:
    # A metric a specific row leaves out falls back to the next, less specific row.
    for row in rows:
        if row is not None and getattr(row, metric) is not None:
            return getattr(row, metric)
    return None


def measure(
    policy: SlaPolicy,
    targets: Targets,
    ticket: Ticket,
    created: float,
    clock: Clock,
    pauses: Pauses,
    now: float,
) -> dict[str, MetricSla]:
    """Every tracked metric of an open ticket at `now`."""
    first_response = ticket.first_response_at
    paused_now = bool(pauses) and pauses[-1][1] >= now and ticket.status in policy.pause_statuses
    result: dict[str, MetricSla] = {}
    for metric, target, at_risk in targets:
        met_at = None
        if metric == "acknowledge":
            start, met_at = created, first_response
        elif metric == "next_update":
            if first_response is None:
                continue  # the cadence starts with the first response
            last_update = ticket.last_agent_update_at
            latest = first_response
            if last_update is not None and last_update > first_response:
                latest = last_update
            start = latest.timestamp()
        else:
            start = created
        applies = metric in policy.pause_metrics
        result[metric] = _clock(
            metric,
            start,
            target,
            at_risk,
            met_at,
            clock,
            pauses if applies else (),
            now,
            paused_now and applies,
        )
    return result


def _clock(
    metric: str,
    start: float,
    target: float,
    at_risk: float,
    met_at: datetime | None,
    clock: Clock,
    pauses: Pauses,
    now: float,
    paused: bool,
) -> MetricSla:
    due = add_unpaused(clock, start, target, pauses)
    due_at = datetime.fromtimestamp(due, UTC)
    if met_at is not None:
        state = _OK if met_at.timestamp() <= due else _BREACHED
        return MetricSla(metric, target, due_at, None, state, False, met_at)
    if now <= due:
        left = clock.between(now, due)  # pauses end at now at the latest
        state = _AT_RISK if left <= at_risk else _OK
    else:
        left = -between_unpaused(clock, due, now, pauses)
        state = _BREACHED
    return MetricSla(metric, target, due_at, left, state, paused)


def add_unpaused(clock: Clock, start: float, seconds: float, pauses: Pauses) -> float:
    """Like clock.add, but business time inside `pauses` does not count."""
    remaining, moment = seconds, start
    for pause_start, pause_end in pauses:
        if pause_end <= moment:
            continue
        candidate = clock.add(moment, remaining)
        if candidate <= pause_start:
            return candidate
        remaining -= clock.between(moment, max(pause_start, moment))
        moment = pause_end
    return clock.add(moment, remaining)


def between_unpaused(clock: Clock, start: float, end: float, pauses: Pauses) -> float:
    """Like clock.between (start <= end), minus the business time inside `pauses`."""
    total = clock.between(start, end)
    for pause_start, pause_end in pauses:
        if pause_end > start and pause_start < end:
            total -= clock.between(max(pause_start, start), min(pause_end, end))
    return total
