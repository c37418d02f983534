"""Before planning: read from the systems what the plan must know, into plain data.

Planning does no I/O (sync/plan.py, SyncRun._plan_targets): every read it depends on happens
here, first, through the connector contract (connectors/base.py), naming no vendor.

- Records whose last write has an unknown outcome, on a system whose incremental read lags
  (`LaggingStream`: Zendesk's export leaves out the last minute), are read by id into the
  mirror before evaluation: a plan against the values from before that write would send the
  ones already there a second time. Records a person changed while we wrote (a conflict) are
  read the same way before they are planned again.
- Records we only upsert (`UpsertReader`: Salesforce escalation records) are never pulled:
  after a timeout, a 5xx or a crash in the middle of the request their values may be there
  already, and planning against what we last wrote would send them a second time. Those
  records are read by external id, and the plan compares with what they hold. So are those of
  tickets that show our work when we remember writing none (the state file was lost).
- Tickets due a private note that may be there already (its outcome unknown, or a ticket that
  shows our work when we remember no note) have their comments read (`NoteReader`) for the
  key in our last note.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import Any

from connectors.base import Connector, LaggingStream, NoteReader, UpsertReader
from connectors.errors import ConnectorError
from mapping.records import SourceRecord
from sync.instances import read_back_by_instance
from sync.shown import last_marker
from sync.wanted import Target

log = logging.getLogger("escalation_sync.readback")


@dataclass(frozen=True)
class NoteLook:
    """What a look at a ticket's comments found: the key in our last note on it, if any.

    Not `readable` (no way to read them, or the read failed): better no note than a duplicate.
    """

    readable: bool
    last_key: str | None = None


def read_again(connector: Connector, kind: str, ids: Sequence[str]) -> list[SourceRecord] | None:
    """The current state of these records; None (logged) when they cannot be read now."""
    try:
        return connector.read_by_id(kind, ids)
    except ConnectorError as error:
        log.warning("%s: re-reading %d %s(s) failed: %s", connector.system, len(ids), kind, error)
        return None


def read_unknown_outcomes(
    connectors: Mapping[str, Connector],
    failures: Mapping[tuple[str, str], Mapping[str, Any]],
    unreachable: AbstractSet[str],
) -> list[SourceRecord]:
    """Records whose last write has an unknown outcome, on systems whose stream lags."""
    records: list[SourceRecord] = []
    for system, connector in connectors.items():
        if not isinstance(connector, LaggingStream) or system in unreachable:
            continue
        ids = [rid for (s, rid), f in failures.items() if s == system and f["status"] == "retry"]
        if ids:
            records += read_again(connector, connector.reread_kind, ids) or []
    return records


def read_back_unknown(
    targets: list[Target],
    failures: Mapping[tuple[str, str], Mapping[str, Any]],
    connectors: Mapping[str, Connector],
    unremembered: AbstractSet[tuple[str, str]] = frozenset(),
) -> list[Target]:
    """`targets` with `current` filled in for upserted records whose last write may have
    landed, and for those in `unremembered` ((system, record id) written by a run we have no
    memory of)."""
    unknown = [
        t
        for t in targets
        if t.current is None
        and t.kind == "escalation_record"
        and (
            (t.system, t.record_id) in unremembered
            or (failures.get((t.system, t.record_id)) or {}).get("status") == "retry"
        )
    ]
    groups: dict[tuple[str, str, str], list[Target]] = {}
    for target in unknown:
        key = (target.system, str(target.object_name), str(target.external_id_field))
        groups.setdefault(key, []).append(target)
    held: dict[tuple[str, str], dict[str, Any] | None] = {}
    for (system, object_name, key_field), group in groups.items():
        connector = connectors.get(system)
        if not isinstance(connector, UpsertReader):
            continue
        fields = sorted(
            {key_field} | {write.field for target in group for write in target.writes.values()}
        )
        # Each instance's records from it alone; one that cannot be asked leaves its own out.
        answered = read_back_by_instance(
            connector, object_name, key_field, fields, [t.record_id for t in group]
        )
        held.update(((object_name, record_id), data) for record_id, data in answered.items())
    unknown_ids = {id(t) for t in unknown}
    read: list[Target] = []
    for target in targets:
        held_key = (str(target.object_name), target.record_id)
        if id(target) in unknown_ids and held_key in held:
            data = held[held_key] or {}
            target = replace(
                target, current={name: data.get(w.field) for name, w in target.writes.items()}
            )
        read.append(target)
    return read


def must_look_for_note(target: Target, note_states: Mapping[tuple[str, str], str]) -> bool:
    """Whether the note this target is due may be on the ticket already: its last sending has
    an unknown outcome, or we remember no note on a ticket that shows our work."""
    if not target.note_key:
        return False
    return note_states.get((target.ref, target.note_key)) == "unknown" or target.look_for_note


def look_for_notes(
    targets: Sequence[Target],
    note_states: Mapping[tuple[str, str], str],
    connectors: Mapping[str, Connector],
) -> dict[tuple[str, str], NoteLook]:
    """(system, record id) -> what its comments show, for each target that must look."""
    looks: dict[tuple[str, str], NoteLook] = {}
    for target in targets:
        if not must_look_for_note(target, note_states):
            continue
        connector = connectors.get(target.system)
        look = NoteLook(readable=False)
        if isinstance(connector, NoteReader):
            try:
                look = NoteLook(True, last_marker(connector.read_note_texts(target.record_id)))
            except ConnectorError as error:
                log.warning(
                    "%s: reading the comments of %s failed: %s", target.system, target.ref, error
                )
        looks[(target.system, target.record_id)] = look
    return looks
