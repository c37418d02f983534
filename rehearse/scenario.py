"""A drill scenario: one account, one ticket and what happens to it, at times from the start.

    scenario:
      name: Severity-1 outage at a strategic account renewing in 20 days
      start: 2026-03-02T09:00:00Z     # when the ticket is opened
      run_every: 5m                   # the simulated cron (default 5m, as the README's)
      until: 2d                       # how long to run after the start (default: last step + 1d)
      account: {name: Northwind, tier: strategic, region: EMEA, arr: 900000, renewal_in_days: 20}
      ticket: {subject: Checkout down, category: outage, severity: 1}
      steps:
        - {after: 2h, customer_reply: true, note: the customer chases}
        - {after: 2h30m, agent_reply: true, status: pending}

Durations here are wall-clock time: 1d is 24 hours (the matrix's business days do not apply
to what happens, only to the targets). Read like the config: YAML 1.2, every problem at once
with file, key path and line, a tier or category the matrix does not declare refused.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from pydantic import AwareDatetime, Field, StrictStr, ValidationError, field_validator

from config.errors import ConfigError, ConfigProblem
from config.matrix import MatrixConfig
from config.matrix.base import Model
from config.problems import problems_from_validation
from config.source_map import SourceMap
from config.yaml_file import read_yaml_file
from mapping.records import TicketStatus
from vocabulary.durations import parse_duration


def wall_seconds(text: str) -> float:
    """A scenario duration in seconds of wall-clock time (1d = 24 hours)."""
    duration = parse_duration(text)
    return float(duration.days * 86400 + duration.seconds)


def _duration(value: str) -> str:
    wall_seconds(value)  # raises ValueError with what is expected
    return value


class ScenarioAccount(Model):
    id: StrictStr = "001DRILL"
    name: StrictStr = "Drill account"
    tier: StrictStr
    region: StrictStr | None = None
    arr: float | None = None
    renewal_in_days: int | None = None
    renewal_date: date | None = None
    owner: StrictStr | None = None
    csm: StrictStr | None = None
    health: StrictStr | None = None


class ScenarioTicket(Model):
    id: StrictStr = "1"
    system: StrictStr = "zendesk"
    subject: StrictStr = "Drill ticket"
    category: StrictStr | None = None
    severity: int | None = Field(None, ge=1, le=5)
    tags: tuple[StrictStr, ...] = ()
    status: TicketStatus = TicketStatus.NEW


class ScenarioStep(Model):
    """What happens `after` this long from the start; every key but `after` is optional."""

    after: StrictStr
    note: StrictStr | None = None
    agent_reply: bool = False  # an agent answers: the first response, then each update
    customer_reply: bool = False  # the customer writes: a pending ticket opens again
    status: TicketStatus | None = None
    severity: int | None = Field(None, ge=1, le=5)
    category: StrictStr | None = None
    tags: tuple[StrictStr, ...] | None = None

    _after = field_validator("after")(_duration)


class Scenario(Model):
    name: StrictStr
    start: AwareDatetime
    run_every: StrictStr = "5m"
    until: StrictStr | None = None
    account: ScenarioAccount
    ticket: ScenarioTicket
    steps: tuple[ScenarioStep, ...] = ()

    _durations = field_validator("run_every", "until")(
        lambda value: _duration(value) if value is not None else None
    )


class ScenarioFile(Model):
    scenario: Scenario


def load_scenario(path: str | Path, matrix: MatrixConfig) -> Scenario:
    """Read and check a scenario file; raise ConfigError with every problem found."""
    file = Path(path)
    sources = SourceMap(str(file))
    problems: list[ConfigProblem] = []
    if not file.is_file():
        raise ConfigError(
            [ConfigProblem(str(file), "(file)", "not found; expected a scenario YAML file")]
        )
    data = read_yaml_file(file, sources, problems)
    if problems:
        raise ConfigError(problems)
    try:
        scenario = ScenarioFile.model_validate(data).scenario
    except ValidationError as error:
        raise ConfigError(problems_from_validation(error, sources, ScenarioFile)) from None
    problems = _against_matrix(scenario, matrix, sources)
    if problems:
        raise ConfigError(problems)
    return scenario


def _against_matrix(
    scenario: Scenario, matrix: MatrixConfig, sources: SourceMap
) -> list[ConfigProblem]:
    problems = []
    if scenario.account.tier not in matrix.tiers:
        expected = ", ".join(matrix.tiers)
        message = (
            f"unknown tier {scenario.account.tier!r}; expected one of {expected} (matrix.tiers)"
        )
        problems.append(sources.problem(("scenario", "account", "tier"), message))
    categories = matrix.categories
    wanted = [(("scenario", "ticket", "category"), scenario.ticket.category)]
    wanted += [
        (("scenario", "steps", i, "category"), s.category) for i, s in enumerate(scenario.steps)
    ]
    for path, category in wanted:
        if categories is not None and category is not None and category not in categories:
            message = f"unknown category {category!r}; expected one of {', '.join(categories)} (matrix.categories)"
            problems.append(sources.problem(path, message))
    if wall_seconds(scenario.run_every) < 60:
        problems.append(
            sources.problem(
                ("scenario", "run_every"), f"found {scenario.run_every}; expected 1m or more"
            )
        )
    return problems


def renewal(account: ScenarioAccount, start: date) -> date | None:
    """The renewal date: as written, or `renewal_in_days` after the start."""
    if account.renewal_date is not None:
        return account.renewal_date
    return (
        start + timedelta(days=account.renewal_in_days)
        if account.renewal_in_days is not None
        else None
    )
