"""Before a write whose outcome is unknown is planned again, read what the record holds now.

Tickets, issues and accounts come back through the incremental pulls, so their plan compares
with a fresh read. Records we only upsert (Salesforce escalation records) are never pulled:
after a timeout, a 5xx or a crash in the middle of the request their values may be there
already, and planning against what we last wrote would send them a second time. Those records
are read by external id, and the plan compares with what they hold. So are those of tickets
that show our work when we remember writing none (the state file was lost).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import Any

from connectors.base import Connector, UpsertReader
from connectors.errors import ConnectorError
from sync.wanted import Target

log = logging.getLogger("escalation_sync.readback")


def read_back_unknown(
    targets: list[Target],
    failures: dict[tuple[str, str], dict[str, Any]],
    connectors: Mapping[str, Connector],
    unremembered: AbstractSet[str] = frozenset(),
) -> list[Target]:
    """`targets` with `current` filled in for upserted records whose last write may have
    landed, and for those in `unremembered` (record ids written by a run we have no memory of)."""
    unknown = [
        t
        for t in targets
        if t.current is None
        and t.kind == "escalation_record"
        and (
            t.record_id in unremembered
            or (failures.get((t.system, t.record_id)) or {}).get("status") == "retry"
        )
    ]
    connector = connectors.get("salesforce")
    if not unknown or not isinstance(connector, UpsertReader):
        return targets
    groups: dict[tuple[str, str], list[Target]] = {}
    for target in unknown:
        groups.setdefault((str(target.object_name), str(target.external_id_field)), []).append(
            target
        )
    held: dict[tuple[str, str], dict[str, Any] | None] = {}
    for (object_name, key_field), group in groups.items():
        fields = sorted(
            {key_field} | {write.field for target in group for write in target.writes.values()}
        )
        try:
            found = connector.read_upserted(
                object_name, key_field, fields, [t.record_id for t in group]
            )
        except ConnectorError as error:
            log.warning(
                "salesforce: reading back %d %s records failed: %s", len(group), object_name, error
            )
            continue
        held.update({(object_name, t.record_id): found.get(t.record_id) for t in group})
    unknown_ids = {id(t) for t in unknown}
    read: list[Target] = []
    for target in targets:
        key = (str(target.object_name), target.record_id)
        if id(target) in unknown_ids and key in held:
            data = held[key] or {}
            target = replace(
                target, current={name: data.get(w.field) for name, w in target.writes.items()}
            )
        read.append(target)
    return read
