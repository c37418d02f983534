"""What the engine decides for one ticket; the sync layer writes it back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from escalation.facts import PriorState


class SlaState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class MetricSla:
    """One SLA metric of a ticket.

    due_at: when the target falls due (UTC). While the ticket is paused, the due time as if
        the pause ended now.
    business_seconds_left: business time until due_at (negative once breached); None once met.
    state: ok / at_risk / breached. A metric met late stays breached; met in time is ok.
    """

    metric: str  # acknowledge | next_update | resolve
    target_seconds: float
    due_at: datetime
    business_seconds_left: float | None
    state: SlaState
    paused: bool = False
    met_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Owner:
    """Who owns the ticket at its level, by the first matching routing rule.

    primary: the rule's primary (with {account.owner}/{account.csm} filled in; None when the
        account has no such person). routed_to_backup: the primary is out of office or
        missing, so `current` is the backup. note: why, in words.
    """

    role: str
    primary: str | None
    backup: str | None
    routed_to_backup: bool = False
    note: str | None = None

    @property
    def current(self) -> str | None:
        """Who should act now."""
        return self.backup if self.routed_to_backup else self.primary


class ReasonKind(StrEnum):
    TRIGGER = "trigger"
    TIMED = "timed_escalation"
    HELD = "held"  # the level did not fall (no flapping)
    DE_ESCALATED = "de_escalated"
    ENDED = "ended"  # solved or closed
    PERSON = "set_by_person"  # set by hand on the ticket (the sync layer's, never the engine's)


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    name: str  # the trigger's name, or the kind
    level: str
    text: str  # in words an agent understands

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's verdict on one ticket at `now`; `state` is what to persist for next time."""

    ticket_ref: str  # "system:id"
    level: str
    previous_level: str | None  # None when the ticket is evaluated for the first time
    level_since: datetime
    owner: Owner | None  # None for solved / closed tickets
    # By metric, only the tracked ones, in the order acknowledge, resolve, next_update
    # (read-only by convention).
    sla: dict[str, MetricSla]
    reasons: tuple[Reason, ...]
    state: PriorState

    @property
    def changed(self) -> bool:
        return self.level != self.previous_level

    @property
    def breached(self) -> tuple[str, ...]:
        """Metrics in breach, in the matrix's metric order."""
        return tuple(m for m, status in self.sla.items() if status.state is SlaState.BREACHED)


# --- fast constructors -----------------------------------------------------------------------
# A frozen dataclass's generated __init__ calls object.__setattr__ once per field, about
# 0.1 us each; at 100,000 tickets with four or five records each that is a tenth of the
# engine's time. These build the same objects through the slot descriptors, about twice as
# fast. tests/test_engine_records.py checks they stay in step with the fields.

_new = object.__new__


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple:
    return tuple(getattr(cls, name).__set__ for name in names)


METRIC_SLA_FIELDS = (
    "metric",
    "target_seconds",
    "due_at",
    "business_seconds_left",
    "state",
    "paused",
    "met_at",
)
_MS = _slot_setters(MetricSla, METRIC_SLA_FIELDS)


def metric_sla(
    metric: str,
    target_seconds: float,
    due_at: datetime,
    business_seconds_left: float | None,
    state: SlaState,
    paused: bool = False,
    met_at: datetime | None = None,
) -> MetricSla:
    """MetricSla(...), faster (the engine's hot path)."""
    record = _new(MetricSla)
    _MS[0](record, metric)
    _MS[1](record, target_seconds)
    _MS[2](record, due_at)
    _MS[3](record, business_seconds_left)
    _MS[4](record, state)
    _MS[5](record, paused)
    _MS[6](record, met_at)
    return record


DECISION_FIELDS = (
    "ticket_ref",
    "level",
    "previous_level",
    "level_since",
    "owner",
    "sla",
    "reasons",
    "state",
)
_DS = _slot_setters(Decision, DECISION_FIELDS)


def decision(
    ticket_ref: str,
    level: str,
    previous_level: str | None,
    level_since: datetime,
    owner: Owner | None,
    sla: dict[str, MetricSla],
    reasons: tuple[Reason, ...],
    state: PriorState,
) -> Decision:
    """Decision(...), faster (the engine's hot path)."""
    record = _new(Decision)
    _DS[0](record, ticket_ref)
    _DS[1](record, level)
    _DS[2](record, previous_level)
    _DS[3](record, level_since)
    _DS[4](record, owner)
    _DS[5](record, sla)
    _DS[6](record, reasons)
    _DS[7](record, state)
    return record
