"""One ticket under evaluation: its records, facts, clock and the derived facts, computed lazily.

Conditions read everything through this object, so a derived fact (business-hours age,
days to renewal...) is computed only when some trigger asks for it, and at most once.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from typing import Any

from escalation.calendar import Clock
from escalation.facts import Facts
from mapping.records import UNKNOWN_TIER, Account, Ticket

_DAY = 86400.0


class NoAccount:
    """Stands in for a missing account: every account.* attribute reads as missing."""

    __slots__ = ()
    id = name = renewal_date = arr = owner = csm = region = time_zone = health = None
    external_id = None
    tier = UNKNOWN_TIER
    domains: tuple[str, ...] = ()


NO_ACCOUNT = NoAccount()


class TicketContext:
    __slots__ = (
        "ticket",
        "account",
        "facts",
        "now",
        "today",
        "clock",
        "created",
        "sla_states",
        "_age_hours",
    )

    def __init__(
        self,
        ticket: Ticket,
        account: Account | NoAccount,
        facts: Facts,
        now: float,
        today: date,
        clock: Clock,
    ):
        self.ticket = ticket
        self.account = account
        self.facts = facts
        self.now = now  # epoch seconds
        self.today = today  # now's UTC date
        self.clock = clock
        self.created = ticket.created_at.timestamp()
        self.sla_states: dict[str, str] = {}  # filled in once SLA is known
        self._age_hours: float | None = None

    def days_to_renewal(self) -> int | None:
        renewal = self.account.renewal_date
        return None if renewal is None else (renewal - self.today).days

    def business_hours_age(self) -> float:
        if self._age_hours is None:
            self._age_hours = self.clock.between(self.created, self.now) / 3600.0
        return self._age_hours

    def linked_max_severity(self) -> int | None:
        severities = self.facts.linked_severities
        return min(severities) if severities else None

    def recent_tickets(self, days: int) -> int:
        """The account's tickets created in the last `days` days up to now."""
        times = self.facts.account_ticket_created
        if not times:
            return 0
        return bisect_right(times, self.now) - bisect_right(times, self.now - days * _DAY)

    # Ticket triggers may not count breaches or follow changes (config/matrix/conditions.py
    # refuses them); these answer for the compiler's ConditionContext all the same.
    def breaches(self, days: int) -> int:
        return 0

    def past_values(self, name: str, days: int) -> tuple[Any, ...]:
        return ()

    def sla_state(self, metric: str) -> str | None:
        return self.sla_states.get(metric)
