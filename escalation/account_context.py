"""One account under evaluation: the account, the facts the sync gathered, derived facts.

Account triggers read everything through `AccountContext`, in the ticket matrix's condition
language (escalation/conditions.py compiles them with `account_getter`). `AccountFacts` is
computed by the sync layer, which sees the tickets, the decisions and the state store; the
engine only reads it, so decisions stay pure.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any

from escalation.conditions import Getter
from escalation.facts import PriorState
from mapping.records import Account
from vocabulary.conditions import ATTRIBUTES

_DAY = 86400.0
_ACCOUNT_FIELDS = frozenset(name for name in ATTRIBUTES if name.startswith("account."))

History = tuple[tuple[float, Any], ...]  # (epoch seconds, value) as observed, oldest first


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """Per-account facts from outside the account record.

    open_tickets / escalated_tickets: the account's open tickets, and those above the lowest
        ticket level; highest_ticket_level: the highest level among them (None: no ticket).
    ticket_created: creation times (epoch seconds, sorted) of all the account's tickets.
    breaches: when its tickets' SLA targets fell due unmet (epoch seconds, sorted).
    history: attribute ("account.health", "account.usage") -> the values observed, oldest
        first, the current one last; what `changed` conditions compare with.
    prior: the state the last evaluation persisted; None for an account seen the first time.
    """

    open_tickets: int = 0
    escalated_tickets: int = 0
    highest_ticket_level: str | None = None
    ticket_created: tuple[float, ...] = ()
    breaches: tuple[float, ...] = ()
    history: Mapping[str, History] = field(default_factory=dict)
    prior: PriorState | None = None


NO_ACCOUNT_FACTS = AccountFacts()


class AccountContext:
    __slots__ = ("account", "facts", "now", "today")

    def __init__(self, account: Account, facts: AccountFacts, now: float, today: date):
        self.account = account
        self.facts = facts
        self.now = now  # epoch seconds
        self.today = today  # now's UTC date

    def days_to_renewal(self) -> int | None:
        renewal = self.account.renewal_date
        return None if renewal is None else (renewal - self.today).days

    def recent_tickets(self, days: int) -> int:
        """The account's tickets created in the last `days` days up to now."""
        return _in_window(self.facts.ticket_created, self.now, days)

    def breaches(self, days: int) -> int:
        """SLA targets of the account's tickets that fell due unmet in the last `days` days."""
        return _in_window(self.facts.breaches, self.now, days)

    def past_values(self, name: str, days: int) -> tuple[Any, ...]:
        """The value held at the start of the last `days` days (or the oldest seen since),
        then every value observed after it up to now; () without a history."""
        history = self.facts.history.get(name)
        if not history:
            return ()
        start = self.now - days * _DAY
        # The last observation at or before the start is the value held then.
        first = max(bisect_right([at for at, _ in history], start) - 1, 0)
        return tuple(value for at, value in history[first:] if at <= self.now)


def _in_window(times: tuple[float, ...], now: float, days: int) -> int:
    if not times:
        return 0
    return bisect_right(times, now) - bisect_right(times, now - days * _DAY)


def account_getter(name: str) -> Getter[AccountContext]:
    """How an account trigger reads attribute `name` (vocabulary.conditions) off a context."""
    if name in _ACCOUNT_FIELDS:
        return attrgetter(name)
    if name.startswith("account."):
        signal = name.removeprefix("account.")
        return lambda ctx: ctx.account.signals.get(signal)
    if name == "days_to_renewal":
        return AccountContext.days_to_renewal
    return attrgetter(f"facts.{name}")  # open_tickets, escalated_tickets, highest_ticket_level
