"""`sync.first_run.backfill`: what the first run (no state yet) reads of tickets and issues.

`open_tickets` (the default) reads every open ticket updated within `lookback_days`; `none`
reads none of them: the first run starts from its own moment and tickets and issues come into
the mirror as they change. Accounts and organisations are read in full either way (the join
needs them).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.sync_world import World

pytestmark = pytest.mark.integration


def mirrored_refs(world: World) -> set[str]:
    store = world.store()
    try:
        return {ticket.ref for ticket in store.tickets()}
    finally:
        store.close()


def test_backfill_open_tickets_mirrors_the_tickets_and_issues_from_before_the_first_run(
    world: World,
):
    result = world.run()
    assert result.exit_code == 0, result.summary()
    refs = mirrored_refs(world)
    assert any(ref.startswith("zendesk:") for ref in refs)
    assert any(ref.startswith("jira:") for ref in refs)


def test_backfill_none_reads_only_tickets_and_issues_changed_after_the_first_run(
    world_sandbox, tmp_path
):
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path, extra_config="sync:\n  first_run:\n    backfill: none\n")
    first = world.run()
    assert first.exit_code == 0, first.summary()
    assert first.pull.records.get("salesforce.accounts"), "accounts are read in full"
    assert mirrored_refs(world) == set()
    assert first.evaluation.decisions == []

    ticket_id = min(i for i, t in sandbox.zendesk.store.tickets.items() if t["status"] == "open")
    sandbox.zendesk.agent_edit(ticket_id, {"priority": "urgent"})
    issue_id = sandbox.jira.get_issue(sandbox.jira.create_issue("ENG", "Made after the first run"))[
        "id"
    ]
    world.settle()
    second = world.run(now=world.now + timedelta(minutes=2))
    assert second.exit_code == 0, second.summary()
    assert mirrored_refs(world) == {f"zendesk:{ticket_id}", f"jira:{issue_id}"}
