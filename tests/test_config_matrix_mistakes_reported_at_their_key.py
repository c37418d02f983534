"""Validation of the `matrix:` section: each mistake is reported at the key that holds it,
saying what was found and what is expected, and all mistakes are reported at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from config.matrix import MatrixConfig
from escalation.testing import small_matrix_dict, trigger

ROOT = Path(__file__).resolve().parent.parent


def problems(raw: dict[str, Any]) -> dict[str, str]:
    """loc path -> message, for a matrix that must be refused."""
    with pytest.raises(ValidationError) as refused:
        MatrixConfig.model_validate(raw)
    return {
        ".".join(str(part) for part in error["loc"]): error["msg"]
        for error in refused.value.errors()
    }


@pytest.mark.parametrize("path", ["config/example/matrix.yaml", "config/minimal/matrix.yaml"])
def test_shipped_matrices_are_valid(path: str) -> None:
    raw = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    matrix = MatrixConfig.model_validate(raw["matrix"])
    assert matrix.routing and matrix.sla.targets


def test_unknown_key_is_refused() -> None:
    raw = small_matrix_dict()
    raw["trigers"] = []
    assert "trigers" in problems(raw)


def test_a_trigger_naming_an_unknown_level_is_reported_with_the_known_ones() -> None:
    found = problems(
        small_matrix_dict(triggers=[trigger("t", "urgent", {"field": "ticket.severity", "eq": 1})])
    )
    assert "unknown level 'urgent'" in found["triggers.0.level"]
    assert (
        "none, informational, advisory, action-needed, executive-review"
        in found["triggers.0.level"]
    )


def test_duplicate_trigger_names_are_reported_at_each_copy() -> None:
    same = trigger("sev1", "advisory", {"field": "ticket.severity", "eq": 1})
    found = problems(small_matrix_dict(triggers=[same, same]))
    assert "used 2 times" in found["triggers.0.name"]
    assert "used 2 times" in found["triggers.1.name"]


def test_duplicate_levels_are_refused() -> None:
    assert (
        "duplicate level 'advisory'"
        in problems(small_matrix_dict(levels=["none", "advisory", "advisory"]))["levels"]
    )


def test_a_level_no_routing_rule_covers_is_reported_as_without_an_owner() -> None:
    found = problems(
        small_matrix_dict(routing=[{"level": "none", "role": "technical", "primary": "q"}])
    )
    assert (
        "no owner for level informational, advisory, action-needed, executive-review"
        in found["routing"]
    )


def test_a_routing_rule_naming_unknown_values_is_reported_at_each_key() -> None:
    routing = small_matrix_dict()["routing"] + [
        {
            "level": "urgent",
            "category": "outtage",
            "tier": ["gold", "platinum"],
            "region": "Mars",
            "role": "wizard",
            "primary": "q",
        }
    ]
    found = problems(small_matrix_dict(routing=routing))
    assert "unknown level 'urgent'" in found["routing.3.level"]
    assert "unknown category 'outtage'" in found["routing.3.category"]
    assert "unknown tier 'platinum'" in found["routing.3.tier"]
    assert "unknown region 'Mars'" in found["routing.3.region"]
    assert "unknown role 'wizard'" in found["routing.3.role"]


def test_owner_placeholder_must_be_an_account_person() -> None:
    routing = [{"role": "technical", "primary": "{account.name}"}]
    assert (
        "{account.owner} or {account.csm}"
        in problems(small_matrix_dict(routing=routing))["routing.0.primary"]
    )


def test_an_unknown_time_zone_is_reported_at_its_calendar() -> None:
    raw = small_matrix_dict()
    raw["calendars"]["berlin"]["time_zone"] = "Europe/Berlim"
    assert "unknown time zone 'Europe/Berlim'" in problems(raw)["calendars.berlin.time_zone"]


def test_calendar_for_naming_unknown_tiers_or_calendars_is_reported_at_each_key() -> None:
    found = problems(
        small_matrix_dict(
            calendar_for={
                "by_tier": {"platinum": "always"},
                "by_region": {"EMEA": "paris"},
                "default": "tokyo",
            }
        )
    )
    assert "unknown tier 'platinum'" in found["calendar_for.by_tier"]
    assert "unknown calendar 'paris'" in found["calendar_for.by_region"]
    assert "unknown calendar 'tokyo'" in found["calendar_for.default"]


def test_several_calendars_need_a_choice() -> None:
    raw = small_matrix_dict()
    del raw["calendar_for"]
    assert "calendar_for is needed when there are 3 calendars" in problems(raw)[""]


@pytest.mark.parametrize(
    ("calendar", "key", "message"),
    [
        (
            {"time_zone": "UTC", "hours": {"mon": ["8:00-18:00"]}},
            "hours.mon.0",
            "expected opening hours like '08:00-18:00'",
        ),
        ({"time_zone": "UTC", "hours": {"mon": ["08:00-08:00"]}}, "hours.mon.0", "00:00-24:00"),
        ({"time_zone": "UTC", "hours": {"monday": ["08:00-18:00"]}}, "hours.monday.[key]", "'mon'"),
        ({"time_zone": "UTC", "hours": {}}, "", "at least one weekday"),
        (
            {"time_zone": "UTC", "always_open": True, "hours": {"mon": ["08:00-18:00"]}},
            "",
            "always_open calendars take no hours",
        ),
        (
            {"time_zone": "UTC", "hours": {"mon": ["08:00-18:00"]}, "holidays": {"country": "XX"}},
            "holidays.country",
            "unknown country 'XX'",
        ),
        (
            {
                "time_zone": "UTC",
                "hours": {"mon": ["08:00-18:00"]},
                "holidays": {"country": "DE", "subdivision": "ZZ"},
            },
            "holidays",
            "unknown subdivision 'ZZ' of DE",
        ),
        (
            {"time_zone": "UTC", "hours": {"mon": ["08:00-18:00"]}, "working_day": "8 hours"},
            "working_day",
            "expected a duration like '30m'",
        ),
    ],
)
def test_a_calendar_mistake_is_reported_at_its_key_with_the_expected_form(
    calendar: dict, key: str, message: str
) -> None:
    raw = small_matrix_dict()
    raw["calendars"]["berlin"] = calendar
    found = problems(raw)
    where = "calendars.berlin" + (f".{key}" if key else "")
    assert message in found[where], found


def test_an_sla_target_for_an_unknown_level_or_tier_is_reported_at_its_key() -> None:
    raw = small_matrix_dict()
    raw["sla"]["targets"].append({"level": "urgent", "tier": "platinum", "resolve": "1d"})
    found = problems(raw)
    assert "unknown level 'urgent'" in found["sla.targets.2.level"]
    assert "unknown tier 'platinum'" in found["sla.targets.2.tier"]


def test_sla_targets_must_cover_every_level_and_tier_once() -> None:
    raw = small_matrix_dict()
    raw["sla"]["targets"] = [{"tier": "gold", "resolve": "1d"}, {"tier": "gold", "resolve": "2d"}]
    assert (
        "targets[0] and targets[1] are both for level '*', tier 'gold'"
        in problems(raw)["sla.targets"]
    )
    raw["sla"]["targets"] = [{"tier": "gold", "resolve": "1d"}]
    assert "no SLA target for level/tier none/silver" in problems(raw)["sla.targets"]


@pytest.mark.parametrize(
    ("sla", "key", "message"),
    [
        ({"at_risk_when_remaining": "125%"}, "at_risk_when_remaining", "between 0% and 100%"),
        ({"at_risk_when_remaining": "soon"}, "at_risk_when_remaining", "like '25%'"),
        ({"pause_statuses": ["closed"]}, "pause_statuses", "only open statuses can pause"),
        ({"pause_statuses": ["waiting"]}, "pause_statuses.0", "Input should be"),
    ],
)
def test_an_sla_setting_out_of_range_or_unknown_is_reported_at_its_key(
    sla: dict, key: str, message: str
) -> None:
    raw = small_matrix_dict()
    raw["sla"].update(sla)
    assert message in problems(raw)[f"sla.{key}"]


def test_zero_and_malformed_durations_are_refused() -> None:
    raw = small_matrix_dict()
    raw["sla"]["targets"][0]["acknowledge"] = "0m"
    raw["sla"]["targets"][0]["resolve"] = "2 days"
    found = problems(raw)
    assert "greater than zero" in found["sla.targets.0.acknowledge"]
    assert "expected a duration" in found["sla.targets.0.resolve"]


def test_timed_escalation_up_to_an_unknown_level_is_reported() -> None:
    found = problems(small_matrix_dict(timed_escalation={"max_level": "critical"}))
    assert "unknown level 'critical'" in found["timed_escalation.max_level"]


def test_quiet_period_needs_a_duration() -> None:
    assert (
        "needs quiet_for"
        in problems(small_matrix_dict(de_escalation={"policy": "quiet_period"}))["de_escalation"]
    )


@pytest.mark.parametrize(
    ("when", "key", "message"),
    [
        ({"field": "ticket.sevrity", "eq": 1}, "field", "unknown attribute 'ticket.sevrity'"),
        (
            {"field": "ticket.severity", "eq": "high"},
            "eq",
            "ticket.severity is a number; found 'high'",
        ),
        ({"field": "ticket.category", "eq": "outtage"}, "eq", "unknown category 'outtage'"),
        ({"field": "account.tier", "in": ["gold", "platinum"]}, "in", "unknown tier 'platinum'"),
        ({"field": "ticket.status", "eq": "waiting"}, "eq", "one of new, open, pending"),
        ({"field": "sla.resolve", "eq": "late"}, "eq", "one of ok, at_risk, breached"),
        ({"field": "ticket.tags", "lt": 3}, "lt", "'lt' does not apply to ticket.tags"),
        (
            {"field": "ticket.category", "gt": "a"},
            "gt",
            "'gt' does not apply to ticket.category (text)",
        ),
        ({"field": "ticket.severity"}, "", "expected a comparison for ticket.severity"),
        ({"eq": 1}, "", "found none of them"),
        (
            {"field": "ticket.severity", "eq": 1, "all": [{"field": "ticket.severity", "eq": 1}]},
            "",
            "found all, field",
        ),
        ({"all": []}, "all", "at least one entry"),
        ({"recent_tickets": {"days": 30}}, "recent_tickets", "expected a comparison next to days"),
        ({"field": "recent_tickets", "ge": 3}, "field", "recent_tickets takes days"),
        ({"not": {"field": "ticket.severity", "eq": 1}, "eq": 1}, "", "eq needs a field"),
    ],
)
def test_condition_mistakes_point_at_the_key(when: dict, key: str, message: str) -> None:
    found = problems(small_matrix_dict(triggers=[trigger("t", "advisory", when)]))
    where = "triggers.0.when" + (f".{key}" if key else "")
    assert where in found, found
    assert message in found[where]


def test_nested_condition_mistake_has_its_full_path() -> None:
    when = {
        "all": [
            {"field": "ticket.severity", "eq": 1},
            {"any": [{"not": {"field": "account.arr", "ge": "lots"}}]},
        ]
    }
    found = problems(small_matrix_dict(triggers=[trigger("t", "advisory", when)]))
    assert "account.arr is a number" in found["triggers.0.when.all.1.any.0.not.ge"]


def test_a_reason_with_an_unknown_placeholder_is_reported() -> None:
    bad = trigger(
        "t", "advisory", {"field": "ticket.severity", "eq": 1}, reason="{account.nam} is upset"
    )
    assert (
        "unknown placeholder {account.nam}"
        in problems(small_matrix_dict(triggers=[bad]))["triggers.0.reason"]
    )


def test_all_mistakes_are_reported_together() -> None:
    raw = small_matrix_dict(
        triggers=[trigger("t", "urgent", {"field": "ticket.sevrity", "eq": 1})],
        timed_escalation={"max_level": "critical"},
    )
    raw["calendars"]["berlin"]["time_zone"] = "Mars/Olympus"
    assert {
        "triggers.0.level",
        "triggers.0.when.field",
        "timed_escalation.max_level",
        "calendars.berlin.time_zone",
    } <= set(problems(raw))


def test_unknown_tier_is_always_declared() -> None:
    matrix = MatrixConfig.model_validate(small_matrix_dict())
    assert matrix.tiers == ("gold", "silver", "unknown")
