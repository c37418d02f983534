"""Triggers, escalation and routing models, and `MatrixConfig`, the root of the matrix."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    AwareDatetime,
    Field,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.matrix.base import (
    ANY,
    DEFAULT_LEVELS,
    DEFAULT_ROLES,
    Duration,
    Model,
    NonEmpty,
    check_known,
    declared,
    declaring,
    unique,
    with_unknown,
)
from config.matrix.calendars import Calendar, CalendarChoice
from config.matrix.conditions import Condition, attribute
from config.matrix.sla import Sla
from vocabulary.conditions import SLA_METRICS

if TYPE_CHECKING:
    from config.matrix.accounts import AccountMatrix

Selector = StrictStr | tuple[StrictStr, ...]

# --- triggers, escalation, routing ----------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_RECENT_PLACEHOLDER = re.compile(r"^recent_tickets:(\d+)$")
_BREACHES_PLACEHOLDER = re.compile(r"^breaches:(\d+)$")


def _counted_placeholder(name: str) -> bool:
    """{recent_tickets:30}; in account triggers also {breaches:30}."""
    if _RECENT_PLACEHOLDER.match(name):
        return True
    return declared().for_accounts and bool(_BREACHES_PLACEHOLDER.match(name))


def reason_placeholders(text: str) -> list[str]:
    """The {names} a reason template uses."""
    return _PLACEHOLDER.findall(text)


class Level(Model):
    """One level. Written as its name, or as {name, renamed_from} after a rename: states,
    written values and overrides stored under an old name are read as this level, and the
    run moves fields and tags to the new name without announcing an escalation."""

    name: StrictStr
    renamed_from: tuple[StrictStr, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, given: Any) -> Any:
        return given if isinstance(given, dict) else {"name": given}

    @field_validator("renamed_from", mode="before")
    @classmethod
    def _one_old_name(cls, given: Any) -> Any:
        return (given,) if isinstance(given, str) else given

    @field_validator("renamed_from")
    @classmethod
    def _old_names_are_free(cls, old_names: tuple[str, ...]) -> tuple[str, ...]:
        names = declared()
        for old in old_names:
            if names.levels is not None and old in names.levels:
                raise ValueError(
                    f"found {old!r}, which is a level now; renamed_from names a level's old "
                    "name, one no level has any more"
                )
            if names.old_level_names.count(old) > 1:
                raise ValueError(
                    f"found {old!r} under renamed_from more than once; an old name can become "
                    "one level only"
                )
        return old_names


DEFAULT_LEVEL_ENTRIES = tuple(Level(name=name) for name in DEFAULT_LEVELS)


class Trigger(Model):
    """A named condition that, when it holds, puts the ticket at least at `level`."""

    name: str = Field(min_length=1)
    level: str
    reason: str = Field(min_length=1)
    when: Condition

    @field_validator("name")
    @classmethod
    def _unique_name(cls, name: str) -> str:
        # Checked against the raw list so every copy is reported at its own key.
        uses = declared().trigger_names.count(name)
        if uses > 1:
            raise ValueError(f"trigger name {name!r} is used {uses} times; names must be unique")
        return name

    @field_validator("level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        return check_known(level, "levels")

    @field_validator("reason")
    @classmethod
    def _known_placeholders(cls, reason: str) -> str:
        for name in reason_placeholders(reason):
            if attribute(name) is None and not _counted_placeholder(name):
                raise ValueError(
                    f"unknown placeholder {{{name}}} in reason; expected an attribute such as "
                    "{account.name}, {ticket.severity}, {days_to_renewal} or {recent_tickets:30}"
                )
        return reason


class TimedEscalation(Model):
    """PagerDuty-style: a missed acknowledge / update target moves the ticket up."""

    metrics: tuple[str, ...] = Field(("acknowledge", "next_update"), min_length=1)
    step: int = Field(1, ge=1)
    max_level: str

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: tuple[str, ...]) -> tuple[str, ...]:
        known = (*SLA_METRICS, *declared().milestones)
        for metric in metrics:
            if metric not in known:
                raise ValueError(
                    f"unknown SLA metric {metric!r}; expected one of {', '.join(known)}"
                )
        return metrics

    @field_validator("max_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        return check_known(level, "levels")


class DeEscalation(Model):
    """When an open ticket's level may fall: never, or after a quiet period."""

    policy: Literal["never", "quiet_period"] = "never"
    quiet_for: Duration | None = None  # business time without a trigger of the current level

    @model_validator(mode="after")
    def _quiet_for_with_policy(self) -> DeEscalation:
        if self.policy == "quiet_period" and self.quiet_for is None:
            raise ValueError("policy quiet_period needs quiet_for, e.g. quiet_for: 8h")
        if self.policy == "never" and self.quiet_for is not None:
            raise ValueError("quiet_for only applies with policy: quiet_period")
        return self


_OWNER_PLACEHOLDERS = ("account.owner", "account.csm")


def _selector(value: Any, kind: str) -> Any:
    for name in value if isinstance(value, tuple) else (value,):
        check_known(name, kind, wildcard=True)
    return value


class RoutingRule(Model):
    """Who owns tickets at these levels/categories/tiers/regions; the first match wins."""

    level: Selector = ANY
    category: Selector = ANY
    tier: Selector = ANY
    region: Selector = ANY
    role: str
    primary: str = Field(min_length=1)
    backup: str | None = None

    @field_validator("level", "category", "tier", "region")
    @classmethod
    def _known_names(cls, value: Any, info: ValidationInfo) -> Any:
        plural = {"category": "categories"}.get(info.field_name or "", f"{info.field_name}s")
        return _selector(value, plural)

    @field_validator("role")
    @classmethod
    def _known_role(cls, role: str) -> str:
        return check_known(role, "roles")

    @field_validator("primary", "backup")
    @classmethod
    def _known_placeholder(cls, owner: str | None) -> str | None:
        for name in reason_placeholders(owner or ""):
            if name not in _OWNER_PLACEHOLDERS:
                raise ValueError(
                    f"unknown placeholder {{{name}}}; an owner may be a person, a queue, "
                    "{account.owner} or {account.csm}"
                )
        return owner

    def matches_everything_but_level(self) -> bool:
        return all(value == ANY for value in (self.category, self.tier, self.region))


class OutOfOffice(Model):
    """A person away from `from` to `until` (dates are whole UTC days, both included)."""

    person: str = Field(min_length=1)
    from_: date | AwareDatetime = Field(alias="from")
    until: date | AwareDatetime
    note: str | None = None

    @model_validator(mode="after")
    def _until_not_before_from(self) -> OutOfOffice:
        start, end = self.from_, self.until
        if type(start) is type(end) and end < start:
            raise ValueError(
                f"found until {end} before from {start}; expected until on or after from"
            )
        return self


def owner_for_every_level(rules: tuple[RoutingRule, ...]) -> tuple[RoutingRule, ...]:
    """Every declared level has a fallback rule (no category, tier or region)."""
    levels = declared().levels or ()
    orphans = [
        level
        for level in levels
        if not any(
            rule.matches_everything_but_level()
            and (rule.level == ANY or level == rule.level or level in rule.level)
            for rule in rules
        )
    ]
    if orphans:
        raise ValueError(
            f"no owner for level {', '.join(orphans)}: each level needs a routing rule with "
            "category, tier and region all '*' (or left out) as its fallback"
        )
    return rules


class MatrixConfig(Model):
    """The whole escalation matrix (the `matrix:` key of the config)."""

    # Lowest first; read them as `levels` (names) and `renamed` (old name -> level).
    level_entries: tuple[Level, ...] = Field(DEFAULT_LEVEL_ENTRIES, alias="levels", min_length=1)
    tiers: tuple[str, ...] = Field(min_length=1)
    categories: tuple[str, ...] | None = None  # when given, category names are checked
    regions: tuple[str, ...] | None = None  # when given, region names are checked
    roles: tuple[str, ...] = Field(DEFAULT_ROLES, min_length=1)
    calendars: dict[str, Calendar] = Field(min_length=1)
    calendar_for: CalendarChoice | None = None  # may be left out when there is one calendar
    sla: Sla
    triggers: tuple[Trigger, ...] = ()
    timed_escalation: TimedEscalation | None = None
    de_escalation: DeEscalation = DeEscalation()
    routing: NonEmpty[tuple[RoutingRule, ...]]
    out_of_office: tuple[OutOfOffice, ...] = ()
    # The account-level matrix (config/matrix/accounts.py); None: accounts are not escalated.
    accounts: AccountMatrix | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _with_declared_names(cls, data: Any, handler: Any) -> MatrixConfig:
        with declaring(data):
            return handler(data)

    @field_validator("level_entries")
    @classmethod
    def _unique_levels(cls, entries: tuple[Level, ...]) -> tuple[Level, ...]:
        unique(tuple(entry.name for entry in entries), "level")
        return entries

    @property
    def levels(self) -> tuple[str, ...]:
        """The level names, lowest first."""
        return tuple(entry.name for entry in self.level_entries)

    @property
    def renamed(self) -> dict[str, str]:
        """Old level name -> the level it is now (from the levels' renamed_from)."""
        return {old: entry.name for entry in self.level_entries for old in entry.renamed_from}

    @field_validator("tiers")
    @classmethod
    def _unique_tiers(cls, tiers: tuple[str, ...]) -> tuple[str, ...]:
        return with_unknown(unique(tiers, "tier"))

    @field_validator("categories", "regions", "roles")
    @classmethod
    def _unique_names(cls, names: tuple[str, ...] | None, info: ValidationInfo) -> Any:
        return None if names is None else unique(names, (info.field_name or "").rstrip("s"))

    @field_validator("routing")
    @classmethod
    def _owner_for_every_level(cls, rules: tuple[RoutingRule, ...]) -> tuple[RoutingRule, ...]:
        return owner_for_every_level(rules)

    @model_validator(mode="after")
    def _calendar_choice(self) -> MatrixConfig:
        if self.calendar_for is None and len(self.calendars) != 1:
            raise ValueError(
                f"calendar_for is needed when there are {len(self.calendars)} calendars; "
                "expected calendar_for: {default: <calendar name>}"
            )
        return self
