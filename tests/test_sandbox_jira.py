"""The Jira emulation driven by the real `jira` client over HTTPS (raw requests only for bulk edit,
which the client has no method for)."""

from __future__ import annotations

import socket

import pytest
import requests
from jira import JIRA, JIRAError

from sandbox import catalogue
from sandbox.faults import Fault
from sandbox.quotas import QuotaRule

LEVEL = catalogue.JIRA_FIELD_LEVEL
ARR = catalogue.JIRA_FIELD_ARR
BOUNDED = "project in (ENG, OPS) ORDER BY updated ASC, key ASC"


def client(
    sandbox, *, version: str = "3", auth: tuple[str, str] | None = None, pat: str | None = None
) -> JIRA:
    options = {"verify": str(sandbox.ca_path), "rest_api_version": version}
    credentials = (
        {"token_auth": pat}
        if pat
        else {"basic_auth": auth or (catalogue.JIRA_EMAIL, catalogue.JIRA_API_TOKEN)}
    )
    jira = JIRA(
        server=sandbox.urls["jira"],
        options=options,
        max_retries=0,
        get_server_info=False,
        **credentials,
    )
    jira.deploymentType = "Cloud"  # what get_server_info would have set; enhanced search needs it
    return jira


def add_issues(sandbox, count: int, *, project: str = "ENG", start_minute: int = 0) -> list[str]:
    """Issues updated one minute apart from 2026-11-20 09:00 UTC."""
    keys = []
    for n in range(count):
        minute = start_minute + n
        when = f"2026-11-20T{9 + minute // 60:02d}:{minute % 60:02d}:30.000+0000"
        keys.append(sandbox.jira.create_issue(project, f"Issue {n}", updated=when))
    return keys


def all_pages(jira: JIRA, jql: str, page_size: int, **kwargs) -> list[dict]:
    pages, token = [], None
    while True:
        page = jira.enhanced_search_issues(
            jql, nextPageToken=token, maxResults=page_size, json_result=True, **kwargs
        )
        pages.append(page)
        token = page.get("nextPageToken")
        if page["isLast"]:
            assert token is None
            return pages


def test_enhanced_search_pages_to_the_end_with_next_page_token(sandbox):
    keys = add_issues(sandbox, 7)
    pages = all_pages(client(sandbox), BOUNDED, 3, fields=["key", "updated"])
    assert [len(p["issues"]) for p in pages] == [3, 3, 1]
    assert [i["key"] for p in pages for i in p["issues"]] == keys
    assert all("nextPageToken" in p for p in pages[:-1])


def test_enhanced_search_returns_only_ids_unless_fields_are_requested(sandbox):
    add_issues(sandbox, 2)
    page = client(sandbox).enhanced_search_issues(BOUNDED, fields="", json_result=True)
    assert page["issues"] == [{"id": "10001"}, {"id": "10002"}]


def test_client_default_hits_v2_search_jql_with_v2_links(sandbox):
    add_issues(sandbox, 1)
    page = client(sandbox, version="2").enhanced_search_issues(
        BOUNDED, json_result=True, fields=["summary"]
    )
    assert "/rest/api/2/issue/" in page["issues"][0]["self"]
    assert sandbox.jira.traffic.requests["search_jql"] == 1


def test_post_search_jql_pages_like_get(sandbox):
    keys = add_issues(sandbox, 4)
    pages = all_pages(client(sandbox), BOUNDED, 3, fields=["key"], use_post=True)
    assert [i["key"] for p in pages for i in p["issues"]] == keys


def test_issue_edited_while_paging_moves_instead_of_hiding_others(sandbox):
    keys = add_issues(sandbox, 4)
    jira = client(sandbox)
    first = jira.enhanced_search_issues(BOUNDED, maxResults=2, json_result=True, fields=["key"])
    sandbox.jira.human_edit(keys[0], {"summary": "edited meanwhile"})
    rest = jira.enhanced_search_issues(
        BOUNDED,
        nextPageToken=first["nextPageToken"],
        maxResults=10,
        json_result=True,
        fields=["key"],
    )
    assert [i["key"] for i in rest["issues"]] == [keys[2], keys[3], keys[0]]


def test_unbounded_query_is_rejected_as_jira_cloud_does(sandbox):
    response = requests.get(
        sandbox.urls["jira"] + "/rest/api/3/search/jql",
        params={"jql": "ORDER BY updated ASC"},
        auth=(catalogue.JIRA_EMAIL, catalogue.JIRA_API_TOKEN),
        verify=str(sandbox.ca_path),
    )
    assert response.status_code == 400
    assert response.json() == {
        "errorMessages": [
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
        ],
        "errors": {},
    }


def test_jql_outside_the_subset_is_a_400_naming_every_problem(sandbox):
    with pytest.raises(JIRAError) as caught:
        client(sandbox).enhanced_search_issues(
            'project = NOPE AND labels = x AND updated >= "yesterday"', json_result=True
        )
    assert caught.value.status_code == 400
    assert caught.value.response.json()["errorMessages"] == [
        "The value 'NOPE' does not exist for the field 'project'.",
        "Field 'labels' does not exist or you do not have permission to view it.",
        "Date value 'yesterday' for field 'updated' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
        "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.",
    ]


def test_jql_dates_are_read_in_the_users_time_zone(sandbox):
    keys = add_issues(sandbox, 3)  # 09:00:30, 09:01:30, 09:02:30 UTC
    sandbox.jira.set_time_zone("America/New_York")  # UTC-5 in November
    jira = client(sandbox)
    assert jira.myself()["timeZone"] == "America/New_York"
    page = jira.enhanced_search_issues(
        'project = ENG AND updated >= "2026/11/20 04:01"', json_result=True, fields=["updated"]
    )
    assert [i["key"] for i in page["issues"]] == keys[1:]
    assert page["issues"][0]["fields"]["updated"] == "2026-11-20T04:01:30.000-0500"


def test_unquoted_number_in_jql_is_epoch_milliseconds(sandbox):
    keys = add_issues(sandbox, 3)
    epoch_ms = 1795165290000  # 2026-11-20T09:01:30Z, the second issue's exact update time
    page = client(sandbox).enhanced_search_issues(
        f"project = ENG AND updated >= {epoch_ms}", json_result=True, fields=["key"]
    )
    assert [i["key"] for i in page["issues"]] == keys[1:]


def test_status_category_and_key_clauses_filter(sandbox):
    keys = add_issues(sandbox, 3) + add_issues(sandbox, 1, project="OPS")
    sandbox.jira.transition(keys[0], "done")
    jql = f"statusCategory != Done AND (key in ({keys[1]}, {keys[3]}) OR project = OPS) ORDER BY key DESC"
    page = client(sandbox).enhanced_search_issues(jql, json_result=True, fields=["key"])
    assert [i["key"] for i in page["issues"]] == [keys[3], keys[1]]


def test_classic_search_is_gone_on_cloud(sandbox):
    jira = client(sandbox, version="2")
    jira.deploymentType = None
    with pytest.raises(JIRAError) as caught:
        jira.search_issues(BOUNDED, json_result=True)
    assert caught.value.status_code == 410
    assert "migrate to the /rest/api/3/search/jql API" in caught.value.text


def test_data_center_search_pages_with_start_at_and_total(sandbox):
    sandbox.jira.deployment = "datacenter"
    keys = add_issues(sandbox, 5)
    jira = client(sandbox, version="2", pat=catalogue.JIRA_PAT)
    jira.deploymentType = "Server"
    seen, start = [], 0
    while True:
        page = jira.search_issues(
            "ORDER BY key ASC", startAt=start, maxResults=2, json_result=True, fields=["key"]
        )
        assert page["total"] == 5 and page["startAt"] == start
        seen += [i["key"] for i in page["issues"]]
        start += len(page["issues"])
        if start >= page["total"]:
            break
    assert seen == keys
    assert jira.server_info()["deploymentType"] == "Server"
    with pytest.raises(JIRAError) as caught:
        client(sandbox).enhanced_search_issues(BOUNDED, json_result=True)
    assert caught.value.status_code == 404


def test_edit_is_visible_in_the_next_read_and_bumps_updated(sandbox):
    (key,) = add_issues(sandbox, 1)
    jira = client(sandbox)
    issue = jira.issue(key)
    before = issue.fields.updated
    issue.update(
        fields={LEVEL: {"value": "advisory"}, ARR: 125000.0},
        update={"labels": [{"add": "customer-escalation"}]},
        notify=False,
    )
    page = jira.enhanced_search_issues(
        f"key = {key}", json_result=True, fields=[LEVEL, ARR, "labels", "updated"]
    )
    fields = page["issues"][0]["fields"]
    assert fields[LEVEL]["value"] == "advisory" and fields[LEVEL]["self"].endswith(
        f"/customFieldOption/{fields[LEVEL]['id']}"
    )
    assert fields[ARR] == 125000.0 and fields["labels"] == ["customer-escalation"]
    assert fields["updated"] > before
    assert sandbox.jira.edit_log == [(key, False)]


def test_edit_that_changes_nothing_keeps_updated(sandbox):
    (key,) = add_issues(sandbox, 1)
    issue = client(sandbox).issue(key)
    issue.update(fields={"summary": issue.fields.summary})
    assert issue.fields.updated == "2026-11-20T10:00:30.000+0100"


def test_edit_with_unknown_option_is_rejected_naming_the_field(sandbox):
    (key,) = add_issues(sandbox, 1)
    with pytest.raises(JIRAError) as caught:
        client(sandbox).issue(key).update(
            fields={LEVEL: {"value": "apocalyptic"}, "status": "Done"}
        )
    assert caught.value.status_code == 400
    assert caught.value.response.json() == {
        "errorMessages": [],
        "errors": {
            LEVEL: "Option value 'apocalyptic' is not valid",
            "status": "Field 'status' cannot be set. It is not on the appropriate screen, or unknown.",
        },
    }


def test_rich_text_is_adf_in_v3_and_plain_text_in_v2(sandbox):
    (key,) = add_issues(sandbox, 1)
    with pytest.raises(JIRAError) as caught:
        client(sandbox).issue(key).update(fields={"description": "plain"})
    assert "Atlassian Document" in caught.value.response.json()["errors"]["description"]
    client(sandbox, version="2").issue(key).update(fields={"description": "line one\nline two"})
    assert client(sandbox, version="2").issue(key).fields.description == "line one\nline two"
    assert client(sandbox).issue(key).raw["fields"]["description"]["type"] == "doc"


def test_missing_issue_is_404_with_jira_message(sandbox):
    with pytest.raises(JIRAError) as caught:
        client(sandbox).issue("ENG-999")
    assert caught.value.status_code == 404
    assert caught.value.text == "Issue does not exist or you do not have permission to see it."


def test_fields_list_create_field_and_select_options(sandbox):
    jira = client(sandbox)
    assert LEVEL in {f["id"] for f in jira.fields()}
    created = jira._session.post(
        jira._get_url("field"),
        json={
            "name": "Escalation Owner Role",
            "type": "com.atlassian.jira.plugin.system.customfieldtypes:select",
        },
    ).json()
    assert created["schema"] == {
        "type": "option",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
        "customId": int(created["id"].split("_")[1]),
    }
    contexts = jira._get_json(f"field/{created['id']}/context")["values"]
    options_path = f"field/{created['id']}/context/{contexts[0]['id']}/option"
    jira._session.post(
        jira._get_url(options_path), json={"options": [{"value": "CSM"}, {"value": "VP"}]}
    )
    assert [o["value"] for o in jira._get_json(options_path)["values"]] == ["CSM", "VP"]
    (key,) = add_issues(sandbox, 1)
    jira.issue(key).update(fields={created["id"]: {"value": "VP"}})
    assert jira.issue(key).raw["fields"][created["id"]]["value"] == "VP"


def test_server_info_and_myself_describe_the_site_and_user(sandbox):
    jira = client(sandbox)
    info = jira.server_info()
    assert info["deploymentType"] == "Cloud" and info["baseUrl"] == sandbox.urls["jira"]
    me = jira.myself()
    assert me["emailAddress"] == catalogue.JIRA_EMAIL and me["timeZone"] == "Europe/Berlin"


def _bulk(sandbox, jira: JIRA, payload: dict) -> str:
    response = jira._session.post(jira._get_url("bulk/issues/fields"), json=payload)
    assert response.status_code == 201
    return response.json()["taskId"]


def test_bulk_edit_completes_asynchronously_with_per_issue_failures(sandbox):
    keys = add_issues(sandbox, 3)
    sandbox.jira.reject_edit(keys[1], errors={LEVEL: "Option value 'advisory' is not valid"})
    jira = client(sandbox)
    option_id = next(o["id"] for o in sandbox.jira.store.options[LEVEL] if o["value"] == "advisory")
    task_id = _bulk(sandbox, jira, {
        "selectedIssueIdsOrKeys": [*keys, "ENG-404"],
        "selectedActions": [LEVEL, "labels"],
        "editedFieldsInput": {
            "singleSelectFields": [{"fieldId": LEVEL, "option": {"optionId": option_id}}],
            "labelsFields": [{"fieldId": "labels", "bulkEditMultiSelectFieldOption": "ADD", "labels": [{"name": "customer-escalation"}]}],
        },
        "sendBulkNotification": False,
    })  # fmt: skip
    assert jira._get_json(f"bulk/queue/{task_id}")["status"] == "RUNNING"
    assert (
        sandbox.jira.get_issue(keys[0])["fields"].get(LEVEL) is None
    )  # not applied before it completes
    done = jira._get_json(f"bulk/queue/{task_id}")
    assert done["status"] == "COMPLETE" and done["progressPercent"] == 100
    ids = {key: int(sandbox.jira.get_issue(key)["id"]) for key in keys}
    assert done["processedAccessibleIssues"] == [ids[keys[0]], ids[keys[2]]]
    assert done["failedAccessibleIssues"] == {
        str(ids[keys[1]]): ["Option value 'advisory' is not valid"]
    }
    assert done["invalidOrInaccessibleIssueCount"] == 1 and done["totalIssueCount"] == 4
    assert sandbox.jira.get_issue(keys[2])["fields"]["labels"] == ["customer-escalation"]


def test_bulk_edit_rejects_a_malformed_submission(sandbox):
    jira = client(sandbox)
    with pytest.raises(JIRAError) as caught:
        jira._session.post(jira._get_url("bulk/issues/fields"), json={"selectedIssueIdsOrKeys": []})
    assert caught.value.status_code == 400
    assert caught.value.text == "selectedIssueIdsOrKeys must list at least one issue id or key."


def test_wrong_credentials_get_jiras_401(sandbox):
    with pytest.raises(JIRAError) as caught:
        client(sandbox, auth=(catalogue.JIRA_EMAIL, "not-the-token")).myself()
    assert caught.value.status_code == 401
    assert caught.value.text == "Client must be authenticated to access this resource."
    assert caught.value.response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    with pytest.raises(JIRAError):
        client(sandbox, pat="wrong-pat").myself()
    assert client(sandbox, pat=catalogue.JIRA_PAT).myself()["accountId"]


def test_burst_quota_answers_429_with_jira_rate_limit_headers(sandbox):
    add_issues(sandbox, 1)
    sandbox.jira.quotas.enabled = True
    sandbox.jira.quotas.set_rules(
        [QuotaRule("burst:search_jql", 2, 1.0, ("search_jql",))], time_factor=10
    )
    jira = client(sandbox)
    first = jira._session.get(jira._get_url("search/jql"), params={"jql": BOUNDED})
    assert (
        first.headers["X-RateLimit-Limit"] == "2" and first.headers["X-RateLimit-Remaining"] == "1"
    )
    jira.enhanced_search_issues(BOUNDED, json_result=True)
    with pytest.raises(JIRAError) as caught:
        jira.enhanced_search_issues(BOUNDED, json_result=True)
    headers = caught.value.response.headers
    assert caught.value.status_code == 429
    assert int(headers["Retry-After"]) >= 1 and headers["RateLimit-Reason"] == "jira-burst-based"
    assert headers["X-RateLimit-Remaining"] == "0" and headers["X-RateLimit-Reset"].endswith("Z")


def test_per_issue_write_limit_answers_429(sandbox, monkeypatch):
    (key,) = add_issues(sandbox, 1)
    sandbox.jira.quotas.enabled = True
    sandbox.jira.quotas.set_rules([])
    monkeypatch.setattr("sandbox.jira.app.PER_ISSUE_WRITES", (2, 60.0))
    issue = client(sandbox).issue(key)
    issue.update(fields={"summary": "one"})
    issue.update(fields={"summary": "two"})
    with pytest.raises(JIRAError) as caught:
        issue.update(fields={"summary": "three"})
    assert caught.value.status_code == 429
    assert caught.value.response.headers["RateLimit-Reason"] == "jira-per-issue-on-write"


def test_scripted_400_hits_only_the_chosen_issue(sandbox):
    keys = add_issues(sandbox, 2)
    sandbox.jira.reject_edit(keys[0], errors={ARR: "Operation value must be a number"}, times=1)
    jira = client(sandbox)
    with pytest.raises(JIRAError) as caught:
        jira.issue(keys[0]).update(fields={ARR: 1.0})
    assert caught.value.response.json() == {
        "errorMessages": [],
        "errors": {ARR: "Operation value must be a number"},
    }
    jira.issue(keys[1]).update(fields={ARR: 1.0})
    jira.issue(keys[0]).update(fields={ARR: 1.0})  # the fault was for one request


def test_transport_faults_reach_the_client(sandbox):
    add_issues(sandbox, 1)
    jira = client(sandbox)
    sandbox.jira.faults.add(Fault("search_jql", "status", status=503, retry_after=1))
    with pytest.raises(JIRAError) as caught:
        jira.enhanced_search_issues(BOUNDED, json_result=True)
    assert caught.value.status_code == 503 and caught.value.response.headers["Retry-After"] == "1"
    sandbox.jira.faults.add(Fault("search_jql", "reset"))
    with pytest.raises((requests.ConnectionError, socket.error)):
        jira.enhanced_search_issues(BOUNDED, json_result=True)
    assert jira.enhanced_search_issues(BOUNDED, json_result=True)["issues"]


def test_state_round_trips_through_dump_and_load(sandbox, tmp_path):
    (key,) = add_issues(sandbox, 1)
    sandbox.jira.human_edit(key, {LEVEL: {"value": "advisory"}})
    sandbox.save(tmp_path)
    from sandbox.runner import Sandbox

    with Sandbox(data_dir=tmp_path, work_dir=tmp_path / "again", quotas=False) as again:
        assert again.jira.get_issue(key)["fields"][LEVEL]["value"] == "advisory"
        page = client(again).enhanced_search_issues(
            f"key = {key}", json_result=True, fields=["updated"]
        )
        assert page["issues"][0]["fields"]["updated"] == client(sandbox).issue(key).fields.updated


def test_descending_orders_page_without_gaps_or_repeats(sandbox):
    eng = add_issues(sandbox, 3)
    ops = add_issues(sandbox, 2, project="OPS", start_minute=10)
    jql = "project in (ENG, OPS) ORDER BY project DESC, updated DESC"
    pages = all_pages(client(sandbox), jql, 2, fields=["key"])
    assert [i["key"] for p in pages for i in p["issues"]] == [*reversed(ops), *reversed(eng)]


def test_a_foreign_next_page_token_is_a_400(sandbox):
    add_issues(sandbox, 3)
    jira = client(sandbox)
    token = jira.enhanced_search_issues(BOUNDED, maxResults=1, json_result=True)["nextPageToken"]
    with pytest.raises(JIRAError) as caught:
        jira.enhanced_search_issues("project = ENG", nextPageToken=token, json_result=True)
    assert caught.value.status_code == 400
