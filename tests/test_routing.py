"""Owner routing: first matching rule, fallbacks, account placeholders, out-of-office."""

from __future__ import annotations

from datetime import datetime

import pytest

from escalation.engine import evaluate
from escalation.testing import make_account, make_ticket, small_matrix, trigger, utc

ROUTING = [
    {
        "level": "action-needed",
        "category": "contract",
        "role": "commercial",
        "primary": "{account.csm}",
        "backup": "cs-team",
    },
    {
        "level": "action-needed",
        "tier": "gold",
        "region": "EMEA",
        "role": "technical",
        "primary": "tam-emea",
        "backup": "tier3",
    },
    {
        "level": ["action-needed", "executive-review"],
        "tier": ["gold"],
        "role": "technical",
        "primary": "tam",
        "backup": "tier3",
    },
    {"level": "action-needed", "role": "technical", "primary": "tier3", "backup": "duty"},
    {"level": "executive-review", "role": "executive", "primary": "vp", "backup": "coo"},
    {"role": "technical", "primary": "tier1", "backup": "tier2"},
]
SEV1 = trigger("sev1", "action-needed", {"field": "ticket.severity", "eq": 1})
NOW = utc(2026, 7, 6, 15)


def owner_of(account=None, category="defect", severity=1, now: datetime = NOW, **overrides):
    matrix = small_matrix(routing=overrides.pop("routing", ROUTING), triggers=[SEV1], **overrides)
    ticket = make_ticket(utc(2026, 7, 6, 14), severity=severity, category=category)
    return evaluate(
        ticket, account or make_account(csm="carla@acme.example"), None, now, matrix
    ).owner


@pytest.mark.parametrize(
    ("account", "category", "severity", "role", "primary"),
    [
        (make_account(csm="carla@acme.example"), "contract", 1, "commercial", "carla@acme.example"),
        (make_account(tier="gold", region="EMEA"), "defect", 1, "technical", "tam-emea"),
        (make_account(tier="gold", region="AMER"), "defect", 1, "technical", "tam"),
        (make_account(), "defect", 1, "technical", "tier3"),
        (make_account(), "defect", 3, "technical", "tier1"),
    ],
)
def test_first_matching_rule_wins(account, category, severity, role, primary) -> None:
    owner = owner_of(account, category, severity)
    assert (owner.role, owner.primary, owner.routed_to_backup) == (role, primary, False)
    assert owner.current == primary


def test_missing_account_person_routes_to_backup() -> None:
    owner = owner_of(make_account(csm=None), "contract")
    assert owner.primary is None
    assert owner.routed_to_backup and owner.current == "cs-team"
    assert "no one" in (owner.note or "")


OUT = [{"person": "tier3", "from": "2026-07-06", "until": "2026-07-10", "note": "holiday"}]


@pytest.mark.parametrize(
    ("now", "away"),
    [
        (utc(2026, 7, 5, 23, 59), False),
        (utc(2026, 7, 6, 0, 0), True),
        (utc(2026, 7, 10, 23, 59), True),  # the last day is included
        (utc(2026, 7, 11, 0, 0), False),
    ],
)
def test_out_of_office_primary_routes_to_backup_for_whole_days(now: datetime, away: bool) -> None:
    owner = owner_of(now=now, out_of_office=OUT)
    assert owner.primary == "tier3"
    assert owner.routed_to_backup is away
    assert owner.current == ("duty" if away else "tier3")


def test_out_of_office_with_times_is_exact() -> None:
    away = [{"person": "tier3", "from": "2026-07-06T14:00:00Z", "until": "2026-07-06T16:00:00Z"}]
    assert owner_of(now=utc(2026, 7, 6, 15), out_of_office=away).routed_to_backup
    assert not owner_of(now=utc(2026, 7, 6, 16, 1), out_of_office=away).routed_to_backup


def test_backup_away_too_is_noted() -> None:
    both = OUT + [{"person": "duty", "from": "2026-07-01", "until": "2026-07-31"}]
    owner = owner_of(out_of_office=both)
    assert owner.current == "duty"
    assert "duty is out of office too" in (owner.note or "")


def test_away_primary_without_backup_stays_primary_with_a_note() -> None:
    routing = [{"role": "technical", "primary": "tier3"}]
    owner = owner_of(routing=routing, out_of_office=OUT)
    assert (owner.current, owner.routed_to_backup) == ("tier3", False)
    assert "no backup" in (owner.note or "")


def test_solved_ticket_has_no_owner() -> None:
    from mapping.records import TicketStatus

    ticket = make_ticket(utc(2026, 7, 6, 14), status=TicketStatus.SOLVED)
    assert evaluate(ticket, make_account(), None, NOW, small_matrix()).owner is None
