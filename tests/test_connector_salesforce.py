"""The Salesforce connector's exact requests and its handling of each Salesforce answer, with
`responses`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st

from config.connections import SalesforceConnection
from connectors.base import FieldWrite, WriteStatus
from connectors.errors import AuthError, ConnectorError, RateLimited
from connectors.salesforce import (
    SalesforceConnector,
    SalesforceCredentials,
    field_list,
    from_config,
    soql_quote,
)
from connectors.transport import RetryPolicy
from sandbox.salesforce.soql_lexer import tokenize

LOGIN = "https://login.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
INSTANCE = "https://acme.my.salesforce.com"
API = f"{INSTANCE}/services/data/v62.0"
QUERY = f"{API}/queryAll/"  # accounts are read with queryAll: deletions and merges show
PLAIN_QUERY = f"{API}/query/"
COLLECTION = f"{API}/composite/sobjects"
UPSERT = f"{COLLECTION}/Escalation__c/Ticket_Ref__c"
SECRET = "s3cr3t-consumer-secret"
PASSWORD = "hunter2-password"
SECURITY_TOKEN = "tok3n-of-security"
ACCESS = "00Dxx!access-token-one"
ACCOUNT_IDS = [f"001xx{n:010d}AAA" for n in range(450)]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def sf(sleeps) -> SalesforceConnector:
    policy = RetryPolicy(sleep=sleeps.append, backoff_initial_seconds=0.01, max_attempts=3)
    return SalesforceConnector(LOGIN, SalesforceCredentials("client-id", SECRET), policy=policy)


def grant(access_token: str = ACCESS) -> None:
    responses.post(
        TOKEN_URL,
        json={
            "access_token": access_token,
            "instance_url": INSTANCE,
            "id": f"{LOGIN}/id/00Dxx0000000001AAA/005xx0000000001AAA",
            "token_type": "Bearer",
            "issued_at": "1795000000000",
            "signature": "c2lnbmF0dXJl",
        },
    )


def soql_of(call) -> str:
    return parse_qs(urlsplit(call.request.url).query)["q"][0]


def rows(*ids: str, stamp: str = "2026-11-20T10:15:31.000+0000") -> list[dict]:
    return [{"attributes": {"type": "Account"}, "Id": i, "SystemModstamp": stamp} for i in ids]


def account(record_id: str, **fields) -> FieldWrite:
    return FieldWrite("salesforce", "account", record_id, fields)


def escalation(ref: str, **fields) -> FieldWrite:
    return FieldWrite("salesforce", "escalation_record", ref, fields)


def ok(record_id: str) -> dict:
    return {"id": record_id, "success": True, "errors": []}


def failed(code: str, message: str, fields: list[str] | None = None) -> dict:
    return {
        "success": False,
        "errors": [{"statusCode": code, "message": message, "fields": fields or []}],
    }


def sf_error(status: int, code: str, message: str) -> dict:
    return {"status": status, "json": [{"message": message, "errorCode": code}]}


# -- login -------------------------------------------------------------------------------------------
@responses.activate
def test_client_credentials_login_posts_to_the_configured_login_url(sf):
    grant()
    responses.get(QUERY, json={"totalSize": 0, "done": True, "records": []})
    list(sf.read_account_changes(None, ["Name"]))
    login, query = responses.calls
    assert parse_qs(login.request.body) == {
        "grant_type": ["client_credentials"],
        "client_id": ["client-id"],
        "client_secret": [SECRET],
    }
    assert query.request.url.startswith(QUERY)
    assert query.request.headers["Authorization"] == f"Bearer {ACCESS}"


@responses.activate
def test_password_login_sends_password_with_security_token_appended():
    responses.post(
        f"{INSTANCE}/services/oauth2/token", json={"access_token": ACCESS, "instance_url": INSTANCE}
    )
    credentials = SalesforceCredentials(
        "client-id", SECRET, "bot@acme.example", PASSWORD, SECURITY_TOKEN
    )
    SalesforceConnector(INSTANCE + "/", credentials).login()
    form = parse_qs(responses.calls[0].request.body)
    assert form["grant_type"] == ["password"] and form["username"] == ["bot@acme.example"]
    assert form["password"] == [PASSWORD + SECURITY_TOKEN]
    assert responses.calls[0].request.url == f"{INSTANCE}/services/oauth2/token"


@responses.activate
@pytest.mark.parametrize(
    ("error", "description"),
    [("invalid_client", "invalid client credentials"), ("invalid_grant", "authentication failure")],
)
def test_refused_login_is_auth_error_with_salesforce_words_and_no_secret(sf, error, description):
    responses.post(TOKEN_URL, status=400, json={"error": error, "error_description": description})
    with pytest.raises(AuthError) as caught:
        sf.login()
    assert f"{error}: {description}" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in repr(sf.credentials)


@responses.activate
def test_login_refuses_an_instance_url_that_is_not_https(sf):
    responses.post(TOKEN_URL, json={"access_token": ACCESS, "instance_url": "http://acme.example"})
    with pytest.raises(AuthError, match="not https"):
        sf.login()


def test_login_url_must_be_https():
    with pytest.raises(ConnectorError):
        SalesforceConnector("http://login.salesforce.com", SalesforceCredentials("id", SECRET))


# -- reads -------------------------------------------------------------------------------------------
@responses.activate
def test_incremental_read_queries_from_the_cursor_second_and_follows_next_records_url(sf):
    grant()
    next_url = "/services/data/v62.0/query/01gxx0000000001AAA-2000"
    responses.get(
        QUERY,
        json={
            "totalSize": 3,
            "done": False,
            "nextRecordsUrl": next_url,
            "records": rows("001A", "001B"),
        },
    )
    responses.get(
        INSTANCE + next_url,
        json={
            "totalSize": 3,
            "done": True,
            "records": rows("001C", stamp="2026-11-20T10:16:00.250+0000"),
        },
    )
    pages = list(
        sf.read_account_changes("2026-11-20T10:15:30.456+0000", ["Name", "Owner.Email", "name"])
    )
    assert soql_of(responses.calls[1]) == (
        "SELECT Id, SystemModstamp, Name, Owner.Email, IsDeleted, MasterRecordId FROM Account "
        "WHERE SystemModstamp >= 2026-11-20T10:15:30Z ORDER BY SystemModstamp, Id"
    )
    assert responses.calls[2].request.url == INSTANCE + next_url
    assert [[r.id for r in page.records] for page in pages] == [["001A", "001B"], ["001C"]]
    assert [(page.cursor, page.done) for page in pages] == [
        ("2026-11-20T10:15:31.000+0000", False),
        ("2026-11-20T10:16:00.250+0000", True),
    ]
    assert pages[0].records[0].kind == "account" and pages[0].records[0].system == "salesforce"


@responses.activate
def test_first_read_takes_everything_and_an_empty_read_keeps_the_cursor(sf):
    grant()
    responses.get(QUERY, json={"totalSize": 0, "done": True, "records": []})
    [page] = list(sf.read_account_changes(None, []))
    assert (page.records, page.cursor, page.done) == ([], None, True)
    assert (
        soql_of(responses.calls[1])
        == "SELECT Id, SystemModstamp, IsDeleted, MasterRecordId FROM Account ORDER BY SystemModstamp, Id"
    )
    [page] = list(sf.read_account_changes("2026-11-20T10:15:30Z", []))
    assert (page.records, page.cursor, page.done) == ([], "2026-11-20T10:15:30Z", True)


@responses.activate
def test_batch_size_is_asked_with_sforce_query_options(sleeps):
    grant()
    responses.get(QUERY, json={"totalSize": 0, "done": True, "records": []})
    connector = SalesforceConnector(LOGIN, SalesforceCredentials("id", SECRET), batch_size=500)
    list(connector.read_account_changes(None, []))
    assert responses.calls[1].request.headers["Sforce-Query-Options"] == "batchSize=500"


@pytest.mark.parametrize(
    "bad", ["Name, (SELECT Id FROM Contacts)", "Name FROM User --", "Owner..Email", "", "Name\n"]
)
def test_field_names_that_are_not_names_are_refused(bad):
    with pytest.raises(ConnectorError):
        field_list([bad], ("Id",))


def test_cursor_that_is_not_a_datetime_is_refused(sf):
    with pytest.raises(ConnectorError, match="not a dateTime"):
        next(sf.read_account_changes("yesterday' OR Id != '", []))


@responses.activate
def test_read_records_quotes_every_value_and_chunks_in_lists(sf):
    grant()
    responses.get(PLAIN_QUERY, json={"totalSize": 0, "done": True, "records": []})
    hostile = ["x' OR Name != '", "back\\slash", "line\nbreak"]
    emails = [f"user{n:03d}@example.com" for n in range(298)]
    sf.read_records("User", "user", ["Name"], hostile + emails, key_field="Email")
    first, second = soql_of(responses.calls[1]), soql_of(responses.calls[2])
    assert len(responses.calls) == 3  # 301 values: 300 + 1
    assert first.startswith("SELECT Id, Name FROM User WHERE Email IN (")
    assert "'back\\\\slash', 'line\\nbreak'" in second + first
    assert "'x\\' OR Name != \\''" in first + second


@responses.activate
def test_read_by_id_leaves_out_values_that_are_not_ids(sf):
    grant()
    responses.get(PLAIN_QUERY, json={"totalSize": 0, "done": True, "records": []})
    assert sf.read_records("Account", "account", [], ["not an id'", "001xx0000000001"]) == []
    assert soql_of(responses.calls[1]) == "SELECT Id FROM Account WHERE Id IN ('001xx0000000001')"
    assert sf.read_records("Account", "account", [], ["Name\n"]) == []
    assert len(responses.calls) == 2


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("O'Brien", r"'O\'Brien'"),
        ("C:\\path", r"'C:\\path'"),
        ('say "hi"', r"'say \"hi\"'"),
        ("a\nb\rc\td", r"'a\nb\rc\td'"),
        ("bell\x07", r"'bell\u0007'"),
        ("' OR Id != '", r"'\' OR Id != \''"),
    ],
)
def test_soql_quote_escapes_quotes_backslashes_and_controls(value, literal):
    assert soql_quote(value) == literal


@given(st.text())
def test_any_quoted_string_is_one_literal_that_reads_back_unchanged(value):
    tokens = tokenize(f"Name = {soql_quote(value)} AND Id = null")
    assert [token.kind for token in tokens[:3]] == ["ident", "op", "string"]
    assert tokens[2].value == value
    assert tokens[3].value == "AND"


@given(st.text(alphabet="abcXYZ019_./@+:-' \\\n") | st.sampled_from(["001A000000abcDEF", "a@b.co"]))
def test_quoting_an_id_or_address_takes_the_short_path_to_the_same_literal(value):
    """Ids and addresses (tens of thousands a run) skip the character-by-character escaping;
    whatever takes that path quotes exactly as the escaping would."""
    from connectors.salesforce import _quote_each_character

    assert soql_quote(value) == _quote_each_character(value)


# -- sessions and refusals ---------------------------------------------------------------------------
@responses.activate
def test_expired_session_logs_in_once_more_and_repeats_the_call(sf, caplog):
    grant()
    grant("00Dxx!access-token-two")
    responses.get(QUERY, **sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid"))
    responses.get(QUERY, json={"totalSize": 1, "done": True, "records": rows("001A")})
    with caplog.at_level(logging.DEBUG):
        [page] = list(sf.read_account_changes(None, []))
    assert [r.id for r in page.records] == ["001A"] and sf.logins == 2
    assert responses.calls[3].request.headers["Authorization"] == "Bearer 00Dxx!access-token-two"
    assert ACCESS not in caplog.text and SECRET not in caplog.text


@responses.activate
def test_session_refused_after_a_new_login_is_auth_error(sf):
    grant()
    grant()
    responses.get(QUERY, **sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid"))
    with pytest.raises(AuthError, match="session refused again"):
        list(sf.read_account_changes(None, []))


@responses.activate
def test_request_limit_exceeded_is_rate_limited_for_the_rest_of_the_run(sf):
    grant()
    responses.get(QUERY, **sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
    with pytest.raises(RateLimited, match="TotalRequests Limit exceeded"):
        list(sf.read_account_changes(None, []))
    with pytest.raises(RateLimited):
        sf.read_records("User", "user", ["Email"], ["005xx0000000001AAA"])
    assert len(responses.calls) == 2  # the second read never went out


@responses.activate
def test_other_403_is_auth_error(sf):
    grant()
    responses.get(
        QUERY, **sf_error(403, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization")
    )
    with pytest.raises(AuthError, match="API_DISABLED_FOR_ORG"):
        list(sf.read_account_changes(None, []))


@responses.activate
def test_refused_query_is_a_connector_error_with_salesforce_words(sf):
    grant()
    responses.get(
        QUERY, **sf_error(400, "INVALID_FIELD", "No such column 'Tier__c' on entity 'Account'.")
    )
    with pytest.raises(ConnectorError, match="INVALID_FIELD: No such column 'Tier__c'"):
        list(sf.read_account_changes(None, ["Tier__c"]))


@responses.activate
def test_unavailable_query_is_retried_by_the_shared_policy(sf, sleeps):
    grant()
    responses.get(QUERY, **sf_error(503, "SERVER_UNAVAILABLE", "try again"))
    responses.get(QUERY, json={"totalSize": 0, "done": True, "records": []})
    assert list(sf.read_account_changes(None, []))[0].done is True
    assert len(sleeps) == 1


# -- writes ---------------------------------------------------------------------------------------------
@responses.activate
def test_account_updates_go_in_collections_of_200_with_all_or_none_false(sf):
    grant()
    for size in (200, 200, 50):
        responses.patch(COLLECTION, json=[ok("x")] * size)
    writes = [account(record_id, Open_Escalations__c=2) for record_id in ACCOUNT_IDS]
    results = sf.apply(writes)
    bodies = [json.loads(call.request.body) for call in responses.calls[1:]]
    assert [len(body["records"]) for body in bodies] == [200, 200, 50]
    assert {body["allOrNone"] for body in bodies} == {False}
    assert bodies[0]["records"][0] == {
        "Open_Escalations__c": 2,
        "attributes": {"type": "Account"},
        "id": ACCOUNT_IDS[0],
    }
    assert [r.status for r in results] == [WriteStatus.OK] * 450
    assert [r.write for r in results] == writes


@responses.activate
def test_escalation_records_are_upserted_by_external_id(sf):
    grant()
    responses.patch(UPSERT, json=[{**ok("a0X1"), "created": True}])
    responses.patch(f"{COLLECTION}/Case_Note__c/Ref__c", json=[{**ok("a0Y1"), "created": False}])
    due = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    custom = FieldWrite(
        "salesforce",
        "escalation_record",
        "jira:ENG-1",
        {},
        object_name="Case_Note__c",
        external_id_field="Ref__c",
    )
    results = sf.apply(
        [
            escalation(
                "zendesk:42", Level__c="advisory", SLA_Due__c=due, Renewal__c=date(2027, 1, 31)
            ),
            custom,
        ]
    )
    first = json.loads(responses.calls[1].request.body)
    assert first == {
        "allOrNone": False,
        "records": [
            {
                "Level__c": "advisory",
                "SLA_Due__c": "2026-11-20T12:00:00.000Z",
                "Renewal__c": "2027-01-31",
                "attributes": {"type": "Escalation__c"},
                "Ticket_Ref__c": "zendesk:42",
            }
        ],
    }
    assert json.loads(responses.calls[2].request.body)["records"][0]["Ref__c"] == "jira:ENG-1"
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.OK]


@responses.activate
def test_per_record_results_map_to_ok_retry_and_rejected_with_salesforce_words(sf):
    grant()
    responses.patch(
        COLLECTION,
        json=[
            ok(ACCOUNT_IDS[0]),
            failed("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"),
            failed("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Locked while under review", ["Health__c"]),
            failed("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "bad value for restricted picklist field: x"),
            {"success": False, "errors": [
                {"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked", "fields": []},
                {"statusCode": "STRING_TOO_LONG", "message": "too long", "fields": ["Name"]},
            ]},
            failed("ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back"),
        ],
    )  # fmt: skip
    results = sf.apply([account(record_id, Name="n") for record_id in ACCOUNT_IDS[:6]])
    assert [r.status for r in results] == [
        WriteStatus.OK,
        WriteStatus.RETRY,
        WriteStatus.REJECTED,
        WriteStatus.REJECTED,
        WriteStatus.REJECTED,
        WriteStatus.RETRY,
    ]
    assert (
        results[2].reason
        == "FIELD_CUSTOM_VALIDATION_EXCEPTION: Locked while under review (Health__c)"
    )
    assert results[4].reason == "UNABLE_TO_LOCK_ROW: locked; STRING_TOO_LONG: too long (Name)"


@responses.activate
def test_unknown_field_rejects_only_the_writes_naming_it_and_resends_the_rest(sf):
    grant()
    responses.patch(
        COLLECTION,
        **sf_error(400, "INVALID_FIELD", "No such column 'Nope__c' on sobject of type Account"),
    )
    responses.patch(COLLECTION, json=[ok(ACCOUNT_IDS[1])])
    results = sf.apply([account(ACCOUNT_IDS[0], nope__C=1), account(ACCOUNT_IDS[1], Name="fine")])
    assert [r.status for r in results] == [WriteStatus.REJECTED, WriteStatus.OK]
    assert "No such column 'Nope__c'" in results[0].reason
    assert [r["id"] for r in json.loads(responses.calls[2].request.body)["records"]] == [
        ACCOUNT_IDS[1]
    ]


@responses.activate
def test_refused_request_rejects_its_batch(sf):
    grant()
    responses.patch(
        COLLECTION, **sf_error(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of date")
    )
    [result] = sf.apply([account(ACCOUNT_IDS[0], Renewal_Date__c="soon")])
    assert result.status is WriteStatus.REJECTED and "JSON_PARSER_ERROR" in result.reason


@responses.activate
def test_write_without_an_answer_is_retry_and_not_resent(sf):
    grant()
    responses.patch(COLLECTION, body=requests.ConnectionError("reset by peer"))
    [result] = sf.apply([account(ACCOUNT_IDS[0], Name="n")])
    assert result.status is WriteStatus.RETRY and "re-read" in result.reason
    assert len(responses.calls) == 2


@responses.activate
def test_spent_allowance_during_apply_leaves_unsent_writes_retry(sf):
    grant()
    responses.patch(COLLECTION, json=[ok("x")] * 200)
    responses.patch(
        COLLECTION, **sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    )
    writes = [account(record_id, Name="n") for record_id in ACCOUNT_IDS[:400]] + [
        escalation("zendesk:1")
    ]
    results = sf.apply(writes)
    assert [r.status for r in results] == [WriteStatus.OK] * 200 + [WriteStatus.RETRY] * 201
    assert "TotalRequests Limit exceeded" in results[-1].reason
    assert len(responses.calls) == 3 and isinstance(sf.rate_limited, RateLimited)


def test_foreign_and_unsupported_writes_are_rejected_without_requests(sf):
    results = sf.apply(
        [
            FieldWrite("zendesk", "ticket", "1", {}),
            FieldWrite("salesforce", "contact", "003xx", {}),
            FieldWrite("salesforce", "escalation_record", "z:1", {}, object_name="Bad Name"),
        ]
    )
    assert [r.status for r in results] == [WriteStatus.REJECTED] * 3
    assert "kind 'contact'" in results[1].reason


# -- configuration ---------------------------------------------------------------------------------------
def test_from_config_reads_each_secret_through_the_given_reader():
    connection = SalesforceConnection(
        login_url="https://acme.my.salesforce.com",
        auth="password",
        client_id_env="SF_ID",
        client_secret_env="SF_SECRET",
        username_env="SF_USER",
        password_env="SF_PASSWORD",
        api_version="61.0",
    )
    environment = {
        "SF_ID": "id",
        "SF_SECRET": SECRET,
        "SF_USER": "bot@acme.example",
        "SF_PASSWORD": PASSWORD,
    }
    mapping = SimpleNamespace(
        account=SimpleNamespace(source_paths=lambda: []),
        write=SimpleNamespace(outputs=lambda: {}),
        account_matrix=None,  # no account matrix: only the ticket rollups are selected
        where=None,
    )
    config = SimpleNamespace(
        connections=SimpleNamespace(salesforce=connection),
        sync=SimpleNamespace(
            salesforce=SimpleNamespace(query_batch_size=2000, write_batch_size=200)
        ),
        mapping=SimpleNamespace(salesforce=mapping),
    )
    connector = from_config(config, environment.__getitem__)
    assert connector.credentials.form()["password"] == PASSWORD
    assert connector.credentials.grant_type == "password"
    assert (connector.login_url, connector.api_version) == (
        "https://acme.my.salesforce.com",
        "61.0",
    )


@responses.activate
def test_the_daily_allowance_comes_from_limits_then_from_each_answers_sforce_limit_info(sf):
    grant()
    responses.get(
        f"{API}/limits/",
        json={"DailyApiRequests": {"Max": 15000, "Remaining": 3100}},
        headers={"Sforce-Limit-Info": "api-usage=11899/15000"},
    )
    responses.patch(
        COLLECTION,
        json=[{"id": ACCOUNT_IDS[0], "success": True, "errors": []}],
        headers={"Sforce-Limit-Info": "api-usage=11905/15000"},
    )
    assert sf.api_usage() is None  # nothing answered yet
    usage = sf.api_usage(refresh=True)
    assert (usage.used, usage.limit) == (11900, 15000)
    assert [c.request.method for c in responses.calls][-1] == "GET"
    sf.apply([account(ACCOUNT_IDS[0], Open_Escalations__c=1)])
    usage = sf.api_usage()
    assert (usage.used, usage.limit) == (11905, 15000)
