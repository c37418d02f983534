"""The sync loop end to end: the real clients against the sandbox on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox import catalogue
from tests.postgres_server import BOTH_BACKENDS
from tests.sync_world import World

pytestmark = pytest.mark.integration
# On SQLite and PostgreSQL: the tests marked BOTH_BACKENDS (tests/conftest.py); the rest on SQLite.


def escalated_zendesk_ids(world: World) -> list[int]:
    store = world.store()
    try:
        return sorted(
            int(record_id) for system, record_id in store.written() if system == "zendesk"
        )
    finally:
        store.close()


def test_backfill_writes_levels_owners_and_rollups_to_all_three_systems(world: World):
    result = world.run()
    assert result.exit_code == 0, result.summary()
    decisions = {d.ticket_ref: d for d in result.evaluation.decisions}
    escalated = [
        ref for ref, d in decisions.items() if d.level != "none" and ref.startswith("zendesk:")
    ]
    assert escalated, "the generated world must have escalated tickets"
    for ref in escalated[:20]:
        ticket_id = ref.split(":")[1]
        assert world.zendesk_level(ticket_id) == decisions[ref].level
        owner = decisions[ref].owner.current if decisions[ref].owner else None
        assert world.zendesk_field(ticket_id, catalogue.ZD_FIELD_OWNER) == owner
        assert len(world.zendesk_notes(ticket_id)) == 1
    accounts = [
        r for r in world.sandbox.salesforce.records("Account") if r.get("Open_Escalations__c")
    ]
    assert accounts and all(r["Highest_Escalation_Level__c"] in catalogue.LEVELS for r in accounts)
    labelled = [
        key
        for key in world.sandbox.jira.store.rows
        if any(
            label.startswith("escalation-")
            for label in world.sandbox.jira.get_issue(key)["fields"]["labels"]
        )
    ]
    assert labelled, "Jira issues linked to escalated tickets carry the customer impact"
    assert world.sandbox.salesforce.records("Escalation__c")


@BOTH_BACKENDS
def test_a_run_right_after_a_run_writes_nothing(world: World):
    world.run()
    world.settle()
    before = world.writes()
    second = world.run(now=world.now)  # the same moment: only the read-back of our writes differs
    assert second.writes == [], [w.write.ref for w in second.writes][:5]
    assert world.writes() == before
    assert second.exit_code == 0


def test_dry_run_reads_but_writes_nothing_and_plans_what_sync_would(world: World):
    plan = world.run(dry_run=True)
    assert plan.writes
    assert world.writes() == {"zendesk": 0, "jira": 0, "salesforce": 0}
    real = world.run()
    assert {w.write.ref for w in real.writes} == {w.write.ref for w in plan.writes}


def test_agent_raising_priority_relevels_the_ticket_next_run(world: World):
    first = world.run()
    rank = {level: i for i, level in enumerate(catalogue.LEVELS)}
    tickets = {t.ref: t for t in first.evaluation.tickets}
    calm = min(
        (
            d
            for d in first.evaluation.decisions
            if d.ticket_ref.startswith("zendesk:")
            and tickets[d.ticket_ref].account_id
            and tickets[d.ticket_ref].status.value in ("new", "open")
        ),
        key=lambda d: rank[d.level],
    )
    assert rank[calm.level] < rank["executive-review"]
    ticket_id = int(calm.ticket_ref.split(":")[1])
    world.sandbox.zendesk.agent_edit(
        ticket_id,
        {
            "priority": "urgent",
            "custom_fields": [{"id": catalogue.ZD_FIELD_CATEGORY, "value": "cat_outage"}],
        },
    )
    world.settle()
    result = world.run(now=world.now + timedelta(minutes=2))
    decision = next(d for d in result.evaluation.decisions if d.ticket_ref == calm.ticket_ref)
    assert rank[decision.level] > rank[calm.level]
    assert any(r.name.startswith("sev1") or "outage" in r.text.lower() for r in decision.reasons)
    assert world.zendesk_level(ticket_id) == decision.level


def test_account_tier_change_relevels_all_its_tickets(world: World):
    first = world.run()
    by_account: dict[str, list] = {}
    tickets = {t.ref: t for t in first.evaluation.tickets}
    for decision in first.evaluation.decisions:
        account = tickets[decision.ticket_ref].account_id
        if account:
            by_account.setdefault(account, []).append(decision)
    # The busiest account of the lowest tier that has open tickets (standard, else growth).
    account_id, decisions = max(
        (
            (a, ds)
            for a, ds in by_account.items()
            if first.evaluation.accounts[a].tier in ("standard", "growth")
        ),
        key=lambda item: (first.evaluation.accounts[item[0]].tier == "standard", len(item[1])),
    )
    world.sandbox.salesforce.edit_record(
        "Account", account_id, Tier__c="strategic", ARR__c=2_500_000
    )
    world.settle()
    second = world.run(now=world.now + timedelta(minutes=2))
    assert second.pull.records.get("salesforce.accounts", 0) >= 1
    after = {d.ticket_ref: d for d in second.evaluation.decisions}
    changed = [
        d.ticket_ref
        for d in decisions
        if (after[d.ticket_ref].level, after[d.ticket_ref].sla) != (d.level, d.sla)
    ]
    assert changed, "a strategic, high-ARR account's tickets get other SLAs or levels"


@BOTH_BACKENDS
def test_time_passing_into_a_breach_raises_sla_state_and_is_written(world: World):
    first = world.run()
    second = world.run(now=world.now + timedelta(days=6))
    breached_before = {d.ticket_ref for d in first.evaluation.decisions if d.breached}
    breached_after = {d.ticket_ref for d in second.evaluation.decisions if d.breached}
    newly = breached_after - breached_before
    assert newly, "six days later more tickets are past their targets"
    assert second.writes, "breach states and levels changed, so fields are written"


@BOTH_BACKENDS
def test_human_override_is_honoured_recorded_and_listed(world: World):
    world.run()
    ticket_id = escalated_zendesk_ids(world)[0]
    world.sandbox.zendesk.agent_edit(
        ticket_id, {"custom_fields": [{"id": catalogue.ZD_FIELD_OWNER, "value": "maria.agent"}]}
    )
    world.settle()
    result = world.run(now=world.now + timedelta(minutes=2))
    assert (f"zendesk:{ticket_id}", "owner", "maria.agent") in result.overrides_found
    assert world.zendesk_field(ticket_id, catalogue.ZD_FIELD_OWNER) == "maria.agent"
    store = world.store()
    try:
        assert store.audit_entries(ref=f"zendesk:{ticket_id}", kind="override")
    finally:
        store.close()
    again = world.run(now=world.now + timedelta(minutes=2))
    assert (
        again.overrides_kept >= 1
        and world.zendesk_field(ticket_id, catalogue.ZD_FIELD_OWNER) == "maria.agent"
    )


def test_agent_edit_during_the_run_is_a_conflict_that_is_replanned(world: World):
    world.sandbox.zendesk.faults.add(
        __import__("sandbox.faults", fromlist=["Fault"]).Fault(
            "update_many", "conflict", times=1, detail={}
        )
    )
    result = world.run()
    assert result.apply.conflicts == [], "conflicting tickets were re-read, re-planned and written"
    assert result.exit_code == 0


def test_jira_severity_change_is_read_incrementally_and_relevels_linked_tickets(world: World):
    first = world.run()
    tickets = {t.ref: t for t in first.evaluation.tickets}
    decisions = {d.ticket_ref: d for d in first.evaluation.decisions}
    issue = next(
        t
        for t in first.evaluation.tickets
        if t.system == "jira"
        and t.severity != 1
        and any(
            link in decisions and tickets[link].status.value in ("new", "open") for link in t.linked
        )
    )
    world.sandbox.jira.human_edit(
        issue.key, fields={catalogue.JIRA_FIELD_SEVERITY: {"value": "Sev-1"}}
    )
    second = world.run(now=world.now + timedelta(minutes=3))
    assert second.pull.records.get("jira.issues", 0) >= 1
    linked = [link for link in issue.linked if link in decisions]
    after = {d.ticket_ref: d for d in second.evaluation.decisions}
    assert any(r.name == "linked-jira-sev1" for link in linked for r in after[link].reasons)
    # The issue carries the highest level among itself and its customers' tickets.
    fields = world.sandbox.jira.get_issue(issue.key)["fields"]
    expected = max(
        [after[issue.ref].level, *(after[link].level for link in linked)],
        key=catalogue.LEVELS.index,
    )
    assert fields[catalogue.JIRA_FIELD_LEVEL]["value"] == expected
