"""What only compiling a validated matrix shows: targets that never come due, and SLA tables
that are surely not what was meant.

`validate` runs this so that whatever it accepts also runs: every calendar is built over the
window the engine uses (from `now`), and one due time is computed per SLA target and calendar
the target can run in, exactly as the engine would. Pure: same matrix and `now`, same findings.

- errors: an SLA target that does not come due within the window the engine builds ahead of
  `now` (3 years; a calendar open one minute a week with `working_day: 24h`): runs would grow
  the window for a century and then fail with "no business time left".
- warnings: escalating loosens a target (a level+"*" row beats a "*"+tier row); a duration
  `at_risk_when_remaining` at or above a target (at risk from birth); a timed escalation
  ceiling at the lowest level; an out-of-office person no routing rule names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from config.matrix import ANY, MatrixConfig
from escalation.calendar import HORIZON_AHEAD, AlwaysOpen, Clock
from escalation.compiled import CompiledMatrix
from vocabulary.durations import format_seconds, parse_percent

Finding = tuple[tuple[str | int, ...], str]  # key path inside `matrix:`, message


@dataclass
class MatrixFindings:
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)


def check_matrix(config: MatrixConfig, now: float) -> MatrixFindings:
    """Errors (the run would fail) and warnings (it runs, but surely not as meant)."""
    findings = MatrixFindings()
    compiled = CompiledMatrix(config)  # not the engine's cached one: its windows stay as they are
    for name, clock in compiled.clocks.items():
        try:
            clock.is_open(now)  # builds the calendar over the engine's window around `now`
        except (ValueError, OverflowError) as error:
            findings.errors.append((("calendars", name), f"cannot be built: {error}"))
    findings.errors += _never_due(config, compiled, now)
    findings.warnings += _loosening(config, compiled)
    findings.warnings += _at_risk_from_birth(config, compiled)
    findings.warnings += _ceiling_at_lowest(config)
    findings.warnings += _away_but_never_routed(config)
    return findings


# --- where targets come from ------------------------------------------------------------


def _clocks_for(config: MatrixConfig, compiled: CompiledMatrix, tier: str) -> list[Clock]:
    """Every calendar a ticket of this tier may run in (by tier, else any region, else default)."""
    choice = config.calendar_for
    if choice is None:
        return list(compiled.clocks.values())
    if tier in choice.by_tier:
        names = [choice.by_tier[tier]]
    else:
        names = [*choice.by_region.values(), choice.default]
    return [compiled.clocks[name] for name in dict.fromkeys(names)]


def _row_giving(config: MatrixConfig, level: str, tier: str, metric: str) -> int | None:
    """Index of the SLA row that gives `metric` at level x tier (the most specific wins)."""
    rows = {(row.level, row.tier): index for index, row in enumerate(config.sla.targets)}
    for key in ((level, tier), (level, ANY), (ANY, tier), (ANY, ANY)):
        index = rows.get(key)
        if index is not None and config.sla.targets[index].target(metric) is not None:
            return index
    return None


@dataclass(frozen=True)
class _Target:
    level: int
    tier: str
    clock: Clock
    metric: str
    seconds: float
    at_risk: float
    row: int


def _targets(config: MatrixConfig, compiled: CompiledMatrix) -> Iterator[_Target]:
    """Every tracked target, per level (lowest first), tier and calendar it may run in."""
    for tier in config.tiers:
        for clock in _clocks_for(config, compiled, tier):
            for index, level in enumerate(config.levels):
                for metric, seconds, at_risk in compiled.sla.targets(level, tier, clock):
                    row = _row_giving(config, level, tier, metric)
                    assert row is not None  # the policy found the metric in some row
                    yield _Target(index, tier, clock, metric, seconds, at_risk, row)


def _open_per_week(clock: Clock) -> str:
    if isinstance(clock, AlwaysOpen):
        return "always"
    minutes = sum((end - start) % 1440 or 1440 for spans in clock.week for start, end in spans)
    return f"{format_seconds(minutes * 60.0)} a week"


# --- errors -----------------------------------------------------------------------------


def _never_due(config: MatrixConfig, compiled: CompiledMatrix, now: float) -> list[Finding]:
    """Calendars in which a target does not come due within the window the engine builds."""
    late: dict[str, dict[tuple[int, str], str]] = {}  # calendar -> (row, metric) -> text
    available: dict[str, float] = {}
    for target in _targets(config, compiled):
        clock = target.clock
        if clock.name not in available:
            # Inside the window built above: no lookup here grows it.
            available[clock.name] = clock.between(now, now + HORIZON_AHEAD)
        if target.seconds > available[clock.name]:
            text = config.sla.targets[target.row].target(target.metric)
            where = f"{text} (targets[{target.row}].{target.metric})"
            late.setdefault(clock.name, {})[(target.row, target.metric)] = where
    findings: list[Finding] = []
    for name, targets in late.items():
        clock = compiled.clocks[name]
        listed = [targets[key] for key in sorted(targets)]
        more = f" and {len(listed) - 3} more" if len(listed) > 3 else ""
        findings.append(
            (
                ("calendars", name),
                f"open {_open_per_week(clock)} with a working day of "
                f"{format_seconds(clock.working_day_seconds)}: the targets "
                f"{', '.join(listed[:3])}{more} do not come due within "
                f"{_years(HORIZON_AHEAD)} years; expected longer "
                "opening hours, a shorter working_day or shorter targets",
            )
        )
    return findings


def _years(seconds: float) -> int:
    return round(seconds / (365.25 * 86400))


# --- warnings ---------------------------------------------------------------------------


def _loosening(config: MatrixConfig, compiled: CompiledMatrix) -> list[Finding]:
    """A higher level with a longer target than a lower one, for the same tier and metric."""
    looser: dict[tuple[int, str, int], dict[str, None]] = {}  # row, metric, level -> examples
    tightest: dict[tuple[str, str, str], _Target] = {}
    rows = config.sla.targets
    for target in _targets(config, compiled):  # lowest level first
        key = (target.tier, target.clock.name, target.metric)
        best = tightest.get(key)
        if best is None or target.seconds < best.seconds:
            tightest[key] = target
        elif target.seconds > best.seconds:
            lower = config.levels[best.level]
            example = f"{target.tier} {rows[best.row].target(target.metric)} at {lower} (targets[{best.row}])"
            looser.setdefault((target.row, target.metric, target.level), {})[example] = None
    findings: list[Finding] = []
    for (row, metric, level), examples in looser.items():
        findings.append(
            (
                ("sla", "targets", row, metric),
                f"escalating loosens {metric}: this row gives level {config.levels[level]} "
                f"{rows[row].target(metric)}, more than a lower level gives: "
                f"{', '.join(examples)}; a level+'*' row beats a '*'+tier row, so expected "
                f"rows for level {config.levels[level]} and those tiers at least as tight",
            )
        )
    return findings


def _at_risk_from_birth(config: MatrixConfig, compiled: CompiledMatrix) -> list[Finding]:
    """A fixed at-risk threshold at or above a target: those tickets are at risk when opened."""
    if parse_percent(config.sla.at_risk_when_remaining) is not None:
        return []  # a share of the target is always below it
    hit: dict[tuple[int, str], str] = {}
    for target in _targets(config, compiled):
        if target.at_risk >= target.seconds:
            text = config.sla.targets[target.row].target(target.metric)
            hit[(target.row, target.metric)] = f"{text} (targets[{target.row}].{target.metric})"
    if not hit:
        return []
    return [
        (
            ("sla", "at_risk_when_remaining"),
            f"{config.sla.at_risk_when_remaining} is at or above the targets "
            f"{', '.join(hit[key] for key in sorted(hit))}: "
            "those tickets are at risk from the moment they open; expected less than every "
            "target, or a share such as 25%",
        )
    ]


def _ceiling_at_lowest(config: MatrixConfig) -> list[Finding]:
    timed = config.timed_escalation
    if timed is None or timed.max_level != config.levels[0]:
        return []
    return [
        (
            ("timed_escalation", "max_level"),
            f"'{timed.max_level}' is the lowest level, so timed escalation never moves a ticket "
            "up; expected a higher level (or no timed_escalation)",
        )
    ]


def _away_but_never_routed(config: MatrixConfig) -> list[Finding]:
    named = {person for rule in config.routing for person in (rule.primary, rule.backup)}
    personal = any("{" in (person or "") for person in named)
    findings: list[Finding] = []
    for index, entry in enumerate(config.out_of_office):
        if entry.person in named:
            continue
        hint = (
            " (or an account owner or CSM that {account.owner} / {account.csm} names)"
            if personal
            else ""
        )
        findings.append(
            (
                ("out_of_office", index, "person"),
                f"'{entry.person}' is named in no routing rule, so being away changes no "
                f"owner; expected the primary or backup of a rule{hint}",
            )
        )
    return findings


__all__ = ["Finding", "MatrixFindings", "check_matrix"]
