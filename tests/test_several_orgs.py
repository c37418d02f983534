"""Two Salesforce orgs in one config (connections.salesforce.instances): the world's sandbox is
the default pair (Zendesk and Salesforce, with Jira), a second sandbox on its own port and CA
the "eu" pair, whose Zendesk names its org (`salesforce: eu`). The eu org has its own secret
and its own mapping (escalation records from the first level up), and holds account Ids the
default org has too: they are different accounts."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from config.loader import load_config
from connectors.channels import SendStatus
from connectors.transport import RetryPolicy
from notify.debrief import TASK_CHANNEL, debrief_marker, task_subject
from notify.debrief_send import debrief_channels
from report.build import build_report
from sandbox import catalogue
from sandbox.generate import generate_dataset
from sandbox.runner import Sandbox
from sandbox.salesforce.limits import DEFAULT_DAILY_LIMIT
from sync.connections import build_connectors
from sync.explain import print_explain
from sync.report import summary_line
from sync.run import RunResult
from tests.sync_world import ANCHOR, World, reconcile_every_run, wrong_secret
from tests.test_account_escalation_sync import (
    ORG_ID,
    VP,
    add_at_risk_account,
    with_account_writes,
)

pytestmark = pytest.mark.integration

EU_SECRET = "sf-eu-secret"  # the eu org accepts only this: its secret is its own
ESCALATIONS = "Escalation__c"


def _eu_pair(eu: Sandbox) -> tuple[int, str]:
    """eu's Zendesk and Salesforce from one generated world (its tickets name its accounts);
    one ticket open and urgent on an account. (ticket id, account Id)"""
    data = generate_dataset(30, 80, 0, seed=23, anchor=ANCHOR)
    eu.salesforce.load_state(data["salesforce"])
    eu.salesforce.oauth.client_secret = EU_SECRET
    account = data["salesforce"]["sobjects"]["Account"][-1]["Id"]
    ticket = data["zendesk"]["tickets"][0]
    ticket["status"] = "open"
    ticket["priority"] = "urgent"
    for field in ticket["custom_fields"]:
        if field["id"] == catalogue.ZD_FIELD_ACCOUNT_ID:
            field["value"] = account
    eu.zendesk.load_state(data["zendesk"])
    eu.zendesk.credentials = {(catalogue.ZENDESK_EMAIL, "zd-eu-token")}
    eu.reset_traffic()
    return ticket["id"], account


def _eu_config(world: World, eu: Sandbox) -> None:
    """Zendesk eu (joined to org eu) and org eu, with its own secret and mapping."""
    folder = world.config_path.parent
    mapping = yaml.safe_load((folder / "mapping.yaml").read_text(encoding="utf-8"))
    eu_mapping = mapping["mapping"]["salesforce"]
    eu_mapping["ticket_record"]["min_level"] = "informational"
    zendesk_mapping = {**mapping["mapping"]["zendesk"], "tags_prefix": "esc_eu_"}
    zendesk_mapping["private_note_on_level_change"] = False
    connections = folder / "connections.yaml"
    text = connections.read_text(encoding="utf-8")
    eu_zendesk = f"""    instances:
      eu:
        url: {eu.urls["zendesk"]}
        email_env: ZENDESK_EU_EMAIL
        token_env: ZENDESK_EU_API_TOKEN
        ca_bundle: {eu.ca_path.resolve()}
        timeout_seconds: 10
        salesforce: eu
        mapping: {json.dumps(zendesk_mapping)}
"""
    eu_org = f"""    instances:
      eu:
        login_url: {eu.urls["salesforce"]}
        client_id_env: SALESFORCE_CLIENT_ID
        client_secret_env: SALESFORCE_EU_CLIENT_SECRET
        api_version: "{catalogue.SALESFORCE_API_VERSION}"
        ca_bundle: {eu.ca_path.resolve()}
        timeout_seconds: 10
        mapping: {json.dumps(eu_mapping)}
"""
    text = text.replace("  jira:\n", eu_zendesk + "  jira:\n", 1)
    connections.write_text(text.rstrip("\n") + "\n" + eu_org, encoding="utf-8")
    os.environ["ZENDESK_EU_EMAIL"] = catalogue.ZENDESK_EMAIL
    os.environ["ZENDESK_EU_API_TOKEN"] = "zd-eu-token"
    os.environ["SALESFORCE_EU_CLIENT_SECRET"] = EU_SECRET
    world.config = load_config(world.config_path)


@pytest.fixture(scope="module")
def eu_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(work_dir=tmp_path_factory.mktemp("eu-pair-tls"), quotas=False) as running:
        yield running


@pytest.fixture
def pairs(world: World, eu_sandbox: Sandbox) -> tuple[World, Sandbox, int, str]:
    ticket_id, account = _eu_pair(eu_sandbox)
    _eu_config(world, eu_sandbox)
    return world, eu_sandbox, ticket_id, account


def _records(sandbox: Sandbox) -> dict[str, dict]:
    """The org's escalation records by their ticket ref."""
    return {r["Ticket_Ref__c"]: r for r in sandbox.salesforce.records(ESCALATIONS)}


def test_a_ticket_of_zendesk_eu_joins_to_org_eu_and_its_record_lands_there_only(pairs):
    world, eu, ticket_id, account = pairs
    default_ids = {a["Id"] for a in world.sandbox.salesforce.records("Account")}
    assert account in default_ids  # the same Id in both orgs: two accounts
    result = world.run()
    assert not result.unreachable and not result.refused, result.summary()
    tickets = {t.ref: t for t in result.evaluation.tickets}
    ours = tickets[f"zendesk:eu/{ticket_id}"]
    assert ours.account_id == f"eu/{account}"
    assert f"eu/{account}" in result.evaluation.accounts
    # Every eu ticket joined to an account of org eu, every default ticket to one of the default.
    for ticket in result.evaluation.tickets:
        if ticket.account_id is not None:
            assert ticket.account_id.startswith("eu/") == ticket.ref.startswith("zendesk:eu/")
    levels = {d.ticket_ref: d.level for d in result.evaluation.decisions}
    assert levels[ours.ref] != "none"
    in_eu, in_default = _records(eu), _records(world.sandbox)
    # eu's own mapping: a record from the first level up, with the account as eu knows it.
    assert in_eu[ours.ref]["Account__c"] == account
    eu_escalated = {
        r for r, level in levels.items() if r.startswith("zendesk:eu/") and level != "none"
    }
    assert set(in_eu) == eu_escalated
    assert in_default and not any(ref.startswith("zendesk:eu/") for ref in in_default)
    # The account rollup of the eu account is written to org eu; the default org's account of
    # the same Id only holds what the default tickets say.
    eu_account = eu.salesforce.get_record("Account", account)
    assert eu_account["Open_Escalations__c"] >= 1
    default_account = world.sandbox.salesforce.get_record("Account", account)
    default_open = [
        d
        for d in result.evaluation.decisions
        if d.level != "none" and tickets[d.ticket_ref].account_id == account
    ]
    assert (default_account.get("Open_Escalations__c") or 0) == len(default_open)
    store = world.store()
    try:
        written = store.written()
        assert ("salesforce", f"eu/{ours.ref}") in written
        assert ("salesforce", f"eu/{account}") in written
        refs = {row[0] for row in store.db.execute("SELECT ref FROM audit WHERE kind = 'write'")}
        assert f"salesforce:eu/{account}" in refs
        out = io.StringIO()
        assert print_explain(world.config, store, ours.ref, world.now, out)
    finally:
        store.close()
    assert f"eu/{account}" in out.getvalue()


def test_each_org_reads_on_its_own_cursor_and_a_second_run_writes_nothing(pairs):
    world, eu, _, _ = pairs
    first = world.run()
    assert first.pull.records["salesforce.accounts@eu"] > 0
    assert first.pull.records["salesforce.accounts"] > 0
    store = world.store()
    try:
        assert store.cursor("salesforce.accounts@eu") and store.cursor("salesforce.accounts")
    finally:
        store.close()
    world.settle()
    eu.zendesk.advance_clock(61)
    before = (world.writes(), len(eu.salesforce.traffic.writes), len(eu.zendesk.traffic.writes))
    second = world.run(now=world.now)
    assert second.writes == [], [w.write.ref for w in second.writes][:5]
    after = (world.writes(), len(eu.salesforce.traffic.writes), len(eu.zendesk.traffic.writes))
    assert after == before
    assert second.exit_code == 0, second.summary()


def test_an_org_that_refuses_our_secret_stops_only_itself(pairs):
    world, eu, ticket_id, _ = pairs
    result = _run_with_eu_refusing(world)
    assert set(result.refused) == {"salesforce@eu"}, result.summary()
    assert result.exit_code == 5
    assert not eu.salesforce.traffic.writes and not _records(eu)
    # Never read: Zendesk eu's levels would lack its accounts; its writes wait for them.
    assert not eu.zendesk.traffic.writes
    assert world.writes()["zendesk"] > 0
    assert _records(world.sandbox)  # the default org was written as without eu
    assert "not-the-eu-secret" not in json.dumps(result.summary())
    world.settle()
    again = world.run()
    assert f"zendesk:eu/{ticket_id}" in _records(eu), again.summary()


def _run_with_eu_refusing(world: World, now: datetime | None = None) -> RunResult:
    """One run with org eu refusing our secret (a wrong one in its variable), then the right
    one back."""
    with wrong_secret("SALESFORCE_EU_CLIENT_SECRET", "not-the-eu-secret"):
        return world.run(now=now)


def _with_debriefs(world: World, more: str = "") -> None:
    """Debriefs asked from the informational level on, at any hour (`more`: further lines of
    the `notifications` section)."""
    main = world.config_path
    main.write_text(
        main.read_text(encoding="utf-8")
        + "notifications:\n  quiet_hours: {enabled: false}\n"
        + "  debrief: {min_level: informational}\n"
        + more,
        encoding="utf-8",
    )
    world.config = load_config(main)


@pytest.fixture
def accounts_pairs(world: World, eu_sandbox: Sandbox) -> tuple[World, Sandbox]:
    """The two pairs with the account matrix's writes in both orgs' and Zendesks' mappings
    (org eu's and Zendesk eu's are copies of the default's, made after it has them)."""
    with_account_writes(world)
    _eu_pair(eu_sandbox)
    _eu_config(world, eu_sandbox)
    return world, eu_sandbox


def _tasks(sandbox: Sandbox, account: str) -> list[dict]:
    return [t for t in sandbox.salesforce.records("Task") if t["WhatId"] == account]


def _a_later_run(world: World, eu: Sandbox, later: timedelta = timedelta(minutes=2)) -> RunResult:
    """The next run, `later`, once both sandboxes' exports show what the last one wrote."""
    world.settle()
    eu.zendesk.advance_clock(61)
    return world.run(now=world.now + later)


def _matrix_writes(sandbox: Sandbox) -> list[str]:
    """The org's writes of the account matrix (its fields and tasks), as sent."""
    return [
        f"{w.method} {w.path} {json.dumps(w.body)}"
        for w in sandbox.salesforce.traffic.writes
        if "Account_Escalation" in json.dumps(w.body) or '"Task"' in json.dumps(w.body)
    ]


def _organization_writes(sandbox: Sandbox) -> list[str]:
    """The Zendesk's writes to organisations (the account matrix's), as sent."""
    return [
        f"{w.method} {w.path} {json.dumps(w.body)}"
        for w in sandbox.zendesk.traffic.writes
        if "organizations" in w.path
    ]


def test_an_at_risk_account_of_org_eu_is_escalated_in_org_eu_and_its_zendesk_only(
    accounts_pairs,
):
    world, eu = accounts_pairs
    account, user = add_at_risk_account(world, eu)
    result = world.run()
    assert result.exit_code == 0, result.summary()
    ours = f"eu/{account}"
    assert ours in _matrix_accounts(world)
    held = eu.salesforce.get_record("Account", account)
    assert held["Account_Escalation_Level__c"] == "executive-attention"
    assert held["Account_Escalation_Owner__c"] == VP
    (task,) = _tasks(eu, account)
    assert task["Subject"].endswith("[escalation-sync:executive-outreach]")
    assert task["OwnerId"] == user  # org eu's own user, looked up in org eu
    organization = eu.zendesk.store.organizations[ORG_ID]
    assert organization["organization_fields"]["account_escalation_level"] == (
        "executive-attention"
    )
    assert set(organization["tags"]) == {"vip", "account_executive-attention"}
    # Nothing of it in the default org or Zendesk (an account there may have the same Id).
    assert not _tasks(world.sandbox, account)
    assert not any("Initech" in t["Subject"] for t in world.sandbox.salesforce.records("Task"))
    same_id = world.sandbox.salesforce.get_record("Account", account) or {}
    assert same_id.get("Account_Escalation_Owner__c") != VP
    assert ORG_ID not in world.sandbox.zendesk.store.organizations
    store = world.store()
    try:
        assert store.audit_entries(ref=f"account:{ours}", kind="task_created")
        assert ("salesforce.account", ours) in store.written()
        assert ("zendesk.organization", f"eu/{ORG_ID}") in store.written()
        out = io.StringIO()
        assert print_explain(world.config, store, f"account:{ours}", world.now, out)
        matrix = world.config.matrix
        assert matrix.accounts is not None
        heat = build_report(
            store, matrix.levels, world.now, 30, 90, tuple(matrix.accounts.levels)
        ).table("heat_map")
    finally:
        store.close()
    assert "executive-attention" in out.getvalue() and "executive-outreach" in out.getvalue()
    (row,) = [row for row in heat.rows if row[1] == "Initech"]
    assert row[0] == "yes" and "executive-attention" in row
    # The next run finds everything in place: nothing of the account matrix is written (its
    # tickets may be: two minutes on, an SLA clock may have moved a ticket's level).
    before = (_matrix_writes(eu), _organization_writes(eu))
    assert before[0] and before[1]  # the first run wrote them
    second = _a_later_run(world, eu)
    assert [p.write.ref for p in second.planned if p.write and "." in p.target.system] == []
    assert (_matrix_writes(eu), _organization_writes(eu)) == before


def test_an_org_that_refuses_us_waits_for_its_account_writes_and_the_default_org_does_not(
    accounts_pairs,
):
    world, eu = accounts_pairs
    default_account, _ = add_at_risk_account(world)
    account, _ = add_at_risk_account(world, eu)
    refused = _run_with_eu_refusing(world)
    assert set(refused.refused) == {"salesforce@eu"}, refused.summary()
    assert len(_tasks(world.sandbox, default_account)) == 1  # the default org as usual
    held = world.sandbox.salesforce.get_record("Account", default_account)
    assert held["Account_Escalation_Level__c"] == "executive-attention"
    assert not _matrix_writes(eu) and not _tasks(eu, account)
    assert "account_executive-attention" not in eu.zendesk.store.organizations[ORG_ID]["tags"]
    again = _a_later_run(world, eu)
    assert not again.refused, again.summary()
    assert len(_tasks(eu, account)) == 1
    assert eu.salesforce.get_record("Account", account)["Account_Escalation_Level__c"] == (
        "executive-attention"
    )
    assert "account_executive-attention" in eu.zendesk.store.organizations[ORG_ID]["tags"]
    assert len(_tasks(world.sandbox, default_account)) == 1


def test_org_eu_past_its_own_api_reserve_holds_back_its_account_writes_not_the_default_orgs(
    accounts_pairs,
):
    world, eu = accounts_pairs
    default_account, _ = add_at_risk_account(world)
    account, _ = add_at_risk_account(world, eu)
    # Org eu's other integrations used more than its reserve leaves us (0.2 of 15,000); the
    # default org's allowance is untouched.
    eu.salesforce.set_api_allowance(15_000, used_by_others=12_500)
    try:
        held_back = world.run()
    finally:
        eu.salesforce.allowance.configure(DEFAULT_DAILY_LIMIT, force=False)
    assert "salesforce@eu" in held_back.quota_bound.get("salesforce.account", ""), (
        held_back.summary()
    )
    assert not _matrix_writes(eu) and not _tasks(eu, account)
    assert len(_tasks(world.sandbox, default_account)) == 1
    held = world.sandbox.salesforce.get_record("Account", default_account)
    assert held["Account_Escalation_Level__c"] == "executive-attention"
    again = _a_later_run(world, eu)
    assert not again.quota_bound, again.summary()
    assert len(_tasks(eu, account)) == 1
    assert eu.salesforce.get_record("Account", account)["Account_Escalation_Level__c"] == (
        "executive-attention"
    )


def test_each_orgs_allowance_is_in_the_summary_and_the_audit_log(accounts_pairs):
    """Each org has its own daily allowance and reserve: the summary shows each (it showed the
    default org's alone), and the audit log keeps each under its label."""
    world, eu = accounts_pairs
    add_at_risk_account(world)
    add_at_risk_account(world, eu)
    eu.salesforce.set_api_allowance(15_000, used_by_others=1_000)
    try:
        result = world.run()
        eu_used, eu_limit = eu.salesforce.api_usage()
    finally:
        eu.salesforce.allowance.configure(DEFAULT_DAILY_LIMIT, force=False)
    assert eu_limit == 15_000 and eu_used > 1_000  # our reads and writes counted there
    assert result.allowances["salesforce@eu"] == {
        "used": eu_used, "limit": 15_000, "reserve": 0.2, "stop_writing_at": 12_000,
    }, result.summary()  # fmt: skip
    assert result.allowances["salesforce"]["limit"] == DEFAULT_DAILY_LIMIT
    line = summary_line(result)
    assert f"salesforce@eu API allowance: {eu_used:,} of 15,000 used" in line, line
    assert "salesforce API allowance: " in line
    store = world.store()
    try:
        refs = {
            ref
            for (ref,) in store.db.execute(
                "SELECT ref FROM audit WHERE run_id = ? AND kind = 'api_allowance'",
                (result.run_id,),
            )
        }
    finally:
        store.close()
    assert refs == {"salesforce", "salesforce@eu"}


def test_a_lost_state_file_makes_no_second_task_in_org_eu(accounts_pairs):
    world, eu = accounts_pairs
    account, _ = add_at_risk_account(world, eu)
    world.run()
    (task,) = _tasks(eu, account)
    Path(world.config.state.path).unlink()
    again = _a_later_run(world, eu)
    assert again.exit_code == 0, again.summary()
    assert [t["Id"] for t in _tasks(eu, account)] == [task["Id"]]
    assert not any("Initech" in t["Subject"] for t in world.sandbox.salesforce.records("Task"))


def _matrix_accounts(world: World) -> set[str]:
    """The accounts the account matrix decided on (its audit)."""
    store = world.store()
    try:
        rows = store.db.execute("SELECT ref FROM audit WHERE kind = 'account_decision'").fetchall()
    finally:
        store.close()
    return {row[0].split(":", 1)[-1] for row in rows}


def test_an_account_merged_in_org_eu_takes_its_tickets_to_the_winner(pairs):
    world, eu, ticket_id, account = pairs
    world.run()
    winner = next(a["Id"] for a in eu.salesforce.records("Account") if a["Id"] != account)
    eu.salesforce.merge_accounts(winner, account)
    eu.salesforce.advance_clock(60)
    world.settle()
    result = world.run()
    tickets = {t.ref: t for t in result.evaluation.tickets}
    assert tickets[f"zendesk:eu/{ticket_id}"].account_id == f"eu/{winner}"


def test_doctor_checks_the_named_org_against_its_own_mapping_and_credentials(pairs):
    from tests.test_several_zendesks import _doctor

    world, eu, _, _ = pairs
    code, checks = _doctor(world)
    assert code == 0, [c for c in checks if c["status"] == "problem"]
    eu_lines = {c["subject"] for c in checks if c["system"] == "salesforce@eu"}
    default_lines = {c["subject"] for c in checks if c["system"] == "salesforce"}
    assert "connected app scopes" in eu_lines and eu_lines <= default_lines
    with wrong_secret("SALESFORCE_EU_CLIENT_SECRET", "wrong"):
        code, checks = _doctor(world)
    assert code == 3
    (refused,) = [c for c in checks if c["status"] == "problem"]
    assert refused["system"] == "salesforce@eu"
    assert "connections.salesforce.instances.eu" in refused["fix"]
    assert any(c["system"] == "salesforce" and c["status"] == "ok" for c in checks)


def test_the_debrief_task_of_a_ticket_of_org_eu_is_made_in_org_eu_once(pairs):
    world, eu, ticket_id, account = pairs
    ref = f"zendesk:eu/{ticket_id}"
    message = SimpleNamespace(
        key=f"{ref}|debrief|task",
        to=f"eu/{account}",  # the ticket's account as the run knows it
        subject=task_subject(ref, "Checkout down"),
        text="Debrief",
        payload={"marker": debrief_marker(ref), "owner": None, "due": "2026-12-01"},
    )
    connectors = build_connectors(world.config, RetryPolicy(max_total_wait_seconds=30))
    try:
        channel = debrief_channels(connectors)[TASK_CHANNEL]
        first = channel.send(message)
        again = channel.send(message)  # a row sent again (after a kill) finds the first
    finally:
        for connector in connectors.values():
            connector.close()
    assert first.status is SendStatus.SENT, first
    assert again.status is SendStatus.SENT and again.detail == "already there", again
    (task,) = [t for t in eu.salesforce.records("Task") if debrief_marker(ref) in t["Subject"]]
    assert task["WhatId"] == account
    assert not any(
        debrief_marker(ref) in (t.get("Subject") or "")
        for t in world.sandbox.salesforce.records("Task")
    )


def test_org_eus_task_keeps_a_persons_edit_and_is_closed_when_its_account_leaves_the_level(
    accounts_pairs,
):
    world, eu = accounts_pairs
    account, _ = add_at_risk_account(world, eu)
    world.run()
    (task,) = _tasks(eu, account)
    eu.salesforce.edit_record("Task", task["Id"], ActivityDate="2099-01-01")
    edited = _a_later_run(world, eu)
    assert eu.salesforce.get_record("Task", task["Id"])["ActivityDate"] == "2099-01-01"
    assert any(
        ref.startswith(f"salesforce.task:eu/{account}/") for ref, _, _ in edited.overrides_found
    )
    far = (world.now + timedelta(days=400)).date().isoformat()
    eu.salesforce.edit_record("Account", account, Health__c="Green", Renewal_Date__c=far)
    _a_later_run(world, eu, timedelta(days=11))  # past the strategic calendar's quiet period
    (closed,) = _tasks(eu, account)
    assert closed["Status"] == "Completed"
    assert eu.salesforce.get_record("Account", account)["Account_Escalation_Level__c"] == "healthy"
    assert set(eu.zendesk.store.organizations[ORG_ID]["tags"]) == {"vip"}


def _bare_org(salesforce) -> None:
    """Org eu without our objects and fields, as a new org is."""
    from sandbox.bare_org import _bare_salesforce

    state = salesforce.dump_state()
    _bare_salesforce(state)
    salesforce.load_state(state)


def test_provision_makes_a_bare_named_orgs_objects_and_fields_through_its_own_connection(pairs):
    from tests.test_several_zendesks import _doctor, _provision, _set_up_once

    world, eu, _, _ = pairs
    _bare_org(eu.salesforce)
    connections = (world.config_path.parent / "connections.yaml").read_text(encoding="utf-8")
    code, checks = _doctor(world)
    assert code == 11 and {c["system"] for c in checks if c["status"] == "problem"} == {"salesforce@eu"}  # fmt: skip

    planned, plan = _provision(world, apply=False)
    assert planned == 0 and not eu.salesforce.traffic.writes
    assert f"  salesforce@eu: create object {ESCALATIONS}" in plan, plan
    assert "  salesforce: create" not in plan  # the default org is set up already
    code, report = _provision(world)
    assert code == 0, report
    assert eu.salesforce.traffic.writes and not world.sandbox.salesforce.traffic.writes
    # Salesforce fields are named by their API names: nothing to write into the mapping.
    assert (world.config_path.parent / "connections.yaml").read_text(encoding="utf-8") == connections  # fmt: skip

    _set_up_once(world, eu.salesforce)


def test_an_org_that_refuses_our_secret_is_reported_by_provision_and_the_others_provisioned(pairs):
    from tests.test_several_zendesks import _provision

    world, eu, _, _ = pairs
    _bare_org(eu.salesforce)
    del eu.zendesk.store.ticket_fields[catalogue.ZD_FIELD_OWNER]
    with wrong_secret("SALESFORCE_EU_CLIENT_SECRET", "wrong"):
        code, report = _provision(world)
    assert code == 11, report
    assert "FAILED: salesforce@eu: " in report
    assert "done: zendesk@eu: create ticket field" in report
    assert not eu.salesforce.traffic.writes


def _edit_connections(world: World, old: str, new: str) -> None:
    path = world.config_path.parent / "connections.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    world.config = load_config(world.config_path)


def _written(world: World) -> set[tuple[str, str]]:
    store = world.store()
    try:
        return set(store.written())
    finally:
        store.close()


def test_an_escalation_record_a_person_deleted_in_org_eu_is_recreated_there(pairs):
    world, eu, ticket_id, _ = pairs
    reconcile_every_run(world)
    world.run()
    world.settle()
    ref = f"zendesk:eu/{ticket_id}"
    eu.salesforce.delete_record(ESCALATIONS, _records(eu)[ref]["Id"])
    result = world.run(now=world.now + timedelta(hours=1))
    reconciled = result.summary()["reconciled"]
    assert reconciled["deleted_by_person"] == 1, reconciled
    assert result.reconciled is not None
    assert result.reconciled.deleted_by_person == [f"eu/{ref}"]
    assert reconciled["mirror_checked"]["salesforce@eu"] >= 1, reconciled
    world.settle()
    world.run(now=world.now + timedelta(hours=2))
    assert ref in _records(eu)  # re-created in org eu, and nowhere else
    assert ref not in _records(world.sandbox)
    store = world.store()
    try:
        assert store.audit_entries(f"salesforce:eu/{ref}", "deleted_by_person")
    finally:
        store.close()


def test_org_eus_own_policy_honours_a_deletion_its_mapping_says_to_honour(pairs):
    world, eu, ticket_id, _ = pairs
    _edit_connections(
        world,
        '"min_level": "informational"',
        '"min_level": "informational", "when_deleted_by_person": "honour"',
    )
    reconcile_every_run(world)
    world.run()
    world.settle()
    ref = f"zendesk:eu/{ticket_id}"
    eu.salesforce.delete_record(ESCALATIONS, _records(eu)[ref]["Id"])
    for hours in (1, 2, 3):
        world.settle()
        world.run(now=world.now + timedelta(hours=hours))
    assert ref not in _records(eu)
    store = world.store()
    try:
        [entry] = store.audit_entries(f"salesforce:eu/{ref}", "deleted_by_person")
        assert "honour" in json.dumps(entry, default=str)
    finally:
        store.close()


def test_an_org_not_reached_or_turned_off_is_not_reconciled_and_nothing_of_it_looks_deleted(
    pairs,
):
    world, eu, _, account = pairs
    reconcile_every_run(world)
    world.run()
    world.settle()
    eu_written = {key for key in _written(world) if key[1].startswith("eu/")}
    assert any("zendesk:" in rid for _, rid in eu_written)  # its escalation records
    refused = _run_with_eu_refusing(world, now=world.now + timedelta(hours=1))
    assert set(refused.refused) == {"salesforce@eu"}, refused.summary()
    # The default org's records are still looked at (asked of it alone, not with eu's).
    assert refused.summary()["reconciled"]["checked"] > 0, refused.summary()["reconciled"]
    _edit_connections(world, "        login_url: ", "        enabled: false\n        login_url: ")
    world.settle()
    off = world.run(now=world.now + timedelta(hours=2))
    for result in (refused, off):
        reconciled = result.summary()["reconciled"]
        assert reconciled["deleted_by_person"] == 0, reconciled
        assert "salesforce@eu" not in reconciled["mirror_checked"], reconciled
        assert not [ref for ref in result.reconciled.gone if "eu/" in ref], reconciled
    assert eu_written <= _written(world)
    store = world.store()
    try:
        assert store.db.execute(
            "SELECT 1 FROM accounts WHERE id = ?", (f"eu/{account}",)
        ).fetchone()
    finally:
        store.close()


def _eu_overrides(world: World) -> list[tuple[str, str, str]]:
    store = world.store()
    try:
        return [key for key in store.overrides() if key[1].startswith("eu/")]
    finally:
        store.close()


def test_unknown_writes_of_an_org_not_reached_stay_unknown_and_the_default_orgs_are_read_back(
    pairs,
):
    """Escalation records whose last write has an unknown outcome are read back before they
    are planned again, each from its own org. While eu cannot be asked (its secret refused,
    or turned off) its record is not in that read's answer: that is no person clearing our
    values (no override found or recorded). The default org's record is still read back, and
    a person's edit of it is found."""
    world, eu, ticket_id, _ = pairs
    world.run()
    world.settle()
    ref = f"eu/zendesk:eu/{ticket_id}"
    default_ref, default_record = next(
        (r, record) for r, record in sorted(_records(world.sandbox).items()) if "zendesk:" in r
    )
    assert {("salesforce", ref), ("salesforce", default_ref)} <= _written(world)

    def unknown_outcome(*record_ids: str) -> None:
        store = world.store()
        try:
            with store.transaction():  # the last write to it timed out: did it land?
                for record_id in record_ids:
                    store.record_failure("salesforce", record_id, "retry", "timed out", world.now)
        finally:
            store.close()

    unknown_outcome(ref, default_ref)
    world.sandbox.salesforce.edit_record(
        ESCALATIONS, default_record["Id"], Reason__c="a person's words"
    )
    refused = _run_with_eu_refusing(world, now=world.now + timedelta(hours=1))
    assert set(refused.refused) == {"salesforce@eu"}, refused.summary()
    found = {record for record, _, _ in refused.overrides_found}
    assert found == {f"salesforce:{default_ref}"}, refused.overrides_found
    _edit_connections(world, "        login_url: ", "        enabled: false\n        login_url: ")
    unknown_outcome(ref)
    world.settle()
    off = world.run(now=world.now + timedelta(hours=2))
    assert not [f for f in off.overrides_found if f[0].startswith("salesforce:eu/")]
    assert _eu_overrides(world) == []


def _zendesk_eu_off(world: World) -> None:
    """Zendesk eu turned off (its org, eu, stays on)."""
    _edit_connections(
        world, "        salesforce: eu\n", "        salesforce: eu\n        enabled: false\n"
    )


def test_a_zendesk_turned_off_keeps_its_tickets_on_its_own_org_and_writes_none_elsewhere(pairs):
    """Its tickets stay joined to org eu's accounts by its own rules, their escalation records
    stay org eu's: none is made in the default org, and nothing goes to the default Zendesk."""
    world, eu, ticket_id, _ = pairs
    first = world.run()
    world.settle()
    ref = f"zendesk:eu/{ticket_id}"
    assert ref in _records(eu)
    account = {t.ref: t.account_id for t in first.evaluation.tickets}[ref]
    assert account is not None and account.startswith("eu/")
    _zendesk_eu_off(world)
    world.sandbox.reset_traffic()
    eu.reset_traffic()
    off = world.run(now=world.now + timedelta(days=2))
    assert off.exit_code == 0, off.summary()
    joined = {t.ref: t.account_id for t in off.evaluation.tickets}
    assert joined[ref] == account  # by its own rules, to its own org's account
    assert not [r for r in _records(world.sandbox) if r.startswith("zendesk:eu/")]
    assert not [p.write.ref for p in off.writes if p.write.ref.startswith("zendesk:eu/")]
    assert not off.apply.rejected and not off.apply.retry, off.summary()
    assert not eu.zendesk.traffic.requests
    assert ref in _records(eu)


def test_a_zendesk_turned_off_keeps_its_organisations_and_the_default_gets_none_of_them(
    accounts_pairs,
):
    world, eu = accounts_pairs
    add_at_risk_account(world, eu)
    first = world.run()
    assert first.exit_code == 0, first.summary()
    assert "account_executive-attention" in eu.zendesk.store.organizations[ORG_ID]["tags"]
    _zendesk_eu_off(world)
    world.sandbox.reset_traffic()
    eu.reset_traffic()
    off = _a_later_run(world, eu)
    assert off.exit_code == 0, off.summary()
    organisations = [p.write.ref for p in off.writes if p.target.system == "zendesk.organization"]
    assert not [ref for ref in organisations if "eu/" in ref], organisations
    assert not off.apply.rejected and not off.apply.retry, off.summary()
    assert not _organization_writes(world.sandbox) and not eu.zendesk.traffic.requests
    assert ("zendesk.organization", f"eu/{ORG_ID}") in _written(world)


def test_an_org_not_reached_is_not_asked_again_in_the_run_for_its_unknown_records(pairs):
    """Found unreachable while reading (here: refusing our secret), org eu is not asked
    again in the run to read back a record whose last write has an unknown outcome: it stays
    unknown, its write waits, and the next run reads it back from org eu."""
    world, eu, ticket_id, _ = pairs
    world.run()
    world.settle()
    ref = f"eu/zendesk:eu/{ticket_id}"
    store = world.store()
    try:
        with store.transaction():  # the last write to it timed out: did it land?
            store.record_failure("salesforce", ref, "retry", "timed out", world.now)
    finally:
        store.close()
    eu.reset_traffic()
    refused = _run_with_eu_refusing(world, now=world.now + timedelta(hours=1))
    assert set(refused.refused) == {"salesforce@eu"}, refused.summary()
    # The read's one login attempt, refused; nothing after it.
    assert dict(eu.salesforce.traffic.requests) == {"oauth_token": 1}
    store = world.store()
    try:
        assert store.failures()[("salesforce", ref)]["status"] == "retry"
    finally:
        store.close()
    world.settle()
    again = world.run(now=world.now + timedelta(hours=2))
    assert not again.refused and again.exit_code == 0, again.summary()
    store = world.store()
    try:
        assert ("salesforce", ref) not in store.failures()
    finally:
        store.close()


def test_the_debrief_of_a_ticket_of_an_org_not_reached_waits_without_asking_it_again(pairs):
    """A solved ticket of Zendesk eu asks for a debrief Task in org eu. Org eu refusing our
    secret this run, the Task waits (to retry, not rejected) and org eu is not asked again
    for it; the next run makes it there, once."""
    world, eu, ticket_id, _ = pairs
    _with_debriefs(world)
    first = world.run()
    ref = f"zendesk:eu/{ticket_id}"
    assert {d.ticket_ref: d.level for d in first.evaluation.decisions}[ref] != "none"
    eu.zendesk.agent_edit(ticket_id, {"status": "solved"})
    eu.zendesk.advance_clock(61)
    world.settle()
    eu.reset_traffic()
    refused = _run_with_eu_refusing(world, now=world.now + timedelta(minutes=2))
    assert set(refused.refused) == {"salesforce@eu"}, refused.summary()
    assert dict(eu.salesforce.traffic.requests) == {"oauth_token": 1}
    delivery = refused.notifications.delivery
    assert [key for key, _ in delivery.retry if key.startswith(ref)] and not delivery.rejected
    assert not [t for t in eu.salesforce.records("Task") if debrief_marker(ref) in t["Subject"]]
    world.settle()
    again = world.run(now=world.now + timedelta(minutes=5))
    assert not again.refused, again.summary()
    tasks = [t for t in eu.salesforce.records("Task") if debrief_marker(ref) in t["Subject"]]
    assert len(tasks) == 1


def test_the_debrief_of_a_ticket_of_an_org_turned_off_waits_and_is_never_given_up(pairs):
    """Org eu turned off (Zendesk eu on): a solved ticket's debrief Task for org eu waits,
    with no request and no failure (the run does not exit as if a notification failed), and
    is not given up however long the org stays off; turned on again, the Task is made there."""
    world, eu, ticket_id, _ = pairs
    _with_debriefs(world, "  give_up_after: 1h\n")
    world.run()
    ref = f"zendesk:eu/{ticket_id}"
    _edit_connections(world, "        login_url: ", "        enabled: false\n        login_url: ")
    eu.zendesk.agent_edit(ticket_id, {"status": "solved"})
    eu.zendesk.advance_clock(61)
    world.settle()
    eu.reset_traffic()
    for later in (timedelta(minutes=2), timedelta(hours=3)):
        off = world.run(now=world.now + later)
        assert off.exit_code == 0, off.summary()
        delivery = off.notifications.delivery
        assert not delivery.retry and not delivery.given_up and not delivery.rejected, delivery
        assert off.summary()["notifications"]["waiting_for_instance"] == 1, delivery
        eu.zendesk.advance_clock(61)
        world.settle()
    assert not eu.salesforce.traffic.requests
    _edit_connections(world, "        enabled: false\n        login_url: ", "        login_url: ")
    on = world.run(now=world.now + timedelta(minutes=5))
    assert on.exit_code == 0, on.summary()
    tasks = [t for t in eu.salesforce.records("Task") if debrief_marker(ref) in t["Subject"]]
    assert len(tasks) == 1


def test_an_org_refusing_the_account_matrixs_task_writes_is_reported_under_its_name(
    accounts_pairs,
):
    """Org eu read and written as usual until the account matrix makes its tasks, then
    refusing our token (revoked mid-run): reported under its name (exit 5, as a refused read
    or ticket write is), its task waiting to retry; the default org's task and eu's account
    fields land, and the next run makes eu's task once."""
    from sandbox.faults import Fault

    world, eu = accounts_pairs
    default_account, _ = add_at_risk_account(world)
    account, _ = add_at_risk_account(world, eu)
    eu.salesforce.faults.add(Fault("composite_create", "status", times=-1, status=401))
    try:
        refused = world.run()
    finally:
        eu.salesforce.faults.clear()
    assert set(refused.refused) == {"salesforce@eu"}, refused.summary()
    assert refused.exit_code == 5
    assert refused.summary()["credentials_refused"]["salesforce@eu"].startswith("salesforce")
    waiting = {ref for ref, _ in refused.apply.retry}
    assert any(ref.startswith(f"salesforce.task:eu/{account}/") for ref in waiting), waiting
    assert not _tasks(eu, account)
    assert eu.salesforce.get_record("Account", account)["Account_Escalation_Level__c"] == (
        "executive-attention"
    )
    assert len(_tasks(world.sandbox, default_account)) == 1  # the default org as usual
    again = _a_later_run(world, eu)
    assert not again.refused, again.summary()
    assert len(_tasks(eu, account)) == 1
