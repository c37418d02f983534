"""`sync.zendesk.write_batch_size` and `sync.salesforce.write_batch_size` bound the vendors' batches.

Zendesk's update_many takes at most 100 tickets a job and Salesforce's sObject Collections at
most 200 records a request; a smaller batch (a busy org, a trigger-heavy helpdesk) is the
config's to choose. The connectors take the size in their constructor and never exceed the
vendor's limit; a sync sends the configured size, end to end through the sandbox.
"""

from __future__ import annotations

import json

import pytest
import responses

from connectors.base import FieldWrite, WriteStatus
from connectors.salesforce import SalesforceConnector, SalesforceCredentials
from connectors.transport import RetryPolicy
from connectors.zendesk import JobPolling, ZendeskConnector
from tests.sync_world import World

ZENDESK = "https://acme.zendesk.com/api/v2"
SALESFORCE_LOGIN = "https://login.salesforce.com"
SALESFORCE_API = "https://acme.my.salesforce.com/services/data/v62.0"


def zendesk(write_batch_size: int) -> ZendeskConnector:
    return ZendeskConnector(
        "https://acme.zendesk.com",
        email="bot@acme.example",
        api_token="token",
        policy=RetryPolicy(sleep=lambda _: None, max_attempts=1),
        job_polling=JobPolling(first_wait_seconds=0.0, give_up_after_seconds=1.0),
        write_batch_size=write_batch_size,
    )


def zendesk_job_sizes(write_batch_size: int, tickets: int) -> list[int]:
    """How many tickets each update_many job carries when `tickets` tickets are written."""
    done = {"id": "j", "status": "completed", "results": []}
    responses.put(f"{ZENDESK}/tickets/update_many.json", json={"job_status": {**done}})
    responses.get(f"{ZENDESK}/job_statuses/j.json", json={"job_status": done})
    writes = [FieldWrite("zendesk", "ticket", str(n), {"1": "x"}) for n in range(1, tickets + 1)]
    zendesk(write_batch_size).apply(writes)
    return [
        len(json.loads(call.request.body)["tickets"])
        for call in responses.calls
        if call.request.method == "PUT"
    ]


@responses.activate
def test_zendesk_jobs_carry_at_most_the_write_batch_size():
    assert zendesk_job_sizes(write_batch_size=7, tickets=20) == [7, 7, 6]


@responses.activate
def test_zendesk_write_batch_size_never_exceeds_update_manys_100():
    assert zendesk_job_sizes(write_batch_size=500, tickets=150) == [100, 50]


def salesforce_collection_sizes(write_batch_size: int, accounts: int) -> list[int]:
    """How many records each sObject Collections request carries for `accounts` updates."""
    responses.post(
        f"{SALESFORCE_LOGIN}/services/oauth2/token",
        json={"access_token": "access", "instance_url": "https://acme.my.salesforce.com"},
    )
    responses.add_callback(
        responses.PATCH,
        f"{SALESFORCE_API}/composite/sobjects",
        callback=lambda request: (
            200,
            {},
            json.dumps(
                [
                    {"id": record["id"], "success": True, "errors": []}
                    for record in json.loads(request.body)["records"]
                ]
            ),
        ),
    )
    connector = SalesforceConnector(
        SALESFORCE_LOGIN,
        SalesforceCredentials("client-id", "client-secret"),
        policy=RetryPolicy(sleep=lambda _: None, max_attempts=1),
        write_batch_size=write_batch_size,
    )
    writes = [
        FieldWrite("salesforce", "account", f"001xx{n:010d}AAA", {"Open_Escalations__c": 1})
        for n in range(accounts)
    ]
    results = connector.apply(writes)
    assert {result.status for result in results} == {WriteStatus.OK}
    return [
        len(json.loads(call.request.body)["records"])
        for call in responses.calls
        if call.request.method == "PATCH"
    ]


@responses.activate
def test_salesforce_collections_carry_at_most_the_write_batch_size():
    assert salesforce_collection_sizes(write_batch_size=5, accounts=12) == [5, 5, 2]


@responses.activate
def test_salesforce_write_batch_size_never_exceeds_sobject_collections_200():
    assert salesforce_collection_sizes(write_batch_size=1000, accounts=250) == [200, 50]


SMALL_BATCHES = (
    "sync:\n  zendesk:\n    write_batch_size: 7\n  salesforce:\n    write_batch_size: 5\n"
)


@pytest.mark.integration
def test_a_sync_sends_the_configured_write_batch_sizes(world_sandbox, tmp_path):
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path, extra_config=SMALL_BATCHES)
    result = world.run()
    assert result.exit_code == 0, result.summary()
    jobs = [
        len(entry.body["tickets"])
        for entry in sandbox.zendesk.traffic.writes
        if entry.path.endswith("/tickets/update_many.json")
    ]
    collections = [
        len(entry.body["records"])
        for entry in sandbox.salesforce.traffic.writes
        if "/composite/sobjects" in entry.path
    ]
    assert len(jobs) > 1 and max(jobs) == 7, jobs
    assert len(collections) > 1 and max(collections) == 5, collections
