"""The Zendesk connector against the sandbox: paging to the end, writes read back, faults recovered."""

from __future__ import annotations

import time

import pytest

from connectors.base import FieldWrite, WriteStatus
from connectors.transport import RetryPolicy
from connectors.zendesk import JobPolling, ZendeskConnector
from sandbox import catalogue
from sandbox.faults import Fault
from sandbox.quotas import QuotaRule
from sandbox.zendesk import fixtures

pytestmark = pytest.mark.integration
LEVEL = str(catalogue.ZD_FIELD_LEVEL)


@pytest.fixture
def sandbox(zendesk_small):
    """Shadows conftest's: the module's sandbox, Zendesk reset to the small data set."""
    return zendesk_small


def connector(sandbox, **options) -> ZendeskConnector:
    options.setdefault(
        "policy", RetryPolicy(backoff_initial_seconds=0.01, backoff_max_seconds=0.05)
    )
    options.setdefault(
        "job_polling",
        JobPolling(first_wait_seconds=0.05, max_wait_seconds=0.2, give_up_after_seconds=5),
    )
    return ZendeskConnector(
        sandbox.urls["zendesk"],
        email=catalogue.ZENDESK_EMAIL,
        api_token=catalogue.ZENDESK_API_TOKEN,
        ca_bundle=str(sandbox.ca_path),
        **options,
    )


def tickets_in(pages) -> list[str]:
    return [r.id for page in pages for r in page.records if r.kind == "ticket"]


def test_backfill_pages_to_the_end_and_resumes_from_the_last_cursor(sandbox):
    zd = connector(sandbox, page_size=2)
    pages = list(zd.read_ticket_changes())
    assert tickets_in(pages) == ["1", "2", "3", "4", "5"]
    assert [p.done for p in pages] == [False, False, True]
    assert tickets_in(zd.read_ticket_changes(pages[-1].cursor)) == []


def test_padded_base64_cursors_and_null_before_cursors_page_like_any_other(sandbox):
    """Zendesk's cursors are standard base64 with "=" padding (%3D in after_url) and its
    before_cursor is null: the connector treats a cursor as opaque."""
    zd = connector(sandbox, page_size=2)
    pages = list(zd.read_ticket_changes())
    cursors = [p.cursor for p in pages]
    assert any(c and c.endswith("=") for c in cursors), cursors
    assert tickets_in(pages) == ["1", "2", "3", "4", "5"]
    assert tickets_in(zd.read_ticket_changes(cursors[0])) == ["3", "4", "5"]


def test_a_write_is_read_back_and_comes_again_in_the_next_export(sandbox):
    zd = connector(sandbox)
    cursor = list(zd.read_ticket_changes())[-1].cursor
    [current] = zd.get_tickets(["3"])
    [result] = zd.apply(
        [
            FieldWrite(
                "zendesk",
                "ticket",
                "3",
                {LEVEL: "esc_level_advisory"},
                tags_add=("escalated",),
                note="Level advisory: renewal in 20 days",
                expected_updated_at=current.data["updated_at"],
            )
        ]
    )
    assert result.status is WriteStatus.OK
    [after] = zd.get_tickets(["3"])
    assert {"id": catalogue.ZD_FIELD_LEVEL, "value": "esc_level_advisory"} in after.data[
        "custom_fields"
    ]
    assert {"esc_level_advisory", "escalated"} <= set(after.data["tags"])
    notes = [c for c in zd.ticket_comments("3") if not c["public"]]
    assert [n["body"] for n in notes] == ["Level advisory: renewal in 20 days"]
    sandbox.zendesk.advance_clock(61)
    assert tickets_in(zd.read_ticket_changes(cursor)) == ["3"]


def test_organisations_are_exported_with_their_salesforce_field(sandbox):
    pages = list(connector(sandbox).read_organization_changes())
    found = {r.data["external_id"]: r.data["organization_fields"] for p in pages for r in p.records}
    assert found["ext-1"] == {catalogue.ZD_ORG_FIELD_SF_ID: fixtures.ACCOUNT_IDS[0]}
    assert pages[-1].done and int(pages[-1].cursor) >= fixtures.BASE_TS


def test_a_503_with_retry_after_on_the_export_is_recovered(sandbox):
    sandbox.zendesk.faults.add(Fault("incremental_tickets", "status", status=503, retry_after=0))
    assert len(tickets_in(connector(sandbox).read_ticket_changes())) == 5


def test_a_job_failing_for_one_ticket_is_retried_and_lands_next_time(sandbox):
    zd = connector(sandbox)
    sandbox.zendesk.faults.add(Fault("update_many", "job_failure", detail={"ids": [2]}))
    writes = [FieldWrite("zendesk", "ticket", n, {LEVEL: "esc_level_advisory"}) for n in ("1", "2")]
    assert [r.status for r in zd.apply(writes)] == [WriteStatus.OK, WriteStatus.RETRY]
    assert [r.status for r in zd.apply(writes[1:])] == [WriteStatus.OK]


def test_a_validation_failure_in_a_job_is_rejected_with_zendesks_details(sandbox):
    # Zendesk reports it as {"index", "error": "TicketUpdateFailed", "id", "details"}: sending
    # the same values again would fail the same way every run.
    sandbox.zendesk.put_ticket(fixtures.ticket(7, status="closed"))
    writes = [FieldWrite("zendesk", "ticket", n, {LEVEL: "esc_level_advisory"}) for n in ("1", "7")]
    results = connector(sandbox).apply(writes)
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.REJECTED]
    assert results[1].reason == "TicketUpdateFailed: Status: closed prevents ticket update"


def test_an_agent_editing_the_ticket_meanwhile_is_a_conflict_and_nothing_lands(sandbox):
    zd = connector(sandbox)
    [current] = zd.get_tickets(["4"])
    sandbox.zendesk.advance_clock(2)
    sandbox.zendesk.faults.add(Fault("update_many", "conflict", detail={"ids": [4]}))
    planned = FieldWrite(
        "zendesk",
        "ticket",
        "4",
        {LEVEL: "esc_level_advisory"},
        note="n",
        expected_updated_at=current.data["updated_at"],
    )
    [result] = zd.apply([planned])
    assert result.status is WriteStatus.CONFLICT and result.reason.startswith("UpdateConflict")
    assert "n" not in [c["body"] for c in zd.ticket_comments("4")]


def test_a_reset_update_many_is_retry_and_no_note_is_duplicated_on_resend(sandbox):
    zd = connector(sandbox)
    sandbox.zendesk.faults.add(Fault("update_many", "reset"))
    planned = FieldWrite("zendesk", "ticket", "5", {}, note="Escalated once")
    assert [r.status for r in zd.apply([planned])] == [WriteStatus.RETRY]
    assert [r.status for r in zd.apply([planned])] == [WriteStatus.OK]
    assert [c["body"] for c in zd.ticket_comments("5")].count("Escalated once") == 1


def test_pacing_keeps_the_export_under_its_quota(sandbox):
    app = sandbox.zendesk
    for n in range(6, 11):
        app.put_ticket(fixtures.ticket(n))
    app.quotas.enabled = True
    app.quotas.set_rules(
        [QuotaRule("incremental_exports", 4, 60.0, ("incremental_tickets",))], time_factor=0.02
    )
    zd = connector(sandbox, page_size=1, incremental_quota=(4, 1.3))
    assert len(tickets_in(zd.read_ticket_changes())) == 10
    assert app.traffic.statuses.get(("incremental_tickets", 429), 0) == 0


@pytest.mark.parametrize("spelling", ["ratelimit", "rate-limit"])
def test_a_spent_budget_is_waited_out_until_its_reset_in_either_header_spelling(sandbox, spelling):
    # The older spelling's reset was not read: the client waited 1 s instead of until the
    # reset, and its next request met a 429.
    app = sandbox.zendesk
    app.quotas.enabled = True
    app.quotas.set_rules([QuotaRule("account", 2, 60.0)], time_factor=0.03)  # a 1.8 s window
    app.rate_limit_spelling = spelling
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    try:
        zd = connector(sandbox, policy=RetryPolicy(sleep=sleep))
        for _ in range(3):
            assert [r.id for r in zd.get_tickets(["1"])] == ["1"]
    finally:
        app.rate_limit_spelling = "ratelimit"
    assert app.traffic.statuses.get(("tickets_show_many", 429), 0) == 0
    assert len(sleeps) == 1 and sleeps[0] > 1.0  # the reset (2 s, whole seconds), not 1 s


def test_a_503_on_update_many_after_the_retries_is_retry_for_every_write_not_rejected(sandbox):
    # A 503 says Zendesk did not process the job: rejecting the writes would leave them unsent
    # until their values change. Zendesk is out of reach: the later jobs are not sent either.
    sandbox.zendesk.faults.add(Fault("update_many", "status", times=-1, status=503, retry_after=0))
    policy = RetryPolicy(backoff_initial_seconds=0.01, backoff_max_seconds=0.05, max_attempts=2)
    writes = [FieldWrite("zendesk", "ticket", n, {LEVEL: "esc_level_advisory"}) for n in "12"]
    results = connector(sandbox, policy=policy, write_batch_size=1).apply(writes)
    assert [r.status for r in results] == [WriteStatus.RETRY, WriteStatus.RETRY]
    assert sandbox.zendesk.traffic.requests["update_many"] == 2  # the first job's two attempts
