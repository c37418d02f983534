"""The Salesforce emulation driven with simple-salesforce over HTTPS (raw requests only for the
OAuth token endpoint and query locators the client does not expose)."""

from __future__ import annotations

import json
import time

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sandbox import catalogue
from sandbox.faults import Fault
from sandbox.runner import Sandbox

pytestmark = pytest.mark.integration
VERSION = catalogue.SALESFORCE_API_VERSION


def http(sandbox) -> requests.Session:
    session = requests.Session()
    session.verify = str(sandbox.ca_path)
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override verify
    return session


def token(sandbox, **form: str) -> requests.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": catalogue.SALESFORCE_CLIENT_ID,
        "client_secret": catalogue.SALESFORCE_CLIENT_SECRET,
        **form,
    }
    return http(sandbox).post(sandbox.urls["salesforce"] + "/services/oauth2/token", data=data)


def client(sandbox) -> Salesforce:
    grant = token(sandbox).json()
    return Salesforce(
        instance_url=grant["instance_url"],
        session_id=grant["access_token"],
        session=http(sandbox),
        version=VERSION,
    )


def add_accounts(sandbox, count: int, stamp: str = "2026-01-01T00:00:00.000+0000") -> list[str]:
    return [
        sandbox.salesforce.put_record(
            "Account", {"Name": f"Account {n:05d}", "SystemModstamp": stamp}
        )
        for n in range(count)
    ]


def composite(
    sf: Salesforce, records: list[dict], all_or_none: bool = False, path: str = "composite/sobjects"
):
    return sf.restful(path, method="PATCH", json={"allOrNone": all_or_none, "records": records})


def account(record_id: str, **fields: object) -> dict:
    return {"attributes": {"type": "Account"}, "id": record_id, **fields}


def escalation(ref: str, **fields: object) -> dict:
    return {"attributes": {"type": "Escalation__c"}, "Ticket_Ref__c": ref, **fields}


UPSERT = "composite/sobjects/Escalation__c/Ticket_Ref__c"


# -- OAuth and sessions -----------------------------------------------------------------------
def test_client_credentials_grant_returns_token_and_own_instance_url(sandbox):
    grant = token(sandbox).json()
    assert grant["instance_url"] == sandbox.urls["salesforce"]
    assert grant["token_type"] == "Bearer"
    assert set(grant) >= {"access_token", "id", "issued_at", "signature"}


def test_password_grant_needs_password_with_security_token(sandbox):
    form = {"grant_type": "password", "username": catalogue.SALESFORCE_USERNAME}
    ok = token(
        sandbox,
        **form,
        password=catalogue.SALESFORCE_PASSWORD + catalogue.SALESFORCE_SECURITY_TOKEN,
    )
    assert ok.status_code == 200
    bare = token(sandbox, **form, password=catalogue.SALESFORCE_PASSWORD)
    assert bare.status_code == 400
    assert bare.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"client_id": "unknown"}, "invalid_client_id"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ],
)
def test_wrong_credentials_get_salesforce_oauth_error(sandbox, form, error):
    answer = token(sandbox, **form)
    assert answer.status_code == 400 and answer.json()["error"] == error


def test_request_without_valid_token_is_invalid_session(sandbox):
    sf = Salesforce(
        instance_url=sandbox.urls["salesforce"],
        session_id="forged",
        session=http(sandbox),
        version=VERSION,
    )
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM Account")
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_expired_sessions_need_a_new_token(sandbox):
    sf = client(sandbox)
    sf.query("SELECT Id FROM Account")
    sandbox.salesforce.expire_all_sessions()
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")
    assert client(sandbox).query("SELECT Id FROM Account")["done"] is True


def test_expired_session_fault_hits_one_request_and_kills_its_token(sandbox):
    sf = client(sandbox)
    sandbox.salesforce.expire_session_on("query")
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")
    assert client(sandbox).query("SELECT Id FROM Account")["totalSize"] == 0


# -- metadata -----------------------------------------------------------------------------------
def test_versions_and_describe_report_catalogue_fields(sandbox):
    versions = http(sandbox).get(sandbox.urls["salesforce"] + "/services/data/").json()
    assert versions[-1]["version"] == VERSION
    describe = client(sandbox).Escalation__c.describe()
    fields = {field["name"]: field for field in describe["fields"]}
    assert set(fields) == set(catalogue.SALESFORCE_OBJECTS["Escalation__c"])
    assert fields["Ticket_Ref__c"]["externalId"] is True
    assert fields["SystemModstamp"]["updateable"] is False
    assert [value["value"] for value in fields["Level__c"]["picklistValues"]] == list(
        catalogue.LEVELS
    )
    assert fields["Level__c"]["restrictedPicklist"] is True
    assert fields["Account__c"]["relationshipName"] == "Account__r"


def test_any_api_version_is_served(sandbox):
    sf = client(sandbox)
    sf.sf_version = "58.0"
    sf.base_url = sf.base_url.replace(f"v{VERSION}", "v58.0")
    add_accounts(sandbox, 1)
    record = sf.query("SELECT Id FROM Account")["records"][0]
    assert record["attributes"]["url"].startswith("/services/data/v58.0/sobjects/Account/")


# -- query and paging -----------------------------------------------------------------------------
def test_query_pages_to_the_end_with_batch_size_and_next_records_url(sandbox):
    add_accounts(sandbox, 450)
    sf = client(sandbox)
    first = sf.query(
        "SELECT Id, Name FROM Account ORDER BY Name",
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 200)
    assert first["nextRecordsUrl"].startswith(f"/services/data/v{VERSION}/query/01g")
    assert first["nextRecordsUrl"].endswith("-200")
    names = [record["Name"] for record in first["records"]]
    page = first
    while not page["done"]:
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
        names += [record["Name"] for record in page["records"]]
    assert names == [f"Account {n:05d}" for n in range(450)]


def test_default_batch_is_2000_and_batch_size_below_200_is_raised(sandbox):
    add_accounts(sandbox, 2100)
    sf = client(sandbox)
    assert len(sf.query("SELECT Id FROM Account")["records"]) == 2000
    small = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=10"})
    assert len(small["records"]) == 200
    assert len(list(sf.query_all_iter("SELECT Id FROM Account"))) == 2100


def test_locator_is_a_snapshot_and_unknown_locators_are_refused(sandbox):
    ids = add_accounts(sandbox, 300)
    sf = client(sandbox)
    first = sf.query(
        "SELECT Id, Name FROM Account ORDER BY Name",
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    sandbox.salesforce.edit_record("Account", ids[-1], Name="Renamed meanwhile")
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert rest["records"][-1]["Name"] == "Account 00299"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)  # the last batch closed it
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_malformed_and_invalid_field_queries_are_400(sandbox):
    sf = client(sandbox)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM Account WHERE")
    assert caught.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Nope__c FROM Account")
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "ERROR at Row:1:Column:8" in caught.value.content[0]["message"]


def test_a_relationship_field_reads_the_owners_email(sandbox):
    app = sandbox.salesforce
    owner = app.put_record("User", {"Name": "Olu", "Email": "olu@example.com"})
    app.put_record("Account", {"Name": "Owned", "OwnerId": owner})
    [row] = client(sandbox).query("SELECT Name, Owner.Email FROM Account")["records"]
    assert row["Owner"]["Email"] == "olu@example.com"


def test_query_all_and_select_count_report_the_total_size(sandbox):
    add_accounts(sandbox, 3)
    sf = client(sandbox)
    assert sf.query("SELECT Id FROM Account", include_deleted=True)["totalSize"] == 3
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 3


# -- writes ------------------------------------------------------------------------------------------
def test_collection_update_is_visible_in_next_incremental_read(sandbox):
    ids = add_accounts(sandbox, 3)
    sf = client(sandbox)
    result = composite(
        sf, [account(ids[0], Open_Escalations__c=2, Highest_Escalation_Level__c="advisory")]
    )
    assert result == [{"id": ids[0], "success": True, "errors": []}]
    changed = sf.query(
        "SELECT Id, Open_Escalations__c, Highest_Escalation_Level__c, SystemModstamp FROM Account "
        "WHERE SystemModstamp > 2026-01-01T00:00:00Z"
    )["records"]
    assert [
        (row["Id"], row["Open_Escalations__c"], row["Highest_Escalation_Level__c"])
        for row in changed
    ] == [(ids[0], 2.0, "advisory")]
    assert (
        sandbox.salesforce.get_record("Account", ids[0])["LastModifiedDate"]
        == changed[0]["SystemModstamp"]
    )


def test_collection_reports_per_record_errors_in_request_order(sandbox):
    ids = add_accounts(sandbox, 2)
    result = composite(
        client(sandbox),
        [
            account(ids[0], Highest_Escalation_Level__c="apocalyptic"),
            account(ids[1], Name="Fine"),
            account("001Sb9999999999AAA", Name="Ghost"),
            account(ids[0], SystemModstamp="2020-01-01T00:00:00Z"),
            {"attributes": {"type": "Account"}, "Name": "No id"},
        ],
    )
    codes = [[error["statusCode"] for error in item["errors"]] for item in result]
    assert codes == [
        ["INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"],
        [],
        ["INVALID_CROSS_REFERENCE_KEY"],
        ["INVALID_FIELD_FOR_INSERT_UPDATE"],
        ["MISSING_ARGUMENT"],
    ]
    assert result[0]["errors"][0]["fields"] == ["Highest_Escalation_Level__c"]
    assert sandbox.salesforce.get_record("Account", ids[1])["Name"] == "Fine"


def test_all_or_none_rolls_back_every_record(sandbox):
    ids = add_accounts(sandbox, 2)
    result = composite(
        client(sandbox),
        [account(ids[0], Name="Changed"), account(ids[1], Highest_Escalation_Level__c="bogus")],
        all_or_none=True,
    )
    assert result[0]["success"] is False
    assert result[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert result[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert sandbox.salesforce.get_record("Account", ids[0])["Name"] == "Account 00000"


def test_unknown_field_fails_the_whole_request(sandbox):
    ids = add_accounts(sandbox, 1)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        composite(client(sandbox), [account(ids[0], Nope__c=1)])
    assert caught.value.content == [
        {
            "message": "No such column 'Nope__c' on sobject of type Account",
            "errorCode": "INVALID_FIELD",
        }
    ]


def test_more_than_200_records_is_exceeded_id_limit(sandbox):
    ids = add_accounts(sandbox, 201)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        composite(client(sandbox), [account(record_id, Name="x") for record_id in ids])
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_upsert_creates_then_updates_by_external_id(sandbox):
    [account_id] = add_accounts(sandbox, 1)
    sf = client(sandbox)
    created = composite(
        sf, [escalation("zendesk:1", Level__c="advisory", Account__c=account_id)], path=UPSERT
    )
    assert created[0]["success"] is True and created[0]["created"] is True
    updated = composite(sf, [escalation("zendesk:1", Level__c="executive-review")], path=UPSERT)
    assert updated == [{"id": created[0]["id"], "success": True, "errors": [], "created": False}]
    [row] = sf.query("SELECT Ticket_Ref__c, Level__c, Account__r.Name FROM Escalation__c")[
        "records"
    ]
    assert (row["Level__c"], row["Account__r"]["Name"]) == ("executive-review", "Account 00000")


def test_upsert_reports_duplicate_external_ids_and_refuses_non_external_fields(sandbox):
    app = sandbox.salesforce
    for _ in range(2):
        app.put_record("Escalation__c", {"Ticket_Ref__c": "zendesk:7", "Name": "dup"})
    sf = client(sandbox)
    [result] = composite(sf, [escalation("zendesk:7", Level__c="advisory")], path=UPSERT)
    assert result["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    with pytest.raises(SalesforceMalformedRequest):
        composite(sf, [escalation("zendesk:8")], path="composite/sobjects/Escalation__c/Name")


def test_single_record_get_update_create_and_not_found(sandbox):
    sf = client(sandbox)
    created = sf.Account.create({"Name": "Solo", "Tier__c": "growth"})
    assert sf.Account.update(created["id"], {"Health__c": "Red"}) == 204
    assert sf.Account.get(created["id"])["Health__c"] == "Red"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get("001Sb9999999999AAA")
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Account.update(created["id"], {"Highest_Escalation_Level__c": "bogus"})
    assert caught.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


# -- limits and quotas ----------------------------------------------------------------------------
def test_every_api_answer_carries_sforce_limit_info(sandbox):
    sf = client(sandbox)
    sf.query("SELECT Id FROM Account")
    sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used == 2
    assert sf.api_usage["api-usage"].total == 100_000


def test_daily_allowance_is_rolling_and_refuses_with_request_limit_exceeded(sandbox):
    sandbox.salesforce.set_api_allowance(2, window_seconds=0.5)
    sf = client(sandbox)
    sf.query("SELECT Id FROM Account")
    sf.query("SELECT Id FROM Account")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Account")
    assert caught.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    time.sleep(0.6)
    assert sf.query("SELECT Id FROM Account")["done"] is True


def test_the_allowance_counts_the_other_integrations_usage_in_the_header_and_limits(sandbox):
    # The daily allowance is the org's: a run can start with most of it used by others.
    sandbox.salesforce.set_api_allowance(15_000, used_by_others=11_990)
    sf = client(sandbox)
    sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used == 11_991
    assert sf.api_usage["api-usage"].total == 15_000
    daily = sf.limits()["DailyApiRequests"]
    assert daily == {"Max": 15_000, "Remaining": 15_000 - 11_992}


def test_per_minute_rule_answers_429_with_integer_retry_after(sandbox):
    sandbox.salesforce.set_per_minute_limit(2, time_factor=0.05)
    sf = client(sandbox)
    sf.query("SELECT Id FROM Account")
    sf.query("SELECT Id FROM Account")
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM Account")
    assert caught.value.status == 429
    raw = http(sandbox).get(
        sandbox.urls["salesforce"] + f"/services/data/v{VERSION}/query", params={"q": "SELECT Id FROM Account"},
        headers={"Authorization": f"Bearer {sf.session_id}"},
    )  # fmt: skip
    assert raw.status_code == 429 and raw.headers["Retry-After"].isdigit()


# -- faults ----------------------------------------------------------------------------------------
def test_record_error_fault_fails_chosen_ids_once(sandbox):
    ids = add_accounts(sandbox, 2)
    sandbox.salesforce.fail_records([ids[1]], "UNABLE_TO_LOCK_ROW")
    sf = client(sandbox)
    first = composite(sf, [account(ids[0], Name="a"), account(ids[1], Name="b")])
    assert first[0]["success"] is True
    assert first[1]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert ids[1] in first[1]["errors"][0]["message"]
    assert composite(sf, [account(ids[1], Name="b")])[0]["success"] is True


def test_record_error_fault_waits_for_a_request_with_its_ids(sandbox):
    ids = add_accounts(sandbox, 2)
    sandbox.salesforce.fail_records(
        ["zendesk:9"], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Locked: {key}"
    )
    sf = client(sandbox)
    assert composite(sf, [account(ids[0], Name="a")])[0]["success"] is True
    [result] = composite(sf, [escalation("zendesk:9", Level__c="advisory")], path=UPSERT)
    assert result["errors"] == [
        {
            "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "Locked: zendesk:9",
            "fields": [],
        }
    ]


def test_transport_faults_status_reset_and_delay(sandbox):
    sf = client(sandbox)
    app = sandbox.salesforce
    app.faults.add(Fault("query", "status", status=503))
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM Account")
    assert caught.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    app.faults.add(Fault("query", "reset"))
    with pytest.raises(requests.ConnectionError):
        sf.query("SELECT Id FROM Account")
    app.faults.add(Fault("query", "delay", delay_seconds=0.5))
    with pytest.raises(requests.Timeout):
        sf.query("SELECT Id FROM Account", timeout=0.1)
    assert sf.query("SELECT Id FROM Account")["done"] is True


def test_waiting_until_idle_outlasts_a_delayed_answer_its_client_gave_up_on(sandbox):
    """What the timeout fault tests wait for: the vendor finishing the request a client gave
    up on (its write applied late), however long the delay."""
    sf = client(sandbox)
    app = sandbox.salesforce
    app.faults.add(Fault("query", "delay", delay_seconds=0.5))
    with pytest.raises(requests.Timeout):
        sf.query("SELECT Id FROM Account", timeout=0.1)
    assert app.traffic.statuses[("query", 200)] == 0  # still sitting on it
    assert app.traffic.wait_until_idle(timeout=10) is True
    assert app.traffic.statuses[("query", 200)] == 1
    assert app.traffic.wait_until_idle(timeout=0) is True  # nothing in flight: at once


# -- state and admin view --------------------------------------------------------------------------
def test_state_round_trips_through_the_data_file_contract(sandbox, tmp_path):
    [account_id] = add_accounts(sandbox, 1)
    composite(
        client(sandbox),
        [escalation("jira:ENG-1", Level__c="advisory", Account__c=account_id)],
        path=UPSERT,
    )
    sandbox.save(tmp_path / "data")
    saved = json.loads((tmp_path / "data" / "salesforce.json").read_text())
    assert saved["sobjects"]["Account"][0]["attributes"]["type"] == "Account"
    with Sandbox(data_dir=tmp_path / "data", work_dir=tmp_path / "second", quotas=False) as second:
        [row] = client(second).query("SELECT Ticket_Ref__c, Account__c FROM Escalation__c")[
            "records"
        ]
    assert (row["Ticket_Ref__c"], row["Account__c"]) == ("jira:ENG-1", account_id)


def test_admin_view_counts_requests_and_logs_writes(sandbox):
    ids = add_accounts(sandbox, 1)
    sf = client(sandbox)
    sf.query("SELECT Id FROM Account")
    composite(sf, [account(ids[0], Name="Logged")])
    base = sandbox.urls["salesforce"]
    traffic = http(sandbox).get(base + "/__sandbox/traffic").json()
    assert traffic["requests"] == {"oauth_token": 1, "query": 1, "composite_update": 1}
    [write] = http(sandbox).get(base + "/__sandbox/writes").json()
    assert (
        write["endpoint"] == "composite_update" and write["body"]["records"][0]["Name"] == "Logged"
    )
