"""Normalisation: vendor records -> canonical Ticket / Account through the configured mappings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from config.join_schema import EmailDomain, JiraField, OrganizationExternalId, OrganizationField
from config.mapping_schema import JiraMapping, SalesforceMapping, ZendeskMapping
from mapping.errors import RecordError, RecordIssue
from mapping.normalise import normalise_account, normalise_ticket
from mapping.records import UNKNOWN_TIER, SourceRecord, TicketStatus
from vocabulary.values import MAX_TEXT_LENGTH

ZENDESK = ZendeskMapping.model_validate(
    {
        "ticket": {
            "category": {
                "source": "custom_fields[360111]",
                "translate": {"cat_outage": "outage", "cat_bug": "defect"},
                "keep_unknown": True,
            },
            "account_id": {"source": "custom_fields[360222]"},
            "linked": {"source": "custom_fields[360333]", "type": "list", "prefix": "jira:"},
        },
        "write": {
            "level": {"field": 360444, "options": {"none": "esc_none", "advisory": "esc_advisory"}}
        },
    }
)
JIRA = JiraMapping.model_validate(
    {
        "ticket": {
            "severity": {
                "source": "fields.customfield_10020.value",
                "translate": {"Sev-1": 1, "Sev-2": 2},
            },
            "status": {"translate": {"Waiting for Customer": "pending"}},
        },
        "write": {"level": {"field": "customfield_10171", "options": {"advisory": "Advisory"}}},
    }
)
SALESFORCE = SalesforceMapping.model_validate(
    {
        "account": {
            "tier": {
                "source": "Tier__c",
                "translate": {"Strategic": "strategic", "SMB": "standard"},
                "default": "unknown",
            },
            "renewal_date": {"source": "Renewal_Date__c"},
            "arr": {"source": "ARR__c"},
            "time_zone": {"source": "Time_Zone__c"},
            "domains": {"source": ["Website", "Email_Domains__c"]},
            "external_id": {"source": "Customer_Number__c"},
        },
        "write": {"open_escalations": "Open_Escalations__c"},
    }
)
ORGS = {
    "7": {
        "id": 7,
        "name": "Acme GmbH",
        "external_id": "001A",
        "organization_fields": {"sfdc": "001B"},
    }
}
USERS = {
    "9": {"id": 9, "email": "Ops@Support.Acme.COM"},
    "10": {"id": 10, "email": "someone@gmail.com"},
}


def zendesk_ticket(**changes: Any) -> SourceRecord:
    data = {
        "id": 42,
        "subject": "Checkout is down",
        "status": "hold",
        "priority": "urgent",
        "created_at": "2026-03-02T09:00:00Z",
        "updated_at": "2026-03-02T10:30:00Z",
        "organization_id": 7,
        "requester_id": 9,
        "assignee_id": 55,
        "tags": ["vip", "checkout"],
        "custom_fields": [
            {"id": 360111, "value": "cat_outage"},
            {"id": 360222, "value": "001XYZ"},
            {"id": 360333, "value": "SUP-1, ENG-7"},
            {"id": 360444, "value": "esc_advisory"},
        ],
    }
    data.update(changes)
    return SourceRecord("zendesk", "ticket", "42", data)


def jira_issue(**field_changes: Any) -> SourceRecord:
    fields = {
        "summary": "Payment API 500s",
        "status": {"name": "Waiting for Customer", "statusCategory": {"key": "indeterminate"}},
        "created": "2026-03-02T10:00:00.000+0100",
        "updated": "2026-03-02T11:00:00.000+0000",
        "priority": {"name": "High"},
        "customfield_10020": {"value": "Sev-1", "id": "10001"},
        "customfield_10050": "CUST-9",
        "customfield_10171": {"value": "Advisory", "id": "20002"},
        "labels": ["customer"],
        "issuelinks": [{"outwardIssue": {"key": "ENG-2"}}, {"inwardIssue": {"key": "SUP-3"}}],
        "reporter": {"emailAddress": "dev@acme.com"},
    }
    fields.update(field_changes)
    return SourceRecord("jira", "issue", "10001", {"id": "10001", "key": "SUP-1", "fields": fields})


def sf_account(**changes: Any) -> SourceRecord:
    data = {
        "Id": "001000000000001AAA",
        "Name": "Acme GmbH",
        "Tier__c": "Strategic",
        "Renewal_Date__c": "2026-09-30",
        "ARR__c": 240000.0,
        "Owner": {"Email": "ae@vendor.com"},
        "Time_Zone__c": "Europe/Berlin",
        "Website": "https://www.Acme.com/en/",
        "Email_Domains__c": "acme.de; acme.co.uk",
        "Customer_Number__c": "CUST-9",
        "Open_Escalations__c": 2,
    }
    data.update(changes)
    return SourceRecord("salesforce", "account", data["Id"], data)


def test_zendesk_ticket_uses_default_and_configured_translations() -> None:
    ticket = normalise_ticket(
        zendesk_ticket(),
        ZENDESK,
        organizations=ORGS,
        users=USERS,
        base_url="https://acme.zendesk.com",
    )
    assert ticket.ref == "zendesk:42"
    assert ticket.status is TicketStatus.ON_HOLD  # Zendesk "hold"
    assert ticket.severity == 1  # priority "urgent"
    assert ticket.category == "outage"
    assert ticket.organization == "Acme GmbH"  # organization.name through organization_id
    assert ticket.requester_email == "ops@support.acme.com"
    assert ticket.assignee == "55"  # no user record: falls back to the id
    assert ticket.tags == ("vip", "checkout")
    assert ticket.linked == ("jira:SUP-1", "jira:ENG-7")
    assert ticket.created_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert ticket.url == "https://acme.zendesk.com/agent/tickets/42"
    assert ticket.managed_fields == {"level": "esc_advisory"}
    assert ticket.account_id is None  # set by the join, not here


def test_zendesk_join_keys_follow_the_configured_strategies() -> None:
    join = [
        OrganizationExternalId(strategy="organization_external_id"),
        OrganizationField(strategy="organization_field", field="sfdc"),
        EmailDomain(strategy="email_domain"),
    ]
    ticket = normalise_ticket(zendesk_ticket(), ZENDESK, organizations=ORGS, users=USERS, join=join)
    assert ticket.join_keys == {
        "account_id": "001XYZ",
        "organization_external_id": "001A",
        "organization_field:sfdc": "001B",
        "email_domain": "support.acme.com",
    }
    free_mail = normalise_ticket(zendesk_ticket(requester_id=10), ZENDESK, users=USERS, join=join)
    assert "email_domain" not in free_mail.join_keys


def test_jira_issue_status_by_name_then_by_category_and_select_severity() -> None:
    issue = normalise_ticket(
        jira_issue(),
        JIRA,
        join=[JiraField(strategy="jira_field", source="fields.customfield_10050")],
        base_url="https://acme.atlassian.net/",
    )
    assert issue.status is TicketStatus.PENDING  # the added name
    assert issue.severity == 1  # "Sev-1" select option
    assert issue.key == "SUP-1"
    assert issue.url == "https://acme.atlassian.net/browse/SUP-1"
    assert issue.created_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # +0100 -> UTC
    assert issue.linked == ("jira:ENG-2", "jira:SUP-3")
    assert issue.join_keys == {"jira_field:fields.customfield_10050": "CUST-9"}
    assert issue.managed_fields == {"level": "Advisory"}  # the option object's value
    by_category = normalise_ticket(
        jira_issue(status={"name": "Triage", "statusCategory": {"key": "new"}}), JIRA
    )
    assert by_category.status is TicketStatus.NEW


def test_salesforce_account_translates_tier_and_collects_domains() -> None:
    account = normalise_account(
        sf_account(), SALESFORCE, tiers=("strategic", "standard", "unknown")
    )
    assert account.id == "001000000000001AAA"
    assert account.tier == "strategic"
    assert account.renewal_date == date(2026, 9, 30)
    assert account.arr == 240000.0
    assert account.owner == "ae@vendor.com"  # default Owner.Email
    assert account.domains == ("acme.com", "acme.de", "acme.co.uk")
    assert account.external_id == "CUST-9"
    assert account.managed_fields == {"open_escalations": 2}


def test_unlisted_or_missing_tier_becomes_unknown() -> None:
    assert normalise_account(sf_account(Tier__c="Platinum"), SALESFORCE).tier == UNKNOWN_TIER
    assert normalise_account(sf_account(Tier__c=None), SALESFORCE).tier == UNKNOWN_TIER
    plain = SalesforceMapping.model_validate({"account": {"tier": {"source": "Tier__c"}}})
    issues: list[RecordIssue] = []
    account = normalise_account(
        sf_account(Tier__c="Gold"), plain, tiers=("strategic", "unknown"), issues=issues
    )
    assert account.tier == UNKNOWN_TIER
    assert [(i.attribute, "'gold'" in i.reason) for i in issues] == [("tier", True)]


def test_dirty_account_values_are_left_empty_and_reported() -> None:
    issues: list[RecordIssue] = []
    account = normalise_account(
        sf_account(
            Time_Zone__c="Mars/Olympus",
            ARR__c="lots",
            Renewal_Date__c="31/09/2026",
            Website="not a site",
            Name=None,
        ),
        SALESFORCE,
        issues=issues,
    )
    assert (account.time_zone, account.arr, account.renewal_date) == (None, None, None)
    assert account.domains == ("acme.de", "acme.co.uk")  # the bad website is skipped
    assert account.name == account.id  # no name: the id stands in
    assert sorted(i.attribute for i in issues) == ["arr", "renewal_date", "time_zone"]
    assert all(i.record_ref == "salesforce:001000000000001AAA" for i in issues)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"created_at": None}, "created_at: found nothing at created_at"),
        (
            {"updated_at": "yesterday-ish"},
            "updated_at: updated_at: found 'yesterday-ish'; expected a date and time",
        ),
        (
            {"status": "escalated"},
            "status: found 'escalated' at status, which the translate table does not list",
        ),
    ],
)
def test_ticket_without_usable_required_values_raises_record_error(
    changes: dict[str, Any], reason: str
) -> None:
    issues: list[RecordIssue] = []
    with pytest.raises(RecordError) as caught:
        normalise_ticket(zendesk_ticket(**changes), ZENDESK, issues=issues)
    assert caught.value.record_ref == "zendesk:42"
    assert caught.value.reason.startswith(reason)
    assert issues == []  # reported once, as the rejection


def test_a_record_that_is_not_an_object_raises_record_error() -> None:
    with pytest.raises(RecordError):
        normalise_ticket(SourceRecord("zendesk", "ticket", "1", ["not", "a", "dict"]), ZENDESK)  # type: ignore[arg-type]


def test_unparsable_optional_values_are_empty_with_an_issue() -> None:
    issues: list[RecordIssue] = []
    ticket = normalise_ticket(
        zendesk_ticket(metric_set={"assignee_updated_at": "13/13/2026"}, priority="p0"),
        ZENDESK,
        issues=issues,
    )
    assert ticket.last_agent_update_at is None
    assert ticket.severity is None  # "p0" is not in the priority table
    assert {i.attribute for i in issues} == {"last_agent_update_at", "severity"}


def test_zendesk_ticket_metrics_give_first_reply_and_last_agent_update() -> None:
    metric_set = {
        "ticket_id": 42,
        "replies": 2,
        "reply_time_in_minutes": {"calendar": 95, "business": 35},
        "assignee_updated_at": "2026-03-02T10:15:00Z",
    }
    ticket = normalise_ticket(zendesk_ticket(metric_set=metric_set), ZENDESK)
    # The first reply is counted in calendar minutes from creation (09:00).
    assert ticket.first_response_at == datetime(2026, 3, 2, 10, 35, tzinfo=UTC)
    assert ticket.last_agent_update_at == datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "metric_set",
    [
        None,  # metric sets not sideloaded
        {"replies": 0, "reply_time_in_minutes": {"calendar": None, "business": None}},
        {"replies": 0, "reply_time_in_minutes": None, "assignee_updated_at": None},
    ],
)
def test_unanswered_ticket_has_no_first_response_and_no_issue(metric_set: Any) -> None:
    issues: list[RecordIssue] = []
    ticket = normalise_ticket(zendesk_ticket(metric_set=metric_set), ZENDESK, issues=issues)
    assert (ticket.first_response_at, ticket.last_agent_update_at) == (None, None)
    assert issues == []


@pytest.mark.parametrize(
    ("minutes", "reason"),
    [
        (-5, "found -5.0 minutes after created_at; expected zero or more"),
        (10**12, "expected a time between 1990-01-01 and 9999-12-31"),
        ("soon", "found 'soon'; expected a number"),
    ],
)
def test_unusable_minutes_leave_the_time_empty_with_an_issue(minutes: Any, reason: str) -> None:
    issues: list[RecordIssue] = []
    metric_set = {"reply_time_in_minutes": {"calendar": minutes}}
    ticket = normalise_ticket(zendesk_ticket(metric_set=metric_set), ZENDESK, issues=issues)
    assert ticket.first_response_at is None
    assert [i.attribute for i in issues] == ["first_response_at"]
    assert reason in issues[0].reason


def test_minutes_after_an_attribute_read_after_it() -> None:
    # last_agent_update_at is read after first_response_at; the offset waits for it.
    mapping = ZendeskMapping.model_validate(
        {
            "ticket": {
                "first_response_at": {
                    "source": "reply_minutes",
                    "minutes_after": "last_agent_update_at",
                }
            }
        }
    )
    record = zendesk_ticket(
        reply_minutes="30", metric_set={"assignee_updated_at": "2026-03-02T10:15:00Z"}
    )
    ticket = normalise_ticket(record, mapping)
    assert ticket.first_response_at == datetime(2026, 3, 2, 10, 45, tzinfo=UTC)


def test_hostile_and_huge_text_is_kept_as_plain_text() -> None:
    subject = "Ünïcødé 💥 {account.name} '; DROP TABLE tickets; -- \x00\x1b[31m" + "x" * 10_000
    ticket = normalise_ticket(zendesk_ticket(subject=subject, tags=["<script>", None, ""]), ZENDESK)
    assert ticket.subject.startswith("Ünïcødé 💥 {account.name} '; DROP TABLE tickets; -- [31m")
    assert "\x00" not in ticket.subject and "\x1b" not in ticket.subject
    assert len(ticket.subject) == MAX_TEXT_LENGTH
    assert ticket.tags == ("<script>",)


def test_missing_subject_and_empty_custom_fields_do_not_fail() -> None:
    ticket = normalise_ticket(
        zendesk_ticket(subject=None, raw_subject=None, custom_fields=None, tags=None), ZENDESK
    )
    assert (ticket.subject, ticket.category, ticket.tags, ticket.linked) == ("", None, (), ())
    assert ticket.managed_fields == {"level": None}


def test_jira_issue_is_acknowledged_when_work_starts_not_while_in_to_do():
    from config.mapping_schema import JiraMapping
    from mapping.normalise import normalise_ticket
    from mapping.records import SourceRecord

    def issue(category: str) -> SourceRecord:
        return SourceRecord(
            "jira",
            "issue",
            "10001",
            {
                "id": "10001",
                "key": "ENG-1",
                "fields": {
                    "summary": "x",
                    "created": "2026-11-20T10:00:00.000+0000",
                    "updated": "2026-11-21T10:00:00.000+0000",
                    "statuscategorychangedate": "2026-11-20T12:30:00.000+0000",
                    "status": {"name": "Whatever", "statusCategory": {"key": category}},
                },
            },
        )

    mapping = JiraMapping()
    started = normalise_ticket(issue("indeterminate"), mapping)
    assert started.first_response_at is not None and started.first_response_at.hour == 12
    assert normalise_ticket(issue("new"), mapping).first_response_at is None


def test_unless_must_name_a_readable_path_and_values():
    import pytest
    from pydantic import ValidationError

    from config.read_mapping import ReadField

    with pytest.raises(ValidationError):
        ReadField.model_validate({"source": "a", "unless": {"source": "b", "in": []}})
    field = ReadField.model_validate({"source": "a", "unless": {"source": "b.c", "in": ["New", 1]}})
    assert field.unless is not None and field.unless.in_ == ["new", "1"]


LATEST = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # the run's clock plus the allowed skew


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"created_at": "2999-01-01T00:00:00Z"},
            "created_at: found 2999-01-01 00:00 UTC; expected a time between 1990-01-01 and "
            "2026-03-03 09:00 UTC; every ticket needs it",
        ),
        (
            {"updated_at": "2999-01-01T00:00:00Z"},
            "updated_at: found 2999-01-01 00:00 UTC; expected a time between 1990-01-01 and "
            "2026-03-03 09:00 UTC; every ticket needs it",
        ),
        (
            {"created_at": 0},  # an empty epoch
            "created_at: found 1970-01-01 00:00 UTC; expected a time between 1990-01-01 and "
            "2026-03-03 09:00 UTC; every ticket needs it",
        ),
    ],
)
def test_a_ticket_with_an_impossible_creation_or_update_time_raises_record_error(
    changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(RecordError) as caught:
        normalise_ticket(zendesk_ticket(**changes), ZENDESK, latest=LATEST)
    assert caught.value.reason == reason


def test_a_time_shortly_after_the_clock_is_kept() -> None:
    # Within the skew the caller allows for (vendor clocks, zone slips): a usable ticket.
    ticket = normalise_ticket(
        zendesk_ticket(updated_at="2026-03-03T08:59:00Z"), ZENDESK, latest=LATEST
    )
    assert ticket.updated_at == datetime(2026, 3, 3, 8, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("metric_set", "attribute", "reason"),
    [
        (
            {"reply_time_in_minutes": {"calendar": 10**8}},  # 190 years
            "first_response_at",
            "found 100000000.0 minutes after created_at, 2216-04-19 19:40 UTC; expected a time "
            "between 1990-01-01 and 2026-03-03 09:00 UTC",
        ),
        (
            {"assignee_updated_at": "1985-06-01T00:00:00Z"},
            "last_agent_update_at",
            "found 1985-06-01 00:00 UTC; expected a time between 1990-01-01 and "
            "2026-03-03 09:00 UTC",
        ),
    ],
)
def test_an_implausible_optional_time_is_left_empty_with_an_issue(
    metric_set: dict[str, Any], attribute: str, reason: str
) -> None:
    issues: list[RecordIssue] = []
    ticket = normalise_ticket(
        zendesk_ticket(metric_set=metric_set), ZENDESK, issues=issues, latest=LATEST
    )
    assert getattr(ticket, attribute) is None
    assert [(i.attribute, i.reason) for i in issues] == [(attribute, reason)]
