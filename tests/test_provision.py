"""`escalation-sync provision` against the sandbox: a bare org becomes one doctor passes, the
new ids land in the mapping with its comments kept, a second apply changes nothing, missing
options and permissions are added, nothing is deleted."""

from __future__ import annotations

import argparse
import io

import pytest

from provision.commands import EXIT_OK, EXIT_SETUP_PROBLEMS, provision
from sandbox import catalogue
from sandbox.sandbox_config import with_account_matrix_writes
from tests.test_doctor import Org, _problems, running  # noqa: F401 - the module's sandbox


@pytest.fixture
def bare(running, tmp_path):  # noqa: F811
    return Org(running, tmp_path, bare=True)


@pytest.fixture
def org(running, tmp_path):  # noqa: F811
    return Org(running, tmp_path)


def _provision(org: Org, apply: bool = True, show: bool = False) -> tuple[int, str]:
    out = io.StringIO()
    args = argparse.Namespace(config=str(org.config), apply=apply, print=show)
    return provision(args, out, io.StringIO()), out.getvalue()


def _writes(org: Org) -> int:
    return sum(len(app.traffic.writes) for app in org.sandbox.apps.values())


def test_bare_org_to_doctor_all_ok_and_a_second_apply_changes_nothing(bare):
    mapping = bare.config.parent / "mapping.yaml"
    before = mapping.read_text(encoding="utf-8")
    code, checks = bare.checks()
    assert code == EXIT_SETUP_PROBLEMS and len(_problems(checks)) == 13

    planned, plan = _provision(bare, apply=False)
    assert planned == EXIT_OK and _writes(bare) == 0
    assert (
        "zendesk: create ticket field 'Escalation level' (drop-down, 5 options) for level" in plan
    )
    assert mapping.read_text(encoding="utf-8") == before

    applied, report = _provision(bare)
    assert applied == EXIT_OK, report
    assert f"wrote 9 new field id(s) into {mapping}" in report
    code, checks = bare.checks()
    assert _problems(checks) == [] and code == EXIT_OK

    writes = _writes(bare)
    assert writes > 0
    again, report = _provision(bare)
    assert again == EXIT_OK
    assert "nothing to create" in report
    assert _writes(bare) == writes


def test_new_ids_replace_only_the_ids_in_the_mapping(bare):
    mapping = bare.config.parent / "mapping.yaml"
    before = mapping.read_text(encoding="utf-8").splitlines()
    _provision(bare)
    after = mapping.read_text(encoding="utf-8").splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 9
    assert ("      sla_next_due: 360000000203                   # text: \"2026-03-02 14:00 UTC\"",
            "      sla_next_due: 360000000105                   # text: \"2026-03-02 14:00 UTC\"") in changed  # fmt: skip


def test_print_shows_the_ids_and_leaves_the_mapping_alone(bare):
    mapping = bare.config.parent / "mapping.yaml"
    before = mapping.read_text(encoding="utf-8")
    code, report = _provision(bare, show=True)
    assert code == EXIT_OK
    assert mapping.read_text(encoding="utf-8") == before
    assert "level:\n        field: 360000000103" in report


def test_existing_field_with_our_title_is_adopted_not_made_twice(bare):
    existing = {"id": 360000000150, "type": "text", "title": "Escalation owner", "active": True}
    bare.sandbox.zendesk.put_ticket_field(existing)
    code, report = _provision(bare)
    titles = [f["title"] for f in bare.sandbox.zendesk.store.ticket_fields.values()]
    assert "use the existing field 'Escalation owner' (360000000150) for owner" in report
    assert titles.count("Escalation owner") == 1
    assert "      owner: 360000000150" in (bare.config.parent / "mapping.yaml").read_text()


def test_missing_options_are_added_and_extra_ones_listed_never_deleted(org):
    zendesk = org.sandbox.zendesk
    level = dict(zendesk.store.ticket_fields[catalogue.ZD_FIELD_LEVEL])
    options = [o for o in level["custom_field_options"] if o["value"] != "esc_level_advisory"]
    options.append({"id": 1, "name": "legacy", "value": "esc_legacy"})
    zendesk.put_ticket_field({**level, "custom_field_options": options})
    jira = org.sandbox.jira.store
    jira.options[catalogue.JIRA_FIELD_TIER] = [o for o in jira.options[catalogue.JIRA_FIELD_TIER] if o["value"] != "unknown"]  # fmt: skip

    code, report = _provision(org)
    tags = [o["value"] for o in zendesk.store.ticket_fields[catalogue.ZD_FIELD_LEVEL]["custom_field_options"]]  # fmt: skip
    assert code == EXIT_OK
    assert "esc_level_advisory" in tags and "esc_legacy" in tags
    assert "unknown" in [o["value"] for o in jira.options[catalogue.JIRA_FIELD_TIER]]
    assert "obsolete (left alone): zendesk: options of 'Escalation level' the mapping no longer names: esc_legacy" in report  # fmt: skip
    assert _problems(org.checks()[1]) == []


def test_missing_picklist_value_and_field_permission_are_added(org):
    sf = org.sandbox.salesforce
    sf.put_record("Account", {"Name": "Acme"})  # any record: the picklist keeps its values
    schema = sf.store.schema
    from dataclasses import replace

    info = schema.objects["Account"].fields["Highest_Escalation_Level__c"]
    schema.put_field("Account", replace(info, picklist=info.picklist[:-1]))
    sf.tooling.rows.insert(sf.tooling.rows.object_info("CustomField"), {"DeveloperName": "Highest_Escalation_Level", "TableEnumOrId": "Account", "FullName": "Account.Highest_Escalation_Level__c"})  # fmt: skip
    sf.set_field_editable("Account", "Next_SLA_Breach__c", False)

    code, report = _provision(org)
    assert code == EXIT_OK, report
    assert "add picklist values executive-review to Account.Highest_Escalation_Level__c" in report
    assert sf.describe_field("Account", "Highest_Escalation_Level__c")["picklistValues"][-1]["value"] == "executive-review"  # fmt: skip
    assert sf.describe_field("Account", "Next_SLA_Breach__c")["updateable"] is True
    assert _problems(org.checks()[1]) == []


def test_missing_join_organization_field_is_created_and_then_found(running, tmp_path):  # noqa: F811
    org = Org(running, tmp_path, bare=True, organization_field=False)
    subject = "organization field salesforce_account_id (join)"
    code, checks = org.checks()
    [missing] = [c for c in _problems(checks) if c["subject"] == subject]
    assert missing["detail"] == "no such organization field"
    assert "provision" in missing["fix"] and "join[1].field" in missing["fix"]

    code, report = _provision(org)
    assert code == EXIT_OK, report
    assert "done: zendesk: create organization field 'salesforce_account_id' (text, the join reads it)" in report  # fmt: skip
    made = [f for f in org.sandbox.zendesk.store.organization_fields.values() if f["key"] == "salesforce_account_id"]  # fmt: skip
    assert [(f["type"], f["title"]) for f in made] == [("text", "Salesforce account id")]
    assert [c["status"] for c in org.checks()[1] if c["subject"] == subject] == ["ok"]
    assert "nothing to create" in _provision(org)[1]


def test_a_refused_creation_is_reported_and_the_rest_still_made(bare):
    bare.sandbox.zendesk.api_user_role = "agent"  # may not create fields
    code, report = _provision(bare)
    assert code == EXIT_SETUP_PROBLEMS
    assert "FAILED: zendesk: create ticket field 'Escalation level'" in report
    assert "HTTP 403" in report
    assert "done: jira: create field 'Escalation level'" in report


def test_sync_after_provisioning_a_bare_org_writes_every_record_without_rejection(bare):
    from datetime import UTC, datetime, timedelta

    from config.loader import load_config
    from connectors.transport import RetryPolicy
    from sync.connections import build_connectors
    from sync.run import run_once
    from sync.state import StateStore

    assert _provision(bare)[0] == EXIT_OK
    bare.sandbox.zendesk.advance_clock(61)
    config = load_config(bare.config)
    connectors = build_connectors(config, RetryPolicy(max_total_wait_seconds=30))
    store = StateStore(config.state.path)
    try:
        result = run_once(config, connectors, store, datetime.now(UTC) + timedelta(minutes=5))
    finally:
        store.close()
        for connector in connectors.values():
            connector.close()
    assert result.exit_code == 0, result.apply
    assert bare.sandbox.salesforce.records("Escalation__c")  # upserted by Ticket_Ref__c


def test_new_jira_fields_get_a_context_limited_to_the_configured_projects(bare):
    assert _provision(bare)[0] == EXIT_OK
    jira = bare.sandbox.jira.store
    ours = [f for f in jira.fields if (f.get("description") or "").startswith("Written by escalation-sync")]  # fmt: skip
    assert len(ours) == 5
    for field in ours:
        [context] = jira.contexts.of(field["id"])
        assert (context["projectIds"], context["issueTypeIds"]) == (["10000", "10001"], [])
    tier = next(f for f in ours if f["name"] == "Customer tier")
    [context] = jira.contexts.of(tier["id"])
    assert "unknown" in [o["value"] for o in jira.context_options(tier["id"], context["id"])]


def test_jira_field_missing_a_project_context_gets_one_with_our_options(org):
    jira = org.sandbox.jira.store
    [context] = jira.contexts.of(catalogue.JIRA_FIELD_TIER)
    context["projectIds"] = ["10000"]
    code, report = _provision(org)
    assert code == EXIT_OK, report
    assert f"done: jira: add a context for OPS to 'Customer Tier' ({catalogue.JIRA_FIELD_TIER})" in report  # fmt: skip
    ops = jira.contexts.covering(catalogue.JIRA_FIELD_TIER, "10001")
    assert ops["projectIds"] == ["10001"]
    assert "unknown" in [o["value"] for o in jira.context_options(catalogue.JIRA_FIELD_TIER, ops["id"])]  # fmt: skip
    assert _problems(org.checks()[1]) == []
    assert "nothing to create" in _provision(org)[1]


def test_one_view_per_escalated_level_due_soonest_first_made_once(bare):
    code, checks = bare.checks()
    [views] = [c for c in checks if c["subject"] == "views"]
    assert views["status"] == "warning" and "'Escalated: executive-review'" in views["detail"]
    planned = _provision(bare, apply=False)[1]
    assert "zendesk: create view 'Escalated: executive-review' (open tickets tagged escalation_executive-review, SLA due soonest first)" in planned  # fmt: skip

    assert _provision(bare)[0] == EXIT_OK
    made = sorted(bare.sandbox.zendesk.store.views.values(), key=lambda v: v["id"])
    sla_due = next(f["id"] for f in bare.sandbox.zendesk.store.ticket_fields.values() if f["title"] == "Escalation SLA due")  # fmt: skip
    assert [v["title"] for v in made] == [f"Escalated: {level}" for level in ("informational", "advisory", "action-needed", "executive-review")]  # fmt: skip
    top = made[-1]
    assert {"field": "status", "operator": "less_than", "value": "solved"} in top["conditions"]["all"]  # fmt: skip
    assert {"field": "current_tags", "operator": "includes", "value": "escalation_executive-review"} in top["conditions"]["all"]  # fmt: skip
    assert (top["execution"]["sort_by"], top["execution"]["sort_order"]) == (str(sla_due), "asc")
    assert [c["status"] for c in bare.checks()[1] if c["subject"] == "views"] == ["ok"]
    assert "nothing to create" in _provision(bare)[1]
    assert len(bare.sandbox.zendesk.store.views) == 4


def test_views_switched_off_are_neither_made_nor_checked(bare):
    mapping = bare.config.parent / "mapping.yaml"
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("    tags_prefix: escalation_\n", "    tags_prefix: escalation_\n    level_views: false\n"), encoding="utf-8")  # fmt: skip
    assert _provision(bare)[0] == EXIT_OK
    assert bare.sandbox.zendesk.store.views == {}
    assert not [c for c in bare.checks()[1] if c["subject"] == "views"]


def _with_account_matrix_writes(org: Org) -> None:
    """The account matrix writes its account fields, the task and the organisation's field
    and tags (the mapping of tests/test_account_escalation_sync.py)."""
    mapping = org.config.parent / "mapping.yaml"
    mapping.write_text(with_account_matrix_writes(mapping.read_text(encoding="utf-8")), "utf-8")


def test_the_account_matrix_needs_are_checked_provisioned_once_and_then_pass(bare):
    _with_account_matrix_writes(bare)
    code, checks = bare.checks()
    problems = {c["subject"]: c for c in _problems(checks)}
    assert code == EXIT_SETUP_PROBLEMS
    for subject in (
        "field account_level (Account.Account_Escalation_Level__c)",
        "field next_outreach_due (Account.Next_Outreach_Due__c)",
        "organization field account_escalation_level (account level)",
        "organization tags",
    ):
        assert subject in problems, sorted(problems)
    # The standard Task is there with what we write: its fields and picklist values pass.
    task_checks = [c for c in checks if c["subject"].endswith(")") and "(Task." in c["subject"]]
    assert len(task_checks) == 7 and all(c["status"] == "ok" for c in task_checks), task_checks

    planned, plan = _provision(bare, apply=False)
    assert "salesforce: create field Account.Account_Escalation_Level__c (Picklist)" in plan
    assert (
        "zendesk: create organization field 'account_escalation_level' (text, the account level)"
        in plan
    )
    assert "zendesk: turn on tags for users and organizations" in plan
    assert "Task." not in plan  # standard fields are never made

    applied, report = _provision(bare)
    assert applied == EXIT_OK, report
    code, checks = bare.checks()
    assert _problems(checks) == [] and code == EXIT_OK
    level = bare.sandbox.salesforce.describe_field("Account", "Account_Escalation_Level__c")
    assert [v["value"] for v in level["picklistValues"]] == list(catalogue.ACCOUNT_LEVELS)

    writes = _writes(bare)
    again, report = _provision(bare)
    assert again == EXIT_OK and "nothing to create" in report
    assert _writes(bare) == writes


def test_a_task_status_the_standard_picklist_lacks_is_named_for_setup_not_provisioned(org):
    _with_account_matrix_writes(org)
    mapping = org.config.parent / "mapping.yaml"
    text = mapping.read_text(encoding="utf-8").replace("task: {}", "task: {open_status: Open}")
    mapping.write_text(text, encoding="utf-8")
    code, checks = org.checks()
    (status,) = [c for c in _problems(checks) if c["subject"] == "field status (Task.Status)"]
    assert status["detail"] == "missing picklist values: Open"
    assert "Setup > Object Manager > Task > Fields > Status" in status["fix"]
    _, plan = _provision(org, apply=False)
    assert "Open" not in plan
