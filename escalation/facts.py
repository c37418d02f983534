"""What the engine needs besides the ticket and its account: facts the sync layer gathers.

`Facts` is computed per ticket by the sync layer (it holds the state store and sees all
tickets); the engine only reads it, which keeps decisions pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mapping.records import Ticket

# (when, field, its new value): one change in a ticket's history
Change = tuple[datetime, str, str | None]


@dataclass(frozen=True, slots=True)
class PriorState:
    """What the previous evaluation of this ticket left behind (persist it between runs).

    level_since: when the ticket reached `level`.
    last_trigger_at: the last evaluation at which a trigger of `level` (or higher) fired;
        None when the level came from timed escalation and no trigger of it fired since.
    timed_steps / last_timed_step_at: timed escalation steps taken at or below this level.
    """

    level: str
    level_since: datetime
    last_trigger_at: datetime | None = None
    timed_steps: int = 0
    last_timed_step_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO 8601 UTC strings) for the state store."""
        return {
            "level": self.level,
            "level_since": _iso(self.level_since),
            "last_trigger_at": _iso(self.last_trigger_at),
            "timed_steps": self.timed_steps,
            "last_timed_step_at": _iso(self.last_timed_step_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriorState:
        """Inverse of to_dict."""
        return cls(
            level=str(data["level"]),
            level_since=_parse(data["level_since"]) or datetime.fromtimestamp(0, UTC),
            last_trigger_at=_parse(data.get("last_trigger_at")),
            timed_steps=int(data.get("timed_steps", 0)),
            last_timed_step_at=_parse(data.get("last_timed_step_at")),
        )


@dataclass(frozen=True, slots=True)
class Facts:
    """Per-ticket facts from outside the ticket.

    account_ticket_created: creation times (UTC epoch seconds, sorted) of the account's
        tickets, this one included; share one tuple among the account's tickets
        (see `index_ticket_creation`). Epoch floats because recent_tickets bisects them.
    linked_severities: severities of the linked Jira issues (1 is the most severe).
    prior: the state the last evaluation persisted, None for a ticket seen the first time.
    changes: the ticket's field changes the state store holds, (when, field, new value);
        SLA milestones read them (tags as a JSON list or space-separated labels).
    linked_changes: the same for its linked Jira issues (a milestone may wait for one).
    """

    account_ticket_created: tuple[float, ...] = ()
    linked_severities: tuple[int, ...] = ()
    prior: PriorState | None = None
    changes: tuple[Change, ...] = ()
    linked_changes: tuple[Change, ...] = ()


NO_FACTS = Facts()


def index_ticket_creation(tickets: Iterable[Ticket]) -> dict[str, tuple[float, ...]]:
    """Account id -> sorted creation times (epoch seconds) of its tickets; unmatched skipped."""
    by_account: dict[str, list[float]] = {}
    for ticket in tickets:
        if ticket.account_id is not None:
            by_account.setdefault(ticket.account_id, []).append(ticket.created_at.timestamp())
    return {account_id: tuple(sorted(times)) for account_id, times in by_account.items()}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None
