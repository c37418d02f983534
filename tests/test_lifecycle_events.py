"""Records that vanish, merge and move under the sync: after the next run every system equals
what a first run on the changed world produces, field by field, with no note or record twice.

Each event is caused through the sandbox's admin API, as a person would in the vendor's UI. The
reference is a fresh world with the event applied before its first run; the other world syncs,
meets the event, and syncs again. Values our own earlier runs wrote and the ended escalation
reset (an account's rollups back to none open, a closed escalation record) are what "ended"
means, and are listed per event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fault_helpers import (
    FAULT_SIZES,
    converge,
    duplicate_escalation_records,
    duplicate_notes,
    escalated_ticket_ids,
    snapshot_differences,
)
from tests.sync_world import World

pytestmark = pytest.mark.integration

WORLD_SIZES = FAULT_SIZES


@dataclass(frozen=True)
class Event:
    name: str
    cause: Callable[[World, int], None]  # (world, the escalated ticket it happens to)


def delete_ticket(world: World, ticket_id: int) -> None:
    world.sandbox.zendesk.delete_ticket(ticket_id)


EVENTS = [Event("zendesk-ticket-deleted", delete_ticket)]


def ended(snapshot: dict[str, Any], lowest: str) -> dict[str, Any]:
    """The snapshot with what an ended escalation leaves behind read as nothing written: an
    account at no open escalation, and escalation records that are closed."""
    accounts = {
        k: (None, None, None) if v[:2] in ((0, lowest), (0.0, lowest)) and v[2] is None else v
        for k, v in snapshot["accounts"].items()
    }
    records = {k: v for k, v in snapshot["records"].items() if v[0] != lowest}
    return {**snapshot, "accounts": accounts, "records": records, "record_count": len(records)}


@pytest.fixture(scope="module")
def escalated(world_sandbox, tmp_path_factory: pytest.TempPathFactory) -> list[int]:
    """Zendesk tickets a plain first run escalates (and gives an escalation record)."""
    world = World(*world_sandbox, tmp_path_factory.mktemp("plain"))
    converge(world)
    return escalated_ticket_ids(world.snapshot(), 3)


@pytest.mark.parametrize("event", EVENTS, ids=[e.name for e in EVENTS])
def test_after_the_event_the_next_run_equals_a_first_run_on_the_changed_world(
    event: Event, world_sandbox, escalated: list[int], tmp_path: Path
):
    ticket_id = escalated[0]
    changed_first = World(*world_sandbox, tmp_path / "reference")
    lowest = changed_first.config.matrix.levels[0]
    event.cause(changed_first, ticket_id)
    converge(changed_first)
    expected = ended(changed_first.snapshot(), lowest)

    world = World(*world_sandbox, tmp_path / "live")
    converge(world)
    before = world.snapshot()
    assert ticket_id in before["zendesk"] and f"zendesk:{ticket_id}" in before["records"]
    event.cause(world, ticket_id)
    converge(world)
    found = world.snapshot()
    differences = snapshot_differences(expected, ended(found, lowest))
    assert not differences, "\n".join(differences)
    assert duplicate_notes(world) == {}
    assert duplicate_escalation_records(world) == []


def test_a_deleted_ticket_ends_its_escalation_closes_its_record_and_is_audited(
    world_sandbox, escalated: list[int], tmp_path: Path
):
    ticket_id = escalated[0]
    world = World(*world_sandbox, tmp_path)
    lowest = world.config.matrix.levels[0]
    converge(world)
    world.sandbox.zendesk.delete_ticket(ticket_id)
    already = len(world.sandbox.zendesk.traffic.writes)
    world.settle()
    result = world.run()
    assert result.exit_code == 0, result.summary()
    ref = f"zendesk:{ticket_id}"
    record = next(
        r for r in world.sandbox.salesforce.records("Escalation__c") if r["Ticket_Ref__c"] == ref
    )
    assert record["Level__c"] == lowest
    written = world.sandbox.zendesk.traffic.writes[already:]
    assert not [w for w in written if f'"id": {ticket_id},' in json.dumps(w.body) + ","]
    store = world.store()
    try:
        assert store.audit_entries(ref, "deleted")
    finally:
        store.close()
