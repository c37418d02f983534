"""Gather facts for every ticket in the mirror and apply the matrix (pure over its inputs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from config.join_schema import JoinStrategy
from config.schema import Config
from escalation.compiled import CompiledMatrix
from escalation.decision import Decision
from escalation.engine import evaluate_many
from escalation.facts import Change, Facts, PriorState, index_ticket_creation
from mapping.join import join, join_groups
from mapping.records import Account, Ticket
from sync.shown import prior_from_shown
from vocabulary.instances import split_instance


@dataclass(frozen=True)
class Evaluation:
    tickets: list[Ticket]  # every ticket evaluated, joined to its account
    accounts: dict[str, Account]
    decisions: list[Decision]  # one per ticket, in the tickets' order
    unmatched: list[tuple[str, str]]  # (ticket ref, why no single account matched)
    priors: dict[str, PriorState]  # as stored (an old level name read as the level's new one)
    # Tickets without a stored state start from the level they show (sync/shown.py).
    shown_priors: dict[str, PriorState] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # ref -> old level name in its state
    # Account id -> creation times of all its tickets (closed too), for the account matrix.
    ticket_created: dict[str, tuple[float, ...]] = field(default_factory=dict)


def evaluate_mirror(
    config: Config,
    compiled: CompiledMatrix,
    all_tickets: list[Ticket],
    accounts: list[Account],
    prior_states: dict[str, dict[str, Any]],
    now: datetime,
    changes: Mapping[str, tuple[Change, ...]] | None = None,
    merged_accounts: Mapping[str, str] | None = None,
) -> Evaluation:
    """Decisions for open tickets, and for closed ones whose escalation still has to end.

    All tickets (closed too) feed the "repeated tickets" fact: an account's history counts.
    A ticket with no stored state starts from the level it shows (a first run, a lost state
    file); a state stored under a level's old name (renamed_from) is read as the new one.
    `changes` (ref -> field changes, sync/ticket_changes.py) feed the SLA milestones; None
    when the matrix has none.
    """
    lowest = compiled.levels[0]
    old_names = config.matrix.renamed
    priors: dict[str, PriorState] = {}
    renamed: dict[str, str] = {}
    for ref, data in prior_states.items():
        stored = PriorState.from_dict(data)
        if stored.level in old_names:
            renamed[ref] = stored.level
            stored = replace(stored, level=old_names[stored.level])
        priors[ref] = stored
    shown_priors: dict[str, PriorState] = {}
    if merged_accounts:
        if config.connections.org_names():
            # A named org's merge (eu/001A -> eu/001B) as its tickets name the accounts: by
            # the ids the org gave them (Salesforce Ids are unique across orgs).
            merged_accounts = {
                **merged_accounts,
                **{k.rpartition("/")[2]: v.rpartition("/")[2] for k, v in merged_accounts.items()},
            }
        all_tickets = [_to_merge_winners(t, merged_accounts) for t in all_tickets]
    joined = (
        join_groups(_by_join_rules(config, all_tickets, accounts))
        if config.connections.instance_names("zendesk") or config.connections.org_names()
        else join(all_tickets, accounts, config.join)
    )
    # "Repeated tickets" counts the customer's own requests: an engineering issue that reached
    # the account through its links is not another request.
    # A deleted ticket (spam, a mistake) was no request either, nor one merged into another
    # (the surviving ticket counts once).
    created = index_ticket_creation(
        t for t in joined.tickets if t.ref not in joined.via_links and not t.withdrawn
    )
    linked_severities = _linked_severities(joined.tickets)
    linked_refs = _linked_refs(joined.tickets) if changes is not None else {}
    accounts_by_id = {a.id: a for a in accounts}
    chosen: list[Ticket] = []
    items = []
    for ticket in joined.tickets:
        prior = priors.get(ticket.ref)
        if prior is None:
            prior = prior_from_shown(ticket, config, now)
            if prior is not None:
                shown_priors[ticket.ref] = prior
        if not ticket.status.is_open and (prior is None or prior.level == lowest):
            continue
        linked = linked_severities.get(ticket.ref, ())
        facts = Facts(created.get(ticket.account_id or "", ()), linked, prior)
        if changes is not None:
            own = changes.get(ticket.ref, ())
            others = tuple(
                c for ref in linked_refs.get(ticket.ref, ()) for c in changes.get(ref, ())
            )
            if own or others:
                facts = replace(facts, changes=own, linked_changes=others)
        chosen.append(ticket)
        items.append((ticket, accounts_by_id.get(ticket.account_id or ""), facts))
    decisions = evaluate_many(items, now, compiled)
    open_refs = {t.ref for t in chosen}
    unmatched = [(ref, why) for ref, why in joined.unmatched if ref in open_refs]
    return Evaluation(
        chosen, accounts_by_id, decisions, unmatched, priors, shown_priors, renamed, created
    )


def _by_join_rules(
    config: Config, tickets: list[Ticket], accounts: list[Account]
) -> list[tuple[list[Ticket], list[JoinStrategy], list[Account]]]:
    """The tickets of each Zendesk instance with its join rules and the accounts of the
    Salesforce org it names (Jira's follow the default's rules, to the default org)."""
    orgs = config.connections.org_names()
    of_org: dict[str | None, list[Account]] = {}
    for account in accounts:
        of_org.setdefault(split_instance(account.id, orgs)[0], []).append(account)
    groups: dict[tuple[int, str | None], tuple[list[Ticket], list[JoinStrategy], list[Account]]]
    groups = {}
    for ticket in tickets:
        rules = config.for_record(ticket.system, ticket.id).join
        org = config.org_of_ticket(ticket.system, ticket.id)
        group = groups.setdefault((id(rules), org), ([], rules, of_org.get(org, [])))
        group[0].append(ticket)
    return list(groups.values())


def _linked_refs(tickets: list[Ticket]) -> dict[str, tuple[str, ...]]:
    """Ticket ref -> refs of its linked Jira issues, whichever side records the link (open or
    not: a milestone reached by an issue since done still counts)."""
    issues = {t.key: t.ref for t in tickets if t.system == "jira" and t.key}
    found: dict[str, set[str]] = {}
    for ticket in tickets:
        for link in ticket.linked:
            if ticket.system != "jira" and link.startswith("jira:") and link[5:] in issues:
                found.setdefault(ticket.ref, set()).add(issues[link[5:]])
            elif ticket.system == "jira" and link.startswith("zendesk:"):
                found.setdefault(link, set()).add(ticket.ref)
    return {ref: tuple(sorted(refs)) for ref, refs in found.items()}


def _to_merge_winners(ticket: Ticket, merged: Mapping[str, str]) -> Ticket:
    """The ticket with each join key naming an account merged into another (Salesforce's
    MasterRecordId) naming the winner instead: the loser is gone, its tickets are the winner's."""
    keys = dict(ticket.join_keys)
    for name, value in keys.items():
        seen = {value}
        while value in merged and merged[value] not in seen:  # a chain of merges
            value = merged[value]
            seen.add(value)
        keys[name] = value
    return ticket if keys == ticket.join_keys else replace(ticket, join_keys=keys)


def _linked_severities(tickets: list[Ticket]) -> dict[str, tuple[int, ...]]:
    """Ticket ref -> severities of its linked Jira issues, whichever side records the link.

    A Zendesk ticket may list "jira:KEY"; a Jira issue may list "zendesk:ID" (the Zendesk
    integration's field). Both count, while the issue is open: a done issue no longer hurts
    the customer (and the first run reads open issues only, later runs see closed ones too).
    """
    issues = {t.key: t for t in tickets if t.system == "jira" and t.key and t.status.is_open}
    found: dict[str, set[tuple[str, int]]] = {}
    for ticket in tickets:
        for link in ticket.linked:
            if ticket.system != "jira" and link.startswith("jira:"):
                issue = issues.get(link[5:])
                if issue is not None and issue.severity is not None:
                    found.setdefault(ticket.ref, set()).add((issue.ref, issue.severity))
            elif (
                ticket.system == "jira"
                and link.startswith("zendesk:")
                and ticket.severity is not None
                and ticket.status.is_open
            ):
                found.setdefault(link, set()).add((ticket.ref, ticket.severity))
    return {ref: tuple(sorted(severity for _, severity in pairs)) for ref, pairs in found.items()}
