"""Two Zendesks in one config (connections.zendesk.instances): two sandboxes on their own ports and
CAs, one run, one state store. The second Zendesk ("eu") has its own secret, field mapping
(its own tag prefix) and join rules, and holds tickets whose ids the first one has too."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from config.loader import load_config
from config.write_mapping import level_tag
from sandbox import catalogue
from sandbox.generate import generate_dataset
from sandbox.runner import Sandbox
from sync.explain import print_explain
from tests.sync_world import ANCHOR, World, reconcile_every_run, wrong_secret
from tests.test_account_escalation_sync import ORG_ID, add_at_risk_account, with_account_writes

pytestmark = pytest.mark.integration

EU_TOKEN = "zd-eu-token"  # the eu sandbox accepts only this: its secret is its own
EU_PREFIX = "esc_eu_"


def _eu_zendesk(accounts: list[dict], open_there: set[int]) -> tuple[dict, int, str]:
    """A second Zendesk: generated tickets (ids overlapping the first's), one of them pointed
    at an account the same id in the first Zendesk is not joined to. (data, ticket id, account)"""
    data = generate_dataset(30, 80, 0, seed=23, anchor=ANCHOR)["zendesk"]
    ticket = next(t for t in data["tickets"] if t["id"] in open_there)
    ticket["status"] = "open"
    account = accounts[-1]["Id"]
    for field in ticket["custom_fields"]:
        if field["id"] == catalogue.ZD_FIELD_ACCOUNT_ID:
            field["value"] = account
    ticket["priority"] = "urgent"
    return data, ticket["id"], account


def _eu_config(world: World, eu: Sandbox) -> None:
    """Add the eu instance to the world's connections, with its own mapping and join rules."""
    folder = world.config_path.parent
    mapping = yaml.safe_load((folder / "mapping.yaml").read_text(encoding="utf-8"))
    eu_mapping = {**mapping["mapping"]["zendesk"], "tags_prefix": EU_PREFIX}
    eu_mapping["private_note_on_level_change"] = False
    connections = folder / "connections.yaml"
    text = connections.read_text(encoding="utf-8")
    eu_zendesk = f"""    instances:
      eu:
        url: {eu.urls["zendesk"]}
        email_env: ZENDESK_EU_EMAIL
        token_env: ZENDESK_EU_API_TOKEN
        ca_bundle: {eu.ca_path.resolve()}
        timeout_seconds: 10
        join: [{{strategy: account_id_field, match: id}}]
        mapping: {json.dumps(eu_mapping)}
"""
    connections.write_text(text.replace("  jira:\n", eu_zendesk + "  jira:\n", 1), encoding="utf-8")
    os.environ["ZENDESK_EU_EMAIL"] = catalogue.ZENDESK_EMAIL
    os.environ["ZENDESK_EU_API_TOKEN"] = EU_TOKEN
    world.config = load_config(world.config_path)


@pytest.fixture(scope="module")
def eu_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(work_dir=tmp_path_factory.mktemp("eu-tls"), quotas=False) as running:
        yield running


@pytest.fixture
def two(world: World, eu_sandbox: Sandbox) -> tuple[World, Sandbox, int, str]:
    """The world's sandbox as the default Zendesk (with Jira and Salesforce), and eu."""
    accounts = world.sandbox.salesforce.records("Account")
    open_there = {
        t["id"] for t in world.sandbox.zendesk.store.tickets.values() if t["status"] == "open"
    }
    data, ticket_id, account = _eu_zendesk(accounts, open_there)
    zendesk = eu_sandbox.zendesk
    zendesk.load_state(data)
    zendesk.credentials = {(catalogue.ZENDESK_EMAIL, EU_TOKEN)}
    eu_sandbox.reset_traffic()
    _eu_config(world, eu_sandbox)
    return world, eu_sandbox, ticket_id, account


def _tags(zendesk, ticket_id: int) -> list[str]:
    return zendesk.get_ticket(ticket_id)["tags"]


def test_a_ticket_id_in_both_zendesks_is_two_records_joined_by_each_instances_rules(two):
    world, eu, ticket_id, account = two
    result = world.run()
    assert not result.unreachable and not result.refused, result.summary()
    tickets = {t.ref: t for t in result.evaluation.tickets}
    ours, theirs = tickets[f"zendesk:{ticket_id}"], tickets[f"zendesk:eu/{ticket_id}"]
    assert theirs.account_id == account  # the account its own field names
    assert ours.account_id != account
    assert ours.subject != theirs.subject or ours.created_at != theirs.created_at
    # eu joins by the account id field alone: no other strategy is tried on its tickets.
    eu_unmatched = [
        why for ref, why in result.evaluation.unmatched if ref.startswith("zendesk:eu/")
    ]
    assert eu_unmatched and all("email_domain" not in why for why in eu_unmatched)
    default_unmatched = [
        why
        for ref, why in result.evaluation.unmatched
        if ref.startswith("zendesk:") and "/" not in ref
    ]
    assert all("email_domain" in why for why in default_unmatched)


def test_each_zendesks_writes_go_to_it_in_its_own_fields(two):
    world, eu, ticket_id, _ = two
    result = world.run()
    levels = {d.ticket_ref: d.level for d in result.evaluation.decisions}
    eu_escalated = [
        r for r, level in levels.items() if r.startswith("zendesk:eu/") and level != "none"
    ]
    assert f"zendesk:eu/{ticket_id}" in eu_escalated
    for ref in eu_escalated:
        number = int(ref.rsplit("/", 1)[1])
        assert level_tag(EU_PREFIX, levels[ref]) in _tags(eu.zendesk, number)
    # The default Zendesk got none of eu's tags, eu none of the default's.
    default_zendesk = world.sandbox.zendesk
    assert not any(
        t.startswith(EU_PREFIX) for r in default_zendesk.store.tickets.values() for t in r["tags"]
    )
    assert not any(
        t.startswith("escalation_") for r in eu.zendesk.store.tickets.values() for t in r["tags"]
    )
    assert eu.zendesk.traffic.writes and not eu.jira.traffic.writes
    assert not eu.salesforce.traffic.writes
    # What was written is remembered and audited under the instance's references.
    store = world.store()
    try:
        assert ("zendesk", f"eu/{ticket_id}") in store.written()
        refs = {row[0] for row in store.db.execute("SELECT ref FROM audit WHERE kind = 'write'")}
        assert f"zendesk:eu/{ticket_id}" in refs
    finally:
        store.close()
    out = io.StringIO()
    store = world.store()
    try:
        assert print_explain(world.config, store, f"zendesk:eu/{ticket_id}", world.now, out)
    finally:
        store.close()
    assert f"zendesk:eu/{ticket_id}" in out.getvalue()


def test_each_zendesk_reads_on_its_own_cursors_and_a_second_run_finds_nothing_new(two):
    world, eu, _, _ = two
    first = world.run()
    assert first.pull.records["zendesk.tickets@eu"] > 0
    assert first.pull.records["zendesk.tickets"] > 0
    store = world.store()
    try:
        cursors = {name: store.cursor(name) for name in ("zendesk.tickets", "zendesk.tickets@eu")}
    finally:
        store.close()
    assert all(cursors.values()) and len(set(cursors.values())) == 2
    world.settle()
    eu.zendesk.advance_clock(61)
    before = (world.writes(), len(eu.zendesk.traffic.writes))
    second = world.run(now=world.now)
    assert second.writes == [], [w.write.ref for w in second.writes][:5]
    assert (world.writes(), len(eu.zendesk.traffic.writes)) == before
    # Our own writes come back on each stream; no ticket is new to either cursor.
    assert second.exit_code == 0, second.summary()


def test_a_named_zendesk_that_refuses_our_secret_stops_only_itself(two):
    world, eu, _, _ = two
    with wrong_secret("ZENDESK_EU_API_TOKEN", "not-the-eu-token"):
        result = world.run()
    assert set(result.refused) == {"zendesk@eu"}, result.summary()
    assert result.exit_code == 5
    assert result.summary()["credentials_refused"]["zendesk@eu"].startswith("zendesk")
    # The default Zendesk, Jira and Salesforce were read and written as without eu.
    assert result.pull.records["zendesk.tickets"] > 0
    assert world.writes()["zendesk"] > 0 and world.writes()["salesforce"] > 0
    assert not eu.zendesk.traffic.writes
    assert not any(t.ref.startswith("zendesk:eu/") for t in result.evaluation.tickets)
    assert "not-the-eu-token" not in json.dumps(result.summary())
    # With the right secret the next run reads eu from its start and writes it.
    world.settle()
    again = world.run()
    assert again.pull.records["zendesk.tickets@eu"] > 0 and eu.zendesk.traffic.writes


def test_the_account_matrix_still_writes_the_default_zendesks_organisations(
    world: World, eu_sandbox: Sandbox
):
    with_account_writes(world)
    accounts = world.sandbox.salesforce.records("Account")
    data, _, _ = _eu_zendesk(accounts, set(world.sandbox.zendesk.store.tickets))
    eu_sandbox.zendesk.load_state(data)
    eu_sandbox.zendesk.credentials = {(catalogue.ZENDESK_EMAIL, EU_TOKEN)}
    eu_sandbox.reset_traffic()
    _eu_config(world, eu_sandbox)
    add_at_risk_account(world)
    result = world.run()
    assert not result.unreachable, result.summary()
    organization = world.sandbox.zendesk.store.organizations[ORG_ID]
    assert organization["organization_fields"]["account_escalation_level"] == "executive-attention"
    assert not any("organizations" in str(w) for w in eu_sandbox.zendesk.traffic.writes)


def _doctor(world: World) -> tuple[int, list[dict]]:
    import argparse

    from provision.commands import doctor

    out = io.StringIO()
    args = argparse.Namespace(config=str(world.config_path), format="json", join_sample=0)
    code = doctor(args, out, io.StringIO())
    return code, json.loads(out.getvalue())["checks"]


def test_doctor_checks_each_named_zendesk_against_its_own_mapping(two):
    world, eu, _, _ = two
    code, checks = _doctor(world)
    assert code == 0, [c for c in checks if c["status"] == "problem"]
    eu_lines = {c["subject"] for c in checks if c["system"] == "zendesk@eu"}
    default_lines = {c["subject"] for c in checks if c["system"] == "zendesk"}
    # The same checklist, each Zendesk against its own config: eu joins by the account id
    # field alone, so its organisation field is not asked for.
    joined_by_organisation = {s for s in default_lines if s.startswith("organization field")}
    assert joined_by_organisation and eu_lines == default_lines - joined_by_organisation
    # A field eu lacks: a problem of zendesk@eu alone, pointing at eu's own mapping.
    del eu.zendesk.store.ticket_fields[catalogue.ZD_FIELD_OWNER]
    code, checks = _doctor(world)
    assert code == 11
    (missing,) = [c for c in checks if c["status"] == "problem"]
    assert missing["system"] == "zendesk@eu"
    assert "connections.zendesk.instances.eu.mapping.write" in missing["fix"]
    lines = (world.config_path.parent / "connections.yaml").read_text().splitlines()
    eu_mapping_line = 1 + next(
        i for i, text in enumerate(lines) if text.strip().startswith("mapping:")
    )
    assert f"connections.yaml:{eu_mapping_line} " in missing["fix"]
    assert "escalation-sync provision" in missing["fix"] and "by hand" not in missing["fix"]


def test_doctor_names_a_named_zendesk_that_refuses_its_secret_and_checks_the_others(two):
    world, eu, _, _ = two
    with wrong_secret("ZENDESK_EU_API_TOKEN", "wrong"):
        code, checks = _doctor(world)
    assert code == 3
    (refused,) = [c for c in checks if c["status"] == "problem"]
    assert refused["system"] == "zendesk@eu" and refused["subject"] == "credentials"
    assert "connections.zendesk.instances.eu" in refused["fix"]
    assert any(c["system"] == "zendesk" and c["status"] == "ok" for c in checks)


def open_eu_tickets(world: World) -> set[str]:
    store = world.store()
    try:
        return {t.ref for t in store.tickets(open_only=True) if t.ref.startswith("zendesk:eu/")}
    finally:
        store.close()


def test_the_reconciliation_never_ends_a_named_zendesks_tickets_it_could_not_read(two):
    world, eu, _, _ = two
    reconcile_every_run(world)
    world.run()
    world.settle()
    eu_open = open_eu_tickets(world)
    assert eu_open
    with wrong_secret("ZENDESK_EU_API_TOKEN", "not-the-eu-token"):  # eu down for this run
        result = world.run(now=world.now + timedelta(hours=1))
    assert set(result.refused) == {"zendesk@eu"}
    reconciled = result.reconciled
    assert reconciled is not None and reconciled.requests > 0 and not reconciled.gone
    still_open = open_eu_tickets(world)
    assert still_open == eu_open


def _provision(world: World, apply: bool = True, show: bool = False) -> tuple[int, str]:
    import argparse

    from provision.commands import provision

    out = io.StringIO()
    args = argparse.Namespace(config=str(world.config_path), apply=apply, print=show)
    return provision(args, out, io.StringIO()), out.getvalue()


def _set_up_once(world: World, app) -> list[dict]:
    """Doctor then finds nothing to fix, and provision run again makes nothing (no write to
    `app`, the instance's sandbox API). Doctor's checks, for more to assert on them."""
    code, checks = _doctor(world)
    assert code == 0, [c for c in checks if c["status"] == "problem"]
    writes = len(app.traffic.writes)
    again, report = _provision(world)
    assert again == 0 and "nothing to create" in report, report
    assert len(app.traffic.writes) == writes
    return checks


def _bare(zendesk) -> None:
    """A Zendesk account without our fields, as a new brand's is."""
    from sandbox.bare_org import ZENDESK_MANAGED

    for field_id in ZENDESK_MANAGED:
        zendesk.store.ticket_fields.pop(field_id, None)


def _eu_mapping_as_a_block(world: World) -> Path:
    """eu's mapping written as a person writes it: a block of keys, with a comment."""
    path = world.config_path.parent / "connections.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("        mapping: {"))
    block = yaml.safe_dump({"mapping": json.loads(lines[at].split(": ", 1)[1])}, sort_keys=False)
    lines[at : at + 1] = ["        # eu's own fields: a comment provision keeps\n"] + [
        f"        {line}" for line in block.splitlines(keepends=True)
    ]
    path.write_text("".join(lines), encoding="utf-8")
    world.config = load_config(world.config_path)
    return path


def test_provision_makes_a_bare_named_zendesks_fields_and_writes_their_ids_in_its_own_mapping(two):
    world, eu, _, _ = two
    path = _eu_mapping_as_a_block(world)
    _bare(eu.zendesk)
    default_mapping = (world.config_path.parent / "mapping.yaml").read_text(encoding="utf-8")
    before = path.read_text(encoding="utf-8").splitlines()
    planned, plan = _provision(world, apply=False)
    assert planned == 0 and not eu.zendesk.traffic.writes
    assert "zendesk@eu: create ticket field 'Escalation level' (drop-down, 5 options)" in plan
    assert "  zendesk: create ticket field" not in plan  # the default's fields are there

    code, report = _provision(world)
    assert code == 0, report
    assert f"new field id(s) into {path}" in report
    after = path.read_text(encoding="utf-8").splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert changed and all(old.split(":")[0] == new.split(":")[0] for old, new in changed)
    assert "        # eu's own fields: a comment provision keeps" in after
    # The default's mapping is not touched: its ids are the default Zendesk's.
    assert (world.config_path.parent / "mapping.yaml").read_text(encoding="utf-8") == default_mapping  # fmt: skip
    made = {f["title"] for f in eu.zendesk.store.ticket_fields.values()}
    assert "Escalation level" in made
    assert not any("ticket_fields" in str(w) for w in world.sandbox.zendesk.traffic.writes)

    checks = _set_up_once(world, eu.zendesk)
    assert any(c["system"] == "zendesk@eu" and c["status"] == "ok" for c in checks)


def test_a_named_zendesk_on_the_top_level_mapping_gets_a_mapping_of_its_own(two):
    world, eu, _, _ = two
    path = world.config_path.parent / "connections.yaml"
    text = path.read_text(encoding="utf-8")
    bare_instance = "".join(
        line for line in text.splitlines(keepends=True) if not line.startswith("        mapping: {")
    )
    path.write_text(bare_instance, encoding="utf-8")
    world.config = load_config(world.config_path)
    _bare(eu.zendesk)
    default_mapping = (world.config_path.parent / "mapping.yaml").read_text(encoding="utf-8")

    shown, report = _provision(world, show=True)
    assert shown == 0, report
    assert "connections:\n  zendesk:\n    instances:\n      eu:\n        mapping:\n" in report
    assert path.read_text(encoding="utf-8") == bare_instance
    _bare(eu.zendesk)  # --print made the fields: back to bare, for --apply to make them

    code, report = _provision(world)
    assert code == 0, report
    assert "wrote zendesk@eu's own mapping" in report
    written = path.read_text(encoding="utf-8")
    # Every line the person wrote is kept; the mapping is added at the end of eu's section.
    assert [line for line in written.splitlines() if line in bare_instance.splitlines()] == (
        bare_instance.splitlines()
    )
    eu_mapping = yaml.safe_load(written)["connections"]["zendesk"]["instances"]["eu"]["mapping"]
    level = eu_mapping["write"]["level"]
    level_id = level["field"] if isinstance(level, dict) else level
    assert eu.zendesk.store.ticket_fields[int(level_id)]["title"] == "Escalation level"
    assert (world.config_path.parent / "mapping.yaml").read_text(encoding="utf-8") == default_mapping  # fmt: skip

    _set_up_once(world, eu.zendesk)


def test_a_named_zendesk_that_refuses_its_secret_is_reported_and_the_default_provisioned(two):
    world, eu, _, _ = two
    del world.sandbox.zendesk.store.ticket_fields[catalogue.ZD_FIELD_OWNER]
    with wrong_secret("ZENDESK_EU_API_TOKEN", "wrong"):
        code, report = _provision(world)
    assert code == 11, report
    assert "FAILED: zendesk@eu: " in report
    assert "done: zendesk: create ticket field" in report
    assert any(
        f["title"] == "Escalation owner" for f in world.sandbox.zendesk.store.ticket_fields.values()
    ), report


def test_print_shows_a_named_zendesks_new_ids_under_its_own_mapping_and_leaves_the_file(two):
    world, eu, _, _ = two
    path = _eu_mapping_as_a_block(world)
    _bare(eu.zendesk)
    before = path.read_text(encoding="utf-8")
    code, report = _provision(world, show=True)
    assert code == 0, report
    shown = yaml.safe_load(report.split("(copy into the mapping):\n", 1)[1])
    level = shown["connections"]["zendesk"]["instances"]["eu"]["mapping"]["write"]["level"]
    assert eu.zendesk.store.ticket_fields[level["field"]]["title"] == "Escalation level"
    assert path.read_text(encoding="utf-8") == before


def test_the_reconciliation_ends_a_ticket_zendesk_eu_deleted_unseen_and_keeps_the_default_one(
    two,
):
    world, eu, ticket_id, _ = two
    reconcile_every_run(world, 100)
    world.run()
    world.settle()
    assert f"zendesk:eu/{ticket_id}" in open_eu_tickets(world)
    with eu.zendesk.state_lock:  # deleted without the export moving: only a read by id tells
        eu.zendesk.store.tickets[ticket_id]["status"] = "deleted"
    result = world.run(now=world.now + timedelta(hours=1))
    reconciled = result.summary()["reconciled"]
    assert reconciled["mirror_checked"]["zendesk@eu"] >= 1, reconciled
    assert reconciled["gone"] == 1, reconciled
    assert f"zendesk:eu/{ticket_id}" not in open_eu_tickets(world)
    store = world.store()
    try:
        assert store.audit_entries(f"zendesk:eu/{ticket_id}", "reconcile_gone")
        same_id = store.ticket(f"zendesk:{ticket_id}")  # the default Zendesk's: another ticket
        assert same_id is not None and same_id.status.is_open
    finally:
        store.close()


def test_each_instance_name_reconciles_within_its_own_request_budget(two):
    world, eu, _, _ = two
    # 2 per instance name: the defaults' mirror gets half (the default org writes escalation
    # records, Zendesk eu's too), Zendesk eu all of it and needs one (its tickets: one batch).
    reconcile_every_run(world, 2)
    world.run()
    seen: dict[str, int] = {}
    for hours in (1, 2, 3):
        world.settle()
        reconciled = world.run(now=world.now + timedelta(hours=hours)).summary()["reconciled"]
        checked = reconciled["mirror_checked"]
        # Zendesk eu is looked at every time, and the default instances still one a run.
        assert "zendesk@eu" in checked, reconciled
        assert len([key for key in checked if "@" not in key]) == 1, reconciled
        assert reconciled["requests"] <= 4  # 2 for the defaults, 2 for eu
        per_instance = reconciled["requests_per_instance"]
        assert per_instance["eu"] == 1 and 1 <= per_instance["(default)"] <= 2, reconciled
        for key in checked:
            seen[key] = seen.get(key, 0) + 1
    assert set(seen) == {"zendesk", "jira", "salesforce", "zendesk@eu"}


def test_what_the_reconciliation_leaves_for_next_time_is_told_per_instance_name(two):
    world, eu, _, _ = two
    # 2 requests per instance name: Zendesk eu's tickets take one, the defaults' mirror (one
    # request: half of it, the default org writing escalation records) is far larger.
    reconcile_every_run(world, 2)
    world.run()
    world.settle()
    reconciled = world.run(now=world.now + timedelta(hours=1)).summary()["reconciled"]
    left = reconciled["left_per_instance"]
    assert set(left) == {"(default)", "eu"} and left["eu"] == 0, reconciled
    assert left["(default)"] > 0 and left["(default)"] == reconciled["left_for_next_time"]
    assert reconciled["requests_per_instance"]["eu"] == 1, reconciled


def test_a_named_zendesk_turned_off_is_not_reconciled_and_its_tickets_stay(two):
    world, eu, _, _ = two
    reconcile_every_run(world, 100)
    world.run()
    world.settle()
    eu_open = open_eu_tickets(world)
    assert eu_open
    path = world.config_path.parent / "connections.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      eu:\n", "      eu:\n        enabled: false\n", 1))
    world.config = load_config(world.config_path)
    result = world.run(now=world.now + timedelta(hours=1))
    reconciled = result.summary()["reconciled"]
    assert reconciled["gone"] == 0 and "zendesk@eu" not in reconciled["mirror_checked"], reconciled
    # The default Zendesk is still looked at: eu's ids are not asked of it.
    assert reconciled["mirror_checked"]["zendesk"] >= 1, reconciled
    assert open_eu_tickets(world) == eu_open


def _eu_joined_by_its_organisations(world: World, eu: Sandbox) -> tuple[int, tuple[int, int]]:
    """eu joins its tickets by their organisation's external id alone; one of its
    organisations (its id) holds a working and a closed ticket (their ids)."""
    path = world.config_path.parent / "connections.yaml"
    text = path.read_text(encoding="utf-8")
    by_field = "join: [{strategy: account_id_field, match: id}]"
    by_organisation = "join: [{strategy: organization_external_id, match: external_id}]"
    assert by_field in text
    path.write_text(text.replace(by_field, by_organisation), encoding="utf-8")
    world.config = load_config(world.config_path)
    zendesk = eu.zendesk
    with zendesk.state_lock:
        tickets = [zendesk.store.tickets[i] for i in sorted(zendesk.store.tickets)]
        org_id = next(
            o
            for o in sorted(zendesk.store.organizations)
            if sum(t["organization_id"] == o for t in tickets) >= 2
        )
        working, closed = [t for t in tickets if t["organization_id"] == org_id][:2]
        working["status"], closed["status"] = "open", "closed"
    return org_id, (working["id"], closed["id"])


def _external_ids(world: World) -> list[tuple[str, str]]:
    """(external id, account id) of the default org's accounts one organisation joins to."""
    accounts = world.sandbox.salesforce.records("Account")
    ids = [a.get("Zendesk_Org_External_Id__c") for a in accounts]
    return sorted(
        (a["Zendesk_Org_External_Id__c"], a["Id"])
        for a in accounts
        if a.get("Zendesk_Org_External_Id__c") and ids.count(a["Zendesk_Org_External_Id__c"]) == 1
    )


def _eu_keys(world: World, ticket_ids: tuple[int, ...]) -> list[str | None]:
    """The organisation external id each eu ticket's mirror record joins by."""
    store = world.store()
    try:
        found = [store.ticket(f"zendesk:eu/{i}") for i in ticket_ids]
    finally:
        store.close()
    return [t.join_keys.get("organization_external_id") if t else "missing" for t in found]


def _pointed_at(eu: Sandbox, org_id: int, external_id: str) -> None:
    """A person points eu's organisation at another account (its external id)."""
    organization = dict(eu.zendesk.store.organizations[org_id])
    organization["external_id"] = external_id
    eu.zendesk.put_organization(organization, touch=True)


def test_a_named_zendesks_organisation_pointed_at_another_account_moves_its_tickets_at_once(two):
    world, eu, _, _ = two
    org_id, tickets = _eu_joined_by_its_organisations(world, eu)
    (first, _), (second, second_account) = _external_ids(world)[:2]
    _pointed_at(eu, org_id, first)
    world.run()
    assert _eu_keys(world, tickets) == [first, first]
    _pointed_at(eu, org_id, second)
    eu.zendesk.advance_clock(61)  # the organisation export shows the change
    world.settle()
    result = world.run(now=world.now + timedelta(hours=1))
    assert not result.unreachable, result.summary()
    # The working ticket and the closed one (which Zendesk cannot update) both follow it.
    assert _eu_keys(world, tickets) == [second, second]
    joined = {t.ref: t.account_id for t in result.evaluation.tickets}
    assert joined[f"zendesk:eu/{tickets[0]}"] == second_account


def test_a_named_zendesks_deleted_organisation_takes_its_tickets_off_the_account_at_once(two):
    world, eu, _, _ = two
    org_id, tickets = _eu_joined_by_its_organisations(world, eu)
    (first, _) = _external_ids(world)[0]
    _pointed_at(eu, org_id, first)
    world.run()
    assert _eu_keys(world, tickets) == [first, first]
    default_organisations = world.sandbox.zendesk.store.organizations
    assert org_id in default_organisations  # the same id in the default Zendesk: another one
    eu.zendesk.delete_organization(org_id)
    eu.zendesk.advance_clock(61)  # the working ticket's update (no organisation) is exported
    world.settle()
    result = world.run(now=world.now + timedelta(hours=1))
    assert not result.unreachable, result.summary()
    assert _eu_keys(world, tickets) == [None, None]
    store = world.store()
    try:
        organisations = store.raw_records("zendesk", "organization")
        closed = store.ticket(f"zendesk:{tickets[1]}")
    finally:
        store.close()
    assert f"eu/{org_id}" not in organisations and str(org_id) in organisations
    # The default Zendesk's ticket of the same number is not touched.
    assert closed is None or closed.organization != str(org_id)


def _turn_eu(world: World, on: bool) -> None:
    path = world.config_path.parent / "connections.yaml"
    text = path.read_text(encoding="utf-8")
    off = "      eu:\n        enabled: false\n"
    text = text.replace(off, "      eu:\n") if on else text.replace("      eu:\n", off, 1)
    path.write_text(text, encoding="utf-8")
    world.config = load_config(world.config_path)


def _eu_failures(world: World) -> dict[str, dict]:
    store = world.store()
    try:
        return {i: f for (s, i), f in store.failures().items() if s == "zendesk" and "/" in i}
    finally:
        store.close()


def test_a_named_zendesk_turned_off_keeps_its_tickets_waiting_and_none_goes_to_the_default(two):
    """Its tickets stay in the mirror and their levels move on (SLA clocks), but nothing is
    written to them, nor sent to the default Zendesk in their `eu/...` ids (which it refused
    for good: each a rejected record); a write left to retry stays as it was and does not
    sink the default's own re-reads. Turned on again, its writes go to it."""
    world, eu, ticket_id, account = two
    first = world.run()
    world.settle()
    eu.zendesk.advance_clock(61)
    eu_open = sorted(open_eu_tickets(world))
    store = world.store()
    try:
        left = min(i for s, i in store.written() if s == "zendesk" and i.startswith("eu/"))
        with store.transaction():  # a write to it that timed out: to retry when it is read
            store.record_failure("zendesk", left, "retry", "timed out", world.now)
    finally:
        store.close()
    _turn_eu(world, on=False)
    world.sandbox.reset_traffic()
    eu.reset_traffic()
    days_later = world.now + timedelta(days=3)  # SLA clocks move eu's levels meanwhile
    off = world.run(now=days_later)
    assert off.exit_code == 0, off.summary()
    # Still joined by its own rules (its account id field), not the default Zendesk's.
    joined = {t.ref: t.account_id for t in off.evaluation.tickets}
    assert joined[f"zendesk:eu/{ticket_id}"] == account
    before = {t.ref: t.account_id for t in first.evaluation.tickets}
    eu_joins = {ref: joined[ref] for ref in joined if ref.startswith("zendesk:eu/")}
    assert eu_joins == {ref: before[ref] for ref in eu_joins}
    assert not [p.write.ref for p in off.writes if p.write.ref.startswith("zendesk:eu/")]
    assert not off.apply.rejected and not off.apply.retry, off.summary()
    bad = {k: n for k, n in world.sandbox.zendesk.traffic.statuses.items() if k[1] >= 400}
    assert not bad, bad  # no eu id was asked of the default Zendesk
    assert set(_eu_failures(world)) == {left}  # the leftover write waits as it was
    assert open_eu_tickets(world) == set(eu_open)
    assert not eu.zendesk.traffic.requests
    _turn_eu(world, on=True)
    world.settle()
    on = world.run(now=days_later + timedelta(minutes=2))
    assert on.exit_code == 0, on.summary()
    assert [p for p in on.writes if p.write.ref.startswith("zendesk:eu/")]
    assert eu.zendesk.traffic.writes and not _eu_failures(world)


def test_a_named_zendesk_not_reached_is_not_asked_again_for_its_unknown_writes_or_notes(two):
    """Found unreachable while reading (here: refusing our secret), eu is not asked again in
    the run: neither to re-read a ticket whose last write has an unknown outcome nor to look
    for a note on a ticket that shows our work; those writes wait for the next run (to retry,
    never rejected), and the next run reads and writes eu as usual."""
    world, eu, _, _ = two
    path = world.config_path.parent / "connections.yaml"
    notes_on = path.read_text(encoding="utf-8").replace(
        '"private_note_on_level_change": false', '"private_note_on_level_change": true'
    )
    path.write_text(notes_on, encoding="utf-8")
    world.config = load_config(world.config_path)
    world.run()
    world.settle()
    eu.zendesk.advance_clock(61)
    store = world.store()
    try:
        left = min(i for s, i in store.written() if s == "zendesk" and i.startswith("eu/"))
        with store.transaction():
            store.record_failure("zendesk", left, "retry", "timed out", world.now)
            # No memory of eu's notes (a state file restored from before them): a ticket that
            # shows our work is looked at before a note is sent to it.
            store.db.execute("DELETE FROM notes WHERE record_id LIKE 'zendesk:eu/%'")
            store.db.execute("DELETE FROM written WHERE record_id LIKE 'eu/%'")
    finally:
        store.close()
    eu.reset_traffic()
    with wrong_secret("ZENDESK_EU_API_TOKEN", "not-the-eu-token"):
        refused = world.run(now=world.now + timedelta(days=3))
    assert set(refused.refused) == {"zendesk@eu"}, refused.summary()
    asked = set(eu.zendesk.traffic.requests)
    assert "tickets_show_many" not in asked and "ticket_comments" not in asked, asked
    assert not [r for r, _ in refused.apply.rejected if r.startswith("zendesk:eu/")]
    assert [r for r, _ in refused.apply.retry if r.startswith("zendesk:eu/")]  # they wait
    assert {f["status"] for f in _eu_failures(world).values()} == {"retry"}
    world.settle()
    eu.zendesk.advance_clock(61)
    again = world.run(now=world.now + timedelta(minutes=2))
    assert not again.refused and again.exit_code == 0, again.summary()
    assert not _eu_failures(world)


def test_a_named_zendesk_refusing_our_writes_is_reported_under_its_name_and_they_wait(two):
    """eu read as usual, then refusing our secret when written to (a token revoked mid-run):
    it is reported under its name (exit 5, as when its read is refused), its writes wait to
    retry, and the default Zendesk's land."""
    from sandbox.faults import Fault

    world, eu, _, _ = two
    eu.zendesk.faults.add(Fault("update_many", "status", times=-1, status=401))
    try:
        result = world.run()
    finally:
        eu.zendesk.faults.clear()
    assert set(result.refused) == {"zendesk@eu"}, result.summary()
    assert result.exit_code == 5
    assert result.summary()["credentials_refused"]["zendesk@eu"].startswith("zendesk")
    assert not result.apply.rejected
    assert {r for r, _ in result.apply.retry} == {
        p.write.ref for p in result.writes if p.write.ref.startswith("zendesk:eu/")
    }
    assert world.writes()["zendesk"] > 0
    world.settle()
    eu.zendesk.advance_clock(61)
    again = world.run(now=world.now + timedelta(minutes=2))
    assert again.exit_code == 0 and eu.zendesk.traffic.writes, again.summary()
