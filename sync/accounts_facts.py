"""Facts for the account matrix: from the run's ticket evaluation and the state file.

Per account: its open and escalated tickets and their highest level (the matrix's decisions
of this run), its tickets' creation times (closed ones too), the SLA targets its tickets
missed (remembered, so they count after the ticket is solved), the history of the values
`changed` conditions follow (this run's value added when it differs from the last one seen),
and the engine state the last run left. Also: which values the triggers read that an account
lacks, so a missing or unreadable value is reported once per run, not once per account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from config.matrix import AccountMatrix, Condition, MatrixConfig
from escalation.account_context import (
    NO_ACCOUNT_FACTS,
    AccountContext,
    AccountFacts,
    account_getter,
)
from escalation.decision import Decision, SlaState
from escalation.facts import PriorState
from mapping.records import Account
from sync.accounts_store import AccountStore
from sync.evaluate import Evaluation

# Facts derived from tickets: never "missing" on an account.
_DERIVED = ("days_to_renewal", "open_tickets", "escalated_tickets", "highest_ticket_level")


@dataclass
class GatheredFacts:
    facts: dict[str, AccountFacts]
    new_observations: list[tuple[str, str, float, Any]] = field(default_factory=list)
    # (account, ticket ref, metric, due) of breaches at a due time the account had none of
    new_breaches: list[tuple[str, str, str, float]] = field(default_factory=list)
    # attribute -> (accounts lacking it, a few of their ids), for the run's report
    missing: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    history_days: int = 0  # the longest period a `changed` condition looks back
    breach_days: int = 0  # the longest period a `breaches` condition looks back


def conditions(accounts: AccountMatrix) -> Iterator[Condition]:
    """Every condition node of the account triggers."""
    stack = [trigger.when for trigger in accounts.triggers]
    while stack:
        node = stack.pop()
        yield node
        stack += [*(node.all_ or ()), *(node.any_ or ())]
        if node.not_ is not None:
            stack.append(node.not_)


def read_attributes(accounts: AccountMatrix) -> tuple[set[str], set[str], int, int]:
    """(account attributes the triggers read, those `changed` follows, longest history in
    days, longest breach window in days)."""
    read: set[str] = set()
    followed: set[str] = set()
    history_days = breach_days = 0
    for node in conditions(accounts):
        if node.field is not None and node.field not in _DERIVED:
            read.add(node.field)
        if node.changed is not None:
            read.add(node.changed.field)
            followed.add(node.changed.field)
            history_days = max(history_days, node.changed.days)
        if node.breaches is not None:
            breach_days = max(breach_days, node.breaches.days)
    return read, followed, history_days, breach_days


def _open_tickets_accounts(evaluation: Evaluation) -> Iterator[tuple[str, Decision]]:
    """(account id, decision) of each open ticket with an account. The run's decisions come
    one per ticket in the tickets' order (sync/evaluate.py), so they are paired by position
    without a lookup by ref (100k tickets in a large mirror); otherwise by ref."""
    tickets, decisions = evaluation.tickets, evaluation.decisions
    if len(tickets) == len(decisions):
        for ticket, decision in zip(tickets, decisions, strict=True):
            if ticket.account_id is not None and ticket.status.is_open:
                yield ticket.account_id, decision
        return
    open_account = {
        t.ref: t.account_id for t in tickets if t.account_id is not None and t.status.is_open
    }
    for decision in decisions:
        account_id = open_account.get(decision.ticket_ref)
        if account_id is not None:
            yield account_id, decision


@dataclass
class _TicketCounts:
    """Per account: open tickets, those escalated, the highest level among them."""

    open: dict[str, int] = field(default_factory=dict)
    escalated: dict[str, int] = field(default_factory=dict)
    highest: dict[str, str] = field(default_factory=dict)


def _count_tickets(
    evaluation: Evaluation,
    levels: Sequence[str],
    breaches: list[tuple[str, str, str, float]],
) -> _TicketCounts:
    """One pass over the run's open tickets (100k in a large mirror: plain dicts, no Counter,
    no call per ticket); the breaches of their SLA targets are appended to `breaches`."""
    lowest, rank = levels[0], {name: i for i, name in enumerate(levels)}
    counts = _TicketCounts()
    open_count, escalated, highest = counts.open, counts.escalated, counts.highest
    breached = SlaState.BREACHED
    for account_id, decision in _open_tickets_accounts(evaluation):
        open_count[account_id] = open_count.get(account_id, 0) + 1
        level = decision.level
        if level != lowest:
            escalated[account_id] = escalated.get(account_id, 0) + 1
            top = highest.get(account_id)
            if top is None or rank[level] > rank[top]:
                highest[account_id] = level
        for metric, status in decision.sla.items():
            if status.state is breached:
                due = status.due_at.timestamp()
                breaches.append((account_id, decision.ticket_ref, metric, due))
    return counts


def gather(
    matrix: MatrixConfig,
    evaluation: Evaluation,
    accounts: dict[str, Account],
    store: AccountStore,
    now: datetime,
) -> GatheredFacts:
    """AccountFacts for every account in the mirror, and what to remember from this run."""
    assert matrix.accounts is not None
    read, followed, history_days, breach_days = read_attributes(matrix.accounts)
    epoch = now.timestamp()
    gathered = GatheredFacts({}, history_days=history_days, breach_days=breach_days)

    counts = _count_tickets(evaluation, matrix.levels, gathered.new_breaches)

    breaches = store.breaches()
    # Facts count each due time of an account once: only breaches at a due time the account
    # has none of yet are remembered (not the same 45k rows again every run).
    fresh = []
    for breach in gathered.new_breaches:
        account_id, due = breach[0], breach[3]
        known = breaches.get(account_id, ())
        if due not in known:
            breaches[account_id] = (*known, due)
            fresh.append(breach)
    # The store's are sorted and distinct; an account with a fresh one is sorted again.
    for account_id in {breach[0] for breach in fresh}:
        breaches[account_id] = tuple(sorted(breaches[account_id]))
    gathered.new_breaches = fresh
    history = store.history(followed)
    priors = store.state_texts()
    getters = [(name, account_getter(name)) for name in sorted(read)]
    followed_getters = [(name, account_getter(name)) for name in sorted(followed)]
    missing: dict[str, list[str]] = {name: [] for name in read}
    created = evaluation.ticket_created
    # Most accounts share a few prior states' timestamps (those escalated in the same run):
    # each stored state is parsed once per distinct text.
    parsed: dict[str, PriorState] = {}
    today = now.date()
    for account_id, account in accounts.items():
        # Only the account record: these getters read account attributes, not facts.
        record = AccountContext(account, NO_ACCOUNT_FACTS, epoch, today)
        for name, read_value in getters:
            if read_value(record) is None:
                missing[name].append(account_id)
        account_history: dict[str, tuple[tuple[float, Any], ...]] = {}
        for name, read_value in followed_getters:
            past = history.get((account_id, name), ())
            value = read_value(record)
            if value is not None and (not past or past[-1][1] != value):
                gathered.new_observations.append((account_id, name, epoch, value))
                past = (*past, (epoch, value))
            if past:
                account_history[name] = past
        prior_text = priors.get(account_id)
        prior = None
        if prior_text is not None:
            prior = parsed.get(prior_text)
            if prior is None:
                prior = parsed[prior_text] = PriorState.from_dict(json.loads(prior_text))
        gathered.facts[account_id] = AccountFacts(
            open_tickets=counts.open.get(account_id, 0),
            escalated_tickets=counts.escalated.get(account_id, 0),
            highest_ticket_level=counts.highest.get(account_id),
            ticket_created=created.get(account_id, ()),
            breaches=breaches.get(account_id, ()),
            history=account_history,
            prior=prior,
        )
    missing = {name: ids for name, ids in missing.items() if ids}
    gathered.missing = {name: (len(ids), sorted(ids)[:3]) for name, ids in sorted(missing.items())}
    return gathered
