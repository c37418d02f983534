"""Ticket -> account, by the ordered join strategies of the config.

Each strategy reads one join key of the ticket (put there by normalisation) and looks it up in
an index of the accounts, built once per run. The first strategy that finds exactly one account
wins. A ticket that no strategy matches, or only ambiguously (a key shared by several accounts,
e.g. a duplicated external id), keeps account_id None (tier "unknown" downstream) and is listed
in `unmatched` with the reason. Nothing here raises on bad data.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from config.join_schema import EmailDomain, JoinStrategy
from mapping.records import Account, Ticket

_SALESFORCE_ID_LENGTHS = (15, 18)
_TICKET_FIELDS = tuple(f.name for f in dataclasses.fields(Ticket))


def _with_account(ticket: Ticket, account_id: str | None) -> Ticket:
    """`dataclasses.replace(ticket, account_id=...)`, three times faster.

    Ticket has no __post_init__, so copying the slots is all replace() would do; at 100k
    tickets per run the difference is most of the join's time.
    """
    clone = object.__new__(Ticket)
    for name in _TICKET_FIELDS:
        object.__setattr__(clone, name, getattr(ticket, name))
    object.__setattr__(clone, "account_id", account_id)
    return clone


@dataclass(frozen=True)
class JoinResult:
    tickets: list[Ticket]  # every ticket, input order, account_id set where matched
    unmatched: list[tuple[str, str]]  # (ticket ref, reason), input order
    matched_by: Counter[str] = field(default_factory=Counter)  # strategy key -> tickets matched
    # Tickets that got their account only through linked tickets (not requests of their own).
    via_links: frozenset[str] = frozenset()


def _id_key(value: str) -> str:
    # Salesforce ids come as 15 case-sensitive characters or 18 (the 15 plus a checksum);
    # Zendesk external ids and ticket fields hold either form.
    text = value.strip()
    if len(text) in _SALESFORCE_ID_LENGTHS and text.isalnum():
        return text[:15]
    return text


def _text_key(value: str) -> str:
    return value.strip().casefold()


_NORMALISE = {"id": _id_key, "external_id": _text_key, "name": _text_key, "domains": _text_key}


class AccountIndex:
    """Accounts by id, external id, name and domain; values are lists to expose duplicates."""

    def __init__(self, accounts: Iterable[Account], attributes: Iterable[str]):
        self._by: dict[str, dict[str, list[str]]] = {attribute: {} for attribute in attributes}
        for account in accounts:
            for attribute, table in self._by.items():
                values = (
                    account.domains if attribute == "domains" else (getattr(account, attribute),)
                )
                if attribute == "id":
                    # A named org's account (eu/001...) is found by the id its org gave it
                    # (and by its whole id, as any other: an id of odd text is still found).
                    values = tuple(dict.fromkeys((account.id, account.id.rpartition("/")[2])))
                for value in values:
                    if value:
                        ids = table.setdefault(_NORMALISE[attribute](str(value)), [])
                        if account.id not in ids:
                            ids.append(account.id)

    def lookup(self, attribute: str, value: str) -> list[str]:
        table = self._by[attribute]
        key = _NORMALISE[attribute](value)
        found = table.get(key, [])
        if attribute == "domains":
            # support.eu.acme.com belongs to acme.com: climb while at least two labels remain.
            while not found and key.count(".") >= 2:
                key = key.split(".", 1)[1]
                found = table.get(key, [])
        return found


def _attempt(strategy: JoinStrategy, ticket: Ticket, index: AccountIndex) -> tuple[str | None, str]:
    """(account id or None, what happened) for one strategy on one ticket."""
    if strategy.key == "linked_ticket":
        return None, ""  # needs the other tickets' accounts: see _join_through_links
    value = ticket.join_keys.get(strategy.key)
    if not value:
        return None, f"{strategy.key}: the ticket has none"
    if isinstance(strategy, EmailDomain) and value.casefold() in strategy.ignore_domains:
        return None, f"{strategy.key}: {value!r} is a free mail domain"
    found = index.lookup(strategy.match, value)
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, f"{strategy.key}: {value!r} matches no account"
    shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
    return None, f"{strategy.key}: {value!r} matches {len(found)} accounts ({shown})"


def join(
    tickets: Iterable[Ticket], accounts: Iterable[Account], strategies: Sequence[JoinStrategy]
) -> JoinResult:
    """Set each ticket's account_id by the first strategy that finds exactly one account."""
    index = AccountIndex(accounts, {strategy.match for strategy in strategies})
    joined: list[Ticket] = []
    unmatched: list[tuple[str, str]] = []
    matched_by: Counter[str] = Counter()
    for ticket in tickets:
        reasons: list[str] = []
        account_id: str | None = None
        for strategy in strategies:
            account_id, reason = _attempt(strategy, ticket, index)
            if account_id is not None:
                matched_by[strategy.key] += 1
                break
            reasons.append(reason)
        if account_id is None:
            reason = "; ".join(r for r in reasons if r) or "no join strategy configured"
            unmatched.append((ticket.ref, reason))
        if ticket.account_id != account_id:
            ticket = _with_account(ticket, account_id)
        joined.append(ticket)
    if any(strategy.key == "linked_ticket" for strategy in strategies):
        return _join_through_links(joined, unmatched, matched_by)
    return JoinResult(joined, unmatched, matched_by)


def join_groups(
    groups: Sequence[tuple[Sequence[Ticket], Sequence[JoinStrategy], Sequence[Account]]],
) -> JoinResult:
    """`join` for tickets that follow different rules (several Zendesks, each with its own
    join) or join to different accounts (each Zendesk's Salesforce org): each group by its
    strategies among its accounts; then the unmatched tickets of groups that join through
    links take the account their linked tickets, of any group, agree on."""
    joined: dict[str, Ticket] = {}
    by_links: list[tuple[str, str]] = []
    unmatched: list[tuple[str, str]] = []
    matched_by: Counter[str] = Counter()
    order: list[str] = []
    for tickets, strategies, accounts in groups:
        own = [strategy for strategy in strategies if strategy.key != "linked_ticket"]
        result = join(tickets, accounts, own)
        joined.update((ticket.ref, ticket) for ticket in result.tickets)
        order += [ticket.ref for ticket in result.tickets]
        matched_by.update(result.matched_by)
        if len(own) < len(strategies):
            by_links += result.unmatched
        else:
            unmatched += result.unmatched
    tickets = [joined[ref] for ref in order]
    if not by_links:
        return JoinResult(tickets, unmatched, matched_by)
    through = _join_through_links(tickets, by_links, matched_by)
    return JoinResult(through.tickets, through.unmatched + unmatched, matched_by, through.via_links)


def _join_through_links(
    joined: list[Ticket], unmatched: list[tuple[str, str]], matched_by: Counter[str]
) -> JoinResult:
    """Unmatched tickets take the one account their linked, matched tickets agree on.

    Links count from either side: "zendesk:ID" on a Jira issue, "jira:KEY" on a ticket.
    """
    by_ref = {t.ref: t for t in joined}
    by_link: dict[str, set[str]] = {}  # ref or "jira:KEY" -> accounts of the tickets linking it
    for ticket in joined:
        if ticket.account_id is None:
            continue
        for link in ticket.linked:
            by_link.setdefault(link, set()).add(ticket.account_id)
    still: list[tuple[str, str]] = []
    via_links: set[str] = set()
    for ref, reason in unmatched:
        ticket = by_ref[ref]
        accounts = set(by_link.get(ref, ()))
        if ticket.key:
            accounts |= by_link.get(f"{ticket.system}:{ticket.key}", set())
        for link in ticket.linked:
            other = by_ref.get(link)
            if other is not None and other.account_id is not None:
                accounts.add(other.account_id)
        if len(accounts) == 1:
            by_ref[ref] = _with_account(ticket, accounts.pop())
            matched_by["linked_ticket"] += 1
            via_links.add(ref)
        else:
            found = (
                "no linked ticket has an account"
                if not accounts
                else (
                    f"linked tickets belong to {len(accounts)} accounts ({', '.join(sorted(accounts)[:5])})"
                )
            )
            still.append(
                (ref, f"{reason}; linked_ticket: {found}" if reason else f"linked_ticket: {found}")
            )
    return JoinResult([by_ref[t.ref] for t in joined], still, matched_by, frozenset(via_links))
