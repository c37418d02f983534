"""The Jira connector's exact requests and its handling of each Jira answer, with `responses`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import FieldWrite, Option, WriteStatus
from connectors.errors import AuthError, ConfigRefused, SystemUnavailable
from connectors.jira import IssueCursor, JiraConnector, jql_string, jql_time
from connectors.transport import RetryPolicy
from errors import ExitCode
from sandbox.jira.jql import parse

SITE = "https://acme.atlassian.net"
API3 = f"{SITE}/rest/api/3"
TOKEN = "atl-s3cr3t-api-token"
LEVEL = "customfield_10200"
RENEWAL = "customfield_10202"
ORDER = "ORDER BY updated ASC, key ASC"


@pytest.fixture
def sleeps() -> list[float]:
    return []


def connector(sleeps, **settings) -> JiraConnector:
    policy = RetryPolicy(sleep=sleeps.append, backoff_initial_seconds=0.01, max_attempts=3)
    defaults = {
        "email": "bot@acme.com",
        "api_token": TOKEN,
        "projects": ["ENG", "OPS"],
        "policy": policy,
    }
    return JiraConnector(SITE, **{**defaults, **settings})


def issue(key: str, updated: str, issue_id: str | None = None) -> dict:
    return {
        "id": issue_id or str(10000 + int(key.split("-")[1])),
        "key": key,
        "fields": {"updated": updated},
    }


def query_of(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def field_list() -> None:
    responses.get(
        f"{API3}/field",
        json=[{"id": LEVEL, "clauseNames": ["cf[10200]"], "schema": {"type": "option"}}],
    )


def myself(zone: str | None = "America/New_York") -> None:
    responses.get(f"{API3}/myself", json={"accountId": "abc", "timeZone": zone})


# -- reads ---------------------------------------------------------------------------------


@responses.activate
def test_first_read_backfills_open_issues_paging_by_next_page_token(sleeps):
    field_list()
    responses.get(
        f"{API3}/search/jql",
        json={
            "issues": [issue("ENG-1", "2026-11-20T10:15:30.000+0100")],
            "nextPageToken": "t1",
            "isLast": False,
        },
    )
    responses.get(
        f"{API3}/search/jql",
        json={"issues": [issue("OPS-7", "2026-11-20T10:16:00.000+0100")], "isLast": True},
    )
    pages = list(connector(sleeps, page_size=1).read_issue_changes(None))
    searches = [c for c in responses.calls if "/search/jql" in c.request.url]
    assert query_of(searches[0]) == {
        "jql": [f'project in ("ENG", "OPS") AND statusCategory != Done {ORDER}'],
        "fields": ["*all"],
        "expand": ["changelog"],  # each issue's status/priority/link history
        "maxResults": ["1"],
    }
    assert query_of(searches[1])["nextPageToken"] == ["t1"]
    assert [[r.id for r in p.records] for p in pages] == [["10001"], ["10007"]]
    assert [p.done for p in pages] == [False, True]
    assert json.loads(pages[-1].cursor) == {
        "updated": "2026-11-20T09:16:00.000+00:00",
        "seen": {"ENG-1": 1795166130000, "OPS-7": 1795166160000},
    }


@responses.activate
def test_incremental_read_starts_at_cursor_minus_overlap_in_the_users_time_zone(sleeps):
    field_list()
    myself("America/New_York")
    responses.get(f"{API3}/search/jql", json={"issues": [], "isLast": True})
    cursor = IssueCursor(datetime(2026, 11, 20, 9, 15, 30, tzinfo=UTC)).encode()
    list(connector(sleeps, overlap=timedelta(minutes=2)).read_issue_changes(cursor, ["ENG"]))
    (search,) = [c for c in responses.calls if "/search/jql" in c.request.url]
    assert query_of(search)["jql"] == [
        f'project in ("ENG") AND updated >= "2026/11/20 04:13" {ORDER}'
    ]


@responses.activate
def test_issues_read_before_are_dropped_by_key_and_updated(sleeps):
    field_list()
    myself("UTC")
    state = IssueCursor()
    for key, when in (
        ("ENG-1", "2026-11-20T09:10:00.000+0000"),
        ("ENG-2", "2026-11-20T09:15:30.000+0000"),
    ):
        state.remember(
            key, datetime.fromisoformat(when.replace("+0000", "+00:00")), timedelta(minutes=2)
        )
    responses.get(f"{API3}/search/jql", json={"isLast": True, "issues": [
        issue("ENG-1", "2026-11-20T09:10:00.000+0000"),  # before the window: read in an earlier run
        issue("ENG-2", "2026-11-20T09:15:30.000+0000"),  # same key, same update: already read
        issue("ENG-3", "2026-11-20T09:15:30.000+0000"),  # same instant, other key: new
        issue("ENG-2", "2026-11-20T10:15:30.000+0100"),  # the same instant, rendered in another zone
        issue("ENG-4", "2026-11-20T09:16:00.000+0000"),
    ]})  # fmt: skip
    (page,) = connector(sleeps).read_issue_changes(state.encode())
    assert [r.data["key"] for r in page.records] == ["ENG-3", "ENG-4"]
    # Only updates from newest - overlap (09:14) on are kept to recognise repeats.
    assert json.loads(page.cursor)["seen"] == {
        "ENG-2": 1795166130000,
        "ENG-3": 1795166130000,
        "ENG-4": 1795166160000,
    }


@responses.activate
def test_users_without_a_time_zone_get_epoch_milliseconds(sleeps):
    field_list()
    myself(None)
    responses.get(f"{API3}/search/jql", json={"issues": [], "isLast": True})
    cursor = IssueCursor(datetime(2026, 11, 20, 9, 15, 30, tzinfo=UTC)).encode()
    list(connector(sleeps).read_issue_changes(cursor))
    search = [c for c in responses.calls if "/search/jql" in c.request.url][0]
    assert "updated >= 1795165980000 ORDER BY" in query_of(search)["jql"][0]


@responses.activate
def test_data_center_pages_with_start_at_until_total(sleeps):
    api2 = "https://jira.acme.internal/jira/rest/api/2"
    responses.get(f"{api2}/field", json=[])
    responses.get(
        f"{api2}/search",
        json={
            "startAt": 0,
            "maxResults": 2,
            "total": 3,
            "issues": [
                issue("ENG-1", "2026-11-20T09:00:00.000+0000"),
                issue("ENG-2", "2026-11-20T09:01:00.000+0000"),
            ],
        },
    )
    responses.get(
        f"{api2}/search",
        json={
            "startAt": 2,
            "maxResults": 2,
            "total": 3,
            "issues": [issue("ENG-3", "2026-11-20T09:02:00.000+0000")],
        },
    )
    dc = JiraConnector("https://jira.acme.internal/jira", personal_access_token="pat-123", deployment="data_center",
                       projects=["ENG"], page_size=2, policy=RetryPolicy(sleep=sleeps.append))  # fmt: skip
    pages = list(dc.read_issue_changes(None))
    searches = [c for c in responses.calls if c.request.url.startswith(f"{api2}/search")]
    assert [query_of(c)["startAt"] for c in searches] == [["0"], ["2"]]
    assert query_of(searches[0])["jql"] == [
        f'project in ("ENG") AND statusCategory != Done {ORDER}'
    ]
    assert searches[0].request.headers["Authorization"] == "Bearer pat-123"
    assert [p.done for p in pages] == [False, True]
    assert [r.data["key"] for p in pages for r in p.records] == ["ENG-1", "ENG-2", "ENG-3"]


@responses.activate
def test_read_issues_drops_keys_jira_says_do_not_exist(sleeps):
    field_list()
    responses.get(
        f"{API3}/search/jql",
        status=400,
        json={
            "errorMessages": ["An issue with key 'ENG-9' does not exist for field 'key'."],
            "errors": {},
        },
    )
    responses.get(
        f"{API3}/search/jql",
        json={"issues": [issue("ENG-1", "2026-11-20T09:00:00.000+0000")], "isLast": True},
    )
    records = connector(sleeps).read_issues(["ENG-1", "ENG-9"])
    searches = [c for c in responses.calls if "/search/jql" in c.request.url]
    assert [query_of(c)["jql"][0] for c in searches] == [
        'key in ("ENG-1", "ENG-9") ORDER BY key ASC',
        'key in ("ENG-1") ORDER BY key ASC',
    ]
    assert [r.data["key"] for r in records] == ["ENG-1"]


@responses.activate
def test_bad_credentials_on_read_raise_auth_error_without_the_token(sleeps):
    field_list()
    responses.replace(
        responses.GET,
        f"{API3}/field",
        status=401,
        body="Client must be authenticated to access this resource.",
    )
    with pytest.raises(AuthError) as caught:
        list(connector(sleeps).read_issue_changes(None))
    assert "Client must be authenticated" in str(caught.value) and TOKEN not in str(caught.value)


@responses.activate
def test_refused_incremental_query_is_a_config_error_naming_the_keys_with_jiras_words(sleeps):
    """The incremental query is built from the configuration: its 400 is a person's to fix
    there (exit 2), not an unreachable system (exit 3)."""
    field_list()
    responses.get(
        f"{API3}/search/jql",
        status=400,
        json={
            "errorMessages": ["The value 'ENG' does not exist for the field 'project'."],
            "errors": {},
        },
    )
    with pytest.raises(ConfigRefused) as refused:
        list(connector(sleeps).read_issue_changes(None))
    assert "The value 'ENG' does not exist for the field 'project'" in str(refused.value)
    assert "connections.jira.projects" in str(refused.value)
    assert refused.value.exit_code == ExitCode.CONFIG_ERROR


@responses.activate
def test_unreachable_jira_is_system_unavailable_after_retries(sleeps):
    responses.get(f"{API3}/field", body=requests.ConnectionError("refused"))
    with pytest.raises(SystemUnavailable):
        list(connector(sleeps).read_issue_changes(None))
    assert len(responses.calls) == 3


@responses.activate
def test_read_429_waits_retry_after_then_goes_on(sleeps):
    field_list()
    responses.get(
        f"{API3}/search/jql",
        status=429,
        headers={"Retry-After": "7", "RateLimit-Reason": "jira-burst-based"},
        json={},
    )
    responses.get(f"{API3}/search/jql", json={"issues": [], "isLast": True})
    list(connector(sleeps).read_issue_changes(None))
    assert 7.0 in sleeps


# -- JQL text ------------------------------------------------------------------------------


@given(st.text())
def test_quoted_values_read_back_exactly_through_a_jql_parser(value):
    query = parse(f"project = {jql_string(value)}")
    assert query.where.values[0].text == value


@pytest.mark.parametrize(
    "hostile",
    ['ENG" OR project is not EMPTY OR key = "X', "A\\", 'x") OR (1=1', "ENG\nORDER BY key"],
)
def test_hostile_project_keys_stay_one_value(hostile):
    jql = JiraConnector.issue_jql(connector([], projects=[hostile]), IssueCursor(), [hostile])
    where = parse(jql).where
    assert where.parts[0].values[0].text == hostile and len(where.parts) == 2


def test_local_minute_never_reads_later_than_the_instant_at_a_dst_change():
    berlin = ZoneInfo("Europe/Berlin")
    first_0230 = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first of two
    assert jql_time(first_0230, berlin) == "2026/10/25 01:30"
    second_0230 = datetime(2026, 10, 25, 1, 30, 45, tzinfo=UTC)  # 02:30 CET
    assert jql_time(second_0230, berlin) == "2026/10/25 02:30"
    assert jql_time(datetime(2026, 11, 20, 9, 15, 59, tzinfo=UTC), berlin) == "2026/11/20 10:15"


# -- writes --------------------------------------------------------------------------------


def edit(key: str = "ENG-1", **changes) -> FieldWrite:
    return FieldWrite(
        "jira", "issue", key, changes.pop("fields", {LEVEL: {"value": "advisory"}}), **changes
    )


@responses.activate
def test_edit_sends_one_put_with_fields_and_label_updates_without_notifications(sleeps):
    responses.put(f"{API3}/issue/ENG-1", status=204)
    (result,) = connector(sleeps).apply(
        [edit(tags_add=("customer-escalation",), tags_remove=("esc-old",))]
    )
    assert result.status == WriteStatus.OK
    (call,) = responses.calls
    assert call.request.url == f"{API3}/issue/ENG-1?notifyUsers=false"
    assert json.loads(call.request.body) == {
        "fields": {LEVEL: {"value": "advisory"}},
        "update": {"labels": [{"add": "customer-escalation"}, {"remove": "esc-old"}]},
    }


@responses.activate
def test_an_option_goes_to_jira_as_a_value_object_and_the_result_keeps_the_write(sleeps):
    responses.put(f"{API3}/issue/ENG-1", status=204)
    write = edit(fields={LEVEL: Option("advisory"), "customfield_1": "text"})
    (result,) = connector(sleeps).apply([write])
    assert result.status == WriteStatus.OK and result.write is write
    (call,) = responses.calls
    assert json.loads(call.request.body)["fields"] == {
        LEVEL: {"value": "advisory"},
        "customfield_1": "text",
    }


@responses.activate
def test_field_errors_are_rejected_with_jiras_words(sleeps):
    responses.put(
        f"{API3}/issue/ENG-1",
        status=400,
        json={"errorMessages": [], "errors": {LEVEL: "Option value 'x' is not valid"}},
    )
    responses.put(
        f"{API3}/issue/ENG-2",
        status=404,
        json={
            "errorMessages": ["Issue does not exist or you do not have permission to see it."],
            "errors": {},
        },
    )
    first, second = connector(sleeps).apply([edit("ENG-1"), edit("ENG-2")])
    assert (first.status, first.reason) == (
        WriteStatus.REJECTED,
        f"{LEVEL}: Option value 'x' is not valid",
    )
    assert (second.status, second.reason) == (
        WriteStatus.REJECTED,
        "Issue does not exist or you do not have permission to see it.",
    )


@responses.activate
def test_unknown_outcomes_are_retry_and_the_batch_goes_on(sleeps):
    responses.put(f"{API3}/issue/ENG-1", status=500, json={"errorMessages": ["boom"]})
    responses.put(f"{API3}/issue/ENG-2", body=requests.ConnectionError("reset"))
    responses.put(f"{API3}/issue/ENG-3", status=204)
    results = connector(sleeps).apply([edit("ENG-1"), edit("ENG-2"), edit("ENG-3")])
    assert [r.status for r in results] == [WriteStatus.RETRY, WriteStatus.RETRY, WriteStatus.OK]
    assert len(responses.calls) == 3  # a write with an unknown outcome is not resent blindly


@responses.activate
def test_write_429_is_retried_after_retry_after(sleeps):
    responses.put(
        f"{API3}/issue/ENG-1",
        status=429,
        headers={"Retry-After": "3", "RateLimit-Reason": "jira-per-issue-on-write"},
    )
    responses.put(f"{API3}/issue/ENG-1", status=204)
    (result,) = connector(sleeps).apply([edit()])
    assert result.status == WriteStatus.OK and 3.0 in sleeps


@responses.activate
def test_rate_limit_past_the_wait_budget_makes_the_rest_retry(sleeps):
    responses.put(f"{API3}/issue/ENG-1", status=429, headers={"Retry-After": "900"})
    policy = RetryPolicy(sleep=sleeps.append, max_total_wait_seconds=60)
    results = connector(sleeps, policy=policy).apply([edit("ENG-1"), edit("ENG-2")])
    assert [r.status for r in results] == [WriteStatus.RETRY, WriteStatus.RETRY]
    assert len(responses.calls) == 1


@responses.activate
def test_notify_users_false_needing_admin_falls_back_to_notifying(sleeps):
    responses.put(
        f"{API3}/issue/ENG-1",
        status=403,
        json={
            "errorMessages": [
                "To discard the user notification either admin or project admin permissions are required."
            ],
            "errors": {},
        },
    )
    responses.put(f"{API3}/issue/ENG-1", status=204)
    responses.put(f"{API3}/issue/ENG-2", status=204)
    results = connector(sleeps).apply([edit("ENG-1"), edit("ENG-2")])
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.OK]
    assert [urlsplit(c.request.url).query for c in responses.calls] == ["notifyUsers=false", "", ""]


@responses.activate
def test_expired_token_on_write_raises_auth_error(sleeps):
    responses.put(
        f"{API3}/issue/ENG-1",
        status=401,
        body="Client must be authenticated to access this resource.",
    )
    with pytest.raises(AuthError):
        connector(sleeps).apply([edit()])


def test_credentials_never_appear_in_logs_or_results(sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock() as mocked:
        mocked.put(
            f"{API3}/issue/ENG-1", status=400, json={"errorMessages": ["nope"], "errors": {}}
        )
        (result,) = connector(sleeps).apply([edit()])
    assert TOKEN not in caplog.text and TOKEN not in str(result)


# -- bulk edit -----------------------------------------------------------------------------


def bulk_fields() -> None:
    responses.get(f"{API3}/field", json=[
        {"id": LEVEL, "schema": {"type": "option", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select"}},
        {"id": RENEWAL, "schema": {"type": "date", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:datepicker"}},
        {"id": "labels", "schema": {"type": "array", "items": "string", "system": "labels"}},
    ])  # fmt: skip
    responses.get(
        f"{API3}/field/{LEVEL}/context", json={"values": [{"id": "30001"}], "isLast": True}
    )
    responses.get(
        f"{API3}/field/{LEVEL}/context/30001/option",
        json={"values": [{"id": "10401", "value": "advisory", "disabled": False}], "isLast": True},
    )


@responses.activate
def test_bulk_edit_groups_identical_changes_and_maps_per_issue_results(sleeps):
    bulk_fields()
    responses.get(f"{API3}/search/jql", json={"isLast": True, "issues": [
        {"id": "10001", "key": "ENG-1", "fields": {}}, {"id": "10002", "key": "ENG-2", "fields": {}}, {"id": "10003", "key": "ENG-3", "fields": {}}]})  # fmt: skip
    responses.post(f"{API3}/bulk/issues/fields", status=201, json={"taskId": "10641"})
    responses.get(
        f"{API3}/bulk/queue/10641",
        json={"taskId": "10641", "status": "RUNNING", "progressPercent": 10},
    )
    responses.get(f"{API3}/bulk/queue/10641", json={"taskId": "10641", "status": "COMPLETE", "progressPercent": 100,
        "processedAccessibleIssues": [10001, 10003], "failedAccessibleIssues": {"10002": ["Field is not editable"]}})  # fmt: skip
    responses.put(f"{API3}/issue/ENG-4", status=204)
    same = {LEVEL: {"value": "advisory"}, RENEWAL: "2027-03-01"}
    writes = [
        edit(k, fields=same, tags_add=("customer-escalation",)) for k in ("ENG-1", "ENG-2", "ENG-3")
    ]
    writes.append(edit("ENG-4", fields={LEVEL: {"value": "advisory"}}))
    results = connector(sleeps, use_bulk_edit=True).apply(writes)
    assert [r.status for r in results] == [
        WriteStatus.OK,
        WriteStatus.REJECTED,
        WriteStatus.OK,
        WriteStatus.OK,
    ]
    assert results[1].reason == "Field is not editable"
    (submit,) = [c for c in responses.calls if c.request.url.endswith("/bulk/issues/fields")]
    assert json.loads(submit.request.body) == {
        "selectedIssueIdsOrKeys": ["ENG-1", "ENG-2", "ENG-3"],
        "selectedActions": [LEVEL, RENEWAL, "labels"],
        "editedFieldsInput": {
            "singleSelectFields": [{"fieldId": LEVEL, "option": {"optionId": "10401"}}],
            "datePickerFields": [{"fieldId": RENEWAL, "date": {"formattedDate": "1/Mar/27"}}],
            "labelsFields": [
                {
                    "fieldId": "labels",
                    "bulkEditMultiSelectFieldOption": "ADD",
                    "labels": [{"name": "customer-escalation"}],
                }
            ],
        },
        "sendBulkNotification": False,
    }
    assert [urlsplit(c.request.url).path for c in responses.calls if c.request.method == "PUT"] == [
        "/rest/api/3/issue/ENG-4"
    ]


@responses.activate
def test_bulk_edit_is_cloud_only(sleeps):
    api2 = "https://jira.acme.internal/rest/api/2"
    responses.put(f"{api2}/issue/ENG-1", status=204)
    responses.put(f"{api2}/issue/ENG-2", status=204)
    dc = JiraConnector("https://jira.acme.internal", personal_access_token="p", deployment="data_center",
                       use_bulk_edit=True, policy=RetryPolicy(sleep=sleeps.append))  # fmt: skip
    assert [r.status for r in dc.apply([edit("ENG-1"), edit("ENG-2")])] == [
        WriteStatus.OK,
        WriteStatus.OK,
    ]
    assert {c.request.method for c in responses.calls} == {"PUT"}


@responses.activate
def test_refused_bulk_submission_falls_back_to_one_edit_each(sleeps):
    bulk_fields()
    responses.get(
        f"{API3}/search/jql",
        json={
            "isLast": True,
            "issues": [
                {"id": "10001", "key": "ENG-1", "fields": {}},
                {"id": "10002", "key": "ENG-2", "fields": {}},
            ],
        },
    )
    responses.post(
        f"{API3}/bulk/issues/fields", status=400, json={"errorMessages": ["bad"], "errors": {}}
    )
    responses.put(f"{API3}/issue/ENG-1", status=204)
    responses.put(
        f"{API3}/issue/ENG-2",
        status=400,
        json={"errorMessages": [], "errors": {LEVEL: "Option value 'advisory' is not valid"}},
    )
    results = connector(sleeps, use_bulk_edit=True).apply([edit("ENG-1"), edit("ENG-2")])
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.REJECTED]


def test_from_config_builds_the_connector_from_the_config_sections():
    from types import SimpleNamespace

    from connectors.jira import from_config

    connection = SimpleNamespace(url="https://jira.acme.internal", deployment="data_center", auth="bearer", token_env="JIRA_PAT",
                                 email_env=None, projects=["ENG"], jql="labels = customer", ca_bundle_path=lambda: None, timeout_seconds=12.0)  # fmt: skip
    config = SimpleNamespace(
        connections=SimpleNamespace(jira=connection),
        sync=SimpleNamespace(
            jira=SimpleNamespace(page_size=50, search="auto", use_bulk_edit=False)
        ),
        jira_search_mode=lambda: "start_at",
    )
    asked = []
    jira = from_config(config, lambda name: asked.append(name) or "pat-value")
    assert asked == ["JIRA_PAT"]
    assert (jira.deployment, jira.search, jira.page_size, jira.projects) == (
        "data_center",
        "start_at",
        50,
        ["ENG"],
    )
    assert jira.issue_jql(IssueCursor(), ["ENG"]).startswith(
        'project in ("ENG") AND (labels = customer) AND'
    )


@responses.activate
def test_bulk_edit_finds_an_option_on_a_later_page_of_contexts_and_options(sleeps):
    responses.get(f"{API3}/field", json=[
        {"id": LEVEL, "schema": {"type": "option", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select"}}])  # fmt: skip
    responses.get(
        f"{API3}/field/{LEVEL}/context", json={"values": [{"id": "30001"}], "isLast": False}
    )
    responses.get(
        f"{API3}/field/{LEVEL}/context", json={"values": [{"id": "30002"}], "isLast": True}
    )
    responses.get(f"{API3}/field/{LEVEL}/context/30001/option", json={"values": [], "isLast": True})
    responses.get(f"{API3}/field/{LEVEL}/context/30002/option",
        json={"values": [{"id": "10400", "value": "informational"}], "isLast": False})  # fmt: skip
    responses.get(f"{API3}/field/{LEVEL}/context/30002/option",
        json={"values": [{"id": "10401", "value": "advisory"}], "isLast": True})  # fmt: skip
    responses.get(f"{API3}/search/jql", json={"isLast": True, "issues": [
        {"id": "10001", "key": "ENG-1", "fields": {}}, {"id": "10002", "key": "ENG-2", "fields": {}}]})  # fmt: skip
    responses.post(f"{API3}/bulk/issues/fields", status=201, json={"taskId": "10641"})
    responses.get(f"{API3}/bulk/queue/10641", json={"taskId": "10641", "status": "COMPLETE",
        "processedAccessibleIssues": [10001, 10002], "failedAccessibleIssues": {}})  # fmt: skip
    writes = [edit(k, fields={LEVEL: {"value": "advisory"}}) for k in ("ENG-1", "ENG-2")]
    results = connector(sleeps, use_bulk_edit=True).apply(writes)
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.OK]
    (submit,) = [c for c in responses.calls if c.request.url.endswith("/bulk/issues/fields")]
    assert json.loads(submit.request.body)["editedFieldsInput"]["singleSelectFields"] == [
        {"fieldId": LEVEL, "option": {"optionId": "10401"}}
    ]
    starts = [
        parse_qs(urlsplit(c.request.url).query).get("startAt")
        for c in responses.calls
        if urlsplit(c.request.url).path.endswith("context/30002/option")
    ]
    assert starts == [["0"], ["1"]]
