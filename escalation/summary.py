"""One screen of text about a matrix, for `run_sync.py validate`: what an ops lead checks."""

from __future__ import annotations

import textwrap

from config.matrix import ANY, WEEKDAYS, Calendar, MatrixConfig
from escalation.compiled import compile_matrix

_METRICS = ("acknowledge", "next_update", "resolve")
_WIDTH = 100


def summarise(matrix: MatrixConfig) -> str:
    """Levels, triggers per level, escalation policies, calendars, SLA table, routing."""
    lines = [f"matrix: {len(matrix.levels)} levels: {' < '.join(matrix.levels)}"]
    names = [f"tiers {', '.join(matrix.tiers)}"]
    if matrix.categories:
        names.append(f"categories {', '.join(matrix.categories)}")
    if matrix.regions:
        names.append(f"regions {', '.join(matrix.regions)}")
    lines += _wrapped("  ", "; ".join(names), 4)
    lines += _triggers(matrix)
    lines += _policies(matrix)
    lines += _calendars(matrix)
    lines += _sla_table(matrix)
    roles = sorted({rule.role for rule in matrix.routing})
    away = len({entry.person for entry in matrix.out_of_office})
    lines.append(
        f"routing: {len(matrix.routing)} rule{'s' if len(matrix.routing) != 1 else ''}, "
        f"roles {', '.join(roles)}; "
        f"{away} {'person' if away == 1 else 'people'} listed out of office"
    )
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _wrapped(first: str, text: str, indent: int) -> list[str]:
    """`first` + text, wrapped to the screen with continuation lines indented."""
    return textwrap.wrap(
        text,
        width=_WIDTH,
        initial_indent=first,
        subsequent_indent=" " * indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [first.rstrip()]


def _triggers(matrix: MatrixConfig) -> list[str]:
    lines = [f"triggers ({len(matrix.triggers)}), highest level first:"]
    width = max(len(level) for level in matrix.levels)
    for level in reversed(matrix.levels):
        named = [t.name for t in matrix.triggers if t.level == level]
        if named:
            lines += _wrapped(f"  {level:<{width}}  ", ", ".join(named), width + 4)
    if not matrix.triggers:
        lines.append(
            "  none: every ticket stays at the lowest level unless timed escalation moves it"
        )
    return lines


def _policies(matrix: MatrixConfig) -> list[str]:
    timed = matrix.timed_escalation
    if timed is None:
        lines = ["timed escalation: off"]
    else:
        lines = [
            f"timed escalation: {' or '.join(timed.metrics)} missed -> up {timed.step} "
            f"level{'s' if timed.step > 1 else ''}, at most to {timed.max_level}"
        ]
    policy = matrix.de_escalation
    if policy.policy == "quiet_period":
        lines.append(
            f"de-escalation: after {policy.quiet_for} of business time without a trigger "
            "of the level"
        )
    else:
        lines.append("de-escalation: never while the ticket is open")
    return lines


def _calendars(matrix: MatrixConfig) -> list[str]:
    compiled = compile_matrix(matrix)
    lines = [f"calendars ({len(matrix.calendars)}):"]
    width = max(len(name) for name in matrix.calendars)
    for name, calendar in matrix.calendars.items():
        day = compiled.clocks[name].working_day_seconds / 3600
        lines += _wrapped(f"  {name:<{width}}  ", f"{_describe(calendar)}; 1d={day:g}h", width + 4)
    choice = matrix.calendar_for
    if choice is not None:
        parts = [f"tier {tier} -> {name}" for tier, name in choice.by_tier.items()]
        parts += [f"region {region} -> {name}" for region, name in choice.by_region.items()]
        parts.append(f"otherwise {choice.default}")
        lines += _wrapped("  used: ", "; ".join(parts), 8)
    return lines


def _describe(calendar: Calendar) -> str:
    if calendar.always_open:
        return f"{calendar.time_zone}, 24x7"
    groups: list[tuple[list[str], tuple[str, ...]]] = []
    for day in WEEKDAYS:
        spans = calendar.hours.get(day, ())
        if groups and groups[-1][1] == spans:
            groups[-1][0].append(day)
        else:
            groups.append(([day], spans))
    hours = ", ".join(f"{_days(days)} {' '.join(spans)}" for days, spans in groups if spans)
    text = f"{calendar.time_zone}, {hours}"
    holidays = calendar.holidays
    if holidays is not None:
        region = "-".join(p for p in (holidays.country, holidays.subdivision) if p)
        extra = f"{len(holidays.dates)} dates" if holidays.dates else ""
        text += "; holidays " + " + ".join(p for p in (region, extra) if p)
    return text


def _days(days: list[str]) -> str:
    first, last = days[0].capitalize(), days[-1].capitalize()
    return first if len(days) == 1 else f"{first}-{last}"


def _sla_table(matrix: MatrixConfig) -> list[str]:
    sla = matrix.sla
    paused = "never paused"
    if sla.pause_statuses:
        paused = f"{', '.join(sla.pause_applies_to)} paused while {', '.join(sla.pause_statuses)}"
    lines = _wrapped(
        "",
        f"SLA (acknowledge / next update / resolve; at risk with {sla.at_risk_when_remaining} "
        f"left; {paused}):",
        2,
    )
    rows = {(row.level, row.tier): row for row in sla.targets}
    width = max(len(level) for level in matrix.levels)
    cell = 15
    lines.append("  " + " " * width + "".join(f"  {tier[:cell]:<{cell}}" for tier in matrix.tiers))
    for level in matrix.levels:
        cells = []
        for tier in matrix.tiers:
            texts = [_target(rows, level, tier, metric) for metric in _METRICS]
            cells.append(f"  {'/'.join(texts)[:cell]:<{cell}}")
        lines.append(f"  {level:<{width}}" + "".join(cells))
    return lines


def _target(rows: dict, level: str, tier: str, metric: str) -> str:
    # The lookup order of escalation.sla.SlaPolicy, on the strings as written.
    for key in ((level, tier), (level, ANY), (ANY, tier), (ANY, ANY)):
        row = rows.get(key)
        if row is not None and getattr(row, metric) is not None:
            return str(getattr(row, metric))
    return "-"
