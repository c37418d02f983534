"""Pure: from wanted, last written and current values to the fields that must be written.

For each managed field of a record:
- the system already holds the wanted value -> nothing to write (remember it as written);
- a person changed the value since we wrote it -> an override: honour it, do not write;
- an override expires when the config says so (the ticket's level rose since it was seen);
- otherwise the wanted value is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class FieldAction(StrEnum):
    WRITE = "write"
    IN_PLACE = "in_place"  # the system already holds the wanted value
    OVERRIDE_FOUND = "override_found"  # a person changed our value: honoured from now on
    OVERRIDE_KEPT = "override_kept"  # an earlier override still holds
    OVERRIDE_EXPIRED = "override_expired"  # the override ended; the wanted value is written


@dataclass(frozen=True)
class Override:
    human_value: Any
    level_at_detection: str | None
    detected_at: datetime | None = None


# Slots: a first run plans every field of tens of thousands of records, and every one of
# these is kept until the run ends (half the objects for the collector to walk, no __dict__).
@dataclass(frozen=True, slots=True)
class FieldPlan:
    field: str
    action: FieldAction
    wanted: Any
    current: Any
    written: Any

    @property
    def needs_write(self) -> bool:
        return self.action in (FieldAction.WRITE, FieldAction.OVERRIDE_EXPIRED)


@dataclass(frozen=True, slots=True)
class RecordPlan:
    system: str
    record_id: str
    fields: list[FieldPlan] = field(default_factory=list)

    @property
    def to_write(self) -> dict[str, Any]:
        return {p.field: p.wanted for p in self.fields if p.needs_write}

    @property
    def overrides_found(self) -> list[FieldPlan]:
        return [p for p in self.fields if p.action is FieldAction.OVERRIDE_FOUND]


def same_value(a: Any, b: Any) -> bool:
    """Vendors hand back "" where we wrote nothing, and numbers as strings or floats."""
    if a in (None, "", []) and b in (None, "", []):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    return a == b


def plan_field(
    name: str,
    wanted: Any,
    written: Any,
    current: Any,
    override: Override | None,
    level_rank: int,
    rank_of_level: dict[str, int],
    overrides_expire_on_level_rise: bool,
    has_written: bool,
) -> FieldPlan:
    """Decide one field. `level_rank` is the ticket's (or record's) level now, as a rank."""
    if override is not None:
        detected_rank = rank_of_level.get(override.level_at_detection or "", -1)
        if overrides_expire_on_level_rise and level_rank > detected_rank:
            if same_value(current, wanted):
                return FieldPlan(name, FieldAction.IN_PLACE, wanted, current, written)
            return FieldPlan(name, FieldAction.OVERRIDE_EXPIRED, wanted, current, written)
        return FieldPlan(name, FieldAction.OVERRIDE_KEPT, wanted, current, written)
    if same_value(current, wanted):
        return FieldPlan(name, FieldAction.IN_PLACE, wanted, current, written)
    if has_written and not same_value(current, written):
        return FieldPlan(name, FieldAction.OVERRIDE_FOUND, wanted, current, written)
    return FieldPlan(name, FieldAction.WRITE, wanted, current, written)


def plan_record(
    system: str,
    record_id: str,
    wanted: dict[str, Any],
    written: dict[str, Any],
    current: dict[str, Any],
    overrides: dict[str, Override],
    level: str | None,
    rank_of_level: dict[str, int],
    overrides_expire_on_level_rise: bool,
) -> RecordPlan:
    if not written and not overrides:
        return RecordPlan(system, record_id, _plan_new(wanted, current))
    rank = rank_of_level.get(level or "", -1)
    plans = [
        plan_field(
            name,
            value,
            written.get(name),
            current.get(name),
            overrides.get(name),
            rank,
            rank_of_level,
            overrides_expire_on_level_rise,
            name in written,
        )
        for name, value in wanted.items()
    ]
    return RecordPlan(system, record_id, plans)


def _plan_new(wanted: dict[str, Any], current: dict[str, Any]) -> list[FieldPlan]:
    """plan_field's decisions for a record we never wrote and no person overrode (every
    record of a first run): without an override or a written value, a field is in place or
    to write. Taken apart from plan_field because a first run plans every field this way."""
    plans = []
    for name, value in wanted.items():
        held = current.get(name)
        action = FieldAction.IN_PLACE if same_value(held, value) else FieldAction.WRITE
        plans.append(FieldPlan(name, action, value, held, None))
    return plans
