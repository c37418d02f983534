"""SLA targets by level x tier, at-risk threshold, and which statuses pause the clock."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr, field_validator, model_validator

from config.matrix.base import ANY, Duration, Model, NonEmpty, check_known, declared
from vocabulary.attributes import TicketStatus
from vocabulary.conditions import SLA_METRICS, SlaMetric
from vocabulary.durations import parse_percent, parse_positive_duration

Metric = SlaMetric
_CLAUSES = ("tag_added", "linked_status_reached", "field_set")


class MilestoneClause(Model):
    """One way a milestone is reached, read from the ticket's history (the state store keeps
    its field changes) and its linked Jira issues'; reached at the earliest such change.

    tag_added: the ticket got this tag (Zendesk tags, Jira labels).
    linked_status_reached: a linked Jira issue moved to this status (its name, any case).
    field_set: this field got a value (a Jira field's name, a Zendesk field's id).
    """

    tag_added: StrictStr | None = Field(None, min_length=1)
    linked_status_reached: StrictStr | None = Field(None, min_length=1)
    field_set: StrictStr | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_clause(self) -> MilestoneClause:
        given = [name for name in _CLAUSES if getattr(self, name) is not None]
        if len(given) != 1:
            found = ", ".join(given) or "none of them"
            raise ValueError(f"expected exactly one of {', '.join(_CLAUSES)}, found {found}")
        return self


class Milestone(Model):
    """A further SLA milestone (diagnosis, interim fix, ...): counted from creation like resolve,
    met by the first of its `met_when` clauses to happen; targets by level x tier in the rows'
    `milestones` map."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    met_when: NonEmpty[tuple[MilestoneClause, ...]]
    pause: bool = True  # whether pause_statuses stop its clock

    @field_validator("name")
    @classmethod
    def _not_built_in(cls, name: str) -> str:
        if name in SLA_METRICS:
            raise ValueError(f"{name!r} is a built-in SLA metric; give the milestone another name")
        uses = declared().milestones.count(name)
        if uses > 1:
            raise ValueError(f"milestone name {name!r} is used {uses} times; names must be unique")
        return name


class SlaTarget(Model):
    """Targets for one level x tier ("*" matches any).

    The most specific row wins: level+tier, level+"*", "*"+tier, "*"+"*". A metric a row
    leaves out falls back to the next row in that order; no row giving it = not tracked.
    """

    level: str = ANY
    tier: str = ANY
    acknowledge: Duration | None = None
    next_update: Duration | None = None
    resolve: Duration | None = None
    milestones: dict[str, Duration] = {}  # milestone name -> target (sla.milestones)

    @field_validator("milestones")
    @classmethod
    def _known_milestones(cls, targets: dict[str, str]) -> dict[str, str]:
        names = declared().milestones
        for name in targets:
            if name not in names:
                known = ", ".join(names) or "none are declared"
                raise ValueError(
                    f"unknown milestone {name!r}; expected one of {known} (sla.milestones)"
                )
        return targets

    def target(self, metric: str) -> str | None:
        """This row's target for a metric or milestone; None when the row leaves it out."""
        if metric in SLA_METRICS:
            return getattr(self, metric)
        return self.milestones.get(metric)

    @field_validator("level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        return check_known(level, "levels", wildcard=True)

    @field_validator("tier")
    @classmethod
    def _known_tier(cls, tier: str) -> str:
        return check_known(tier, "tiers", wildcard=True)


def _at_risk(text: str) -> str:
    fraction = parse_percent(text)
    if fraction is None:
        try:
            parse_positive_duration(text)
        except ValueError:
            raise ValueError(
                f"expected a share of the target like '25%' or a duration like '2h', found {text!r}"
            ) from None
    elif not 0 < fraction < 1:
        raise ValueError(f"expected a percentage between 0% and 100%, found {text!r}")
    return text


class Sla(Model):
    # Which systems' tickets run SLA clocks. Support tickets do; engineering issues usually
    # follow the customer's ticket instead (they carry its level through the link).
    systems: tuple[Literal["zendesk", "jira"], ...] = ("zendesk", "jira")
    pause_statuses: tuple[TicketStatus, ...] = (TicketStatus.PENDING, TicketStatus.ON_HOLD)
    pause_applies_to: tuple[Metric, ...] = SLA_METRICS
    at_risk_when_remaining: Annotated[str, AfterValidator(_at_risk)] = "25%"
    milestones: tuple[Milestone, ...] = ()
    targets: NonEmpty[tuple[SlaTarget, ...]]

    @field_validator("pause_statuses")
    @classmethod
    def _pausable(cls, statuses: tuple[TicketStatus, ...]) -> tuple[TicketStatus, ...]:
        for status in statuses:
            if not status.is_open:
                raise ValueError(f"{status.value} ends the ticket; only open statuses can pause")
        return statuses

    @field_validator("targets")
    @classmethod
    def _every_level_and_tier(cls, targets: tuple[SlaTarget, ...]) -> tuple[SlaTarget, ...]:
        seen: dict[tuple[str, str], int] = {}
        for index, target in enumerate(targets):
            key = (target.level, target.tier)
            if key in seen:
                raise ValueError(
                    f"targets[{seen[key]}] and targets[{index}] are both for level "
                    f"{key[0]!r}, tier {key[1]!r}; each pair must appear once"
                )
            seen[key] = index
        declared_names = declared()
        if declared_names.levels is None or declared_names.tiers is None:
            return targets
        missing = [
            f"{level}/{tier}"
            for level in declared_names.levels
            for tier in declared_names.tiers
            if not any((lvl, tr) in seen for lvl in (level, ANY) for tr in (tier, ANY))
        ]
        if missing:
            raise ValueError(
                f"no SLA target for level/tier {', '.join(missing)}; add rows for them or a row "
                "with tier '*' (or level '*') as a fallback"
            )
        return targets
