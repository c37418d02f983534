"""The sandbox data generator: determinism, vendor shapes, referential integrity, realistic mix."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandbox import catalogue
from sandbox.generate import generate_dataset, jira_link_tag, write_dataset
from sandbox.generate_values import case_safe_suffix
from sandbox.runner import DATA_FILES

ANCHOR = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
ZENDESK_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
VENDOR_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$")  # Jira and Salesforce
MANAGED_ZD_FIELDS = (
    catalogue.ZD_FIELD_LEVEL,
    catalogue.ZD_FIELD_OWNER,
    catalogue.ZD_FIELD_SLA_DUE,
    catalogue.ZD_FIELD_REASON,
)
MANAGED_JIRA_FIELDS = (
    catalogue.JIRA_FIELD_LEVEL,
    catalogue.JIRA_FIELD_TIER,
    catalogue.JIRA_FIELD_RENEWAL,
    catalogue.JIRA_FIELD_ARR,
    catalogue.JIRA_FIELD_SLA_DUE,
)


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(accounts=120, tickets=800, jira_issues=150, seed=7, anchor=ANCHOR)


def _zendesk_ts(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _vendor_dt(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.000%z")


def _custom(ticket: dict, field_id: int):
    return next(field["value"] for field in ticket["custom_fields"] if field["id"] == field_id)


def _accounts(dataset) -> list[dict]:
    return dataset["salesforce"]["sobjects"]["Account"]


# --- determinism ---------------------------------------------------------------------


def test_same_sizes_seed_and_anchor_write_byte_identical_files(tmp_path: Path):
    for folder in ("a", "b"):
        write_dataset(generate_dataset(50, 300, 40, seed=3, anchor=ANCHOR), tmp_path / folder)
    for filename in DATA_FILES.values():
        assert (tmp_path / "a" / filename).read_bytes() == (tmp_path / "b" / filename).read_bytes()


def test_another_seed_gives_other_data():
    first = generate_dataset(50, 300, 40, seed=3, anchor=ANCHOR)
    second = generate_dataset(50, 300, 40, seed=4, anchor=ANCHOR)
    assert first["zendesk"]["tickets"] != second["zendesk"]["tickets"]
    assert _accounts(first) != _accounts(second)


def test_more_tickets_leave_the_accounts_unchanged():
    small = generate_dataset(50, 100, 10, seed=3, anchor=ANCHOR)
    large = generate_dataset(50, 900, 10, seed=3, anchor=ANCHOR)
    assert small["salesforce"] == large["salesforce"]
    assert small["zendesk"]["organizations"] == large["zendesk"]["organizations"]


def test_times_move_with_the_anchor():
    later = ANCHOR + timedelta(days=10)
    first = generate_dataset(20, 50, 10, seed=3, anchor=ANCHOR)["zendesk"]["tickets"][0]
    second = generate_dataset(20, 50, 10, seed=3, anchor=later)["zendesk"]["tickets"][0]
    assert _zendesk_ts(second["created_at"]) - _zendesk_ts(first["created_at"]) == 10 * 86400


# --- Zendesk shapes --------------------------------------------------------------------


def test_tickets_have_the_zendesk_attributes_with_allowed_values(dataset):
    tickets = dataset["zendesk"]["tickets"]
    assert len(tickets) == 800
    for ticket in tickets:
        assert isinstance(ticket["id"], int)
        assert ticket["url"].endswith(f"/api/v2/tickets/{ticket['id']}.json")
        assert ticket["status"] in ("new", "open", "pending", "hold", "solved", "closed")
        assert ticket["priority"] in ("urgent", "high", "normal", "low", None)
        assert ticket["type"] in ("problem", "incident", "question", "task", None)
        assert ticket["subject"] == ticket["raw_subject"] and ticket["description"]
        assert isinstance(ticket["tags"], list) and isinstance(ticket["is_public"], bool)
        assert ticket["via"]["channel"] in ("email", "web", "api", "chat")
        for key in ("requester_id", "submitter_id", "group_id"):
            assert isinstance(ticket[key], int)
    assert len({ticket["id"] for ticket in tickets}) == len(tickets)


def test_ticket_times_lie_in_the_90_days_before_the_anchor(dataset):
    anchor_ts = int(ANCHOR.timestamp())
    for ticket in dataset["zendesk"]["tickets"]:
        assert ZENDESK_TIME.match(ticket["created_at"]) and ZENDESK_TIME.match(ticket["updated_at"])
        created, updated = _zendesk_ts(ticket["created_at"]), _zendesk_ts(ticket["updated_at"])
        assert anchor_ts - 90 * 86400 <= created <= updated < anchor_ts - 60
        assert ticket["generated_timestamp"] == updated
        if ticket["status"] == "closed":
            assert updated - created >= 4 * 86400, "Zendesk closes tickets days after solving"


def test_tickets_list_every_custom_field_with_managed_ones_empty(dataset):
    expected = {
        catalogue.ZD_FIELD_ACCOUNT_ID,
        catalogue.ZD_FIELD_CATEGORY,
        *MANAGED_ZD_FIELDS,
    }
    for ticket in dataset["zendesk"]["tickets"]:
        assert {field["id"] for field in ticket["custom_fields"]} == expected
        assert all(_custom(ticket, field_id) is None for field_id in MANAGED_ZD_FIELDS)


def test_category_value_is_a_catalogue_tag_and_also_a_ticket_tag(dataset):
    categories = Counter()
    for ticket in dataset["zendesk"]["tickets"]:
        value = _custom(ticket, catalogue.ZD_FIELD_CATEGORY)
        if value is not None:
            assert value in catalogue.ZD_CATEGORY_TAGS.values()
            assert value in ticket["tags"]
        categories[value] += 1
    assert set(catalogue.ZD_CATEGORY_TAGS.values()) <= set(categories)
    assert categories[None] > 0


def test_ticket_fields_define_every_catalogue_field_with_tagger_options(dataset):
    fields = {field["id"]: field for field in dataset["zendesk"]["ticket_fields"]}
    assert fields[catalogue.ZD_FIELD_CATEGORY]["type"] == "tagger"
    assert fields[catalogue.ZD_FIELD_LEVEL]["type"] == "tagger"
    assert fields[catalogue.ZD_FIELD_REASON]["type"] == "textarea"
    for field_id in (
        catalogue.ZD_FIELD_ACCOUNT_ID,
        catalogue.ZD_FIELD_OWNER,
        catalogue.ZD_FIELD_SLA_DUE,
    ):
        assert fields[field_id]["type"] == "text"
    category_values = [
        option["value"] for option in fields[catalogue.ZD_FIELD_CATEGORY]["custom_field_options"]
    ]
    level_values = [
        option["value"] for option in fields[catalogue.ZD_FIELD_LEVEL]["custom_field_options"]
    ]
    assert category_values == [catalogue.ZD_CATEGORY_TAGS[c] for c in catalogue.CATEGORIES]
    assert level_values == [catalogue.ZD_LEVEL_TAGS[level] for level in catalogue.LEVELS]
    option_ids = [
        option["id"]
        for field in fields.values()
        for option in field.get("custom_field_options", [])
    ]
    assert len(option_ids) == len(set(option_ids))
    assert all(field["active"] and field["title"] for field in fields.values())


def test_organizations_carry_external_id_domains_and_the_account_id_field(dataset):
    zendesk = dataset["zendesk"]
    assert [field["key"] for field in zendesk["organization_fields"]] == [
        catalogue.ZD_ORG_FIELD_SF_ID
    ]
    names = [org["name"] for org in zendesk["organizations"]]
    assert len(names) == len(set(names)), "Zendesk organisation names are unique"
    for org in zendesk["organizations"]:
        assert isinstance(org["id"], int) and org["domain_names"]
        assert catalogue.ZD_ORG_FIELD_SF_ID in org["organization_fields"]
        assert ZENDESK_TIME.match(org["created_at"])


def test_users_include_the_sync_admin_agents_and_end_users(dataset):
    users = dataset["zendesk"]["users"]
    roles = Counter(user["role"] for user in users)
    assert roles["admin"] >= 1 and roles["agent"] >= 3 and roles["end-user"] > 100
    assert any(
        user["email"] == catalogue.ZENDESK_EMAIL and user["role"] == "admin" for user in users
    )
    emails = [user["email"] for user in users]
    assert len(emails) == len(set(emails))
    for user in users:
        assert {"id", "name", "email", "role", "organization_id"} <= user.keys()


# --- Jira shapes -----------------------------------------------------------------------


def test_issues_have_jira_fields_in_jira_formats(dataset):
    issues = dataset["jira"]["issues"]
    assert len(issues) == 150
    project_keys = {key for _, key, _ in catalogue.JIRA_PROJECTS}
    for issue in issues:
        project, number = issue["key"].split("-")
        fields = issue["fields"]
        assert project in project_keys and number.isdigit() and fields["project"]["key"] == project
        assert issue["self"].endswith(f"/rest/api/3/issue/{issue['id']}")
        assert fields["status"]["statusCategory"]["key"] in ("new", "indeterminate", "done")
        assert VENDOR_TIME.match(fields["created"]) and VENDOR_TIME.match(fields["updated"])
        assert _vendor_dt(fields["created"]) <= _vendor_dt(fields["updated"]) <= ANCHOR
        assert (
            fields["priority"]["name"]
            and fields["issuetype"]["name"]
            and isinstance(fields["labels"], list)
        )
        severity = fields[catalogue.JIRA_FIELD_SEVERITY]
        assert severity is None or severity["value"] in catalogue.JIRA_SEVERITY_OPTIONS
        assert all(fields[field_id] is None for field_id in MANAGED_JIRA_FIELDS)
    assert len({issue["key"] for issue in issues}) == len(issues)


def test_jira_field_list_describes_every_catalogue_custom_field(dataset):
    allowed_keys = {
        "id",
        "key",
        "name",
        "custom",
        "orderable",
        "navigable",
        "searchable",
        "clauseNames",
        "scope",
        "schema",
    }
    fields = {field["id"]: field for field in dataset["jira"]["fields"]}
    for field in fields.values():
        assert set(field) <= allowed_keys, "FieldDetails allows no other properties"
        assert "type" in field["schema"]
    custom_ids = [
        value for name, value in vars(catalogue).items() if name.startswith("JIRA_FIELD_")
    ]
    for field_id in custom_ids:
        assert fields[field_id]["custom"] is True
        assert fields[field_id]["schema"]["customId"] == int(field_id.removeprefix("customfield_"))
    assert {"summary", "status", "updated", "labels", "project"} <= fields.keys()
    options = dataset["jira"]["field_options"]
    assert [o["value"] for o in options[catalogue.JIRA_FIELD_SEVERITY]] == list(
        catalogue.JIRA_SEVERITY_OPTIONS
    )
    assert [o["value"] for o in options[catalogue.JIRA_FIELD_LEVEL]] == list(catalogue.LEVELS)
    assert dataset["jira"]["projects"] == [
        {"id": i, "key": k, "name": n} for i, k, n in catalogue.JIRA_PROJECTS
    ]


# --- Salesforce shapes -----------------------------------------------------------------


def test_salesforce_records_hold_exactly_the_catalogue_fields(dataset):
    sobjects = dataset["salesforce"]["sobjects"]
    assert sobjects["Escalation__c"] == []
    for sobject in ("Account", "User"):
        assert sobjects[sobject]
        for record in sobjects[sobject]:
            assert set(record) == {"attributes", *catalogue.SALESFORCE_OBJECTS[sobject]}
            assert record["attributes"] == {
                "type": sobject,
                "url": f"/services/data/v{catalogue.SALESFORCE_API_VERSION}/sobjects/{sobject}/{record['Id']}",
            }
            assert VENDOR_TIME.match(record["SystemModstamp"])


def test_salesforce_ids_are_18_characters_with_key_prefix_and_valid_suffix(dataset):
    sobjects = dataset["salesforce"]["sobjects"]
    ids = []
    for sobject, prefix in (("Account", "001"), ("User", "005")):
        for record in sobjects[sobject]:
            record_id = record["Id"]
            assert len(record_id) == 18 and record_id.startswith(prefix) and record_id.isalnum()
            assert record_id[15:] == case_safe_suffix(record_id[:15])
            ids.append(record_id)
    assert len(ids) == len(set(ids))


def test_accounts_hold_managed_fields_empty_and_values_in_their_types(dataset):
    for account in _accounts(dataset):
        assert account["Open_Escalations__c"] is None
        assert (
            account["Highest_Escalation_Level__c"] is None and account["Next_SLA_Breach__c"] is None
        )
        assert isinstance(account["ARR__c"], float) and account["Region__c"] in (
            "EMEA",
            "AMER",
            "APAC",
        )
        assert account["Website"].startswith("https://www.")
        if account["Renewal_Date__c"] is not None:
            datetime.strptime(account["Renewal_Date__c"], "%Y-%m-%d")


# --- referential integrity -------------------------------------------------------------


def test_ticket_people_and_organisations_exist(dataset):
    zendesk = dataset["zendesk"]
    org_ids = {org["id"] for org in zendesk["organizations"]}
    users = {user["id"]: user for user in zendesk["users"]}
    for ticket in zendesk["tickets"]:
        assert ticket["organization_id"] is None or ticket["organization_id"] in org_ids
        requester = users[ticket["requester_id"]]
        assert requester["organization_id"] == ticket["organization_id"]
        assert ticket["submitter_id"] in users
        assert ticket["assignee_id"] is None or users[ticket["assignee_id"]]["role"] == "agent"


def test_account_ids_in_zendesk_point_at_accounts(dataset):
    account_ids = {account["Id"] for account in _accounts(dataset)}
    short_ids = {account_id[:15] for account_id in account_ids}
    for org in dataset["zendesk"]["organizations"]:
        value = org["organization_fields"][catalogue.ZD_ORG_FIELD_SF_ID]
        assert value is None or value in account_ids
    values = [_custom(t, catalogue.ZD_FIELD_ACCOUNT_ID) for t in dataset["zendesk"]["tickets"]]
    filled = [value for value in values if value is not None]
    assert filled and all(value in account_ids or value in short_ids for value in filled)


def test_account_owners_and_csms_are_salesforce_users(dataset):
    users = dataset["salesforce"]["sobjects"]["User"]
    user_ids, emails = {user["Id"] for user in users}, {user["Email"] for user in users}
    for account in _accounts(dataset):
        assert account["OwnerId"] in user_ids
        assert account["CSM_Email__c"] is None or account["CSM_Email__c"] in emails


def test_jira_links_point_at_existing_tickets_and_tickets_tag_them_back(dataset):
    tickets = {ticket["id"]: ticket for ticket in dataset["zendesk"]["tickets"]}
    linked_from_jira = set()
    for issue in dataset["jira"]["issues"]:
        value = issue["fields"][catalogue.JIRA_FIELD_ZENDESK_TICKET]
        if value is None:
            continue
        for ticket_id in (int(part.strip()) for part in value.split(",")):
            assert jira_link_tag(issue["key"]) in tickets[ticket_id]["tags"]
            linked_from_jira.add((ticket_id, jira_link_tag(issue["key"])))
    tagged = {
        (tid, tag) for tid, t in tickets.items() for tag in t["tags"] if tag.startswith("jira_")
    }
    assert linked_from_jira and tagged == linked_from_jira


# --- realistic mix ---------------------------------------------------------------------


def test_few_strategic_accounts_with_the_highest_arr(dataset):
    by_tier: dict[str, list[float]] = {}
    for account in _accounts(dataset):
        by_tier.setdefault(account["Tier__c"], []).append(account["ARR__c"])
    assert len(by_tier["strategic"]) < len(by_tier["standard"])
    assert min(by_tier["strategic"]) > max(by_tier["standard"])


def test_renewals_spread_over_18_months_with_some_past(dataset):
    dates = [a["Renewal_Date__c"] for a in _accounts(dataset) if a["Renewal_Date__c"]]
    days = [(datetime.strptime(d, "%Y-%m-%d").replace(tzinfo=UTC) - ANCHOR).days for d in dates]
    assert min(days) < 0 and max(days) > 365 and all(-61 <= d <= 541 for d in days)
    assert sum(1 for d in days if d >= 0) > len(days) / 2


def test_some_accounts_have_several_open_tickets(dataset):
    open_by_org = Counter(
        t["organization_id"]
        for t in dataset["zendesk"]["tickets"]
        if t["organization_id"] and t["status"] not in ("solved", "closed")
    )
    assert sum(1 for count in open_by_org.values() if count >= 3) >= 5


def test_empty_sizes_give_empty_but_well_formed_files(tmp_path: Path):
    dataset = generate_dataset(0, 0, 0, seed=1, anchor=ANCHOR)
    assert dataset["zendesk"]["tickets"] == [] and dataset["jira"]["issues"] == []
    assert dataset["zendesk"]["ticket_fields"] and dataset["jira"]["fields"]
    write_dataset(dataset, tmp_path)
    assert all((tmp_path / filename).exists() for filename in DATA_FILES.values())


def test_tickets_without_accounts_have_no_organisation():
    tickets = generate_dataset(0, 30, 5, seed=1, anchor=ANCHOR)["zendesk"]["tickets"]
    assert all(ticket["organization_id"] is None for ticket in tickets)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"accounts": -1, "tickets": 1, "jira_issues": 1, "seed": 1, "anchor": ANCHOR},
        {"accounts": 1, "tickets": 1, "jira_issues": 1, "seed": 1, "anchor": datetime(2026, 1, 1)},
    ],
)
def test_negative_sizes_and_naive_anchors_are_refused(kwargs):
    with pytest.raises(ValueError):
        generate_dataset(**kwargs)
