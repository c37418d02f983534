"""Metrics over the period, by level and by segment (tier, region), and a weekly trend.

Times are business hours of the ticket's calendar, as the SLA targets are: time to
acknowledge (creation -> first response), to next update (each update interval), to
resolve (creation -> solved) and to each further milestone of `sla.milestones` (creation ->
reached; a ticket solved first meets it at its resolution). Attainment: among the period's clocks with a known outcome (met,
or overdue now), those that did not breach. A clock belongs to the period when it started in it.

A quarter of history is millions of rows: SQLite groups and counts, Python keeps only the
business times per (metric, level, tier, region) for the medians, in compact arrays.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from datetime import date, timedelta

from report.data import ReportData
from report.tables import Table

METRICS = ("acknowledge", "next_update", "resolve")
DIMENSIONS = ("level", "tier", "region")
NONE = "(none)"


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of sorted values (p90: fraction 0.9); None when empty."""
    if not values:
        return None
    return values[max(0, math.ceil(fraction * len(values)) - 1)]


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _counted_median(counts: Counter[float]) -> float | None:
    """The median of values given as value -> how many (targets take few distinct values)."""
    total = sum(counts.values())
    if not total:
        return None
    ordered = sorted(counts.items())

    def nth(position: int) -> float:
        for value, count in ordered:
            position -= count
            if position < 0:
                return value
        raise AssertionError("position beyond the total")

    middle = total // 2
    return nth(middle) if total % 2 else (nth(middle - 1) + nth(middle)) / 2


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


class _Group:
    """The clocks of one (dimension, segment, metric)."""

    __slots__ = ("count", "taken", "targets", "decided", "breaches")

    def __init__(self) -> None:
        self.count = self.decided = self.breaches = 0
        self.taken = array("d")
        self.targets: Counter[float] = Counter()

    def add(self, other: _Group) -> None:
        self.count += other.count
        self.decided += other.decided
        self.breaches += other.breaches
        self.taken.extend(other.taken)
        self.targets.update(other.targets)

    def row(self) -> tuple:
        taken = sorted(self.taken)
        attainment = (
            round(100 * (self.decided - self.breaches) / self.decided, 1) if self.decided else None
        )
        return (
            self.count,
            len(taken),
            _hours(_median(taken)),
            _hours(percentile(taken, 0.9)),
            _hours(_counted_median(self.targets)),
            attainment,
            self.breaches,
        )


def _fine_groups(data: ReportData) -> dict[tuple[str, str, str, str], _Group]:
    """(metric, level, tier, region) -> its clocks of the period, in one grouped query: the
    business times come back as one comma-separated list per group, parsed in C."""
    fine: dict[tuple[str, str, str, str], _Group] = {}
    dialect = data.dialect
    for metric, level, tier, region, count, decided, breaches, taken, targets in data.db.execute(
        "SELECT c.metric, c.level, h.tier, h.region, COUNT(*), "
        "SUM(CASE WHEN c.met_at IS NOT NULL OR c.breached = 1 OR c.due_at < :now THEN 1 "
        "ELSE 0 END), "
        "SUM(CASE WHEN c.breached = 1 OR (c.met_at IS NULL AND c.due_at < :now) THEN 1 "
        "ELSE 0 END), "
        f"{dialect.group_concat('c.taken_seconds')}, {dialect.group_concat('c.target_seconds')} "
        "FROM sla_outcomes c LEFT JOIN ticket_history h ON h.ref = c.ref "
        # Unindexed ("+" in SQLite): a scan in key order beats the start_at index here, which
        # would fetch most rows one by one (three times faster at 900k clocks).
        f"WHERE {dialect.unindexed('c.start_at')} >= :since GROUP BY 1, 2, 3, 4",
        {"now": data.now_text, "since": data.since_text},
    ):
        group = fine[(metric, level, tier or "(forgotten)", region or NONE)] = _Group()
        group.count, group.decided, group.breaches = count, decided, breaches
        if taken:
            group.taken = array("d", map(float, taken.split(",")))
        group.targets = Counter(map(float, targets.split(",")))
    return fine


def sla_metrics(data: ReportData) -> Table:
    """Per dimension, segment and metric: count, median, p90, target, attainment, breaches."""
    groups: dict[tuple[str, str, str], _Group] = defaultdict(_Group)
    for (metric, level, tier, region), fine in _fine_groups(data).items():
        groups[("all", "all", metric)].add(fine)
        groups[("level", level, metric)].add(fine)
        groups[("tier", tier, metric)].add(fine)
        groups[("region", region, metric)].add(fine)
    rows = [
        (dimension, segment, metric, *group.row())
        for (dimension, segment, metric), group in sorted(
            groups.items(), key=lambda item: _order(data, *item[0])
        )
    ]
    return Table(
        "sla_metrics",
        "Time to acknowledge, next update, resolve and each milestone against target",
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


def _order(data: ReportData, dimension: str, segment: str, metric: str = "") -> tuple:
    levels = {name: i for i, name in enumerate(data.levels)}
    return (
        ("all", *DIMENSIONS).index(dimension),
        levels.get(segment, len(levels)) if dimension == "level" else 0,
        segment,
        # The built-in metrics first, then the matrix's milestones (sla.milestones) by name.
        (METRICS.index(metric), "") if metric in METRICS else (len(METRICS), metric),
    )


def escalation_frequency(data: ReportData) -> Table:
    """Per dimension and segment: escalations into each level, de-escalations, reopened."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for kind, old_level, new_level, tier, region, count in data.db.execute(
        "SELECT e.kind, e.old_level, e.new_level, h.tier, h.region, COUNT(*) "
        "FROM ticket_events e LEFT JOIN ticket_history h ON h.ref = e.ref "
        "WHERE e.at >= ? AND e.kind IN ('escalated', 'de_escalated', 'reopened') "
        "GROUP BY 1, 2, 3, 4, 5",
        (data.since_text,),
    ):
        column = f"to {new_level}" if kind == "escalated" else kind
        keys = [("all", "all")]
        level = new_level if kind == "escalated" else old_level
        if level:
            keys.append(("level", level))
        if tier is not None:
            keys += [("tier", tier), ("region", region or NONE)]
        for key in keys:
            counts[key][column] += count
    escalated_columns = tuple(f"to {level}" for level in data.levels[1:])
    rows = [
        (
            dimension,
            segment,
            *(counter[c] for c in escalated_columns),
            counter["de_escalated"],
            counter["reopened"],
        )
        for (dimension, segment), counter in sorted(
            counts.items(), key=lambda item: _order(data, *item[0])
        )
    ]
    return Table(
        "escalation_frequency",
        "Escalation frequency, de-escalations and reopened tickets",
        ("by", "segment", *escalated_columns, "de-escalations", "reopened"),
        rows,
        "Events in the period. By level: escalations into the level, de-escalations and "
        "reopenings from it.",
    )


def _week(day: str) -> str:
    moment = date.fromisoformat(day)
    return (moment - timedelta(days=moment.weekday())).isoformat()


def weekly_trend(data: ReportData) -> Table:
    """Per week (Monday): tickets created, escalations, de-escalations, resolved, reopened,
    SLA clocks due that week and their attainment."""
    weeks: dict[str, Counter[str]] = defaultdict(Counter)
    since, now = data.since_text, data.now_text
    db = data.db
    for day, count in db.execute(
        "SELECT substr(created_at, 1, 10), COUNT(*) FROM ticket_history "
        "WHERE created_at >= ? GROUP BY 1",
        (since,),
    ):
        weeks[_week(day)]["created"] += count
    for kind, day, count in db.execute(
        "SELECT kind, substr(at, 1, 10), COUNT(*) FROM ticket_events WHERE at >= ? "
        "AND kind IN ('escalated', 'de_escalated', 'resolved', 'reopened') GROUP BY 1, 2",
        (since,),
    ):
        weeks[_week(day)][kind] += count
    for day, due, breached in db.execute(
        "SELECT substr(due_at, 1, 10), COUNT(*), "
        "SUM(CASE WHEN breached = 1 OR (met_at IS NULL AND due_at < :now) THEN 1 ELSE 0 END) "
        "FROM sla_outcomes "
        "WHERE due_at >= :since AND due_at <= :now GROUP BY 1",
        {"since": since, "now": now},
    ):
        weeks[_week(day)]["due"] += due
        weeks[_week(day)]["breached"] += breached
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
