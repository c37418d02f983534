"""Two replays of the same past side by side: the current matrix and a draft.

Tables (report.tables.Table, so the report's HTML, and the CSV/JSON shapes, carry over):
- differences: each time a ticket's level, owner or soonest due differs between the two,
  one row when the difference starts or changes (not one per step);
- levels by tier: tickets by the highest level each reached in the period;
- SLA attainment: per metric, tickets whose clock ran in the period, and how many never
  breached it (met late counts as breached);
- owner load: per person, tickets held, hours held in the period, notifications received;
- notifications: the events each matrix would have sent (rehearse/events.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from rehearse.events import KINDS, Event, all_events
from rehearse.replay import Step, Trace
from report.tables import Cell, Table

NAMES = ("current", "draft")


def when(epoch: float | None) -> str | None:
    """A moment as people read it in the tables (UTC, to the minute)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Comparison:
    start: float
    end: float
    step: str
    tables: tuple[Table, ...]
    events: dict[str, list[Event]]  # matrix name -> its notifications
    evaluations: dict[str, int]
    tickets: int


def compare(current: Trace, draft: Trace, start: float, end: float, step: str) -> Comparison:
    """Every table of the comparison of two traces over [start, end]."""
    traces = (current, draft)
    events = {
        name: [e for e in all_events(t.steps, _rank(t)) if start <= e.at <= end]
        for name, t in zip(NAMES, traces, strict=True)
    }
    tables = (
        _differences(current, draft),
        _levels_by_tier(current, draft),
        _attainment(current, draft),
        _owner_load(traces, events, end),
        _notification_counts(events),
        *(_notification_list(name, found) for name, found in events.items()),
    )
    refs = set(current.steps) | set(draft.steps)
    return Comparison(
        start,
        end,
        step,
        tables,
        events,
        {name: t.evaluations for name, t in zip(NAMES, traces, strict=True)},
        len(refs),
    )


def _rank(trace: Trace) -> dict[str, int]:
    return {level: index for index, level in enumerate(trace.levels)}


def _view(step: Step | None) -> tuple[str | None, str | None, float | None]:
    return (step.level, step.owner, step.due) if step is not None else (None, None, None)


def _differences(current: Trace, draft: Trace) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for ref in sorted(set(current.steps) | set(draft.steps)):
        ours, theirs = current.steps.get(ref, []), draft.steps.get(ref, [])
        moments = sorted({s.at for s in ours} | {s.at for s in theirs})
        i = j = 0
        a = b = None
        shown = None
        for at in moments:
            while i < len(ours) and ours[i].at <= at:
                a, i = ours[i], i + 1
            while j < len(theirs) and theirs[j].at <= at:
                b, j = theirs[j], j + 1
            pair = (_view(a), _view(b))
            if pair[0] != pair[1] and pair != shown:
                (la, oa, da), (lb, ob, db) = pair
                rows.append((ref, when(at), la, lb, oa, ob, when(da), when(db)))
            shown = pair if pair[0] != pair[1] else None
    columns = ("ticket", "from", "level (current)", "level (draft)", "owner (current)")
    columns += ("owner (draft)", "due (current)", "due (draft)")
    note = "One row when a difference starts or changes; it lasts until the ticket's next row."
    return Table("differences", "Decisions that differ", columns, rows, note, html_limit=200)


def _highest(trace: Trace) -> Counter[tuple[str, str]]:
    rank = _rank(trace)
    counts: Counter[tuple[str, str]] = Counter()
    for ref, steps in trace.steps.items():
        top = max((s.level for s in steps), key=lambda level: rank.get(level, 0))
        counts[(top, trace.tiers.get(ref, "unknown"))] += 1
    return counts


def _levels_by_tier(current: Trace, draft: Trace) -> Table:
    counts = [_highest(current), _highest(draft)]
    tiers = sorted({tier for c in counts for _, tier in c})
    levels = list(dict.fromkeys([*current.levels, *draft.levels]))
    rows: list[tuple[Cell, ...]] = []
    for level in levels:
        row: list[Cell] = [level]
        for tier in tiers:
            row.append(f"{counts[0][(level, tier)]} -> {counts[1][(level, tier)]}")
        row += [sum(c[(level, t)] for t in tiers) for c in counts]
        rows.append(tuple(row))
    columns = ("highest level", *tiers, "all (current)", "all (draft)")
    note = "Tickets by the highest level reached in the period; cells read current -> draft."
    return Table("levels_by_tier", "Levels by tier", columns, rows, note)


def _clock_outcomes(trace: Trace) -> dict[str, tuple[int, int]]:
    ran: dict[str, set[str]] = defaultdict(set)
    missed: dict[str, set[str]] = defaultdict(set)
    for ref, steps in trace.steps.items():
        for step in steps:
            for metric, state in step.states:
                ran[metric].add(ref)
                if state == "breached":
                    missed[metric].add(ref)
    return {metric: (len(refs), len(missed[metric])) for metric, refs in ran.items()}


def _attainment(current: Trace, draft: Trace) -> Table:
    outcomes = [_clock_outcomes(current), _clock_outcomes(draft)]
    rows: list[tuple[Cell, ...]] = []
    for metric in ("acknowledge", "next_update", "resolve"):
        row: list[Cell] = [metric]
        for found in outcomes:
            tracked, breached = found.get(metric, (0, 0))
            met = round(100.0 * (tracked - breached) / tracked, 1) if tracked else None
            row += [tracked, breached, met]
        rows.append(tuple(row))
    columns = ("metric", "tickets (current)", "breached (current)", "attained % (current)")
    columns += ("tickets (draft)", "breached (draft)", "attained % (draft)")
    note = "Under each matrix's own targets: tickets whose clock ran, and those that never breached it."
    return Table("sla_attainment", "SLA attainment", columns, rows, note)


def _owner_load(traces: tuple[Trace, Trace], events: dict[str, list[Event]], end: float) -> Table:
    load: dict[str, list[float]] = defaultdict(lambda: [0.0] * 6)
    for column, trace in enumerate(traces):
        for steps in trace.steps.values():
            held: set[str] = set()
            for step, following in zip(steps, [*steps[1:], None], strict=True):
                if step.owner is None:
                    continue
                until = following.at if following is not None else end
                load[step.owner][2 + column] += max(0.0, until - step.at) / 3600.0
                held.add(step.owner)
            for owner in held:
                load[owner][column] += 1
        for event in events[NAMES[column]]:
            if event.to is not None:
                load[event.to][4 + column] += 1
    rows = [
        (owner, int(v[0]), int(v[1]), round(v[2], 1), round(v[3], 1), int(v[4]), int(v[5]))
        for owner, v in sorted(load.items(), key=lambda item: (-item[1][1], item[0]))
    ]
    columns = ("owner", "tickets (current)", "tickets (draft)", "hours held (current)")
    columns += ("hours held (draft)", "notified (current)", "notified (draft)")
    return Table("owner_load", "Owner load", columns, list(rows))


def _notification_counts(events: dict[str, list[Event]]) -> Table:
    counts = {name: Counter(e.kind for e in found) for name, found in events.items()}
    rows = [(kind, counts["current"][kind], counts["draft"][kind]) for kind in KINDS]
    return Table("notification_counts", "Notifications", ("event", *NAMES), list(rows))


def _notification_list(name: str, events: list[Event]) -> Table:
    rows = [(when(e.at), e.ticket, e.kind, e.to, e.detail) for e in events]
    columns = ("at", "ticket", "event", "to", "detail")
    return Table(
        f"notifications_{name}",
        f"Notifications under the {name} matrix",
        columns,
        list(rows),
        html_limit=200,
    )
