"""Builders for tests of the engine and of what consumes its decisions (not used at run time).

`small_matrix(**overrides)` is a matrix with round numbers, easy to work out by hand:
- calendars: "berlin" (Europe/Berlin, Mon-Fri 09:00-17:00, German + Berlin holidays),
  "new-york" (America/New_York, Mon-Fri 09:00-17:00, US holidays), "always" (24x7 UTC);
  tier gold -> always, region EMEA -> berlin, else new-york. "1d" = 8h on the office calendars.
- SLA: every level/tier acknowledge 4h, next_update 8h, resolve 2d; action-needed 1h / 2h / 1d;
  at risk with 25% left; pending and on_hold pause every metric.
- no triggers, no timed escalation, de-escalation never; one owner queue per level.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from config.matrix import MatrixConfig
from mapping.records import Account, Ticket, TicketStatus

_WEEKDAYS_9_TO_5 = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}

SMALL_MATRIX: dict[str, Any] = {
    "levels": ["none", "informational", "advisory", "action-needed", "executive-review"],
    "tiers": ["gold", "silver"],
    "categories": ["outage", "defect", "contract", "question"],
    "regions": ["EMEA", "AMER"],
    "calendars": {
        "berlin": {
            "time_zone": "Europe/Berlin",
            "hours": _WEEKDAYS_9_TO_5,
            "holidays": {"country": "DE", "subdivision": "BE"},
        },
        "new-york": {
            "time_zone": "America/New_York",
            "hours": _WEEKDAYS_9_TO_5,
            "holidays": {"country": "US"},
        },
        "always": {"time_zone": "UTC", "always_open": True},
    },
    "calendar_for": {
        "by_tier": {"gold": "always"},
        "by_region": {"EMEA": "berlin"},
        "default": "new-york",
    },
    "sla": {
        "targets": [
            {"acknowledge": "4h", "next_update": "8h", "resolve": "2d"},
            {"level": "action-needed", "acknowledge": "1h", "next_update": "2h", "resolve": "1d"},
        ]
    },
    "triggers": [],
    "routing": [
        {"level": "executive-review", "role": "executive", "primary": "vp", "backup": "coo"},
        {"level": "action-needed", "role": "technical", "primary": "tier3", "backup": "duty"},
        {"role": "technical", "primary": "tier1", "backup": "tier2"},
    ],
}


def small_matrix_dict(**overrides: Any) -> dict[str, Any]:
    """SMALL_MATRIX as a fresh dict with top-level keys replaced."""
    raw = copy.deepcopy(SMALL_MATRIX)
    raw.update(copy.deepcopy(overrides))
    return raw


def small_matrix(**overrides: Any) -> MatrixConfig:
    """SMALL_MATRIX validated, with top-level keys replaced."""
    return MatrixConfig.model_validate(small_matrix_dict(**overrides))


def trigger(name: str, level: str, when: dict[str, Any], reason: str | None = None) -> dict:
    return {"name": name, "level": level, "reason": reason or f"{name} fired", "when": when}


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """utc(2026, 3, 2, 9) -> 2026-03-02 09:00 UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def make_ticket(created_at: datetime, **fields: Any) -> Ticket:
    values: dict[str, Any] = {
        "system": "zendesk",
        "id": "1",
        "subject": "Something is wrong",
        "status": TicketStatus.OPEN,
        "created_at": created_at,
        "updated_at": created_at,
    }
    values.update(fields)
    return Ticket(**values)


def make_account(**fields: Any) -> Account:
    values: dict[str, Any] = {"id": "acc-1", "name": "Globex", "tier": "silver"}
    values.update(fields)
    return Account(**values)
