"""The Zendesk connector's exact requests and its handling of each Zendesk answer, with `responses`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from connectors.base import FieldWrite, WriteStatus
from connectors.errors import AuthError, ConnectorError, RateLimited, SystemUnavailable
from connectors.transport import RetryPolicy
from connectors.zendesk import JobPolling, ZendeskConnector, split_url

BASE = "https://acme.zendesk.com/api/v2"
EXPORT = f"{BASE}/incremental/tickets/cursor.json"
ORG_EXPORT = f"{BASE}/incremental/organizations.json"
UPDATE_MANY = f"{BASE}/tickets/update_many.json"
NOW = 1_800_000_000.0
TOKEN = "s3cr3t-token-value"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def zd(sleeps) -> ZendeskConnector:
    policy = RetryPolicy(sleep=sleeps.append, backoff_initial_seconds=0.01, max_attempts=3)
    return ZendeskConnector(
        "https://acme.zendesk.com",
        email="bot@acme.example",
        api_token=TOKEN,
        policy=policy,
        job_polling=JobPolling(
            first_wait_seconds=0.2, max_wait_seconds=0.5, give_up_after_seconds=2.0
        ),
        clock=lambda: NOW,
    )


def write(ticket_id: str, **changes) -> FieldWrite:
    return FieldWrite("zendesk", "ticket", ticket_id, **changes)


def job(job_id: str, status: str, results=None) -> dict:
    return {
        "job_status": {
            "id": job_id,
            "url": f"{BASE}/job_statuses/{job_id}.json",
            "status": status,
            "total": 1,
            "progress": 0,
            "message": None,
            "results": results,
        }
    }


def ok(ticket_id: int) -> dict:
    return {"id": ticket_id, "index": 0, "action": "update", "status": "Updated", "success": True}


def failed(ticket_id: int, error: str, details: str) -> dict:
    return {
        "id": ticket_id,
        "index": 0,
        "action": "update",
        "success": False,
        "error": error,
        "details": details,
    }


def queue_job(job_id: str, results: list[dict]) -> None:
    responses.put(UPDATE_MANY, json=job(job_id, "queued"))
    responses.get(f"{BASE}/job_statuses/{job_id}.json", json=job(job_id, "completed", results))


def sent_tickets(call) -> list[dict]:
    return json.loads(call.request.body)["tickets"]


# -- reads --------------------------------------------------------------------------------------
@responses.activate
def test_first_read_starts_from_epoch_and_follows_after_cursor_page_by_page(zd):
    responses.get(
        EXPORT,
        match=[
            matchers.query_param_matcher(
                {
                    "start_time": "0",
                    "per_page": "1000",
                    "include": "users,organizations,metric_sets",
                }
            )
        ],
        json={
            "tickets": [{"id": 1}],
            "users": [{"id": 7}],
            "organizations": [{"id": 9}],
            "after_cursor": "c1",
            "end_of_stream": False,
        },
    )
    responses.get(
        EXPORT,
        match=[
            matchers.query_param_matcher(
                {"cursor": "c1", "per_page": "1000", "include": "users,organizations,metric_sets"}
            )
        ],
        json={"tickets": [{"id": 2}], "after_cursor": "c2", "end_of_stream": True},
    )
    pages = list(zd.read_ticket_changes())
    assert [(p.cursor, p.done) for p in pages] == [("c1", False), ("c2", True)]
    assert [(r.kind, r.id) for r in pages[0].records] == [
        ("ticket", "1"),
        ("user", "7"),
        ("organization", "9"),
    ]
    assert pages[1].records[0].data == {"id": 2}


@responses.activate
def test_a_stored_cursor_is_sent_alone_and_kept_when_zendesk_returns_none(zd):
    responses.get(
        EXPORT,
        match=[
            matchers.query_param_matcher(
                {
                    "cursor": "stored",
                    "per_page": "1000",
                    "include": "users,organizations,metric_sets",
                }
            )
        ],
        json={"tickets": [], "after_cursor": None, "end_of_stream": True},
    )
    assert [(p.records, p.cursor, p.done) for p in zd.read_ticket_changes("stored")] == [
        ([], "stored", True)
    ]


@responses.activate
def test_a_start_time_inside_the_last_minute_is_moved_back_out_of_it(zd):
    responses.get(
        EXPORT,
        match=[
            matchers.query_param_matcher(
                {
                    "start_time": str(int(NOW) - 61),
                    "per_page": "1000",
                    "include": "users,organizations,metric_sets",
                }
            )
        ],
        json={"tickets": [], "after_cursor": "c", "end_of_stream": True},
    )
    list(zd.read_ticket_changes(start_time=datetime.fromtimestamp(NOW, UTC)))
    assert len(responses.calls) == 1


@responses.activate
def test_organization_export_persists_end_time_and_pages_until_end_of_stream(zd):
    responses.get(
        ORG_EXPORT,
        match=[matchers.query_param_matcher({"start_time": "0", "per_page": "1000"})],
        json={"organizations": [{"id": 1}], "end_time": 100, "end_of_stream": False},
    )
    responses.get(
        ORG_EXPORT,
        match=[matchers.query_param_matcher({"start_time": "100", "per_page": "1000"})],
        json={"organizations": [{"id": 2}], "end_time": 200, "end_of_stream": True},
    )
    pages = list(zd.read_organization_changes())
    assert [(p.cursor, p.done, [r.id for r in p.records]) for p in pages] == [
        ("100", False, ["1"]),
        ("200", True, ["2"]),
    ]


@responses.activate
def test_organization_export_that_does_not_move_is_an_error_not_a_loop(zd):
    responses.get(
        ORG_EXPORT, json={"organizations": [{"id": 1}], "end_time": 50, "end_of_stream": False}
    )
    with pytest.raises(ConnectorError, match="did not move"):
        list(zd.read_organization_changes("50"))


@responses.activate
def test_show_many_asks_for_at_most_100_ids_a_call(zd):
    responses.get(f"{BASE}/tickets/show_many.json", json={"tickets": [{"id": 1}]})
    found = zd.get_tickets([str(n) for n in range(1, 251)])
    sizes = [len(c.request.params["ids"].split(",")) for c in responses.calls]
    assert sizes == [100, 100, 50] and len(found) == 3


@responses.activate
def test_organisations_are_read_again_by_id_and_a_deleted_one_is_left_out(zd):
    responses.get(
        f"{BASE}/organizations/show_many.json",
        match=[matchers.query_param_matcher({"ids": "7,8"})],
        json={"organizations": [{"id": 7, "name": "Acme"}]},
    )
    found = zd.read_by_id("organization", ["7", "8"])
    assert [(r.kind, r.id) for r in found] == [("organization", "7")]


@responses.activate
def test_exported_and_re_read_tickets_keep_their_metric_set_nested(zd):
    metric_set = {"ticket_id": 1, "reply_time_in_minutes": {"calendar": 12, "business": 12}}
    ticket = {"id": 1, "metric_set": metric_set}
    responses.get(
        EXPORT,
        match=[
            matchers.query_param_matcher(
                {"include": "users,organizations,metric_sets"}, strict_match=False
            )
        ],
        json={"tickets": [ticket], "after_cursor": "c", "end_of_stream": True},
    )
    responses.get(
        f"{BASE}/tickets/show_many.json",
        match=[matchers.query_param_matcher({"ids": "1", "include": "metric_sets"})],
        json={"tickets": [ticket]},
    )
    [page] = zd.read_ticket_changes()
    assert [(r.kind, r.data["metric_set"]) for r in page.records] == [("ticket", metric_set)]
    assert [r.data["metric_set"] for r in zd.get_tickets(["1"])] == [metric_set]


@responses.activate
def test_without_the_metric_sets_sideload_show_many_asks_for_none():
    plain = ZendeskConnector(
        "https://acme.zendesk.com",
        email="bot@acme.example",
        api_token=TOKEN,
        include=("users", "organizations"),
    )
    responses.get(
        f"{BASE}/tickets/show_many.json",
        match=[matchers.query_param_matcher({"ids": "1,2"})],
        json={"tickets": [{"id": 1}, {"id": 2}]},
    )
    assert [r.id for r in plain.get_tickets(["1", "2"])] == ["1", "2"]


@responses.activate
def test_401_is_an_auth_error_with_zendesks_words_and_no_secret(zd, caplog):
    responses.get(EXPORT, status=401, json={"error": "Couldn't authenticate you"})
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as refused:
        list(zd.read_ticket_changes())
    assert "Couldn't authenticate you" in str(refused.value)
    assert TOKEN not in str(refused.value) and TOKEN not in caplog.text


@responses.activate
def test_5xx_that_persists_is_system_unavailable(zd, sleeps):
    responses.get(EXPORT, status=503, json={"error": "ServiceUnavailable"})
    with pytest.raises(SystemUnavailable):
        list(zd.read_ticket_changes())
    assert len(responses.calls) == 3


@responses.activate
def test_unreachable_host_is_system_unavailable(zd):
    responses.get(EXPORT, body=requests.ConnectionError("refused"))
    with pytest.raises(SystemUnavailable):
        list(zd.read_ticket_changes())


@responses.activate
def test_429_is_waited_out_by_the_shared_policy_then_read(zd, sleeps):
    responses.get(
        EXPORT,
        status=429,
        headers={"Retry-After": "3"},
        json={
            "error": "APIRateLimitExceeded",
            "description": "Number of allowed incremental export API requests per minute exceeded",
        },
    )
    responses.get(EXPORT, json={"tickets": [{"id": 1}], "after_cursor": "c", "end_of_stream": True})
    assert [p.cursor for p in zd.read_ticket_changes()] == ["c"]
    assert 3.0 in sleeps


@responses.activate
def test_429_that_never_ends_raises_rate_limited(zd):
    responses.get(
        EXPORT, status=429, headers={"Retry-After": "1"}, json={"error": "APIRateLimitExceeded"}
    )
    with pytest.raises(RateLimited):
        list(zd.read_ticket_changes())


def test_url_splits_into_zenpys_subdomain_and_domain():
    assert split_url("https://acme.zendesk.com") == ("acme", "zendesk.com")
    assert split_url("https://127.0.0.1:8443") == ("127", "0.0.1:8443")


def test_credentials_are_required():
    with pytest.raises(AuthError):
        ZendeskConnector("https://acme.zendesk.com", email="bot@acme.example")


# -- writes -------------------------------------------------------------------------------------
@responses.activate
def test_update_many_item_carries_fields_tags_private_note_and_safe_update(zd):
    queue_job("j1", [ok(11)])
    result = zd.apply(
        [
            write(
                "11",
                fields={"360000000201": "esc_level_advisory", "priority": "high"},
                tags_add=("escalated",),
                tags_remove=("calm",),
                note="Escalated: renewal in 20 days",
                expected_updated_at="2024-05-01T10:00:00Z",
            )
        ]
    )
    assert [r.status for r in result] == [WriteStatus.OK]
    assert sent_tickets(responses.calls[0]) == [
        {
            "id": 11,
            "custom_fields": [{"id": 360000000201, "value": "esc_level_advisory"}],
            "priority": "high",
            "additional_tags": ["escalated"],
            "remove_tags": ["calm"],
            "comment": {"body": "Escalated: renewal in 20 days", "public": False},
            "safe_update": True,
            "updated_stamp": "2024-05-01T10:00:00Z",
        }
    ]


@responses.activate
def test_writes_go_out_in_jobs_of_at_most_100_tickets(zd):
    responses.put(UPDATE_MANY, json=job("j", "queued"))
    responses.get(
        f"{BASE}/job_statuses/j.json", json=job("j", "completed", [ok(n) for n in range(1, 251)])
    )
    results = zd.apply([write(str(n), fields={"1": "x"}) for n in range(1, 251)])
    puts = [c for c in responses.calls if c.request.method == "PUT"]
    assert [len(sent_tickets(c)) for c in puts] == [100, 100, 50]
    assert {r.status for r in results} == {WriteStatus.OK}


@responses.activate
def test_a_second_write_for_the_same_ticket_goes_into_a_later_job(zd):
    responses.put(UPDATE_MANY, json=job("j", "queued"))
    responses.get(f"{BASE}/job_statuses/j.json", json=job("j", "completed", [ok(1), ok(2)]))
    zd.apply([write("1", note="a"), write("2", note="b"), write("1", note="c")])
    puts = [
        [t["id"] for t in sent_tickets(c)] for c in responses.calls if c.request.method == "PUT"
    ]
    assert puts == [[1, 2], [1]]


@responses.activate
def test_job_results_map_to_ok_conflict_rejected_and_retry(zd):
    queue_job(
        "j2",
        [
            ok(1),
            failed(
                2, "UpdateConflict", "Safe Update prevented the update due to outdated ticket data."
            ),
            failed(3, "RecordInvalid", "Escalation level: x is not a valid option"),
            failed(4, "SomethingNobodyDocumented", "please retry"),
        ],
    )
    results = zd.apply([write(str(n), note="n") for n in range(1, 6)])
    assert [r.status for r in results] == [
        WriteStatus.OK,
        WriteStatus.CONFLICT,
        WriteStatus.REJECTED,
        WriteStatus.RETRY,
        WriteStatus.RETRY,
    ]
    assert results[2].reason == "RecordInvalid: Escalation level: x is not a valid option"
    assert "without a result" in results[4].reason


@responses.activate
def test_a_failed_job_retries_the_tickets_it_did_not_report(zd):
    responses.put(UPDATE_MANY, json=job("j3", "queued"))
    responses.get(
        f"{BASE}/job_statuses/j3.json",
        json={
            "job_status": {
                **job("j3", "failed")["job_status"],
                "message": "Failed: killed",
                "results": [],
            }
        },
    )
    [result] = zd.apply([write("5", fields={"1": "x"})])
    assert result.status is WriteStatus.RETRY and "Failed: killed" in result.reason


@responses.activate
def test_job_is_polled_with_backoff_until_it_completes(zd, sleeps):
    responses.put(UPDATE_MANY, json=job("j4", "queued"))
    url = f"{BASE}/job_statuses/j4.json"
    responses.get(url, json=job("j4", "queued"))
    responses.get(url, json=job("j4", "working"))
    responses.get(url, json=job("j4", "completed", [ok(1)]))
    assert [r.status for r in zd.apply([write("1", note="x")])] == [WriteStatus.OK]
    assert len([c for c in responses.calls if c.request.method == "GET"]) == 3
    assert [round(s, 1) for s in sleeps][-2:] == [0.2, 0.4]


@responses.activate
def test_a_job_that_never_finishes_is_retried_next_run_within_a_bounded_wait(zd, sleeps):
    responses.put(UPDATE_MANY, json=job("j5", "queued"))
    responses.get(f"{BASE}/job_statuses/j5.json", json=job("j5", "working"))
    [result] = zd.apply([write("1", note="x")])
    assert result.status is WriteStatus.RETRY and "did not finish" in result.reason
    assert sum(sleeps) <= 2.0 + 0.5 + 0.2


@responses.activate
def test_update_many_with_unknown_outcome_is_not_resent(zd):
    responses.put(UPDATE_MANY, status=500, json={"error": "InternalError"})
    results = zd.apply([write("1", note="only once"), write("2", note="only once")])
    assert [r.status for r in results] == [WriteStatus.RETRY, WriteStatus.RETRY]
    assert len(responses.calls) == 1


@responses.activate
def test_connection_reset_on_update_many_is_retry_without_resend(zd):
    responses.put(UPDATE_MANY, body=requests.ConnectionError("reset by peer"))
    [result] = zd.apply([write("1", note="n")])
    assert result.status is WriteStatus.RETRY and "re-read" in result.reason
    assert len(responses.calls) == 1


@responses.activate
def test_rate_limited_update_many_stops_sending_and_retries_the_rest(zd):
    responses.put(
        UPDATE_MANY,
        status=429,
        headers={"Retry-After": "1"},
        json={"error": "APIRateLimitExceeded"},
    )
    results = zd.apply([write(str(n), note="n") for n in range(1, 202)])
    assert {r.status for r in results} == {WriteStatus.RETRY}
    assert len(responses.calls) == 3  # the policy's attempts for the first job; no other job sent


@responses.activate
def test_update_many_refused_whole_is_rejected_with_zendesks_words(zd):
    responses.put(
        UPDATE_MANY,
        status=400,
        json={
            "error": "TooManyValues",
            "description": "Parameter  cannot specify more than 100 values",
            "max_count": 100,
        },
    )
    [result] = zd.apply([write("1", note="n")])
    assert result.status is WriteStatus.REJECTED and "TooManyValues" in result.reason


@responses.activate
def test_update_many_with_bad_credentials_raises_auth_error(zd):
    responses.put(UPDATE_MANY, status=401, json={"error": "Couldn't authenticate you"})
    with pytest.raises(AuthError):
        zd.apply([write("1", note="n")])


def test_a_non_numeric_record_id_is_rejected_without_a_request(zd):
    with responses.RequestsMock():  # any request would fail the test
        [result] = zd.apply([write("PROJ-1", note="n")])
    assert result.status is WriteStatus.REJECTED


def test_from_config_reads_the_named_secrets_through_the_callers_function():
    from types import SimpleNamespace

    from config.connections import ZendeskConnection
    from config.policy import SyncPolicy
    from connectors.zendesk import from_config

    connection = ZendeskConnection(
        url="https://acme.zendesk.com", email_env="ZD_EMAIL", token_env="ZD_TOKEN"
    )
    asked = []
    values = {"ZD_EMAIL": "bot@acme.example", "ZD_TOKEN": TOKEN}
    config = SimpleNamespace(connections=SimpleNamespace(zendesk=connection), sync=SyncPolicy())
    zd = from_config(config, lambda name: asked.append(name) or values[name])
    assert asked == ["ZD_EMAIL", "ZD_TOKEN"]
    assert zd.base_url == BASE and zd.session.auth == ("bot@acme.example/token", TOKEN)


@responses.activate
def test_comments_follow_next_page_to_the_last_one(zd):
    url = f"{BASE}/tickets/5/comments.json"
    responses.get(
        url,
        match=[matchers.query_param_matcher({})],
        json={"comments": [{"id": 1}], "next_page": f"{url}?page=2"},
    )
    responses.get(
        url,
        match=[matchers.query_param_matcher({"page": "2"})],
        json={"comments": [{"id": 2}], "next_page": None},
    )
    assert [c["id"] for c in zd.ticket_comments("5")] == [1, 2]


@responses.activate
def test_the_plan_limit_is_shared_at_most_the_configured_share_of_x_rate_limit(sleeps):
    # Zendesk's plan limit is the account's, shared with its other apps: with rate_share 0.5
    # and X-Rate-Limit 4 we send two requests a minute, whatever requests_per_minute says.
    policy = RetryPolicy(sleep=sleeps.append)
    zd = ZendeskConnector(
        "https://acme.zendesk.com", email="bot@acme.example", api_token=TOKEN, policy=policy,
        account_quota=(700, 60.0), rate_share=0.5,
    )  # fmt: skip
    show_many = f"{BASE}/tickets/show_many.json"
    responses.get(show_many, json={"tickets": []}, headers={"X-Rate-Limit": "4"})
    for ticket_id in ("1", "2", "3"):
        zd.get_tickets([ticket_id])
    assert len(responses.calls) == 3
    assert len(sleeps) == 1 and 55 < sleeps[0] <= 60


@responses.activate
def test_before_zendesk_announces_its_limit_the_share_applies_to_the_configured_one(sleeps):
    policy = RetryPolicy(sleep=sleeps.append)
    zd = ZendeskConnector(
        "https://acme.zendesk.com", email="bot@acme.example", api_token=TOKEN, policy=policy,
        account_quota=(4, 60.0), rate_share=0.5,
    )  # fmt: skip
    show_many = f"{BASE}/tickets/show_many.json"
    responses.get(show_many, json={"tickets": []})
    for ticket_id in ("1", "2", "3"):
        zd.get_tickets([ticket_id])
    assert len(sleeps) == 1 and 55 < sleeps[0] <= 60


def test_from_config_paces_to_the_configured_share_of_the_plan_limit():
    from types import SimpleNamespace

    from config.connections import ZendeskConnection
    from config.policy import SyncPolicy
    from connectors.zendesk import from_config

    connection = ZendeskConnection(
        url="https://acme.zendesk.com", email_env="ZD_EMAIL", token_env="ZD_TOKEN"
    )
    sync = SyncPolicy.model_validate({"zendesk": {"requests_per_minute": 400, "rate_share": 0.25}})
    config = SimpleNamespace(connections=SimpleNamespace(zendesk=connection), sync=sync)
    zd = from_config(config, lambda name: "value")
    [plan_limit] = [p for p in zd.adapter.pacers if p.path_pattern == r"/api/v2/"]
    assert plan_limit.limit == 100 and plan_limit.limit_header == "X-Rate-Limit"
