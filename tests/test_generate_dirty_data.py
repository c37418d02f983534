"""Every kind of dirty data the generator promises is present in a moderate data set."""

from __future__ import annotations

import unicodedata
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlparse

import pytest

from sandbox import catalogue
from sandbox.generate import generate_dataset

ANCHOR = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(accounts=300, tickets=3000, jira_issues=300, seed=11, anchor=ANCHOR)


@pytest.fixture(scope="module")
def accounts(dataset):
    return dataset["salesforce"]["sobjects"]["Account"]


@pytest.fixture(scope="module")
def tickets(dataset):
    return dataset["zendesk"]["tickets"]


def _scripts(text: str) -> set[str]:
    """Rough script names of the letters in a text (first word of the Unicode name)."""
    return {unicodedata.name(char, "?").split()[0] for char in text if ord(char) > 127}


def test_some_organisations_match_no_account(dataset, accounts):
    external_ids = {a["Zendesk_Org_External_Id__c"] for a in accounts} - {None}
    orgs = dataset["zendesk"]["organizations"]
    orphans = [o for o in orgs if o["external_id"] is None or o["external_id"] not in external_ids]
    assert any(o["external_id"] is None for o in orphans)
    assert any(o["external_id"] is not None for o in orphans)


def test_two_accounts_share_one_zendesk_external_id(accounts):
    counts = Counter(
        a["Zendesk_Org_External_Id__c"] for a in accounts if a["Zendesk_Org_External_Id__c"]
    )
    assert any(count >= 2 for count in counts.values())


def test_some_accounts_have_no_zendesk_external_id(accounts):
    assert any(a["Zendesk_Org_External_Id__c"] is None for a in accounts)


def test_some_renewal_dates_are_null(accounts):
    assert any(a["Renewal_Date__c"] is None for a in accounts)


def test_tier_labels_outside_the_picklist_include_abbreviations_and_blanks(accounts):
    unknown = {a["Tier__c"] for a in accounts if a["Tier__c"] not in catalogue.TIERS}
    assert {"Strat.", ""} <= unknown


def test_account_names_use_accents_cjk_right_to_left_and_emoji(accounts):
    scripts = set().union(*(_scripts(a["Name"]) for a in accounts))
    assert {"LATIN", "CJK", "ARABIC"} <= scripts or {"LATIN", "CJK", "HEBREW"} <= scripts
    assert any(ord(char) > 0xFFFF for a in accounts for char in a["Name"]), (
        "an emoji outside the BMP"
    )


def test_subjects_include_unicode_of_several_scripts(tickets):
    scripts = set().union(*(_scripts(t["subject"]) for t in tickets))
    assert {"CJK", "ARABIC", "HEBREW", "CYRILLIC", "HANGUL"} <= scripts
    assert any(ord(char) > 0xFFFF for t in tickets for char in t["subject"])


def test_some_subjects_are_several_kilobytes(tickets):
    assert any(len(t["subject"].encode()) > 2000 for t in tickets)


def test_subjects_include_quotes_backslashes_and_query_lookalikes(tickets):
    subjects = {t["subject"] for t in tickets}
    assert '" OR 1=1 --' in subjects
    assert any("\\" in s and '"' in s for s in subjects)
    assert any(s.startswith("project = ") and " AND " in s for s in subjects)
    assert any(s.startswith("SELECT ") and "'" in s for s in subjects)


def test_jira_summaries_include_unicode_and_query_lookalikes(dataset):
    summaries = [issue["fields"]["summary"] for issue in dataset["jira"]["issues"]]
    assert any(_scripts(s) - {"LATIN"} for s in summaries)
    assert any('"' in s or "'" in s for s in summaries)
    assert all(len(s) <= 255 for s in summaries)


def test_some_tickets_have_no_organisation(tickets):
    assert any(t["organization_id"] is None for t in tickets)


def test_orgless_requesters_write_from_account_domains_and_from_free_mail(
    dataset, accounts, tickets
):
    account_domains = {urlparse(a["Website"]).hostname.removeprefix("www.") for a in accounts}
    users = {user["id"]: user for user in dataset["zendesk"]["users"]}
    orgless_domains = [
        users[t["requester_id"]]["email"].split("@")[1]
        for t in tickets
        if t["organization_id"] is None
    ]
    assert any(domain in account_domains for domain in orgless_domains)
    assert any(domain not in account_domains for domain in orgless_domains)


def test_some_ticket_account_ids_are_pasted_in_15_character_form(tickets):
    values = [
        field["value"]
        for t in tickets
        for field in t["custom_fields"]
        if field["id"] == catalogue.ZD_FIELD_ACCOUNT_ID and field["value"]
    ]
    lengths = Counter(len(value) for value in values)
    assert lengths[15] >= 1 and lengths[18] > lengths[15]


def test_some_jira_links_have_a_space_after_the_comma(dataset):
    values = [i["fields"][catalogue.JIRA_FIELD_ZENDESK_TICKET] for i in dataset["jira"]["issues"]]
    linked = [value for value in values if value]
    assert any(", " in value for value in linked) and any(
        "," in value and ", " not in value for value in linked
    )
