"""SLA clocks: due times, business time left and state per metric, in the ticket's calendar.

acknowledge  counted from creation, met by the first agent response.
next_update  counted from the last agent update (or the first response); starts only once the
             ticket has been acknowledged, and is never "met": each update restarts it.
resolve      counted from creation; open tickets have not met it.
Paused intervals (ticket.paused_intervals, plus "since the status changed" - or the last update -
when the current status pauses and no open interval was recorded) do not count, for the metrics
the config names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from config.matrix import ANY, Sla, SlaTarget
from escalation.calendar import Clock, Pauses
from escalation.decision import MetricSla, SlaState, metric_sla
from mapping.records import Ticket
from vocabulary.durations import Duration, parse_duration, parse_percent

# (metric, target seconds, at-risk threshold seconds) for the metrics tracked
Targets = tuple[tuple[str, float, float], ...]

_OK, _AT_RISK, _BREACHED = SlaState.OK, SlaState.AT_RISK, SlaState.BREACHED
fromtimestamp = datetime.fromtimestamp
_COMPUTE_ORDER = ("acknowledge", "resolve", "next_update")


class SlaPolicy:
    """The SLA section compiled: target lookup (cached) and the clocks."""

    def __init__(self, config: Sla):
        self.systems = frozenset(config.systems)
        self.pause_statuses = frozenset(config.pause_statuses)
        self.milestones = config.milestones
        self.pause_metrics = frozenset(
            (*config.pause_applies_to, *(m.name for m in config.milestones if m.pause))
        )
        self._at_risk_fraction = parse_percent(config.at_risk_when_remaining)
        self._at_risk = (
            None
            if self._at_risk_fraction is not None
            else parse_duration(config.at_risk_when_remaining)
        )
        self._rows = {(row.level, row.tier): row for row in config.targets}
        self._cache: dict[tuple[str, str, str], Targets] = {}
        # Equal targets are one object, so the engine can tell "same SLA" by identity.
        self._interned: dict[Targets, Targets] = {}

    def targets(self, level: str, tier: str, clock: Clock) -> Targets:
        """The tracked metrics for level x tier, resolved to seconds in `clock`."""
        key = (level, tier, clock.name)
        found = self._cache.get(key)
        if found is None:
            resolved = self._resolve(level, tier, clock)
            found = self._cache[key] = self._interned.setdefault(resolved, resolved)
        return found

    def _resolve(self, level: str, tier: str, clock: Clock) -> Targets:
        rows = [
            self._rows.get(key) for key in ((level, tier), (level, ANY), (ANY, tier), (ANY, ANY))
        ]
        resolved = []
        # acknowledge and resolve both start at creation: computed one after the other, the
        # calendar looks the start up once. Decision.sla keeps this order.
        for metric in (*_COMPUTE_ORDER, *(m.name for m in self.milestones)):
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
        if not self.pause_statuses or (
            not ticket.paused_intervals and ticket.status not in self.pause_statuses
        ):
            return ()
        raw = [
            (start.timestamp(), end.timestamp() if end is not None else now)
            for start, end in ticket.paused_intervals
        ]
        still_open = any(end is None for _, end in ticket.paused_intervals)
        if ticket.status in self.pause_statuses and not still_open:
            # Best estimate of when it paused: the status change, else the last update.
            since = ticket.status_changed_at or ticket.updated_at
            raw.append((since.timestamp(), now))
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
        if row is not None and row.target(metric) is not None:
            return row.target(metric)
    return None


def measure(
    policy: SlaPolicy,
    targets: Targets,
    ticket: Ticket,
    created: float,
    clock: Clock,
    pauses: Pauses,
    now: float,
    reached: Mapping[str, datetime] | None = None,
) -> dict[str, MetricSla]:
    """Every tracked metric of an open ticket at `now`; `reached`: when each milestone was
    (escalation/milestones.py), counted from creation like resolve."""
    first_response = ticket.first_response_at
    paused_now = bool(pauses) and pauses[-1][1] >= now and ticket.status in policy.pause_statuses
    pause_metrics = policy.pause_metrics
    due_and_left = clock.due_and_left
    result: dict[str, MetricSla] = {}
    for metric, target, at_risk in targets:
        met_at = None
        if metric == "acknowledge":
            start, met_at = created, first_response
        elif metric == "next_update":
            if first_response is None:
                continue  # the cadence starts with the first response
            latest = ticket.last_agent_update_at
            if latest is None or latest < first_response:
                latest = first_response
            # An update stamped before creation is clock skew between systems (imports,
            # integrations): the cadence cannot start before the ticket exists.
            start = max(latest.timestamp(), created)
        elif metric == "resolve":
            start = created
        else:  # a milestone of sla.milestones
            start, met_at = created, reached.get(metric) if reached else None
        paused = False
        if pauses and metric in pause_metrics:
            due, left = due_and_left(start, target, now, pauses)
            paused = paused_now
        else:
            due, left = due_and_left(start, target, now)
        due_at = fromtimestamp(due, UTC)
        if met_at is not None:
            state = _OK if met_at <= due_at else _BREACHED
            result[metric] = metric_sla(metric, target, due_at, None, state, False, met_at)
        else:
            state = _BREACHED if now > due else _AT_RISK if left <= at_risk else _OK
            result[metric] = metric_sla(metric, target, due_at, left, state, paused)
    return result
