"""The engine's fast record constructors build exactly what the dataclass constructors do."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields

import pytest

from escalation.decision import (
    DECISION_FIELDS,
    METRIC_SLA_FIELDS,
    Decision,
    MetricSla,
    Owner,
    SlaState,
    decision,
    metric_sla,
)
from escalation.facts import PriorState
from escalation.testing import utc


def test_fast_constructors_cover_every_field_in_order() -> None:
    assert tuple(f.name for f in fields(MetricSla)) == METRIC_SLA_FIELDS
    assert tuple(f.name for f in fields(Decision)) == DECISION_FIELDS


def test_fast_metric_sla_equals_the_dataclass_and_stays_frozen() -> None:
    args = ("resolve", 3600.0, utc(2026, 3, 2, 9), None, SlaState.OK, True, utc(2026, 3, 2, 8))
    fast = metric_sla(*args)
    assert fast == MetricSla(*args)
    assert metric_sla(*args[:5]) == MetricSla(*args[:5])
    with pytest.raises(FrozenInstanceError):
        fast.state = SlaState.BREACHED  # type: ignore[misc]


def test_fast_decision_equals_the_dataclass() -> None:
    state = PriorState("advisory", utc(2026, 3, 2, 9))
    args = (
        "zendesk:1",
        "advisory",
        None,
        utc(2026, 3, 2, 9),
        Owner("technical", "a", "b"),
        {},
        (),
        state,
    )
    assert decision(*args) == Decision(*args)
    assert hash(decision(*args).ticket_ref) == hash("zendesk:1")
