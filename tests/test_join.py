"""The join: each strategy, their order, ambiguity, unmatched tickets, and scale."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.join_schema import (
    AccountIdField,
    EmailDomain,
    JiraField,
    OrganizationExternalId,
    OrganizationField,
    default_join,
)
from mapping.join import join
from mapping.records import Account, Ticket, TicketStatus

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

ACME = Account(
    id="001000000000001AAA", name="Acme GmbH", external_id="CUST-1", domains=("acme.com", "acme.de")
)
GLOBEX = Account(
    id="001000000000002BBB", name="Globex", external_id="CUST-2", domains=("globex.io",)
)
# Two accounts share an external id (a CRM data-quality problem the join must survive).
INITECH_A = Account(id="001000000000003CCC", name="Initech", external_id="CUST-3")
INITECH_B = Account(id="001000000000004DDD", name="Initech EU", external_id="cust-3 ")
ACCOUNTS = [ACME, GLOBEX, INITECH_A, INITECH_B]


def ticket(ticket_id: str = "1", system: str = "zendesk", **join_keys: str) -> Ticket:
    return Ticket(
        system=system,
        id=ticket_id,
        subject="s",
        status=TicketStatus.OPEN,
        created_at=NOW,
        updated_at=NOW,
        join_keys={key.replace("__", ":"): value for key, value in join_keys.items()},
    )


def joined_account(strategies: list, **join_keys: str) -> str | None:
    result = join([ticket(**join_keys)], ACCOUNTS, strategies)
    return result.tickets[0].account_id


def test_account_id_field_matches_15_and_18_character_salesforce_ids() -> None:
    strategies = [AccountIdField(strategy="account_id_field")]
    assert joined_account(strategies, account_id="001000000000001AAA") == ACME.id
    assert joined_account(strategies, account_id="001000000000001") == ACME.id
    assert joined_account(strategies, account_id="001000000000001aaa") == ACME.id  # checksum case
    assert joined_account(strategies, account_id="001000000000009ZZZ") is None


def test_a_named_orgs_account_is_found_by_its_own_id_and_by_its_whole_one() -> None:
    strategies = [AccountIdField(strategy="account_id_field")]
    eu = Account(id="eu/001000000000007GGG", name="Acme EU")
    odd = Account(id="/", name="an id of odd text (hypothesis found it unmatched)")
    for key in ("001000000000007GGG", "001000000000007", "eu/001000000000007GGG"):
        result = join([ticket(account_id=key)], [eu, odd], strategies)
        assert result.tickets[0].account_id == eu.id, key
    result = join([ticket(account_id="/")], [eu, odd], strategies)
    assert result.tickets[0].account_id == odd.id


def test_organization_external_id_can_match_the_account_external_id() -> None:
    strategies = [OrganizationExternalId(strategy="organization_external_id", match="external_id")]
    assert joined_account(strategies, organization_external_id=" cust-2") == GLOBEX.id


def test_organization_field_and_jira_field_match_account_ids() -> None:
    by_org_field = [OrganizationField(strategy="organization_field", field="sfdc_id")]
    assert joined_account(by_org_field, organization_field__sfdc_id=GLOBEX.id) == GLOBEX.id
    by_jira = [JiraField(strategy="jira_field", source="fields.customfield_10050", match="name")]
    assert (
        joined_account(by_jira, **{"jira_field__fields.customfield_10050": "ACME gmbh"}) == ACME.id
    )


def test_email_domain_matches_account_domains_and_their_subdomains() -> None:
    strategies = [EmailDomain(strategy="email_domain")]
    assert joined_account(strategies, email_domain="acme.de") == ACME.id
    assert joined_account(strategies, email_domain="support.eu.acme.com") == ACME.id
    assert joined_account(strategies, email_domain="gmail.com") is None


def test_the_first_strategy_that_matches_wins() -> None:
    strategies = [
        OrganizationExternalId(strategy="organization_external_id"),
        EmailDomain(strategy="email_domain"),
    ]
    result = join(
        [ticket(organization_external_id=GLOBEX.id, email_domain="acme.com")], ACCOUNTS, strategies
    )
    assert result.tickets[0].account_id == GLOBEX.id
    assert result.matched_by == {"organization_external_id": 1}


def test_an_ambiguous_key_does_not_match_and_says_which_accounts() -> None:
    strategies = [OrganizationExternalId(strategy="organization_external_id", match="external_id")]
    result = join([ticket(organization_external_id="CUST-3")], ACCOUNTS, strategies)
    assert result.tickets[0].account_id is None
    assert result.unmatched == [
        (
            "zendesk:1",
            f"organization_external_id: 'CUST-3' matches 2 accounts ({INITECH_A.id}, {INITECH_B.id})",
        )
    ]


def test_after_an_ambiguous_key_a_later_strategy_may_still_match() -> None:
    strategies = [
        OrganizationExternalId(strategy="organization_external_id", match="external_id"),
        EmailDomain(strategy="email_domain"),
    ]
    result = join(
        [ticket(organization_external_id="CUST-3", email_domain="globex.io")], ACCOUNTS, strategies
    )
    assert result.tickets[0].account_id == GLOBEX.id
    assert result.unmatched == []


def test_unmatched_tickets_are_kept_in_order_with_every_reason() -> None:
    tickets = [
        ticket("1", email_domain="nowhere.example"),
        ticket("2", organization_external_id=ACME.id),
        ticket("3"),
        ticket("4", email_domain="hotmail.com"),
    ]
    result = join(tickets, ACCOUNTS, default_join())
    assert [t.id for t in result.tickets] == ["1", "2", "3", "4"]
    assert [t.account_id for t in result.tickets] == [None, ACME.id, None, None]
    assert result.unmatched == [
        (
            "zendesk:1",
            "account_id: the ticket has none; organization_external_id: the ticket has none; "
            "email_domain: 'nowhere.example' matches no account",
        ),
        (
            "zendesk:3",
            "account_id: the ticket has none; organization_external_id: the ticket has none; "
            "email_domain: the ticket has none",
        ),
        (
            "zendesk:4",
            "account_id: the ticket has none; organization_external_id: the ticket has none; "
            "email_domain: 'hotmail.com' is a free mail domain",
        ),
    ]


def test_a_stale_account_id_is_cleared_when_the_ticket_no_longer_matches() -> None:
    stale = Ticket(
        system="jira",
        id="9",
        subject="s",
        status=TicketStatus.OPEN,
        created_at=NOW,
        updated_at=NOW,
        account_id=ACME.id,
    )
    result = join([stale], [], default_join())
    assert result.tickets[0].account_id is None
    assert result.unmatched[0][0] == "jira:9"


def test_no_strategies_and_empty_accounts_never_crash() -> None:
    result = join([ticket(account_id="x")], [Account(id="001", name="", external_id=None)], [])
    assert result.unmatched == [("zendesk:1", "no join strategy configured")]


@pytest.mark.slow
def test_join_handles_100k_tickets_against_20k_accounts() -> None:
    accounts = [Account(id=f"A{i}", name=f"n{i}", domains=(f"d{i}.com",)) for i in range(20_000)]
    tickets = [
        ticket(
            str(i),
            **(
                {"organization_external_id": f"A{i % 20_000}"}
                if i % 2
                else {"email_domain": f"d{i % 25_000}.com"}
            ),
        )
        for i in range(100_000)
    ]
    result = join(tickets, accounts, default_join())
    assert len(result.tickets) == 100_000
    assert result.matched_by["organization_external_id"] == 50_000
    assert len(result.unmatched) == sum(1 for i in range(0, 100_000, 2) if i % 25_000 >= 20_000)
