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
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from config.loader import load_config
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
class Subjects:
    """What the events happen to: records a plain first run escalates."""

    ticket: int  # a Zendesk ticket with a level and an escalation record
    account: str  # a Salesforce account with open escalations
    other_account: str  # another account (the winner of a merge)


@dataclass(frozen=True)
class Event:
    name: str
    cause: Callable[[World, Subjects], None]


def on_ticket(change: Callable[[World, int], None]) -> Callable[[World, Subjects], None]:
    return lambda world, subjects: change(world, subjects.ticket)


def delete_account(world: World, subjects: Subjects) -> None:
    world.sandbox.salesforce.delete_record("Account", subjects.account)


def merge_account_into_another(world: World, subjects: Subjects) -> None:
    world.sandbox.salesforce.merge_accounts(subjects.other_account, subjects.account)


def delete_ticket(world: World, ticket_id: int) -> None:
    world.sandbox.zendesk.delete_ticket(ticket_id)


def merge_into_another(world: World, ticket_id: int) -> None:
    world.sandbox.zendesk.merge_tickets(other_ticket(world, ticket_id), [ticket_id])


def mark_as_spam(world: World, ticket_id: int) -> None:
    world.sandbox.zendesk.mark_as_spam(ticket_id)


def move_to_another_organisation(world: World, ticket_id: int) -> None:
    ticket = world.sandbox.zendesk.get_ticket(ticket_id)
    assert ticket is not None
    others = sorted(
        o for o in world.sandbox.zendesk.store.organizations if o != ticket["organization_id"]
    )
    world.sandbox.zendesk.agent_edit(ticket_id, {"organization_id": others[0]})


def other_ticket(world: World, ticket_id: int) -> int:
    """Another open ticket of the same organisation (the merge target), else any open one."""
    tickets = world.sandbox.zendesk.store.tickets
    org = tickets[ticket_id].get("organization_id")
    candidates = sorted(
        i
        for i, t in tickets.items()
        if i != ticket_id and t.get("status") in ("new", "open", "pending", "hold")
    )
    same = [i for i in candidates if tickets[i].get("organization_id") == org]
    return (same or candidates)[0]


EVENTS = [
    Event("zendesk-ticket-deleted", on_ticket(delete_ticket)),
    Event("zendesk-ticket-merged-into-another", on_ticket(merge_into_another)),
    Event("zendesk-ticket-marked-as-spam", on_ticket(mark_as_spam)),
    Event("zendesk-ticket-moved-to-another-organisation", on_ticket(move_to_another_organisation)),
    Event("salesforce-account-deleted", delete_account),
    Event("salesforce-account-merged-into-another", merge_account_into_another),
]


def ended(
    snapshot: dict[str, Any], lowest: str, merged: frozenset[int] = frozenset()
) -> dict[str, Any]:
    """The snapshot with what an ended escalation leaves behind read as nothing written: an
    account at no open escalation, and escalation records that are closed."""
    accounts = {
        k: (None, None, None) if v[:2] in ((0, lowest), (0.0, lowest)) and v[2] is None else v
        for k, v in snapshot["accounts"].items()
    }
    records = {k: v for k, v in snapshot["records"].items() if v[0] != lowest}
    # A ticket merged into another is closed: Zendesk refuses every update to it, so it keeps
    # what it held when it was merged.
    zendesk = {k: v for k, v in snapshot["zendesk"].items() if k not in merged}
    return {
        **snapshot,
        "zendesk": zendesk,
        "accounts": accounts,
        "records": records,
        "record_count": len(records),
    }


@pytest.fixture(scope="module")
def escalated(world_sandbox, tmp_path_factory: pytest.TempPathFactory) -> list[int]:
    """Zendesk tickets a plain first run escalates (and gives an escalation record)."""
    world = World(*world_sandbox, tmp_path_factory.mktemp("plain"))
    converge(world)
    return escalated_ticket_ids(world.snapshot(), 3)


@pytest.fixture(scope="module")
def subjects(world_sandbox, escalated: list[int]) -> Subjects:
    sandbox = world_sandbox[0]
    accounts = sorted(r["Id"] for r in sandbox.salesforce.records("Account"))
    # The account of the first escalated ticket's record (a plain run left it there).
    ref = f"zendesk:{escalated[0]}"
    account = next(
        r["Account__c"]
        for r in sandbox.salesforce.records("Escalation__c")
        if r["Ticket_Ref__c"] == ref
    )
    return Subjects(escalated[0], account, next(a for a in accounts if a != account))


@pytest.mark.parametrize("event", EVENTS, ids=[e.name for e in EVENTS])
def test_after_the_event_the_next_run_equals_a_first_run_on_the_changed_world(
    event: Event, world_sandbox, subjects: Subjects, tmp_path: Path
):
    ticket_id = subjects.ticket
    changed_first = World(*world_sandbox, tmp_path / "reference")
    lowest = changed_first.config.matrix.levels[0]
    event.cause(changed_first, subjects)
    converge(changed_first)
    merged = frozenset(
        i
        for i, t in changed_first.sandbox.zendesk.store.tickets.items()
        if "closed_by_merge" in t.get("tags", [])
    )
    expected = ended(changed_first.snapshot(), lowest, merged)

    world = World(*world_sandbox, tmp_path / "live")
    converge(world)
    before = world.snapshot()
    assert ticket_id in before["zendesk"] and f"zendesk:{ticket_id}" in before["records"]
    event.cause(world, subjects)
    converge(world)
    found = world.snapshot()
    differences = snapshot_differences(expected, ended(found, lowest, merged))
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


def test_a_ticket_merged_into_another_ends_its_escalation_without_a_refused_update(
    world_sandbox, escalated: list[int], tmp_path: Path
):
    """Zendesk refuses any update to the closed source of a merge: none is sent."""
    ticket_id = escalated[0]
    world = World(*world_sandbox, tmp_path)
    converge(world)
    merge_into_another(world, ticket_id)
    world.settle()
    result = world.run()
    assert result.exit_code == 0, result.summary()
    assert result.apply.rejected == [], result.summary()


def delete_records_of_deleted_tickets(world: World) -> None:
    """Set mapping.salesforce.ticket_record.when_ticket_deleted to "delete"."""
    mapping = world.config_path.parent / "mapping.yaml"
    text = mapping.read_text(encoding="utf-8")
    assert "      min_level: action-needed\n" in text
    mapping.write_text(
        text.replace(
            "      min_level: action-needed\n",
            "      min_level: action-needed\n      when_ticket_deleted: delete\n",
        ),
        encoding="utf-8",
    )
    world.config = load_config(world.config_path)


@pytest.mark.parametrize("event", [delete_ticket, mark_as_spam, merge_into_another])
def test_configured_to_delete_the_record_of_a_deleted_ticket_the_systems_equal_a_first_run(
    event: Callable[[World, int], None], world_sandbox, escalated: list[int], tmp_path: Path
):
    ticket_id = escalated[0]
    changed_first = World(*world_sandbox, tmp_path / "reference")
    delete_records_of_deleted_tickets(changed_first)
    event(changed_first, ticket_id)
    converge(changed_first)
    merged = frozenset(
        i
        for i, t in changed_first.sandbox.zendesk.store.tickets.items()
        if "closed_by_merge" in t.get("tags", [])
    )
    expected = changed_first.snapshot()

    world = World(*world_sandbox, tmp_path / "live")
    delete_records_of_deleted_tickets(world)
    converge(world)
    event(world, ticket_id)
    converge(world)
    found = world.snapshot()
    ref = f"zendesk:{ticket_id}"
    assert ref not in found["records"]
    # Accounts whose only escalation ended hold "none open" where a first run wrote nothing.
    lowest = world.config.matrix.levels[0]
    differences = snapshot_differences(
        ended(expected, lowest, merged), ended(found, lowest, merged)
    )
    assert not differences, "\n".join(differences)
    assert expected["record_count"] == found["record_count"]
    store = world.store()
    try:
        assert ("salesforce", ref) not in store.written()
    finally:
        store.close()


RECONCILE_EVERY_RUN = "sync:\n  reconcile:\n    every_hours: 0\n"


def a_person_deletes_the_record(world: World, ticket_id: int) -> None:
    ref = f"zendesk:{ticket_id}"
    [record] = [
        r for r in world.sandbox.salesforce.records("Escalation__c") if r["Ticket_Ref__c"] == ref
    ]
    world.sandbox.salesforce.delete_record("Escalation__c", record["Id"])


def test_an_escalation_record_a_person_deleted_is_recreated_by_the_reconciliation(
    world_sandbox, subjects: Subjects, tmp_path: Path
):
    world = World(*world_sandbox, tmp_path, extra_config=RECONCILE_EVERY_RUN)
    converge(world)
    reference = world.snapshot()
    a_person_deletes_the_record(world, subjects.ticket)
    result = world.run()
    assert result.summary()["reconciled"]["deleted_by_person"] == 1
    assert result.summary()["reconciled"]["requests"] >= 1
    converge(world)
    differences = snapshot_differences(reference, world.snapshot())
    assert not differences, "\n".join(differences)
    assert duplicate_escalation_records(world) == []


def test_an_escalation_record_a_person_deleted_stays_deleted_when_configured_to_honour_it(
    world_sandbox, subjects: Subjects, tmp_path: Path
):
    world = World(*world_sandbox, tmp_path, extra_config=RECONCILE_EVERY_RUN)
    mapping = world.config_path.parent / "mapping.yaml"
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(
        text.replace(
            "      min_level: action-needed\n",
            "      min_level: action-needed\n      when_deleted_by_person: honour\n",
        ),
        encoding="utf-8",
    )
    world.config = load_config(world.config_path)
    converge(world)
    a_person_deletes_the_record(world, subjects.ticket)
    world.run()
    # Time passes, levels and SLA values move: the record is still never written again.
    world.now += timedelta(hours=3)
    world.sandbox.zendesk.advance_clock(3 * 3600)
    converge(world, max_runs=6)
    ref = f"zendesk:{subjects.ticket}"
    assert ref not in world.snapshot()["records"]
    store = world.store()
    try:
        assert store.audit_entries(f"salesforce:{ref}", "deleted_by_person")
    finally:
        store.close()
