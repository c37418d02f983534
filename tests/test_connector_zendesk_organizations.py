"""The account matrix's organisation writes (connectors/zendesk_organizations.py) against the
sandbox, real client over HTTPS: update_many jobs of 100, one outcome per organisation."""

from __future__ import annotations

import pytest

from connectors.base import FieldWrite, WriteStatus
from connectors.errors import AuthError
from connectors.transport import RetryPolicy
from connectors.zendesk import JobPolling, ZendeskConnector
from connectors.zendesk_organizations import update_organizations
from sandbox import catalogue
from sandbox.faults import Fault
from sandbox.zendesk import fixtures

pytestmark = pytest.mark.integration
LEVEL = "account_escalation_level"
FIRST_ID = 50_000
UPDATE_MANY = "organizations_update_many"


@pytest.fixture
def sandbox(zendesk_small):
    """Shadows conftest's: the module's sandbox, Zendesk reset to the small data set."""
    return zendesk_small


def connector(sandbox, **options) -> ZendeskConnector:
    options.setdefault(
        "policy",
        RetryPolicy(backoff_initial_seconds=0.01, backoff_max_seconds=0.05, max_attempts=2),
    )
    options.setdefault(
        "job_polling",
        JobPolling(first_wait_seconds=0.05, max_wait_seconds=0.2, give_up_after_seconds=5),
    )
    options.setdefault("api_token", catalogue.ZENDESK_API_TOKEN)
    return ZendeskConnector(
        sandbox.urls["zendesk"],
        email=catalogue.ZENDESK_EMAIL,
        ca_bundle=str(sandbox.ca_path),
        **options,
    )


def organisations(sandbox, count: int, tags: list[str] | None = None) -> list[str]:
    """`count` organisations in the sandbox (ids from FIRST_ID), with `tags`."""
    ids = []
    for n in range(count):
        org = fixtures.organization(0) | {"id": FIRST_ID + n, "name": f"Org {n}"}
        sandbox.zendesk.put_organization(org | {"tags": list(tags or [])})
        ids.append(str(FIRST_ID + n))
    return ids


def level(org_id: str, value: str = "at-risk", **changes) -> FieldWrite:
    return FieldWrite("zendesk", "organization", org_id, {LEVEL: value}, **changes)


def stored(sandbox, org_id: str) -> dict:
    return sandbox.zendesk.store.organizations[int(org_id)]


def test_250_organisations_go_in_three_jobs_and_all_land(sandbox):
    ids = organisations(sandbox, 250)
    results = update_organizations(connector(sandbox), [level(i) for i in ids], {})
    assert {r.status for r in results} == {WriteStatus.OK} and len(results) == 250
    requests = sandbox.zendesk.traffic.requests
    assert requests[UPDATE_MANY] == 3
    assert requests["organization_update"] == 0
    assert requests["job_status"] >= 3  # at least one poll a job
    assert all(stored(sandbox, i)["organization_fields"][LEVEL] == "at-risk" for i in ids)
    # Merged key by key: the join field the organisation had is still there.
    assert stored(sandbox, ids[0])["organization_fields"][catalogue.ZD_ORG_FIELD_SF_ID]


def test_tags_are_replaced_as_a_whole_with_ours_added_and_removed(sandbox):
    [org_id] = organisations(sandbox, 1, tags=["vip", "account_watch", "added_by_a_person"])
    write = level(org_id, tags_add=("account_at-risk",), tags_remove=("account_watch",))
    # The tags as last read do not have the one a person added since: the list sent is whole.
    tags_now = {org_id: ["vip", "account_watch"]}
    [result] = update_organizations(connector(sandbox), [write], tags_now)
    assert result.status is WriteStatus.OK
    assert stored(sandbox, org_id)["tags"] == ["account_at-risk", "vip"]


def test_a_write_without_tag_changes_leaves_the_tags_alone(sandbox):
    [org_id] = organisations(sandbox, 1, tags=["vip"])
    [result] = update_organizations(connector(sandbox), [level(org_id)], {org_id: []})
    assert result.status is WriteStatus.OK and stored(sandbox, org_id)["tags"] == ["vip"]


def test_an_unknown_organisation_is_rejected_with_zendesks_words_and_the_others_land(sandbox):
    ids = organisations(sandbox, 2)
    writes = [level(ids[0]), level("123456789"), level(ids[1])]
    results = update_organizations(connector(sandbox), writes, {})
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.REJECTED, WriteStatus.OK]
    assert results[1].reason == "RecordNotFound: Not found"
    assert all(stored(sandbox, i)["organization_fields"][LEVEL] == "at-risk" for i in ids)
    assert sandbox.zendesk.traffic.requests[UPDATE_MANY] == 1


def test_an_organisation_the_account_refuses_is_rejected_with_its_words(sandbox):
    ids = organisations(sandbox, 2)
    sandbox.zendesk.refuse_organization_updates([int(ids[1])], "Managed by the CRM app")
    results = update_organizations(connector(sandbox), [level(i) for i in ids], {})
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.REJECTED]
    assert "Managed by the CRM app" in results[1].reason
    assert LEVEL not in stored(sandbox, ids[1])["organization_fields"]


def test_an_id_that_is_not_numeric_is_rejected_unsent(sandbox):
    [org_id] = organisations(sandbox, 1)
    results = update_organizations(connector(sandbox), [level("acme"), level(org_id)], {})
    assert [(r.status, r.reason) for r in results] == [
        (WriteStatus.REJECTED, "not a Zendesk organisation id"),
        (WriteStatus.OK, None),
    ]


def test_a_job_failing_for_one_organisation_is_retry_and_lands_next_time(sandbox):
    ids = organisations(sandbox, 2)
    sandbox.zendesk.faults.add(Fault(UPDATE_MANY, "job_failure", detail={"ids": [int(ids[1])]}))
    zd = connector(sandbox)
    writes = [level(i) for i in ids]
    results = update_organizations(zd, writes, {})
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.RETRY]
    assert results[1].reason.startswith("InternalError")
    assert [r.status for r in update_organizations(zd, writes[1:], {})] == [WriteStatus.OK]


def test_a_failed_job_without_results_is_retry(sandbox):
    ids = organisations(sandbox, 2)
    sandbox.zendesk.faults.add(Fault(UPDATE_MANY, "job_failed"))
    results = update_organizations(connector(sandbox), [level(i) for i in ids], {})
    assert [r.status for r in results] == [WriteStatus.RETRY] * 2
    assert "without a result for this organisation" in (results[0].reason or "")


def test_a_job_that_does_not_finish_in_time_is_retry(sandbox):
    [org_id] = organisations(sandbox, 1)
    jobs = sandbox.zendesk.jobs
    jobs.delay_seconds = 60.0
    try:
        polling = JobPolling(
            first_wait_seconds=0.02, max_wait_seconds=0.05, give_up_after_seconds=0.1
        )
        zd = connector(sandbox, job_polling=polling)
        [result] = update_organizations(zd, [level(org_id)], {})
    finally:
        jobs.delay_seconds = 0.05
    assert result.status is WriteStatus.RETRY and "did not finish" in (result.reason or "")


def test_no_answer_to_the_submission_is_retry_and_the_next_job_is_still_sent(sandbox):
    ids = organisations(sandbox, 150)
    sandbox.zendesk.faults.add(Fault(UPDATE_MANY, "reset"))
    results = update_organizations(connector(sandbox), [level(i) for i in ids], {})
    assert [r.status for r in results] == [WriteStatus.RETRY] * 100 + [WriteStatus.OK] * 50


@pytest.mark.parametrize("status", [429, 503])
def test_once_zendesk_rate_limits_or_is_out_of_reach_the_remaining_writes_are_retry(
    sandbox, status
):
    ids = organisations(sandbox, 250)
    sandbox.zendesk.faults.add(Fault(UPDATE_MANY, "status", times=-1, status=status, retry_after=0))
    results = update_organizations(connector(sandbox), [level(i) for i in ids], {})
    assert {r.status for r in results} == {WriteStatus.RETRY}
    # The first job's submission was tried (with the policy's retries), the others never.
    assert sandbox.zendesk.traffic.requests[UPDATE_MANY] == 2
    assert all(LEVEL not in stored(sandbox, i)["organization_fields"] for i in ids)


def test_refused_credentials_are_an_auth_error(sandbox):
    [org_id] = organisations(sandbox, 1)
    with pytest.raises(AuthError):
        update_organizations(connector(sandbox, api_token="wrong"), [level(org_id)], {})
