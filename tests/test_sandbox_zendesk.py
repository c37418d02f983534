"""The Zendesk emulation driven with zenpy over HTTPS: exports, reads, bulk updates, fields."""

from __future__ import annotations

import time

import pytest
import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, OrganizationField, Ticket, TicketField
from zenpy.lib.exception import APIException, RecordNotFoundException, TooManyValuesException

from sandbox import catalogue
from sandbox.faults import Fault
from sandbox.zendesk import fixtures

pytestmark = pytest.mark.integration
LEVEL = catalogue.ZD_FIELD_LEVEL


def raw_session(sandbox) -> requests.Session:
    # trust_env off: REQUESTS_CA_BUNDLE in the environment would override verify.
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sandbox.ca_path)
    return session


def client(sandbox, **credentials) -> Zenpy:
    host = sandbox.urls["zendesk"].split("://", 1)[1]
    subdomain, domain = host.split(".", 1)
    if not credentials:
        credentials = {"email": catalogue.ZENDESK_EMAIL, "token": catalogue.ZENDESK_API_TOKEN}
    return Zenpy(
        subdomain=subdomain,
        domain=domain,
        session=raw_session(sandbox),
        disable_cache=True,
        **credentials,
    )


@pytest.fixture
def sandbox(zendesk_small):
    """Shadows conftest's: the module's sandbox, Zendesk reset to the small data set."""
    return zendesk_small


@pytest.fixture
def zd(sandbox):
    return client(sandbox)


def wait_for_job(zd: Zenpy, job_id: str):
    for _ in range(50):
        status = zd.job_status(id=job_id)
        if status.status in ("completed", "failed"):
            return status
        time.sleep(0.02)
    raise AssertionError("job did not finish")


def results_by_id(status) -> dict[int, dict]:
    # zenpy's JobStatusResult adds empty `errors`/`title` attributes; keep what the server sent.
    return {r.id: {k: v for k, v in r.to_dict().items() if v is not None} for r in status.results}


# -- incremental export -------------------------------------------------------------------
def test_incremental_export_pages_to_the_end_in_generated_timestamp_order(zd):
    first = zd.tickets.incremental(start_time=0, per_page=2)
    assert first.end_of_stream is False
    assert [t.id for t in first] == [1, 2, 3, 4, 5]  # zenpy follows after_url to the end
    tail = zd.tickets.incremental(cursor=first.after_cursor)
    assert list(tail) == [] and tail.end_of_stream is True


def test_a_ticket_updated_after_being_read_shows_up_again_once_the_lag_passed(sandbox, zd):
    done = zd.tickets.incremental(start_time=0)
    assert len(list(done)) == 5
    sandbox.zendesk.agent_edit(2, {"priority": "urgent"})
    assert (
        list(zd.tickets.incremental(cursor=done.after_cursor)) == []
    )  # changed within the last minute
    sandbox.zendesk.advance_clock(61)
    again = zd.tickets.incremental(cursor=done.after_cursor)
    tickets = list(again)
    assert [(t.id, t.priority) for t in tickets] == [(2, "urgent")]
    assert tickets[0].generated_timestamp > fixtures.BASE_TS + 5


def test_start_time_within_the_last_minute_is_refused(zd):
    with pytest.raises(APIException) as refused:
        zd.tickets.incremental(start_time=int(time.time()) - 10)
    assert refused.value.response.status_code == 422
    assert refused.value.response.json()["description"].startswith("Too recent start_time")


def test_export_sideloads_users_and_organizations(sandbox, zd):
    url = f"{sandbox.urls['zendesk']}/api/v2/incremental/tickets/cursor.json"
    auth = (f"{catalogue.ZENDESK_EMAIL}/token", catalogue.ZENDESK_API_TOKEN)
    body = (
        raw_session(sandbox)
        .get(url, params={"start_time": 0, "include": "users,organizations"}, auth=auth)
        .json()
    )
    assert {u["id"] for u in body["users"]} == {100, 101, fixtures.BOT_ID}
    assert {o["external_id"] for o in body["organizations"]} == {"ext-1", "ext-2"}
    assert body["end_of_stream"] is True and body["after_cursor"] and body["before_cursor"] is None


def test_export_nests_each_tickets_metric_set_when_asked_for(sandbox):
    sandbox.zendesk.put_metric_set(fixtures.metric_set(2, reply_minutes=45))
    sandbox.zendesk.put_metric_set(fixtures.metric_set(3, reply_minutes=None))
    url = f"{sandbox.urls['zendesk']}/api/v2/incremental/tickets/cursor.json"
    auth = (f"{catalogue.ZENDESK_EMAIL}/token", catalogue.ZENDESK_API_TOKEN)
    session = raw_session(sandbox)
    asked = session.get(
        url, params={"start_time": 0, "include": "users,organizations,metric_sets"}, auth=auth
    ).json()
    nested = {t["id"]: t.get("metric_set") for t in asked["tickets"]}
    assert nested == {
        1: None,
        2: fixtures.metric_set(2, 45),
        3: fixtures.metric_set(3, None),
        4: None,
        5: None,
    }
    assert "metric_set" not in asked["tickets"][0]  # a ticket without one gets none
    assert "metric_sets" not in asked  # nested in the tickets, not a list beside them
    assert asked["users"] and asked["organizations"]
    plain = session.get(url, params={"start_time": 0}, auth=auth).json()
    assert all("metric_set" not in t for t in plain["tickets"])


def test_show_and_show_many_nest_metric_sets_when_asked_for(sandbox, zd):
    sandbox.zendesk.put_metric_set(fixtures.metric_set(4, reply_minutes=15))
    shown = {
        t.id: t.to_dict().get("metric_set") for t in zd.tickets(ids=[1, 4], include=["metric_sets"])
    }
    assert shown == {1: None, 4: fixtures.metric_set(4, 15)}
    assert ["metric_set" in t.to_dict() for t in zd.tickets(ids=[4])] == [False]
    url = f"{sandbox.urls['zendesk']}/api/v2/tickets/4.json"
    auth = (f"{catalogue.ZENDESK_EMAIL}/token", catalogue.ZENDESK_API_TOKEN)
    one = raw_session(sandbox).get(url, params={"include": "metric_sets"}, auth=auth).json()
    assert one["ticket"]["metric_set"]["reply_time_in_minutes"] == {"calendar": 15, "business": 15}


# -- reads ----------------------------------------------------------------------------------
def test_show_and_show_many_return_the_stored_tickets(sandbox, zd):
    assert zd.tickets(id=3).subject == "Ticket 3"
    assert zd.tickets(id=3).url.startswith(sandbox.urls["zendesk"])
    assert sorted(t.id for t in zd.tickets(ids=[1, 4, 999])) == [1, 4]
    with pytest.raises(RecordNotFoundException):
        zd.tickets(id=999)


def test_users_are_shown_one_by_id_and_several_by_ids(zd):
    assert zd.users(id=100).email == "ana@customer1.example"
    assert sorted(u.id for u in zd.users(ids=[100, 101])) == [100, 101]


def test_organizations_list_pages_with_cursors_show_many_and_export(sandbox, zd):
    for n in range(150):
        org = {**fixtures.organization(0), "id": 20_000 + n, "external_id": f"bulk-{n}"}
        sandbox.zendesk.put_organization(org)
    assert len([o.id for o in zd.organizations()]) == 152  # page[size]=100: two pages
    assert sorted(o.external_id for o in zd.organizations(ids=[9001, 9002])) == ["ext-1", "ext-2"]
    exported = list(zd.organizations.incremental(start_time=0))
    assert len({o.id for o in exported}) == 152


def test_incremental_organizations_pages_by_end_time_and_skips_the_last_minute(sandbox, zd):
    url = f"{sandbox.urls['zendesk']}/api/v2/incremental/organizations.json"
    auth = (f"{catalogue.ZENDESK_EMAIL}/token", catalogue.ZENDESK_API_TOKEN)
    session = raw_session(sandbox)
    first = session.get(url, params={"start_time": 0, "per_page": 1}, auth=auth).json()
    assert [o["id"] for o in first["organizations"]] == [9001] and first["end_of_stream"] is False
    second = session.get(
        url, params={"start_time": first["end_time"], "per_page": 1}, auth=auth
    ).json()
    assert [o["id"] for o in second["organizations"]] == [9002] and second["end_of_stream"] is True
    sandbox.zendesk.put_organization(fixtures.organization(0), touch=True)
    recent = session.get(url, params={"start_time": fixtures.BASE_TS + 5}, auth=auth).json()
    assert recent["organizations"] == [] and recent["end_of_stream"] is True


def test_comments_list_the_description_then_added_notes(zd):
    job = zd.tickets.update([Ticket(id=1, comment=Comment(body="Escalated", public=False))])
    wait_for_job(zd, job.id)
    comments = list(zd.tickets.comments(ticket=1))
    assert [(c.body, c.public) for c in comments] == [
        ("Something broke (1)", True),
        ("Escalated", False),
    ]


# -- bulk updates -----------------------------------------------------------------------------
def test_update_many_queues_a_job_that_completes_with_per_ticket_results(sandbox, zd):
    before = zd.tickets(id=1).updated_at
    job = zd.tickets.update(
        [
            Ticket(
                id=1,
                custom_fields=[{"id": LEVEL, "value": "esc_level_advisory"}],
                additional_tags=["escalated"],
            ),
            Ticket(id=2, remove_tags=["cat_defect"]),
            Ticket(id=404),
        ]
    )
    assert job.status == "queued" and job.total == 3
    results = results_by_id(wait_for_job(zd, job.id))
    assert results[1] == {
        "id": 1,
        "index": 0,
        "action": "update",
        "status": "Updated",
        "success": True,
    }
    assert results[404]["success"] is False and results[404]["error"] == "RecordNotFound"
    one = zd.tickets(id=1)
    assert {"id": LEVEL, "value": "esc_level_advisory"} in one.custom_fields
    assert {"esc_level_advisory", "escalated", "cat_defect"} <= set(one.tags)
    assert one.updated_at != before
    assert "cat_defect" not in zd.tickets(id=2).tags


def test_changing_a_tagger_field_swaps_its_option_tag(zd):
    for value in ("esc_level_advisory", "esc_level_action_needed"):
        wait_for_job(
            zd, zd.tickets.update([Ticket(id=1, custom_fields=[{"id": LEVEL, "value": value}])]).id
        )
    tags = zd.tickets(id=1).tags
    assert "esc_level_action_needed" in tags and "esc_level_advisory" not in tags


def test_an_unknown_tagger_option_is_a_validation_failure(zd):
    job = zd.tickets.update(
        [Ticket(id=1, custom_fields=[{"id": LEVEL, "value": "esc_level_nonsense"}])]
    )
    result = results_by_id(wait_for_job(zd, job.id))[1]
    assert result == {
        "index": 0,
        "error": "TicketUpdateFailed",
        "id": 1,
        "details": result["details"],
    }
    assert "esc_level_nonsense" in result["details"]


def test_update_many_refuses_more_than_100_tickets(zd):
    with pytest.raises(TooManyValuesException) as refused:
        zd.tickets.update([Ticket(id=n, priority="high") for n in range(1, 102)])
    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["max_count"] == 100


def test_safe_update_with_a_stale_stamp_conflicts_inside_the_job(sandbox, zd):
    stamp = zd.tickets(id=3).updated_at
    sandbox.zendesk.advance_clock(5)
    sandbox.zendesk.agent_edit(3, {"priority": "high"})
    stale = Ticket(
        id=3,
        priority="low",
        comment=Comment(body="ours", public=False),
        safe_update=True,
        updated_stamp=stamp,
    )
    fresh = Ticket(
        id=4, priority="low", safe_update=True, updated_stamp=zd.tickets(id=4).updated_at
    )
    results = results_by_id(wait_for_job(zd, zd.tickets.update([stale, fresh]).id))
    assert results[3]["success"] is False and results[3]["error"] == "UpdateConflict"
    assert results[4]["success"] is True
    assert zd.tickets(id=3).priority == "high"
    assert "ours" not in [c.body for c in zd.tickets.comments(ticket=3)]


def test_single_ticket_put_answers_409_on_a_safe_update_conflict(sandbox, zd):
    stamp = zd.tickets(id=2).updated_at
    audit = zd.tickets.update(Ticket(id=2, priority="high", safe_update=True, updated_stamp=stamp))
    assert audit.ticket.priority == "high"
    sandbox.zendesk.advance_clock(5)
    with pytest.raises(APIException) as refused:
        zd.tickets.update(Ticket(id=2, priority="low", safe_update=True, updated_stamp=stamp))
    assert refused.value.response.status_code == 409
    assert refused.value.response.json()["error"] == "UpdateConflict"


def test_closed_tickets_refuse_updates(sandbox, zd):
    sandbox.zendesk.put_ticket(fixtures.ticket(7, status="closed"))
    result = results_by_id(wait_for_job(zd, zd.tickets.update([Ticket(id=7, priority="low")]).id))[
        7
    ]
    assert result["error"] == "TicketUpdateFailed" and "closed" in result["details"]
    assert "success" not in result and "action" not in result


# -- vendor faults ------------------------------------------------------------------------------
def test_job_failure_fault_fails_the_chosen_tickets_only(sandbox, zd):
    sandbox.zendesk.faults.add(Fault("update_many", "job_failure", detail={"ids": [2]}))
    job = zd.tickets.update([Ticket(id=1, priority="high"), Ticket(id=2, priority="high")])
    results = results_by_id(wait_for_job(zd, job.id))
    assert results[1]["success"] is True
    assert results[2]["success"] is False and results[2]["error"] == "InternalError"
    assert zd.tickets(id=2).priority == "normal"


def test_job_failed_fault_fails_the_whole_job_without_applying_it(sandbox, zd):
    sandbox.zendesk.faults.add(Fault("update_many", "job_failed"))
    status = wait_for_job(zd, zd.tickets.update([Ticket(id=1, priority="high")]).id)
    assert status.status == "failed" and status.results == []
    assert zd.tickets(id=1).priority == "normal"


def test_conflict_fault_makes_an_agent_edit_the_ticket_before_our_update(sandbox, zd):
    sandbox.zendesk.faults.add(Fault("update_many", "conflict", detail={"ids": [5]}))
    sandbox.zendesk.advance_clock(5)
    stamp = zd.tickets(id=5).updated_at
    job = zd.tickets.update([Ticket(id=5, priority="high", safe_update=True, updated_stamp=stamp)])
    assert results_by_id(wait_for_job(zd, job.id))[5]["error"] == "UpdateConflict"


def test_a_job_polled_before_it_ran_reports_working(sandbox, zd):
    sandbox.zendesk.jobs.delay_seconds = 3600
    job = zd.tickets.update([Ticket(id=1, priority="high")])
    assert zd.job_status(id=job.id).status == "working"
    sandbox.zendesk.run_jobs()
    assert zd.job_status(id=job.id).status == "completed"


def test_transport_fault_answers_with_a_zendesk_error_body_once(sandbox, zd):
    sandbox.zendesk.faults.add(Fault("ticket_show", "status", status=500))
    with pytest.raises(APIException) as failed:
        zd.tickets(id=1)
    assert failed.value.response.json()["error"] == "InternalError"
    assert zd.tickets(id=1).id == 1


# -- fields ------------------------------------------------------------------------------------
def test_ticket_fields_list_and_create_a_tagger_with_options(zd):
    assert LEVEL in {f.id for f in zd.ticket_fields()}
    created = zd.ticket_fields.create(
        TicketField(
            type="tagger",
            title="Tier",
            custom_field_options=[{"name": "Gold", "value": "tier_gold"}],
        )
    )
    assert created.id and created.custom_field_options[0].value == "tier_gold"
    assert created.id in {f.id for f in zd.ticket_fields()}


def test_organization_fields_list_create_and_refuse_a_duplicate_key(zd):
    assert [f.key for f in zd.organization_fields()] == [catalogue.ZD_ORG_FIELD_SF_ID]
    created = zd.organization_fields.create(
        OrganizationField(type="text", key="tier", title="Tier")
    )
    assert created.key == "tier"
    with pytest.raises(APIException) as refused:
        zd.organization_fields.create(
            OrganizationField(type="text", key="tier", title="Tier again")
        )
    assert refused.value.response.status_code == 422


# -- authentication, quotas, persistence ------------------------------------------------------------
def test_wrong_token_gets_zendesks_401_body(sandbox, zd):
    intruder = client(sandbox, email=catalogue.ZENDESK_EMAIL, token="wrong")
    with pytest.raises(APIException) as refused:
        intruder.tickets(id=1)
    assert refused.value.response.status_code == 401
    assert refused.value.response.json() == {"error": "Couldn't authenticate you"}


def test_oauth_bearer_token_is_accepted(sandbox, zd):
    assert client(sandbox, oauth_token=catalogue.ZENDESK_OAUTH_TOKEN).tickets(id=1).id == 1


def test_incremental_quota_answers_429_with_retry_after_and_rate_limit_headers(sandbox, zd):
    sandbox.zendesk.quotas.enabled = True
    sandbox.zendesk.quotas.set_rules(
        sandbox.zendesk.default_quota_rules(), time_factor=0.02
    )  # 1.2 s minute
    url = f"{sandbox.urls['zendesk']}/api/v2/incremental/tickets/cursor.json"
    auth = (f"{catalogue.ZENDESK_EMAIL}/token", catalogue.ZENDESK_API_TOKEN)
    session = raw_session(sandbox)
    answers = [session.get(url, params={"start_time": 0}, auth=auth) for _ in range(11)]
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    assert (
        answers[0].headers["X-Rate-Limit"] == "700"
        and answers[0].headers["ratelimit-remaining"] == "699"
    )
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert answers[-1].json() == {
        "error": "APIRateLimitExceeded",
        "description": "Number of allowed incremental export API requests per minute exceeded",
    }
    time.sleep(1.3)
    assert len(list(zd.tickets.incremental(start_time=0))) == 5  # the window moved on


def test_state_round_trips_through_dump_and_load(sandbox, zd):
    sandbox.zendesk.put_metric_set(fixtures.metric_set(1))
    wait_for_job(
        zd, zd.tickets.update([Ticket(id=1, comment=Comment(body="kept", public=False))]).id
    )
    state = sandbox.zendesk.dump_state()
    sandbox.zendesk.load_state(state)
    sandbox.zendesk.advance_clock(61)  # ticket 1 changed within the export lag
    assert "kept" in [c.body for c in zd.tickets.comments(ticket=1)]
    assert len(list(zd.tickets.incremental(start_time=0))) == 5
    assert [m["ticket_id"] for m in state["ticket_metrics"]] == [1]
    [shown] = zd.tickets(ids=[1], include=["metric_sets"])
    assert shown.to_dict()["metric_set"]["reply_time_in_minutes"]["calendar"] == 30


def test_our_private_note_moves_latest_comment_added_at_but_counts_no_reply(sandbox, zd):
    sandbox.zendesk.put_metric_set(fixtures.metric_set(1))
    wait_for_job(
        zd, zd.tickets.update([Ticket(id=1, comment=Comment(body="note", public=False))]).id
    )
    [shown] = zd.tickets(ids=[1], include=["metric_sets"])
    metric_set = shown.to_dict()["metric_set"]
    assert metric_set["latest_comment_added_at"] == shown.updated_at
    assert (
        metric_set["replies"] == 1
        and metric_set["assignee_updated_at"] == (fixtures.metric_set(1)["assignee_updated_at"])
    )


def test_unknown_endpoint_is_a_404(sandbox):
    answer = raw_session(sandbox).get(f"{sandbox.urls['zendesk']}/api/v2/nothing.json")
    assert answer.status_code == 404 and answer.json()["error"] == "InvalidEndpoint"
