"""Doctor's join check against the sandbox: a bounded sample of open tickets, read through the
connectors, each strategy's matches counted; a key empty on every sampled ticket is a problem
naming the key to fill, a large unmatched share a warning."""

from __future__ import annotations

import pytest

from provision.commands import EXIT_OK, EXIT_SETUP_PROBLEMS
from tests.test_doctor import Org, _problems, running  # noqa: F401 - the module's sandbox


def _join(checks: list[dict]) -> list[dict]:
    return [c for c in checks if c["system"] == "join"]


def _without_org_field_values(dataset: dict) -> None:
    for organization in dataset["zendesk"]["organizations"]:
        organization["organization_fields"]["salesforce_account_id"] = None


def _one_account(dataset: dict) -> None:
    sobjects = dataset["salesforce"]["sobjects"]
    sobjects["Account"] = sobjects["Account"][:1]


@pytest.fixture
def org(running, tmp_path):  # noqa: F811
    return Org(running, tmp_path)


def test_sample_counts_each_strategy_on_open_tickets_only(org):
    code, checks = org.checks(join_sample=200)
    [zendesk] = [c for c in _join(checks) if c["subject"] == "zendesk sample"]
    assert zendesk["detail"].startswith("9 open tickets: would match by account_id 2 (key on 2); ")
    assert "organization_external_id 5 (key on 7)" in zendesk["detail"]
    assert "6 matched in order, 3 (33%) by none" in zendesk["detail"]


def test_sample_is_bounded_by_its_size_and_one_export_page(org):
    org.sandbox.zendesk.traffic.reset()
    code, checks = org.checks(join_sample=4)
    [zendesk] = [c for c in _join(checks) if c["subject"] == "zendesk sample"]
    assert zendesk["detail"].startswith("4 open tickets: ")
    assert org.sandbox.zendesk.traffic.requests["incremental_tickets"] == 1


@pytest.fixture
def org_field_empty(running, tmp_path):  # noqa: F811
    return Org(running, tmp_path, change=_without_org_field_values)


@pytest.fixture
def one_account(running, tmp_path):  # noqa: F811
    return Org(running, tmp_path, change=_one_account)


def test_a_join_key_empty_on_every_sampled_ticket_is_a_problem_with_the_key_to_fill(
    org_field_empty,
):
    org = org_field_empty
    code, checks = org.checks(join_sample=200)
    [found] = [c for c in _problems(checks) if c["system"] == "join"]
    assert code == EXIT_SETUP_PROBLEMS
    assert found["subject"] == "join[1] organization_field:salesforce_account_id"
    assert found["detail"] == "empty on all 9 sampled open tickets (zendesk): it can never match"
    assert "fill the organisation field 'salesforce_account_id'" in found["fix"]
    assert "escalation-sync.yaml:7 (join[1].field)" in found["fix"]


def test_a_high_unmatched_share_is_a_warning_not_a_problem(one_account):
    org = one_account
    code, checks = org.checks(join_sample=200)
    [zendesk] = [c for c in _join(checks) if c["subject"] == "zendesk sample"]
    assert zendesk["status"] == "warning"
    assert "by none; those get tier unknown" in zendesk["detail"]
    assert not [c for c in _problems(checks) if c["subject"].endswith("sample")]


def test_join_sample_zero_skips_the_check(org):
    code, checks = org.checks(join_sample=0)
    assert _join(checks) == [] and code == EXIT_OK
