"""`escalation-sync doctor` against the sandbox: a set-up org is all ok, a bare org and each
broken setting (wrong type, missing option, missing permission, not on the screen) is a problem
with its fix, and the exit code says which."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from provision.commands import EXIT_OK, EXIT_SETUP_PROBLEMS, EXIT_UNREACHABLE, doctor
from sandbox import catalogue
from sandbox.bare_org import bare_org
from sandbox.generate import generate_dataset
from sandbox.runner import DATA_FILES, Sandbox
from sandbox.salesforce.limits import DEFAULT_DAILY_LIMIT
from sandbox.sandbox_config import ENVIRONMENT, write_sandbox_config


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with Sandbox(work_dir=tmp_path_factory.mktemp("doctor"), quotas=False) as started:
        yield started


class Org:
    """The module's sandbox loaded with a small data set (bare or set up) and a config for it."""

    def __init__(
        self,
        sandbox: Sandbox,
        folder: Path,
        bare: bool = False,
        organization_field: bool = True,
        change: Callable[[dict], None] | None = None,
    ):
        self.sandbox = sandbox
        dataset = generate_dataset(10, 30, 6, seed=2)
        if bare:
            bare_org(dataset, organization_field=organization_field)
        if change is not None:
            change(dataset)
        for name in DATA_FILES:
            sandbox.apps[name].load_state(dataset[name])
        sandbox.zendesk.api_user_role, sandbox.zendesk.api_custom_role = "admin", None
        sandbox.jira.denied_permissions.clear()
        sandbox.salesforce.oauth.scopes = ("api",)
        sandbox.zendesk.cached_ticket_count = None
        sandbox.salesforce.allowance.configure(DEFAULT_DAILY_LIMIT, force=False)
        os.environ.update(ENVIRONMENT)
        self.config = write_sandbox_config(folder / "config", sandbox.urls, sandbox.ca_path)

    def doctor(self, output: str = "text", join_sample: int = 0) -> tuple[int, str]:
        """The join sample is off unless asked for: tests/test_doctor_join.py checks it."""
        out = io.StringIO()
        args = argparse.Namespace(config=str(self.config), format=output, join_sample=join_sample)
        code = doctor(args, out, io.StringIO())
        return code, out.getvalue()

    def checks(self, join_sample: int = 0) -> tuple[int, list[dict]]:
        code, text = self.doctor("json", join_sample)
        return code, json.loads(text)["checks"]


def _problems(checks: list[dict]) -> list[dict]:
    return [c for c in checks if c["status"] == "problem"]


@pytest.fixture
def org(running, tmp_path):
    return Org(running, tmp_path)


@pytest.fixture
def bare(running, tmp_path):
    return Org(running, tmp_path, bare=True)


def test_set_up_org_passes_every_check(org):
    code, checks = org.checks()
    assert _problems(checks) == []
    assert code == EXIT_OK
    assert {c["system"] for c in checks} == {"zendesk", "jira", "salesforce"}


def test_bare_org_lists_every_missing_field_with_provision_as_the_fix(bare):
    code, checks = bare.checks()
    missing = {(c["system"], c["subject"]) for c in _problems(checks)}
    assert code == EXIT_SETUP_PROBLEMS
    assert ("zendesk", f"ticket field level ({catalogue.ZD_FIELD_LEVEL})") in missing
    assert ("jira", f"field customer_tier ({catalogue.JIRA_FIELD_TIER})") in missing
    assert ("salesforce", "object Escalation__c") in missing
    assert ("salesforce", "field open_escalations (Account.Open_Escalations__c)") in missing
    assert all("provision" in c["fix"] and str(bare.config) in c["fix"] for c in _problems(checks))


def test_text_checklist_shows_the_file_and_line_to_change(bare):
    code, text = bare.doctor()
    assert "PROBLEM ticket field owner (360000000202): no such ticket field" in text
    assert "mapping.yaml:32 (mapping.zendesk.write.owner)" in text
    assert text.rstrip().endswith("13 problems, 2 warnings")


def test_wrong_type_names_the_type_found_and_the_key_to_change(org):
    field = {"id": catalogue.ZD_FIELD_OWNER, "type": "checkbox", "title": "Escalation owner", "active": True}  # fmt: skip
    org.sandbox.zendesk.put_ticket_field(field)
    code, checks = org.checks()
    [found] = _problems(checks)
    assert code == EXIT_SETUP_PROBLEMS
    assert found["detail"] == "is a checkbox field ('Escalation owner'); expected text or textarea"
    assert "mapping.zendesk.write.owner" in found["fix"]


def test_missing_dropdown_option_and_a_near_miss_by_case(org):
    zendesk = org.sandbox.zendesk
    level = dict(zendesk.store.ticket_fields[catalogue.ZD_FIELD_LEVEL])
    options = [o for o in level["custom_field_options"] if o["value"] != "esc_level_advisory"]
    options = [dict(o, value="ESC_LEVEL_NONE") if o["value"] == "esc_level_none" else o for o in options]  # fmt: skip
    zendesk.put_ticket_field({**level, "custom_field_options": options})
    code, checks = org.checks()
    [found] = _problems(checks)
    assert found["detail"] == "missing tags: esc_level_none, esc_level_advisory"
    assert "'esc_level_none' -> 'ESC_LEVEL_NONE'" in found["fix"]


def test_missing_jira_permission_is_a_problem_per_project(org):
    org.sandbox.jira.deny_permission("OPS", "EDIT_ISSUES")
    code, checks = org.checks()
    found = _problems(checks)
    assert code == EXIT_SETUP_PROBLEMS
    assert found[0]["subject"] == "permissions in project OPS"
    assert found[0]["detail"] == "the integration user lacks EDIT_ISSUES"


def test_field_not_on_the_edit_screen_is_a_problem(org):
    org.sandbox.jira.remove_from_screen("ENG", catalogue.JIRA_FIELD_ARR)
    code, checks = org.checks()
    [found] = _problems(checks)
    assert found["subject"].startswith("edit screen of ENG (")
    assert found["detail"] == f"not on it: {catalogue.JIRA_FIELD_ARR}; edits would fail"


def test_missing_salesforce_field_permission_is_a_problem(org):
    org.sandbox.salesforce.set_field_editable("Account", "Next_SLA_Breach__c", False)
    code, checks = org.checks()
    [found] = _problems(checks)
    assert found["subject"] == "field next_breach_at (Account.Next_SLA_Breach__c)"
    assert "cannot edit it" in found["detail"] and "Escalation_Sync" in found["fix"]


def test_zendesk_custom_role_without_ticket_editing_is_a_problem(org):
    org.sandbox.zendesk.api_user_role = "agent"
    org.sandbox.zendesk.api_custom_role = {"ticket_editing": False, "comment_access": "public"}
    code, checks = org.checks()
    [found] = _problems(checks)
    assert found["detail"] == "its custom role may not edit tickets"
    assert any(c["status"] == "warning" and "not an admin" in c["detail"] for c in checks)


def test_external_id_not_unique_is_a_problem(org):
    from dataclasses import replace

    schema = org.sandbox.salesforce.store.schema
    info = schema.objects["Escalation__c"].fields["Ticket_Ref__c"]
    schema.put_field("Escalation__c", replace(info, unique=False))
    code, checks = org.checks()
    [found] = _problems(checks)
    assert found["subject"] == "field ticket_ref (Escalation__c.Ticket_Ref__c)"
    assert found["detail"].startswith("not marked External ID and Unique")


def test_refused_credentials_are_one_line_and_the_others_are_checked(org):
    org.sandbox.jira.credentials = set()
    try:
        code, checks = org.checks()
    finally:
        org.sandbox.jira.credentials = {(catalogue.JIRA_EMAIL, catalogue.JIRA_API_TOKEN)}
    jira = [c for c in checks if c["system"] == "jira"]
    assert code == EXIT_UNREACHABLE
    assert [c["subject"] for c in jira] == ["credentials"]
    assert any(c["system"] == "salesforce" and c["status"] == "ok" for c in checks)


def test_level_written_as_text_into_a_picklist_missing_a_level_is_a_problem(org):
    from dataclasses import replace

    schema = org.sandbox.salesforce.store.schema
    info = schema.objects["Escalation__c"].fields["Level__c"]
    schema.put_field("Escalation__c", replace(info, picklist=info.picklist[:-1]))
    code, checks = org.checks()
    [found] = _problems(checks)
    assert found["subject"] == "field level (Escalation__c.Level__c)"
    assert found["detail"] == "missing picklist values: executive-review"


def test_connected_app_scopes_are_ok_when_the_token_grants_api(org):
    code, checks = org.checks()
    [scopes] = [c for c in checks if c["subject"] == "connected app scopes"]
    assert scopes["status"] == "ok" and "api" in scopes["detail"]


def test_connected_app_without_the_api_scope_is_a_problem_with_the_fix(org):
    oauth = org.sandbox.salesforce.oauth
    oauth.scopes = ("id", "web")
    try:
        code, checks = org.checks()
    finally:
        oauth.scopes = ("api",)
    [found] = _problems(checks)
    assert code == EXIT_SETUP_PROBLEMS
    assert found["subject"] == "connected app scopes"
    assert found["detail"] == "the token grants id, web; without api no REST call is allowed"
    assert "Manage user data via APIs (api)" in found["fix"]


def test_jira_field_no_context_applies_to_a_configured_project_is_a_problem(org):
    contexts = org.sandbox.jira.store.contexts
    [context] = contexts.of(catalogue.JIRA_FIELD_TIER)
    context["projectIds"] = ["10000"]  # ENG only: OPS issues cannot hold the tier
    code, checks = org.checks()
    found = _problems(checks)
    assert code == EXIT_SETUP_PROBLEMS
    assert found[0]["subject"] == f"contexts of customer_tier ({catalogue.JIRA_FIELD_TIER})"
    assert found[0]["detail"] == "no context of 'Customer Tier' covers OPS; the field cannot be set on their issues"  # fmt: skip
    assert "provision" in found[0]["fix"]
    # editmeta agrees: on OPS's issues the field is not editable any more
    assert any(f["subject"].startswith("edit screen of OPS") for f in found[1:])


def _first_run(checks: list[dict], system: str) -> dict:
    [found] = [c for c in checks if c["system"] == system and c["subject"] == "first run"]
    return found


def test_first_run_estimates_come_from_the_vendors_counts(org):
    code, checks = org.checks()
    assert _first_run(checks, "zendesk")["detail"].startswith("30 tickets in the account")
    assert _first_run(checks, "salesforce")["detail"].startswith("10 accounts: 1 query requests")
    assert _first_run(checks, "jira")["detail"].startswith("about 6 open issues: 1 search requests")
    assert all(_first_run(checks, s)["status"] == "ok" for s in ("zendesk", "jira", "salesforce"))


def test_a_first_run_longer_than_half_an_hour_at_the_export_quota_is_a_warning(org):
    org.sandbox.zendesk.cached_ticket_count = 450_000  # 450 export pages at 10 a minute
    code, checks = org.checks()
    found = _first_run(checks, "zendesk")
    assert code == EXIT_OK and found["status"] == "warning"
    assert "450 + 1 export requests at 10 a minute" in found["detail"]
    assert "about 46 minutes (16 with High Volume's 30 exports a minute)" in found["detail"]
    assert "escalation-sync backfill" in found["fix"]


def test_the_first_run_estimate_paces_the_export_as_the_config_says(org):
    """An account with the High Volume add-on, paced so (`export_per_minute: 30`): its first
    run is estimated at that rate, as the run will go, and is no warning at 16 minutes."""
    org.sandbox.zendesk.cached_ticket_count = 450_000
    with org.config.open("a", encoding="utf-8") as config:
        config.write("sync:\n  zendesk:\n    export_per_minute: 30\n")
    code, checks = org.checks()
    found = _first_run(checks, "zendesk")
    assert found["status"] == "ok", found
    assert "450 + 1 export requests at 30 a minute" in found["detail"]
    assert "about 16 minutes" in found["detail"] and "High Volume" not in found["detail"]


def test_the_ticket_events_export_shares_the_export_quota_in_the_first_run_estimate(org):
    # 250 ticket pages take 25 minutes; the tickets' 59,000 field changes (an audit every
    # 2 minutes over the last 82 days) are 60 more pages of the same quota: 31 minutes.
    zendesk = org.sandbox.zendesk
    zendesk.cached_ticket_count = 250_000
    now = int(zendesk.clock.timestamp()) - 120
    zendesk.store.ticket_events = [
        {"id": n + 1, "ticket_id": 1, "timestamp": now - (59_000 - n) * 120, "event_type": "Audit",
         "child_events": []}
        for n in range(59_000)
    ]  # fmt: skip
    code, checks = org.checks()
    found = _first_run(checks, "zendesk")
    assert code == EXIT_OK and found["status"] == "warning", found
    assert re.search(r"and about 59,?0\d\d ticket events since then", found["detail"])
    assert "250 + 60 export requests at 10 a minute" in found["detail"], found["detail"]
    assert "about 31 minutes" in found["detail"]


def test_a_first_run_over_the_salesforce_allowance_left_is_a_warning(org):
    org.sandbox.salesforce.allowance.configure(4, force=False)  # counted, not enforced
    code, checks = org.checks()
    found = _first_run(checks, "salesforce")
    assert found["status"] == "warning"
    assert "requests are left of today's allowance" in found["detail"]
    assert "escalation-sync backfill" in found["fix"]
