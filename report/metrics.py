"""Metrics over the period, by level and by segment (tier, region), and a weekly trend.

Times are business hours of the ticket's calendar, as the SLA targets are: time to
acknowledge (creation -> first response), to next update (each update interval) and to
resolve (creation -> solved). Attainment: the clocks of the period with a known outcome (met,
or overdue now) that did not breach. A clock belongs to the period when it started in it.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from report.data import ClockRow, ReportData
from report.tables import Table

METRICS = ("acknowledge", "next_update", "resolve")
DIMENSIONS = ("level", "tier", "region")


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of sorted values (p90: fraction 0.9); None when empty."""
    if not values:
        return None
    return values[max(0, math.ceil(fraction * len(values)) - 1)]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _segment(data: ReportData, clock: ClockRow, dimension: str) -> str:
    if dimension == "level":
        return clock.level
    ticket = data.tickets.get(clock.ref)
    if ticket is None:
        return "(forgotten)"
    value = ticket.tier if dimension == "tier" else ticket.region
    return value or "(none)"


def _in_period(data: ReportData) -> list[ClockRow]:
    since = data.since_text
    return [c for c in data.clocks if c.start_at >= since]


def sla_metrics(data: ReportData) -> Table:
    """Per dimension, segment and metric: count, median, p90, target, attainment, breaches."""
    now = data.now_text
    groups: dict[tuple[str, str, str], list[ClockRow]] = defaultdict(list)
    for clock in _in_period(data):
        groups[("all", "all", clock.metric)].append(clock)
        for dimension in DIMENSIONS:
            groups[(dimension, _segment(data, clock, dimension), clock.metric)].append(clock)
    order = {name: i for i, name in enumerate(data.levels)}
    rows = []
    for (dimension, segment, metric), clocks in sorted(
        groups.items(),
        key=lambda item: (
            ("all", *DIMENSIONS).index(item[0][0]),
            order.get(item[0][1], len(order)) if item[0][0] == "level" else 0,
            item[0][1],
            METRICS.index(item[0][2]) if item[0][2] in METRICS else 9,
        ),
    ):
        rows.append((dimension, segment, metric, *_summary(clocks, now)))
    return Table(
        "sla_metrics",
        "Time to acknowledge, next update and resolve against target",
        (
            "by",
            "segment",
            "metric",
            "clocks",
            "met",
            "median hours",
            "p90 hours",
            "median target hours",
            "attainment %",
            "breaches",
        ),
        rows,
        "Business hours. Attainment: met in time among the clocks met or overdue.",
    )


def _summary(clocks: list[ClockRow], now: str) -> tuple:
    taken = sorted(c.taken_seconds for c in clocks if c.taken_seconds is not None)
    targets = sorted(c.target_seconds for c in clocks)
    decided = [c for c in clocks if c.met_at is not None or c.breached or c.due_at < now]
    breaches = sum(1 for c in decided if c.breached or (c.met_at is None and c.due_at < now))
    attainment = round(100 * (len(decided) - breaches) / len(decided), 1) if decided else None
    return (
        len(clocks),
        len(taken),
        _hours(statistics.median(taken)) if taken else None,
        _hours(percentile(taken, 0.9)),
        _hours(statistics.median(targets)) if targets else None,
        attainment,
        breaches,
    )


def escalation_frequency(data: ReportData) -> Table:
    """Per dimension and segment: escalations into each level, de-escalations, reopened."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for event in data.events:
        ticket = data.tickets.get(event.ref)
        if event.kind not in ("escalated", "de_escalated", "reopened"):
            continue
        column = f"to {event.new_level}" if event.kind == "escalated" else event.kind
        keys = [("all", "all")]
        if event.kind == "escalated" and event.new_level:
            keys.append(("level", event.new_level))
        elif event.old_level:
            keys.append(("level", event.old_level))
        if ticket is not None:
            keys += [("tier", ticket.tier), ("region", ticket.region or "(none)")]
        for key in keys:
            counts[key][column] += 1
    escalated_columns = tuple(f"to {level}" for level in data.levels[1:])
    order = {name: i for i, name in enumerate(data.levels)}
    rows = []
    for (dimension, segment), counter in sorted(
        counts.items(),
        key=lambda item: (
            ("all", *DIMENSIONS).index(item[0][0]),
            order.get(item[0][1], len(order)) if item[0][0] == "level" else 0,
            item[0][1],
        ),
    ):
        rows.append(
            (
                dimension,
                segment,
                *(counter[c] for c in escalated_columns),
                counter["de_escalated"],
                counter["reopened"],
            )
        )
    return Table(
        "escalation_frequency",
        "Escalation frequency, de-escalations and reopened tickets",
        ("by", "segment", *escalated_columns, "de-escalations", "reopened"),
        rows,
        "Events in the period. By level: escalations into the level, de-escalations and "
        "reopenings from it.",
    )


def _week_start(text: str) -> str:
    day = datetime.fromisoformat(text).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def weekly_trend(data: ReportData) -> Table:
    """Per week (Monday): tickets created, escalations, de-escalations, resolved, reopened,
    SLA clocks due that week and their attainment."""
    weeks: dict[str, Counter[str]] = defaultdict(Counter)
    since, now = data.since_text, data.now_text
    for ticket in data.tickets.values():
        if ticket.created_at >= since:
            weeks[_week_start(ticket.created_at)]["created"] += 1
    for event in data.events:
        if event.kind in ("escalated", "de_escalated", "resolved", "reopened"):
            weeks[_week_start(event.at)][event.kind] += 1
    for clock in _due_in(data.clocks, since, now):
        week = weeks[_week_start(clock.due_at)]
        week["due"] += 1
        if clock.breached or (clock.met_at is None and clock.due_at < now):
            week["breached"] += 1
    rows = []
    for week, c in sorted(weeks.items()):
        attainment = round(100 * (c["due"] - c["breached"]) / c["due"], 1) if c["due"] else None
        rows.append(
            (
                week,
                c["created"],
                c["escalated"],
                c["de_escalated"],
                c["resolved"],
                c["reopened"],
                c["due"],
                c["breached"],
                attainment,
            )
        )
    return Table(
        "weekly_trend",
        "Weekly trend",
        (
            "week of",
            "tickets created",
            "escalations",
            "de-escalations",
            "resolved",
            "reopened",
            "SLA clocks due",
            "breached",
            "attainment %",
        ),
        rows,
        "Weeks start on Monday (UTC). SLA clocks count in the week they fell due.",
    )


def _due_in(clocks: Iterable[ClockRow], since: str, now: str) -> Iterable[ClockRow]:
    return (c for c in clocks if since <= c.due_at <= now)
