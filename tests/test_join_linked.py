"""The linked_ticket join strategy: an issue takes the account its linked tickets agree on."""

from datetime import UTC, datetime

from config.join_schema import AccountIdField, LinkedTicket
from mapping.join import join
from mapping.records import Account, Ticket, TicketStatus

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ACCOUNTS = [Account("001A", "Alpha"), Account("001B", "Beta")]
STRATEGIES = [AccountIdField(strategy="account_id_field"), LinkedTicket(strategy="linked_ticket")]


def ticket(ref_id: str, account: str | None = None, linked: tuple[str, ...] = ()) -> Ticket:
    keys = {"account_id": account} if account else {}
    return Ticket("zendesk", ref_id, "s", TicketStatus.OPEN, T0, T0, join_keys=keys, linked=linked)


def issue(key: str, linked: tuple[str, ...] = ()) -> Ticket:
    return Ticket(
        "jira", key.replace("ENG-", "100"), "s", TicketStatus.OPEN, T0, T0, key=key, linked=linked
    )


def accounts_of(result):
    return {t.ref: t.account_id for t in result.tickets}


def test_issue_takes_the_account_of_the_tickets_it_lists():
    result = join([ticket("1", "001A"), issue("ENG-1", ("zendesk:1",))], ACCOUNTS, STRATEGIES)
    assert accounts_of(result)["jira:1001"] == "001A"
    assert result.unmatched == [] and result.matched_by["linked_ticket"] == 1


def test_issue_takes_the_account_of_tickets_that_list_it():
    result = join([ticket("1", "001B", ("jira:ENG-2",)), issue("ENG-2")], ACCOUNTS, STRATEGIES)
    assert accounts_of(result)["jira:1002"] == "001B"


def test_tickets_of_two_accounts_leave_the_issue_unmatched_with_the_reason():
    tickets = [ticket("1", "001A"), ticket("2", "001B"), issue("ENG-3", ("zendesk:1", "zendesk:2"))]
    result = join(tickets, ACCOUNTS, STRATEGIES)
    assert accounts_of(result)["jira:1003"] is None
    [(ref, reason)] = result.unmatched
    assert ref == "jira:1003" and "linked tickets belong to 2 accounts (001A, 001B)" in reason


def test_without_the_strategy_links_are_not_followed():
    result = join([ticket("1", "001A"), issue("ENG-1", ("zendesk:1",))], ACCOUNTS, STRATEGIES[:1])
    assert accounts_of(result)["jira:1001"] is None


def test_tickets_matched_through_links_are_marked_so_they_are_not_counted_as_requests():
    result = join([ticket("1", "001A"), issue("ENG-1", ("zendesk:1",))], ACCOUNTS, STRATEGIES)
    assert result.via_links == frozenset({"jira:1001"})
