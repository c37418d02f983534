"""Pure: a level a person set by hand on a ticket (or issue) is that record's level.

`sync/diff.py` decides, field by field, that a value differing from what we last wrote is a
person's and leaves it alone. For the level field that is not enough: the tag, the linked Jira
issues' impact, the Salesforce rollups and records, `explain` and the audit are all derived from
the level, and would otherwise go on saying the matrix's level while the field says the
person's. This module finds the person's level with the same rule (and the same expiry) as the
diff, so the target builder can build every target from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from config.write_mapping import WriteField
from escalation.decision import Decision, Reason, ReasonKind
from sync.diff import FieldAction, Override, plan_field
from sync.formats import comparable, render

PERSON_REASON = "set-by-a-person"


@dataclass(frozen=True)
class PersonLevel:
    """The level a person set, when a run first saw it, and what the matrix computes now."""

    level: str
    set_on: datetime
    matrix_level: str

    @property
    def reason(self) -> str:
        return f"Level {self.level} set by a person on {self.set_on:%Y-%m-%d}"


class PeopleLevels:
    """Looks up the level a person set on a record; built once per run (or per `explain`).

    written: (system, record id) -> output -> the value we last wrote, rendered.
    overrides: (system, record id) -> output -> the override recorded by an earlier run.
    """

    def __init__(
        self,
        levels: tuple[str, ...],
        written: Mapping[tuple[str, str], Mapping[str, Any]],
        overrides: Mapping[tuple[str, str], Mapping[str, Override]],
        expire_on_level_rise: bool,
        now: datetime,
    ):
        self.levels = levels
        self.rank = {level: i for i, level in enumerate(levels)}
        self.written = written
        self.overrides = overrides
        self.expire = expire_on_level_rise
        self.now = now

    def level_of(
        self,
        system: str,
        record_id: str,
        write: WriteField,
        current: Any,
        matrix_level: str,
    ) -> PersonLevel | None:
        """The person's level on this record, or None when the level field is ours (or the
        person's value names no level we know: then only the field itself is left alone)."""
        written = self.written.get((system, record_id), {})
        override = self.overrides.get((system, record_id), {}).get("level")
        if override is None and ("level" not in written or current == written["level"]):
            return None  # the common case, decided without rendering: our value, or none yet
        plan = plan_field(
            "level",
            comparable(write, render(write, matrix_level)),
            comparable(write, written.get("level")),
            comparable(write, current),
            override,
            self.rank.get(matrix_level, -1),
            self.rank,
            self.expire,
            "level" in written,
        )
        if plan.action not in (FieldAction.OVERRIDE_FOUND, FieldAction.OVERRIDE_KEPT):
            return None
        level = self._level_named(write, plan.current)
        if level is None:
            return None
        set_on = (override.detected_at if override else None) or self.now
        return PersonLevel(level, set_on, matrix_level)

    def _level_named(self, write: WriteField, value: Any) -> str | None:
        # An emptied level field says "no escalation": the lowest level.
        if value is None:
            return self.levels[0]
        for level in self.levels:
            if comparable(write, render(write, level)) == value:
                return level
        return None


def as_set_by_person(decision: Decision, person: PersonLevel) -> Decision:
    """The decision with the person's level and the reason saying so; owner, SLA and the
    engine's state stay the matrix's (the owner and SLA fields are a person's to override too)."""
    reason = Reason(ReasonKind.PERSON, PERSON_REASON, person.level, person.reason)
    return replace(decision, level=person.level, reasons=(reason,))
