"""The periodic reconciliation compares the mirror with the systems by id and repairs drift:
a change the incremental reads missed is refreshed, a record gone leaves the mirror; it goes
round the mirror within its request budget and says what it found and what it cost."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import catalogue
from tests.fault_helpers import (
    FAULT_SIZES,
    converge,
    duplicate_escalation_records,
    duplicate_notes,
    escalated_ticket_ids,
    snapshot_differences,
)
from tests.sync_world import World
from tests.test_lifecycle_events import ended

pytestmark = pytest.mark.integration

WORLD_SIZES = FAULT_SIZES
SEVERITY = catalogue.JIRA_FIELD_SEVERITY


def reconcile_every_run(max_requests: int) -> str:
    return f"sync:\n  reconcile:\n    every_hours: 0\n    max_requests: {max_requests}\n"


def an_unseen_severity_change(world: World) -> str:
    """Raise an open issue's severity to Sev-1 without moving `updated`: a change no
    incremental read can see. Returns its key."""
    jira = world.sandbox.jira
    with jira.state_lock:
        key = next(
            k
            for k, row in sorted(jira.store.rows.items())
            if row.category_key != "done"
            and (jira.store.issues[k]["fields"].get(SEVERITY) or {}).get("value") != "Sev-1"
        )
        option = jira.store.option_by(SEVERITY, value="Sev-1")
        assert option is not None
        jira.store.issues[key]["fields"][SEVERITY] = dict(option)
    return key


def test_a_change_the_incremental_reads_missed_is_refreshed_and_equals_a_first_run(
    world_sandbox, tmp_path: Path
):
    config = reconcile_every_run(50)
    changed_first = World(*world_sandbox, tmp_path / "reference", extra_config=config)
    key = an_unseen_severity_change(changed_first)
    converge(changed_first)
    expected = changed_first.snapshot()

    world = World(*world_sandbox, tmp_path / "live", extra_config=config)
    converge(world)
    assert an_unseen_severity_change(world) == key
    issue_id = str(world.sandbox.jira.get_issue(key)["id"])
    world.settle()
    result = world.run()
    reconciled = result.summary()["reconciled"]
    assert reconciled["refreshed"] >= 1
    store = world.store()
    try:
        assert store.audit_entries(f"jira:{issue_id}", "reconcile_refreshed")
    finally:
        store.close()
    converge(world)
    differences = snapshot_differences(expected, world.snapshot())
    assert not differences, "\n".join(differences)
    assert duplicate_notes(world) == {}
    assert duplicate_escalation_records(world) == []


def test_the_reconciliation_goes_round_the_mirror_within_its_request_budget(
    world_sandbox, tmp_path: Path
):
    # Half of it for the mirror (the other half for the escalation records): one request.
    world = World(*world_sandbox, tmp_path, extra_config=reconcile_every_run(2))
    converge(world)
    seen: dict[str, int] = {}
    for _ in range(3):
        world.settle()
        reconciled = world.run().summary()["reconciled"]
        assert len(reconciled["mirror_checked"]) == 1  # one batch of one system
        assert reconciled["requests"] <= 2
        for system, count in reconciled["mirror_checked"].items():
            seen[system] = seen.get(system, 0) + count
    # One request a run, each system in turn: three runs looked at all three.
    assert set(seen) == {"zendesk", "jira", "salesforce"}
    store = world.store()
    try:
        summaries = [r["summary"] for r in store.runs()]
    finally:
        store.close()
    assert any(s.get("reconciled", {}).get("left_for_next_time", 0) > 0 for s in summaries)


def a_deletion_the_export_never_showed(world: World, ticket_id: int) -> None:
    """The ticket is deleted without its export position moving (as if the sync's cursor had
    passed it): only a read by id shows it gone (show_many leaves deleted tickets out)."""
    zendesk = world.sandbox.zendesk
    with zendesk.state_lock:
        zendesk.store.tickets[ticket_id]["status"] = "deleted"


def test_a_ticket_gone_unseen_ends_its_escalation_as_a_first_run_on_the_changed_world(
    world_sandbox, tmp_path: Path
):
    config = reconcile_every_run(50)
    plain = World(*world_sandbox, tmp_path / "plain", extra_config=config)
    converge(plain)
    ticket_id = escalated_ticket_ids(plain.snapshot(), 1)[0]

    changed_first = World(*world_sandbox, tmp_path / "reference", extra_config=config)
    changed_first.sandbox.zendesk.delete_ticket(ticket_id)
    converge(changed_first)
    lowest = changed_first.config.matrix.levels[0]
    expected = ended(changed_first.snapshot(), lowest)

    world = World(*world_sandbox, tmp_path / "live", extra_config=config)
    converge(world)
    a_deletion_the_export_never_showed(world, ticket_id)
    world.settle()
    result = world.run()
    assert result.summary()["reconciled"]["gone"] == 1
    converge(world)
    differences = snapshot_differences(expected, ended(world.snapshot(), lowest))
    assert not differences, "\n".join(differences)
    assert duplicate_escalation_records(world) == []
    store = world.store()
    try:
        assert store.audit_entries(f"zendesk:{ticket_id}", "reconcile_gone")
        assert store.audit_entries(f"zendesk:{ticket_id}", "deleted")
    finally:
        store.close()
