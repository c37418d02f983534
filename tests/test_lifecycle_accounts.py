"""Salesforce accounts that change under the sync: a new owner, a new CSM, a new tier. After
the next run every system equals what a first run on the changed world produces, field by
field, with no note or record twice (the style of tests/test_lifecycle_events.py).

Each change is made as a person makes it in Salesforce (the record changes, SystemModstamp
moves), so the next incremental read brings the account again; routing by `{account.owner}` /
`{account.csm}` and the tier's SLA targets and rules follow from then on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.loader import load_config
from sandbox import catalogue
from sandbox.runner import Sandbox
from tests.fault_helpers import (
    FAULT_SIZES,
    converge,
    duplicate_escalation_records,
    duplicate_notes,
)
from tests.lifecycle_helpers import (
    assert_equals_a_first_run,
    assert_the_event_mattered,
    before_and_after,
)
from tests.notify_helpers import email_keys, emails, notify_world, reset_channels
from tests.sync_world import World, write_world_data
from tests.test_account_escalation_sync import with_account_writes

pytestmark = pytest.mark.integration

WORLD_SIZES = FAULT_SIZES


@dataclass(frozen=True)
class Accounts:
    by_csm: str  # an account whose CSM owns one of its escalated tickets
    strategic: str  # a strategic account with escalation records
    growing: str  # a non-strategic account with escalation records


@pytest.fixture(scope="module")
def accounts(world_sandbox, tmp_path_factory: pytest.TempPathFactory) -> Accounts:
    world = World(*world_sandbox, tmp_path_factory.mktemp("plain"))
    converge(world)
    salesforce = world.sandbox.salesforce
    by_id = {a["Id"]: a for a in salesforce.records("Account")}
    records = salesforce.records("Escalation__c")
    escalated = sorted({r["Account__c"] for r in records})
    by_csm = next(
        r["Account__c"] for r in records if r["Owner__c"] == by_id[r["Account__c"]]["CSM_Email__c"]
    )
    strategic = next(a for a in escalated if by_id[a]["Tier__c"] == "strategic")
    growing = next(a for a in escalated if by_id[a]["Tier__c"] not in ("strategic", None))
    return Accounts(by_csm, strategic, growing)


def strategic_tickets_go_to_the_account_owner(world: World) -> None:
    """Route action-needed tickets of strategic accounts to `{account.owner}`."""
    matrix = world.config_path.parent / "matrix.yaml"
    text = matrix.read_text(encoding="utf-8")
    assert "primary: tam-strategic," in text
    matrix.write_text(
        text.replace("primary: tam-strategic,", 'primary: "{account.owner}",'), encoding="utf-8"
    )
    world.config = load_config(world.config_path)


def another_user(world: World, account_id: str) -> str:
    account = world.sandbox.salesforce.get_record("Account", account_id)
    assert account is not None
    users = sorted(
        u["Id"]
        for u in world.sandbox.salesforce.records("User")
        if u["Id"] != account["OwnerId"] and u.get("Email") != "sync-bot@example.com"
    )
    return users[0]


def lowest(outcome: Any) -> str:
    return outcome.live.config.matrix.levels[0]


def test_a_new_account_owner_owns_its_escalations_from_the_next_run(
    world_sandbox, accounts: Accounts, tmp_path: Path
):
    emails: list[str] = []

    def cause(world: World) -> None:
        owner = another_user(world, accounts.strategic)
        world.sandbox.salesforce.edit_record("Account", accounts.strategic, OwnerId=owner)
        user = world.sandbox.salesforce.get_record("User", owner)
        assert user is not None
        emails.append(user["Email"])

    outcome = before_and_after(
        world_sandbox, tmp_path, cause, edit_config=strategic_tickets_go_to_the_account_owner
    )
    assert_the_event_mattered(outcome)
    assert_equals_a_first_run(outcome, lowest(outcome))
    assert any(r[1] == emails[-1] for r in outcome.found["records"].values()), (
        "the new owner owns the account's escalation records"
    )


def test_a_new_csm_owns_the_escalations_routed_to_the_csm_from_the_next_run(
    world_sandbox, accounts: Accounts, tmp_path: Path
):
    new_csm = "new.csm@example.com"

    def cause(world: World) -> None:
        world.sandbox.salesforce.edit_record("Account", accounts.by_csm, CSM_Email__c=new_csm)

    outcome = before_and_after(world_sandbox, tmp_path, cause)
    assert_the_event_mattered(outcome)
    assert_equals_a_first_run(outcome, lowest(outcome))
    assert any(r[1] == new_csm for r in outcome.found["records"].values())


def test_a_higher_tier_applies_its_slas_and_rules_from_the_next_run(
    world_sandbox, accounts: Accounts, tmp_path: Path
):
    def cause(world: World) -> None:
        world.sandbox.salesforce.edit_record("Account", accounts.growing, Tier__c="strategic")

    outcome = before_and_after(world_sandbox, tmp_path, cause)
    assert_the_event_mattered(outcome)
    assert_equals_a_first_run(outcome, lowest(outcome))


def test_a_lower_tier_applies_from_the_next_run_and_levels_reached_are_held(
    world_sandbox, accounts: Accounts, tmp_path: Path
):
    """The new tier reaches every system at once (Jira's customer tier, the SLA targets and
    rules of tickets evaluated afresh); a level a ticket already reached is held while it is
    open (the matrix's de-escalation), so only tickets kept at their level differ from a first
    run, and each says so in its reason."""

    def cause(world: World) -> None:
        world.sandbox.salesforce.edit_record("Account", accounts.strategic, Tier__c="standard")

    outcome = before_and_after(world_sandbox, tmp_path, cause)
    assert_the_event_mattered(outcome)
    tier = "customfield_10201"
    for key, (fields, _) in outcome.expected["jira"].items():
        assert json.loads(outcome.found["jira"][key][0])[tier] == json.loads(fields)[tier], key
    reason = catalogue.ZD_FIELD_REASON
    held = 0
    for ticket_id, (fields, tags, _) in outcome.found["zendesk"].items():
        if (fields, tags) != outcome.expected["zendesk"][ticket_id][:2]:
            assert "Kept at" in (fields.get(reason) or ""), (ticket_id, fields)
            held += 1
    assert held, "some ticket held its level"
    assert duplicate_notes(outcome.live) == {}
    assert duplicate_escalation_records(outcome.live) == []


# -- notifications follow the new owner --------------------------------------------------------
@pytest.fixture(scope="module")
def with_channels(tmp_path_factory: pytest.TempPathFactory):
    data = write_world_data(tmp_path_factory.mktemp("data"), **FAULT_SIZES)
    with Sandbox(work_dir=tmp_path_factory.mktemp("tls"), quotas=False, channels=True) as sandbox:
        yield sandbox, data


def test_a_new_csm_is_told_once_of_the_escalations_they_now_own(
    with_channels, accounts: Accounts, tmp_path: Path
):
    """The owner_changed notification goes to the new CSM, once (with an SLA breach still open
    on a ticket they now own: theirs to act on); later runs send nothing."""
    sandbox, data = with_channels
    reset_channels(sandbox)
    world = notify_world(sandbox, data, tmp_path)
    converge(world)
    reset_channels(sandbox)
    new_csm = "new.csm@example.com"
    sandbox.salesforce.edit_record("Account", accounts.by_csm, CSM_Email__c=new_csm)
    converge(world)
    told = [str(m.message["X-Escalation-Key"]) for m in emails(sandbox) if new_csm in m.rcpt_tos]
    assert any("|owner_changed|" in key for key in told), told
    keys = email_keys(sandbox)
    assert len(keys) == len(set(keys)), keys
    reset_channels(sandbox)
    converge(world)
    assert emails(sandbox) == []


# -- the account matrix: the open playbook task follows the new owner ----------------------
def account_matrix_state(world: World) -> dict[str, Any]:
    """Per account: its account-matrix fields and its open tasks (subject, owner, due)."""
    salesforce = world.sandbox.salesforce
    tasks: dict[str, list[tuple[Any, ...]]] = {}
    for task in salesforce.records("Task"):
        if task.get("Status") != "Completed":
            tasks.setdefault(task["WhatId"], []).append(
                (task["Subject"], task["OwnerId"], task["ActivityDate"], task["Description"])
            )
    return {
        account["Id"]: (
            account.get("Account_Escalation_Level__c"),
            account.get("Account_Escalation_Owner__c"),
            account.get("Next_Outreach_Due__c"),
            sorted(tasks.get(account["Id"], [])),
        )
        for account in salesforce.records("Account")
    }


def test_a_new_csm_gets_the_open_playbook_task_of_the_account_as_a_first_run_gives_it(
    world_sandbox, tmp_path: Path
):
    """The account matrix routes at-risk accounts to `{account.csm}`: when the CSM changes,
    the account's one open task is handed to the new CSM (its owner and description rewritten
    in place), not left with the old one nor doubled."""
    probe = with_account_writes(World(*world_sandbox, tmp_path / "probe"))
    converge(probe)
    users = {u["Email"]: u["Id"] for u in probe.sandbox.salesforce.records("User")}
    at_risk = sorted(
        a["Id"]
        for a in probe.sandbox.salesforce.records("Account")
        if a.get("Account_Escalation_Level__c") == "at-risk" and a.get("CSM_Email__c") in users
    )
    assert at_risk, "an at-risk account owned by its CSM"
    account_id = at_risk[0]
    old_csm = probe.sandbox.salesforce.get_record("Account", account_id)["CSM_Email__c"]
    new_csm = sorted(e for e in users if e not in (old_csm, "sync-bot@example.com"))[0]

    def cause(world: World) -> None:
        world.sandbox.salesforce.edit_record("Account", account_id, CSM_Email__c=new_csm)

    outcome = before_and_after(
        world_sandbox, tmp_path, cause, edit_config=with_account_writes, read=account_matrix_state
    )
    assert_equals_a_first_run(outcome, lowest(outcome))
    assert outcome.found_more == outcome.expected_more
    level, owner, _, tasks = outcome.found_more[account_id]
    assert (level, owner) == ("at-risk", new_csm)
    assert [t[1] for t in tasks] == [users[new_csm]], tasks
