"""Two Jira sites in one config (connections.jira.instances): the world's sandbox is the default
Zendesk, Jira and Salesforce; a second sandbox on its own port and CA holds the "eu" Zendesk
(which names its site, `jira: eu`) and the eu Jira site, with its own secret, projects and
mapping (its issues list eu's tickets: `prefix: "zendesk:eu/"`). Both sites have the same issue
keys: they are different issues."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
import yaml

from config.loader import load_config
from sandbox import catalogue
from sandbox.generate import generate_dataset
from sandbox.runner import Sandbox
from tests.sync_world import ANCHOR, World, reconcile_every_run, wrong_secret

pytestmark = pytest.mark.integration

EU_TOKEN = "jira-eu-token"  # the eu site accepts only this: its secret is its own
JIRA_KEYS_FIELD = 360000000999  # eu's Zendesk: a text field listing the ticket's Jira issues


def _eu_pair(eu: Sandbox) -> tuple[int, str]:
    """eu's Zendesk and Jira from one generated world (its issues list its tickets); one
    ticket names an issue in its own field, by the key as its site knows it. (ticket, key)"""
    data = generate_dataset(30, 80, 20, seed=23, anchor=ANCHOR)
    ticket = data["zendesk"]["tickets"][0]
    key = data["jira"]["issues"][0]["key"]
    ticket["custom_fields"].append({"id": JIRA_KEYS_FIELD, "value": key})
    eu.zendesk.load_state(data["zendesk"])
    eu.zendesk.credentials = {(catalogue.ZENDESK_EMAIL, "zd-eu-token")}
    eu.jira.load_state(data["jira"])
    eu.jira.credentials = {(catalogue.JIRA_EMAIL, EU_TOKEN)}
    eu.reset_traffic()
    return ticket["id"], key


def _eu_config(world: World, eu: Sandbox) -> None:
    folder = world.config_path.parent
    mapping = yaml.safe_load((folder / "mapping.yaml").read_text(encoding="utf-8"))["mapping"]
    jira_mapping = mapping["jira"]
    jira_mapping["ticket"]["linked"]["prefix"] = "zendesk:eu/"
    zendesk_mapping = {**mapping["zendesk"], "tags_prefix": "esc_eu_"}
    zendesk_mapping["private_note_on_level_change"] = False
    zendesk_mapping["ticket"]["linked"] = {
        "source": f"custom_fields[{JIRA_KEYS_FIELD}]",
        "type": "list",
        "prefix": "jira:",
    }
    projects = ", ".join(key for _, key, _ in catalogue.JIRA_PROJECTS)
    text = (folder / "connections.yaml").read_text(encoding="utf-8")
    eu_zendesk = f"""    instances:
      eu:
        url: {eu.urls["zendesk"]}
        email_env: ZENDESK_EU_EMAIL
        token_env: ZENDESK_EU_API_TOKEN
        ca_bundle: {eu.ca_path.resolve()}
        timeout_seconds: 10
        jira: eu
        mapping: {json.dumps(zendesk_mapping)}
"""
    eu_site = f"""    instances:
      eu:
        url: {eu.urls["jira"]}
        email_env: JIRA_EMAIL
        token_env: JIRA_EU_API_TOKEN
        projects: [{projects}]
        ca_bundle: {eu.ca_path.resolve()}
        timeout_seconds: 10
        mapping: {json.dumps(jira_mapping)}
"""
    text = text.replace("  jira:\n", eu_zendesk + "  jira:\n", 1)
    text = text.replace("  salesforce:\n", eu_site + "  salesforce:\n", 1)
    (folder / "connections.yaml").write_text(text, encoding="utf-8")
    os.environ["ZENDESK_EU_EMAIL"] = catalogue.ZENDESK_EMAIL
    os.environ["ZENDESK_EU_API_TOKEN"] = "zd-eu-token"
    os.environ["JIRA_EU_API_TOKEN"] = EU_TOKEN
    world.config = load_config(world.config_path)


@pytest.fixture(scope="module")
def eu_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(work_dir=tmp_path_factory.mktemp("eu-site-tls"), quotas=False) as running:
        yield running


@pytest.fixture
def sites(world: World, eu_sandbox: Sandbox) -> tuple[World, Sandbox, int, str]:
    ticket_id, key = _eu_pair(eu_sandbox)
    _eu_config(world, eu_sandbox)
    return world, eu_sandbox, ticket_id, key


def _level(sandbox: Sandbox, key: str) -> object:
    issue = sandbox.jira.get_issue(key) or {}
    value = issue.get("fields", {}).get(catalogue.JIRA_FIELD_LEVEL)
    return value.get("value") if isinstance(value, dict) else value


def _value(field: object) -> object:
    return field.get("value") if isinstance(field, dict) else field


def test_each_sites_issues_are_their_own_and_written_to_their_site_only(sites):
    world, eu, ticket_id, key = sites
    result = world.run()
    assert not result.unreachable and not result.refused, result.summary()
    issues = {t.ref: t for t in result.evaluation.tickets if t.system == "jira"}
    eu_issues = {ref: t for ref, t in issues.items() if ref.startswith("jira:eu/")}
    default_issues = {ref: t for ref, t in issues.items() if "/" not in ref}
    assert eu_issues and default_issues
    keys = {t.key for t in default_issues.values()}
    assert any(t.key.removeprefix("eu/") in keys for t in eu_issues.values())  # same keys
    # An eu issue lists eu's tickets; its level follows them, written to the eu site only.
    assert all(link.startswith("zendesk:eu/") for t in eu_issues.values() for link in t.linked)
    # A ticket of the Zendesk that names site eu links to the issue of that site.
    store = world.store()
    try:
        ticket = store.ticket(f"zendesk:eu/{ticket_id}")
    finally:
        store.close()
    assert ticket is not None and ticket.linked == (f"jira:eu/{key}",)
    writes = [w.write for w in result.writes if w.write is not None and w.write.system == "jira"]
    eu_written = {w.record_id for w in writes if w.record_id.startswith("eu/")}
    assert eu_written and len(eu_written) < len(writes), [w.record_id for w in writes][:5]
    assert eu.jira.traffic.writes and not eu.salesforce.traffic.writes
    # Each write's level landed in its own site, the bare key there; so did its labels.
    for write in writes:
        site, key = (
            (eu, write.record_id[3:])
            if write.record_id in eu_written
            else (world.sandbox, write.record_id)
        )
        if catalogue.JIRA_FIELD_LEVEL in write.fields:
            assert _level(site, key) == _value(write.fields[catalogue.JIRA_FIELD_LEVEL])
        labels = (site.jira.get_issue(key) or {})["fields"]["labels"]
        assert set(write.tags_add) <= set(labels)
    store = world.store()
    try:
        assert store.cursor("jira.issues@eu") and store.cursor("jira.issues")
        assert ("jira", next(iter(eu_written))) in store.written()
    finally:
        store.close()


def test_a_second_run_writes_nothing_and_a_refused_site_stops_only_itself(sites):
    world, eu, _, _ = sites
    first = world.run()
    assert first.pull.records["jira.issues@eu"] > 0 and first.pull.records["jira.issues"] > 0
    world.settle()
    eu.zendesk.advance_clock(61)
    before = (world.writes(), len(eu.jira.traffic.writes), len(eu.zendesk.traffic.writes))
    second = world.run(now=world.now)
    assert second.writes == [], [w.write.ref for w in second.writes][:5]
    assert (world.writes(), len(eu.jira.traffic.writes), len(eu.zendesk.traffic.writes)) == before
    with wrong_secret("JIRA_EU_API_TOKEN", "not-the-eu-token"):
        third = world.run(now=world.now)
    assert set(third.refused) == {"jira@eu"}, third.summary()
    assert third.exit_code == 5
    assert "not-the-eu-token" not in json.dumps(third.summary())


def test_doctor_checks_the_named_site_against_its_own_projects_and_fields(sites):
    from tests.test_several_zendesks import _doctor

    world = sites[0]
    code, checks = _doctor(world)
    eu_lines = [c for c in checks if c["system"] == "jira@eu"]
    assert code == 0, [c for c in checks if c["status"] == "problem"]
    assert eu_lines and all(c["status"] != "problem" for c in eu_lines)

    # The same checks as the default site's (their subjects name sample issues of each site).
    def kinds(system: str) -> set[str]:
        return {c["subject"].split(" (")[0] for c in checks if c["system"] == system}

    assert kinds("jira@eu") and kinds("jira@eu") <= kinds("jira")


def _bare_site(jira) -> None:
    """The eu site without our fields, as a new site is."""
    from sandbox.bare_org import JIRA_MANAGED, _bare_jira

    state = jira.dump_state()
    _bare_jira(state)
    state["screens"] = {
        key: [f for f in fields if f not in JIRA_MANAGED]
        for key, fields in state["screens"].items()
    }
    jira.load_state(state)


def test_provision_makes_a_bare_named_sites_fields_and_writes_their_ids_in_its_own_mapping(sites):
    from tests.test_several_zendesks import _provision, _set_up_once

    world, eu, _, _ = sites
    path = world.config_path.parent / "connections.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "        projects: [",
        "        # eu's own projects: a comment provision keeps\n        projects: [",
        1,
    )
    path.write_text(text, encoding="utf-8")
    world.config = load_config(world.config_path)
    _bare_site(eu.jira)
    default_mapping = (world.config_path.parent / "mapping.yaml").read_text(encoding="utf-8")
    before = text.splitlines()

    planned, plan = _provision(world, apply=False)
    assert planned == 0 and not eu.jira.traffic.writes
    assert "  jira@eu: create field 'Escalation level'" in plan, plan
    code, report = _provision(world)
    assert code == 0, report
    after = path.read_text(encoding="utf-8").splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    # One line changed: the site's own mapping (a flow mapping, as the fixture writes it).
    ((old, new),) = changed
    assert old.startswith("        mapping: {") and new.startswith("        mapping: {")
    assert "        # eu's own projects: a comment provision keeps" in after
    site = yaml.safe_load("\n".join(after))["connections"]["jira"]["instances"]["eu"]
    level = site["mapping"]["write"]["level"]
    level_id = level["field"] if isinstance(level, dict) else level
    assert {f["id"]: f["name"] for f in eu.jira.store.fields}[level_id] == "Escalation level"
    assert (world.config_path.parent / "mapping.yaml").read_text(encoding="utf-8") == default_mapping  # fmt: skip

    _set_up_once(world, eu.jira)


def _open_refs(world: World, prefix: str) -> set[str]:
    store = world.store()
    try:
        return {t.ref for t in store.tickets(open_only=True) if t.ref.startswith(prefix)}
    finally:
        store.close()


def test_an_issue_deleted_in_site_eu_is_found_by_the_reconciliation_and_leaves_the_mirror(sites):
    world, eu, _, _ = sites
    reconcile_every_run(world)
    world.run()
    world.settle()
    before = _open_refs(world, "jira:")
    store = world.store()
    try:
        ref = min(r for r in before if r.startswith("jira:eu/"))
        ticket = store.ticket(ref)
        assert ticket is not None and ticket.key is not None
        key = ticket.key.removeprefix("eu/")
    finally:
        store.close()
    same_key = world.sandbox.jira.get_issue(key)  # the default site's: another issue
    assert same_key is not None
    eu.jira.delete_issue(key)
    result = world.run(now=world.now + timedelta(hours=1))
    reconciled = result.summary()["reconciled"]
    assert reconciled["mirror_checked"]["jira@eu"] >= 1, reconciled
    assert reconciled["gone"] == 1, reconciled
    assert _open_refs(world, "jira:") == before - {ref}
    store = world.store()
    try:
        assert store.audit_entries(ref, "reconcile_gone")
    finally:
        store.close()


def test_a_site_not_reached_is_not_reconciled_and_none_of_its_issues_end(sites):
    world, eu, _, _ = sites
    reconcile_every_run(world)
    world.run()
    world.settle()
    before = _open_refs(world, "jira:eu/")
    assert before
    with wrong_secret("JIRA_EU_API_TOKEN", "not-the-eu-token"):
        result = world.run(now=world.now + timedelta(hours=1))
    assert set(result.refused) == {"jira@eu"}, result.summary()
    reconciled = result.summary()["reconciled"]
    assert "jira@eu" not in reconciled["mirror_checked"] and reconciled["gone"] == 0, reconciled
    assert reconciled["mirror_checked"]["jira"] >= 1  # the default site still looked at
    assert _open_refs(world, "jira:eu/") == before
