"""Bad records in the systems: each is reported and skipped or handled; the run goes on.

Hostile tickets, issues and accounts are put into the sandbox through its admin APIs next to
a generated data set, then the real sync runs (tests/sync_world.py). Entries no vendor would
store (a ticket that is not an object, one without an id) are added to the Zendesk export as
it is served.
"""

from __future__ import annotations

import copy
import io
import logging
from typing import Any

import pytest

import sandbox.zendesk.exports as zendesk_exports
from sandbox import catalogue
from sync.report import print_plan, summary_line
from sync.run import RunResult
from tests.sync_world import World

pytestmark = pytest.mark.integration

HOSTILE_TEXT = [
    '" OR 1=1 --',
    "x' OR Name != '",
    "C:\\temp\\ \\\" \\' \\n",
    'project = ENG OR key = "ENG-1" ORDER BY key',
    "SELECT Id FROM Account WHERE Name LIKE '%'",
    "مرحبا بالعالم עברית \u200f\u202eRTL",
    "🚀🔥 emoji 👩‍👩‍👧 and ZWJ",
]


def template_ticket(world: World) -> dict[str, Any]:
    """A generated ticket to copy: exported already, so copies are exported too."""
    return world.sandbox.zendesk.get_ticket(1001)


def put_zendesk(world: World, ticket_id: int, **changes: Any) -> int:
    ticket = copy.deepcopy(template_ticket(world))
    ticket.update({"id": ticket_id, "status": "open", "url": None, **changes})
    world.sandbox.zendesk.put_ticket(ticket)
    return ticket_id


def custom(field_id: int, value: Any, others: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in others if f["id"] != field_id] + [{"id": field_id, "value": value}]


def put_account(world: World, **values: Any) -> str:
    account = dict(world.sandbox.salesforce.records("Account")[0])
    account.pop("Id")
    account.pop("attributes", None)
    return world.sandbox.salesforce.put_record("Account", {**account, **values})


def skipped(result: RunResult) -> dict[str, str]:
    return dict(result.pull.skipped)


def assert_run_went_on(world: World, result: RunResult) -> None:
    """The good records were evaluated and written; nothing failed or was unreachable."""
    assert result.exit_code == 0, result.summary()
    assert result.apply.results.get(("zendesk", "ok"), 0) > 10
    assert result.apply.results.get(("salesforce", "ok"), 0) > 10
    assert world.writes()["zendesk"] > 0


def test_tickets_missing_or_with_unreadable_required_values_are_reported_and_skipped(
    world: World,
) -> None:
    put_zendesk(world, 900001, created_at=None)
    put_zendesk(world, 900002, created_at="yesterday")
    put_zendesk(world, 900003, updated_at="2026-02-30T10:00:00Z")
    put_zendesk(world, 900004, updated_at=None)
    put_zendesk(world, 900005, status="waiting-for-godot")
    put_zendesk(world, 900006, status=None)
    result = world.run()
    assert {ref: why for ref, why in result.pull.skipped if ref.startswith("zendesk:9000")} == {
        "zendesk:900001": "created_at: found nothing at created_at; every ticket needs it",
        "zendesk:900002": "created_at: created_at: found 'yesterday'; expected a date and time "
        "(ISO 8601); every ticket needs it",
        "zendesk:900003": "updated_at: updated_at: found '2026-02-30T10:00:00Z'; expected a date "
        "and time (ISO 8601); every ticket needs it",
        "zendesk:900004": "updated_at: found nothing at updated_at; every ticket needs it",
        "zendesk:900005": "status: found 'waiting-for-godot' at status, which the translate table "
        "does not list; every ticket needs it",
        "zendesk:900006": "status: found nothing at status; every ticket needs it",
    }
    store = world.store()
    try:
        assert all(store.ticket(f"zendesk:90000{n}") is None for n in range(1, 7))
    finally:
        store.close()
    assert_run_went_on(world, result)
    assert f"{len(result.pull.skipped)} bad records skipped" in summary_line(result)


def test_values_that_cannot_be_read_are_left_empty_and_noted_and_the_ticket_is_kept(
    world: World,
) -> None:
    base = template_ticket(world)["custom_fields"]
    put_zendesk(world, 900011, priority="critical")  # not in the translate table
    put_zendesk(world, 900012, tags="vip")  # a string, not a list
    put_zendesk(
        world, 900013, custom_fields=custom(catalogue.ZD_FIELD_CATEGORY, ["cat_outage"], base)
    )
    put_zendesk(world, 900014, organization_id="not-a-number", requester_id=None)
    result = world.run()
    issues = {(i.record_ref, i.attribute): i.reason for i in result.pull.issues}
    assert issues[("zendesk:900011", "severity")] == (
        "found 'critical' at priority, which the translate table does not list"
    )
    decided = {d.ticket_ref for d in result.evaluation.decisions}
    assert {f"zendesk:9000{n}" for n in range(11, 15)} <= decided
    assert not any(ref.startswith("zendesk:9000") for ref, _ in result.pull.skipped)
    assert_run_went_on(world, result)


def test_export_entries_that_are_not_tickets_are_reported_and_the_page_goes_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = zendesk_exports.ticket_export_body
    good = {k: v for k, v in template_ticket(world).items() if k != "id"} | {"status": "open"}
    hostile = ["not an object", [1, 2, 3], None, 42, {**good, "id": "abc"}, {**good, "id": None},
               {**good, "id": "١٢٣"}, good]  # fmt: skip

    def with_hostile_entries(*args: Any, **kwargs: Any) -> dict[str, Any]:
        body = served(*args, **kwargs)
        if body["tickets"]:
            body["tickets"] = body["tickets"][:3] + hostile + body["tickets"][3:]
        return body

    monkeypatch.setattr(zendesk_exports, "ticket_export_body", with_hostile_entries)
    result = world.run()
    reasons = [(ref, why) for ref, why in result.pull.skipped]
    assert reasons == [
        ("zendesk:(no id)", "found str; expected a JSON object"),
        ("zendesk:(no id)", "found list; expected a JSON object"),
        ("zendesk:(no id)", "found NoneType; expected a JSON object"),
        ("zendesk:(no id)", "found int; expected a JSON object"),
        ("zendesk:abc", "found id 'abc'; expected a number"),
        ("zendesk:(no id)", "found an object without an id; every ticket needs one"),
        ("zendesk:١٢٣", "found id '١٢٣'; expected a number"),
        ("zendesk:(no id)", "found an object without an id; every ticket needs one"),
    ]
    assert result.pull.records["zendesk.tickets"] == len(world.sandbox.zendesk.store.tickets) - sum(
        1 for t in world.sandbox.zendesk.store.tickets.values() if t["status"] == "deleted"
    )
    assert_run_went_on(world, result)


def test_hostile_text_in_tickets_is_kept_cleaned_and_bounded_and_the_ticket_escalated(
    world: World,
) -> None:
    base = template_ticket(world)["custom_fields"]
    outage = custom(catalogue.ZD_FIELD_CATEGORY, "cat_outage", base)
    subjects = [*HOSTILE_TEXT, "bell\x07 escape\x1b[31m red\x7f", "x" * 100_000]
    ids = [
        put_zendesk(world, 900100 + n, subject=s, raw_subject=s, priority="urgent", custom_fields=outage)
        for n, s in enumerate(subjects)
    ]  # fmt: skip
    result = world.run()
    assert_run_went_on(world, result)
    store = world.store()
    try:
        mirrored = {i: store.ticket(f"zendesk:{i}") for i in ids}
    finally:
        store.close()
    for ticket_id, subject in zip(ids, HOSTILE_TEXT, strict=False):
        assert mirrored[ticket_id].subject == subject.strip()
    assert mirrored[ids[-2]].subject == "bell escape[31m red"  # control characters dropped
    assert len(mirrored[ids[-1]].subject) == 2000 and mirrored[ids[-1]].subject.endswith("…")
    decisions = {d.ticket_ref: d for d in result.evaluation.decisions}
    for ticket_id in ids:
        assert decisions[f"zendesk:{ticket_id}"].level in ("action-needed", "executive-review")
        assert world.zendesk_level(ticket_id) == decisions[f"zendesk:{ticket_id}"].level


def test_hostile_account_names_reach_the_written_reasons_literally(world: World) -> None:
    base = template_ticket(world)["custom_fields"]
    names = {}
    for n, name in enumerate(HOSTILE_TEXT):
        account_id = put_account(
            world, Name=name, Tier__c="strategic", Zendesk_Org_External_Id__c=f"HOSTILE-{n}"
        )
        fields = custom(catalogue.ZD_FIELD_ACCOUNT_ID, account_id,
                        custom(catalogue.ZD_FIELD_CATEGORY, "cat_outage", base))  # fmt: skip
        names[put_zendesk(world, 900200 + n, priority="urgent", custom_fields=fields)] = name
    result = world.run()
    assert_run_went_on(world, result)
    records = {r["Ticket_Ref__c"]: r for r in world.sandbox.salesforce.records("Escalation__c")}
    for ticket_id, name in names.items():
        reason = world.zendesk_field(ticket_id, catalogue.ZD_FIELD_REASON)
        expected = f"Severity 1 outage at strategic account {name}: executive sponsor informed"
        assert expected in reason
        assert expected in records[f"zendesk:{ticket_id}"]["Reason__c"]
        assert world.zendesk_level(ticket_id) == "executive-review"


def test_accounts_with_unknown_tiers_and_unreadable_values_are_kept_with_notes(
    world: World,
) -> None:
    odd = put_account(world, Name="Odd Values GmbH", Tier__c="Platinum", Renewal_Date__c="next year",
                      ARR__c="lots", Region__c=None, Health__c="Purple", Website="not a url",
                      Zendesk_Org_External_Id__c="ODD-1")  # fmt: skip
    empty = put_account(world, Name=None, Tier__c=None, Renewal_Date__c=None, ARR__c=None,
                        Website=None, Zendesk_Org_External_Id__c=None)  # fmt: skip
    result = world.run()
    assert_run_went_on(world, result)
    store = world.store()
    try:
        odd_account, empty_account = store.account(odd), store.account(empty)
    finally:
        store.close()
    assert (odd_account.tier, odd_account.renewal_date, odd_account.arr) == ("unknown", None, None)
    assert (empty_account.name, empty_account.tier) == (empty, "unknown")
    issues = {(i.record_ref, i.attribute): i.reason for i in result.pull.issues}
    assert issues[(f"salesforce:{odd}", "renewal_date")] == (
        "Renewal_Date__c: found 'next year'; expected a date (YYYY-MM-DD)"
    )
    assert issues[(f"salesforce:{odd}", "arr")] == "ARR__c: found 'lots'; expected a number"
    assert not any(ref.startswith("salesforce:") for ref, _ in result.pull.skipped)


def test_a_duplicated_external_id_leaves_the_tickets_unmatched_with_the_reason(
    world: World,
) -> None:
    first = put_account(world, Name="Twin A", Zendesk_Org_External_Id__c="TWIN-1")
    second = put_account(world, Name="Twin B", Zendesk_Org_External_Id__c="TWIN-1")
    world.sandbox.zendesk.put_organization(
        {"id": 360199999999, "name": "Twins", "external_id": "TWIN-1", "domain_names": [],
         "organization_fields": {}, "updated_at": "2026-01-01T00:00:00Z"}
    )  # fmt: skip
    put_zendesk(world, 900300, organization_id=360199999999, priority="urgent", requester_id=None,
                custom_fields=custom(catalogue.ZD_FIELD_ACCOUNT_ID, None,
                                     template_ticket(world)["custom_fields"]))  # fmt: skip
    result = world.run()
    assert_run_went_on(world, result)
    why = dict(result.evaluation.unmatched)["zendesk:900300"]
    assert f"organization_external_id: 'TWIN-1' matches 2 accounts ({first}, {second})" in why
    decision = next(d for d in result.evaluation.decisions if d.ticket_ref == "zendesk:900300")
    assert decision.level in catalogue.LEVELS  # judged as tier unknown, still escalated


def test_jira_issues_without_dates_or_with_odd_values_are_reported_or_handled(world: World) -> None:
    jira = world.sandbox.jira
    no_created = jira.create_issue("ENG", "no created", fields={"created": None})
    no_updated = jira.create_issue("ENG", "no updated", fields={"updated": None})
    odd = jira.create_issue(
        "ENG",
        HOSTILE_TEXT[3],
        fields={
            catalogue.JIRA_FIELD_SEVERITY: {"value": "Sev-0' OR 1=1"},
            catalogue.JIRA_FIELD_ZENDESK_TICKET: "abc, , zendesk:' OR 1=1, 1001",
        },
    )
    result = world.run()
    assert_run_went_on(world, result)
    ids = {key: jira.get_issue(key)["id"] for key in (no_created, no_updated, odd)}
    assert skipped(result)[f"jira:{ids[no_created]}"] == (
        "created_at: found nothing at fields.created; every ticket needs it"
    )
    assert skipped(result)[f"jira:{ids[no_updated]}"] == (
        "updated_at: found nothing at fields.updated; every ticket needs it"
    )
    store = world.store()
    try:
        kept = store.ticket(f"jira:{ids[odd]}")
    finally:
        store.close()
    assert kept.subject == HOSTILE_TEXT[3] and kept.severity is None
    issues = {(i.record_ref, i.attribute): i.reason for i in result.pull.issues}
    assert "Sev-0' OR 1=1" in issues[(f"jira:{ids[odd]}", "severity")]


def test_dry_run_lists_every_skipped_record_with_its_reason(world: World) -> None:
    put_zendesk(world, 900401, created_at="31/12/2026")
    put_zendesk(world, 900402, status="archived")
    result = world.run(dry_run=True)
    out = io.StringIO()
    print_plan(result, out)
    lines = out.getvalue().splitlines()
    assert (
        "skipped: zendesk:900401: created_at: created_at: found '31/12/2026'; expected a date and "
        "time (ISO 8601); every ticket needs it"
    ) in lines
    assert (
        "skipped: zendesk:900402: status: found 'archived' at status, which the translate table "
        "does not list; every ticket needs it"
    ) in lines
    assert world.writes() == {"zendesk": 0, "jira": 0, "salesforce": 0}


def test_an_absurd_first_reply_time_is_reported_as_a_bad_value_in_log_plan_and_summary(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    ticket_id = put_zendesk(world, 900501)
    world.sandbox.zendesk.put_metric_set(
        {"ticket_id": ticket_id, "replies": 1,
         "reply_time_in_minutes": {"calendar": 10**12, "business": 10**12}}
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="escalation_sync"):
        result = world.run(dry_run=True)
    issues = {(i.record_ref, i.attribute): i.reason for i in result.pull.issues}
    reason = issues[("zendesk:900501", "first_response_at")]
    assert "1000000000000" in reason
    out = io.StringIO()
    print_plan(result, out)
    assert f"bad value: zendesk:900501: first_response_at: {reason}" in out.getvalue().splitlines()
    assert f"{len(result.pull.issues)} bad values left out" in summary_line(result)
    assert f"bad value zendesk:900501: first_response_at: {reason}" in caplog.messages


def test_a_ticket_created_in_the_year_2999_is_reported_and_skipped(world: World) -> None:
    put_zendesk(world, 900601, created_at="2999-01-01T00:00:00Z")
    put_zendesk(world, 900602, created_at="1970-01-01T00:00:00Z")
    result = world.run()
    why = skipped(result)
    assert why["zendesk:900601"].startswith(
        "created_at: found 2999-01-01 00:00 UTC; expected a time between 1990-01-01 and "
    )
    assert why["zendesk:900602"].startswith("created_at: found 1970-01-01 00:00 UTC;")
    decided = {d.ticket_ref for d in result.evaluation.decisions}
    assert not {"zendesk:900601", "zendesk:900602"} & decided
    assert_run_went_on(world, result)
