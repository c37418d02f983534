"""The account matrix end to end, against the sandbox with the real clients over HTTPS: an
at-risk high-value account with no ticket gets its owner, its playbook task and its fields in
one run; tasks are not duplicated across runs or after a lost state file; a person's edits,
closing and deleting are honoured; a task is closed when its account leaves the level."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import run_sync
from config.loader import load_config
from sandbox.runner import Sandbox
from sandbox.sandbox_config import with_account_matrix_writes
from sync.accounts_store import AccountStore
from tests.sync_world import World

pytestmark = pytest.mark.integration

VP = "vp.customer-success@acme.example"
ORG_ID = 990001


def with_account_writes(world: World) -> World:
    """The sandbox config plus the account matrix's write mapping."""
    mapping = world.config_path.parent / "mapping.yaml"
    mapping.write_text(with_account_matrix_writes(mapping.read_text(encoding="utf-8")), "utf-8")
    world.config = load_config(world.config_path)
    return world


def add_at_risk_account(world: World, pair: Sandbox | None = None) -> tuple[str, str]:
    """A strategic account renewing in 60 days, health red, no ticket at all; its Zendesk
    organisation; the VP of customer success as a Salesforce user. (account id, user id).
    `pair`: another sandbox's org and Zendesk to put them in (a named org's)."""
    sandbox = pair or world.sandbox
    salesforce = sandbox.salesforce
    stamp = "2026-01-01T00:00:00.000+0000"
    renewal = (world.now + timedelta(days=60)).date().isoformat()
    account_id = salesforce.put_record(
        "Account",
        {
            "Name": "Initech",
            "Tier__c": "strategic",
            "ARR__c": 900000.0,
            "Renewal_Date__c": renewal,
            "Health__c": "Red",
            "Region__c": "EMEA",
            "CSM_Email__c": "csm.initech@acme.example",
            "CreatedDate": stamp,
            "LastModifiedDate": stamp,
            "SystemModstamp": stamp,
        },
    )
    user_id = salesforce.put_record(
        "User", {"Name": "VP Customer Success", "Email": VP, "SystemModstamp": stamp}
    )
    sandbox.zendesk.put_organization(
        {
            "id": ORG_ID,
            "name": "Initech",
            "organization_fields": {"salesforce_account_id": account_id},
            "tags": ["vip"],
            "created_at": "2026-01-01T00:00:00Z",
        },
        touch=True,
    )
    sandbox.zendesk.advance_clock(61)  # Zendesk's export leaves out the last minute
    return account_id, user_id


def tasks_of(world: World, account_id: str) -> list[dict[str, Any]]:
    return [t for t in world.sandbox.salesforce.records("Task") if t["WhatId"] == account_id]


@pytest.fixture
def accounts_world(world: World) -> World:
    return with_account_writes(world)


def test_an_at_risk_high_value_account_with_no_ticket_gets_owner_task_and_fields_in_one_run(
    accounts_world: World,
) -> None:
    world = accounts_world
    account_id, user_id = add_at_risk_account(world)
    result = world.run()
    assert result.exit_code == 0, result.summary()

    account = world.sandbox.salesforce.get_record("Account", account_id)
    assert account is not None
    assert account["Account_Escalation_Level__c"] == "executive-attention"
    assert account["Account_Escalation_Owner__c"] == VP
    assert "Initech (ARR 900,000)" in account["Account_Escalation_Reason__c"]
    due = account["Next_Outreach_Due__c"]
    assert due is not None

    (task,) = tasks_of(world, account_id)
    assert (
        task["Subject"]
        == "Executive outreach: Initech (strategic) [escalation-sync:executive-outreach]"
    )
    assert (task["Status"], task["Priority"], task["ActivityDate"]) == ("Not Started", "High", due)
    assert task["OwnerId"] == user_id
    assert "VP of customer success calls" in task["Description"]

    organization = world.sandbox.zendesk.store.organizations[ORG_ID]
    assert organization["organization_fields"]["account_escalation_level"] == "executive-attention"
    assert set(organization["tags"]) == {"vip", "account_executive-attention"}

    store = world.store()
    try:
        entries = store.audit_entries(ref=f"account:{account_id}", kind="account_decision")
        assert entries[0]["detail"]["level"] == "executive-attention"
        assert store.audit_entries(ref=f"account:{account_id}", kind="task_created")
    finally:
        store.close()


def test_a_second_run_and_a_run_after_a_lost_state_file_make_no_second_task(
    accounts_world: World,
) -> None:
    world = accounts_world
    account_id, _ = add_at_risk_account(world)
    world.run()
    world.settle()
    second = world.run(now=world.now + timedelta(minutes=2))
    assert [
        p for p in second.planned if p.write and p.target.system.startswith("salesforce.")
    ] == []
    Path(world.config.state.path).unlink()
    world.settle()
    third = world.run(now=world.now + timedelta(minutes=2))
    assert third.exit_code == 0
    assert len(tasks_of(world, account_id)) == 1


def test_a_persons_edit_of_the_task_is_kept(accounts_world: World) -> None:
    world = accounts_world
    account_id, _ = add_at_risk_account(world)
    world.run()
    (task,) = tasks_of(world, account_id)
    world.sandbox.salesforce.edit_record("Task", task["Id"], ActivityDate="2099-01-01")
    world.settle()
    result = world.run(now=world.now + timedelta(minutes=2))
    assert world.sandbox.salesforce.get_record("Task", task["Id"])["ActivityDate"] == "2099-01-01"
    assert any(ref.startswith("salesforce.task:") for ref, _, _ in result.overrides_found)


@pytest.mark.parametrize("how", ["closed", "deleted"])
def test_a_task_a_person_closes_or_deletes_is_left_alone(accounts_world: World, how: str) -> None:
    world = accounts_world
    account_id, _ = add_at_risk_account(world)
    world.run()
    (task,) = tasks_of(world, account_id)
    if how == "closed":
        world.sandbox.salesforce.edit_record("Task", task["Id"], Status="Completed")
    else:
        world.sandbox.salesforce.delete_record("Task", task["Id"])
    for minutes in (2, 4):
        world.settle()
        world.run(now=world.now + timedelta(minutes=minutes))
    remaining = tasks_of(world, account_id)
    assert len(remaining) == (1 if how == "closed" else 0)
    if how == "closed":
        assert remaining[0]["Status"] == "Completed"
    store = world.store()
    try:
        left = store.audit_entries(ref=f"account:{account_id}", kind="task_left_alone")
        assert [entry["detail"]["why"] for entry in left] == [f"a person {how} it; left alone"]
    finally:
        store.close()


def test_the_task_is_closed_when_the_account_leaves_the_level(accounts_world: World) -> None:
    world = accounts_world
    account_id, _ = add_at_risk_account(world)
    world.run()
    far = (world.now + timedelta(days=400)).date().isoformat()
    world.sandbox.salesforce.edit_record(
        "Account", account_id, Health__c="Green", Renewal_Date__c=far
    )
    world.settle()
    # Ten working days of the strategic calendar (24x7) later: the quiet period is over.
    later = world.now + timedelta(days=11)
    world.run(now=later)
    (task,) = tasks_of(world, account_id)
    assert task["Status"] == "Completed"
    account = world.sandbox.salesforce.get_record("Account", account_id)
    assert account["Account_Escalation_Level__c"] == "healthy"
    organization = world.sandbox.zendesk.store.organizations[ORG_ID]
    assert set(organization["tags"]) == {"vip"}
    store = world.store()
    try:
        assert AccountStore(store).states()[account_id]["level"] == "healthy"
    finally:
        store.close()


def test_explain_account_shows_triggers_level_owner_playbook_and_history(
    accounts_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = accounts_world
    account_id, _ = add_at_risk_account(world)
    world.run()
    now = world.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    argv = ["explain", "--config", str(world.config_path), "--now", now, f"account:{account_id}"]
    code = run_sync.main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"account:{account_id} Initech" in out
    assert "[fired] key-account-renewal-at-risk -> executive-attention: Initech" in out
    assert "[no] detractor -> watch" in out
    assert "account level executive-attention (previous executive-attention" in out
    assert f"owner: {VP} (executive)" in out
    assert "playbook executive-outreach (priority High)" in out
    assert "account_decision: level executive-attention" in out
    assert "task_created: playbook executive-outreach" in out


def test_explain_of_an_unknown_account_exits_1(
    accounts_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = accounts_world
    world.run()
    code = run_sync.main(["explain", "--config", str(world.config_path), "account:001nothere"])
    assert code == 1
    assert "account:001nothere is not in the mirror" in capsys.readouterr().err


def test_an_unreadable_signal_is_reported_once_per_run_and_the_account_evaluated_without_it(
    accounts_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world = accounts_world
    salesforce = world.sandbox.salesforce
    first, second, detractor = (r["Id"] for r in salesforce.records("Account")[:3])
    for account_id in (first, second):
        salesforce.edit_record("Account", account_id, NPS__c="n/a")  # a text in a number field
    salesforce.edit_record("Account", detractor, NPS__c=-40.0)
    caplog.set_level(logging.INFO, logger="escalation_sync")
    result = world.run()
    assert result.exit_code == 0
    # Each unreadable value is a bad value of its record, found when the account is read...
    unreadable = sorted(i.record_ref for i in result.pull.issues if i.attribute == "signals.nps")
    assert unreadable == sorted([f"salesforce:{first}", f"salesforce:{second}"])
    # ...and the accounts lacking a value are counted once per run, however many they are.
    about_nps = [
        r.getMessage()
        for r in caplog.records
        if r.name == "escalation_sync.accounts" and "account.nps" in r.getMessage()
    ]
    accounts = len(salesforce.records("Account"))
    assert len(about_nps) == 1
    assert (
        f"evaluated without a value they lack: account.health 1, account.nps {accounts - 1}"
        in (about_nps[0])
    )
    store = world.store()
    try:
        states = AccountStore(store).states()
        assert {first, second, detractor} <= set(states)  # every account was evaluated
        reasons = [
            reason["name"]
            for entry in store.audit_entries(ref=f"account:{detractor}", kind="account_decision")
            for reason in entry["detail"]["reasons"]
        ]
        assert "detractor" in reasons
        for account_id in (first, second):
            for entry in store.audit_entries(ref=f"account:{account_id}", kind="account_decision"):
                assert "detractor" not in [r["name"] for r in entry["detail"]["reasons"]]
    finally:
        store.close()


def test_past_the_salesforce_api_reserve_the_account_matrix_writes_wait_for_the_next_run(
    accounts_world: World,
) -> None:
    # The allowance is the org's: other integrations used 90% of it, past the 80% we stop at.
    world = accounts_world
    account_id, _ = add_at_risk_account(world)
    world.sandbox.salesforce.set_api_allowance(15_000, used_by_others=13_500)
    try:
        first = world.run()
        assert first.exit_code == 10, first.summary()
        assert tasks_of(world, account_id) == []
        account = world.sandbox.salesforce.get_record("Account", account_id)
        assert account is not None and account.get("Account_Escalation_Level__c") is None
        waiting = first.summary()["quota_bound"]["salesforce.task"]["writes"]
        assert waiting["waiting"] == waiting["planned"] > 0
        assert waiting["levels"][0] == "executive-attention"  # highest first
        # Zendesk's organisation is not held back by Salesforce's allowance.
        organization = world.sandbox.zendesk.store.organizations[ORG_ID]
        assert organization["organization_fields"]["account_escalation_level"] == (
            "executive-attention"
        )

        world.sandbox.salesforce.set_api_allowance(15_000)  # the 24-hour window moved on
        world.settle()
        second = world.run(now=world.now + timedelta(minutes=2))
        assert second.exit_code == 0, second.summary()
        assert len(tasks_of(world, account_id)) == 1
        account = world.sandbox.salesforce.get_record("Account", account_id)
        assert account is not None
        assert account["Account_Escalation_Level__c"] == "executive-attention"
    finally:
        world.sandbox.salesforce.allowance.configure(100_000, force=False)


def refuse(world: World, what: str, account_id: str) -> tuple[str, str]:
    """The vendor refuses one of the account matrix's writes for good: (record ref, words)."""
    salesforce = world.sandbox.salesforce
    if what == "account":
        words = "Account is locked for the renewal review"
        salesforce.fail_records(
            [account_id], "FIELD_CUSTOM_VALIDATION_EXCEPTION", words, "composite_update", -1
        )
        return f"salesforce.account:{account_id}", words
    if what == "task":
        words = "Tasks on strategic accounts need a contact"
        salesforce.fail_records(
            [account_id], "FIELD_CUSTOM_VALIDATION_EXCEPTION", words, "composite_create", -1
        )
        return f"salesforce.task:{account_id}/executive-outreach", words
    words = "Organization is managed by the CRM app"
    world.sandbox.zendesk.refuse_organization_updates([ORG_ID], words)
    return f"zendesk.organization:{ORG_ID}", words


@pytest.mark.parametrize("what", ["account", "task", "organization"])
def test_a_rejected_account_write_keeps_the_vendors_words_and_is_not_resent(
    accounts_world: World, what: str
) -> None:
    world = accounts_world
    account_id, _ = add_at_risk_account(world)
    record, words = refuse(world, what, account_id)
    first = world.run()
    assert first.exit_code == 1, first.summary()
    assert [(ref, words in why) for ref, why in first.apply.rejected] == [(record, True)]

    # The vendor still refuses: the same payload is not sent again; the run still lists it.
    world.settle()
    again = world.run(now=world.now + timedelta(minutes=2))
    assert [p for p in again.planned if p.write and f"{p.write.ref}" == record] == []
    assert [(ref, words in why) for ref, why in again.still_rejected] == [(record, True)]
    assert again.exit_code == 1
    if what == "organization":
        return  # its payload is the level and its tag: it changes only with the level

    # The account changes, so does the payload (the reason names the ARR): it is sent again.
    world.sandbox.clear_faults()
    world.sandbox.salesforce.edit_record("Account", account_id, ARR__c=950000.0)
    world.settle()
    changed = world.run(now=world.now + timedelta(minutes=4))
    assert changed.still_rejected == [] and changed.apply.rejected == [], changed.summary()
    assert changed.exit_code == 0
    account = world.sandbox.salesforce.get_record("Account", account_id)
    assert "ARR 950,000" in account["Account_Escalation_Reason__c"]
    assert len(tasks_of(world, account_id)) == 1


def test_a_task_a_person_closed_is_honoured_after_a_lost_state_file(
    accounts_world: World,
) -> None:
    world = accounts_world
    account_id, _ = add_at_risk_account(world)
    world.run()
    (task,) = tasks_of(world, account_id)
    world.sandbox.salesforce.edit_record("Task", task["Id"], Status="Completed")
    Path(world.config.state.path).unlink()
    for minutes in (2, 4):  # the run after the loss finds it closed; the next one remembers
        world.settle()
        result = world.run(now=world.now + timedelta(minutes=minutes))
        assert result.exit_code == 0, result.summary()
    assert [(t["Id"], t["Status"]) for t in tasks_of(world, account_id)] == [
        (task["Id"], "Completed")
    ]
    store = world.store()
    try:
        left = store.audit_entries(ref=f"account:{account_id}", kind="task_left_alone")
        assert [entry["detail"]["why"] for entry in left] == [
            "a person closed it (found after the state file was lost); left alone"
        ]
    finally:
        store.close()


def test_a_task_closed_longer_ago_than_the_lookback_does_not_stop_a_new_one(
    accounts_world: World,
) -> None:
    world = accounts_world
    mapping = world.config_path.parent / "mapping.yaml"
    text = mapping.read_text(encoding="utf-8").replace(
        "task: {}", "task: {closed_lookback_days: 1}"
    )
    mapping.write_text(text, encoding="utf-8")
    world.config = load_config(world.config_path)
    account_id, _ = add_at_risk_account(world)
    world.run()
    (task,) = tasks_of(world, account_id)
    world.sandbox.salesforce.edit_record("Task", task["Id"], Status="Completed")
    Path(world.config.state.path).unlink()
    world.settle()
    world.run(now=world.now + timedelta(days=2))
    statuses = sorted(t["Status"] for t in tasks_of(world, account_id))
    assert statuses == ["Completed", "Not Started"]


def test_the_demo_shows_an_account_escalated_without_a_ticket(
    accounts_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from sandbox.demo import _accounts_shown

    world = accounts_world
    account_id, _ = add_at_risk_account(world)
    world.run()
    _accounts_shown(world.sandbox, Path(world.config.state.path))
    out = capsys.readouterr().out
    assert f"An account escalated with no open ticket: Initech ({account_id})" in out
    assert f"owner {VP}" in out and "level executive-attention" in out
    assert "task: Executive outreach: Initech (strategic)" in out
    assert f"Zendesk organisation {ORG_ID}: tag account_executive-attention" in out
