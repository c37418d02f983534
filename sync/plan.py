"""Targets + what we wrote + overrides -> the writes to send (pure; the run feeds it state).

Values are compared in `formats.comparable` form, so a vendor's own rendering of a value we
wrote is recognised as ours (loop prevention).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from connectors.base import FieldWrite
from sync.diff import FieldAction, Override, RecordPlan, plan_record
from sync.formats import comparable, write_value
from sync.wanted import Target


@dataclass(frozen=True)
class PlannedWrite:
    target: Target
    record_plan: RecordPlan
    write: FieldWrite | None  # None: nothing to send for this record
    written_values: dict[str, Any]  # output -> rendered value, to remember once it lands
    # The payload's hash if the caller made it; else `payload_hash` makes it when first asked.
    known_hash: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.target.system, self.target.record_id)

    @cached_property
    def payload_hash(self) -> str | None:
        """Identifies the payload, to recognise a rejected one resent (None: no write). Made
        on demand: only a write that failed before or is rejected now needs it, and a run
        plans tens of thousands that never do."""
        if self.known_hash is not None or self.write is None:
            return self.known_hash
        return payload_hash(self.write)


# What json.dumps(..., sort_keys=True, default=str) builds for every call, built once (a run
# hashes every payload it plans): the same encoder, so the same text and the same hash.
_PAYLOAD_ENCODER = json.JSONEncoder(sort_keys=True, default=str)


def payload_hash(write: FieldWrite) -> str:
    body = _PAYLOAD_ENCODER.encode(
        [write.fields, sorted(write.tags_add), sorted(write.tags_remove), write.note is not None]
    )
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def rejected_before(item: PlannedWrite, failure: Mapping[str, Any] | None) -> bool:
    """The vendor refused this very payload for good on an earlier run (its failure keeps
    the payload's hash beside the vendor's words): it is not sent again; a changed one is."""
    return (
        item.write is not None
        and failure is not None
        and failure["status"] == "rejected"
        and f"[payload {item.payload_hash}]" in (failure["reason"] or "")
    )


def plan_target(
    target: Target,
    written: Mapping[str, Any],
    overrides: Mapping[str, Override],
    rank_of_level: Mapping[str, int],
    expire_on_level_rise: bool,
    note_already_sent: bool,
) -> PlannedWrite:
    writes = target.writes
    # Records we never read back (upserted ones) are compared with what we wrote.
    current_raw = target.current if target.current is not None else written
    wanted_c = {name: comparable(writes[name], value) for name, value in target.values.items()}
    written_c = {
        name: comparable(writes[name], value) for name, value in written.items() if name in writes
    }
    if current_raw:
        current_c = {
            name: comparable(writes[name], current_raw.get(name)) for name in target.values
        }
    else:  # nothing read back nor written (a new record): every field holds nothing
        current_c = dict.fromkeys(target.values)
    record_plan = plan_record(
        target.system,
        target.record_id,
        wanted_c,
        written_c,
        current_c,
        dict(overrides),
        target.matrix_level or target.level,  # overrides expire when the matrix's level rises
        dict(rank_of_level),
        expire_on_level_rise,
    )
    to_write = {p.field for p in record_plan.fields if p.needs_write}
    fields = {
        writes[name].field: write_value(writes[name], target.values[name]) for name in to_write
    }
    # Only a field with an override or a value written before can be overridden (sync/diff.py).
    level_overridden = bool(overrides or written_c) and any(
        p.field == "level" and p.action in (FieldAction.OVERRIDE_FOUND, FieldAction.OVERRIDE_KEPT)
        for p in record_plan.fields
    )
    tags_add: tuple[str, ...] = ()
    tags_remove: tuple[str, ...] = ()
    # A person's level is the target's level (sync/human.py), so our tags follow it; only a
    # person's value that names no level of ours leaves the tags as they are.
    if not level_overridden or target.matrix_level is not None:
        tags_add = tuple(sorted(target.wanted_tags - target.current_tags))
        tags_remove = tuple(sorted(target.current_tags - target.wanted_tags))
    note = (
        target.note if target.note_key and not note_already_sent and not level_overridden else None
    )
    if target.delete:  # nothing to compare: the record goes
        removal = FieldWrite(
            system=target.system,
            kind=target.kind,
            record_id=target.record_id,
            object_name=target.object_name,
            external_id_field=target.external_id_field,
            delete=True,
        )
        return PlannedWrite(target, record_plan, removal, {})
    if not (fields or tags_add or tags_remove or note):
        return PlannedWrite(target, record_plan, None, {}, None)
    write = FieldWrite(
        system=target.system,
        kind=target.kind,
        record_id=target.record_id,
        fields=fields,
        tags_add=tags_add,
        tags_remove=tags_remove,
        note=note,
        expected_updated_at=target.expected_updated_at,
        object_name=target.object_name,
        external_id_field=target.external_id_field,
    )
    written_values = {name: target.values[name] for name in to_write}
    return PlannedWrite(target, record_plan, write, written_values)
