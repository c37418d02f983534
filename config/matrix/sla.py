"""SLA targets by level x tier, at-risk threshold, and which statuses pause the clock."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, field_validator

from config.matrix.base import ANY, Duration, Model, NonEmpty, check_known, declared
from vocabulary.attributes import TicketStatus
from vocabulary.conditions import SLA_METRICS, SlaMetric
from vocabulary.durations import parse_percent, parse_positive_duration

Metric = SlaMetric


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
