"""Further SLA milestones (sla.milestones): reached by a condition over the ticket's history
and its linked issues', targets by level x tier, at-risk / breached, triggers and timed
escalation on them. Hand-worked timelines.

The small matrix (escalation.testing): a silver account without region runs on the New York
office calendar (Mon-Fri 09:00-17:00, 1d = 8h); at risk with 25% left; pending pauses.
Here: diagnosis 1d (8h) everywhere, 2h at action-needed; interim_fix 2d (16h).
2 March 2026 is a Monday.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from config.matrix import MatrixConfig
from escalation.decision import ReasonKind, SlaState
from escalation.engine import evaluate
from escalation.facts import Facts
from escalation.testing import (
    SMALL_MATRIX,
    make_account,
    make_ticket,
    small_matrix,
    small_matrix_dict,
    trigger,
)

NY = ZoneInfo("America/New_York")


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=NY)


CREATED = ny(2, 10)  # Monday 10:00
MILESTONES = [
    {
        "name": "diagnosis",
        "met_when": [{"linked_status_reached": "In Progress"}, {"tag_added": "diagnosed"}],
    },
    {"name": "interim_fix", "met_when": [{"field_set": "Workaround"}]},
]


def sla_config(**extra: Any) -> dict[str, Any]:
    targets = [dict(row) for row in SMALL_MATRIX["sla"]["targets"]]
    targets[0]["milestones"] = {"diagnosis": "1d", "interim_fix": "2d"}
    targets[1]["milestones"] = {"diagnosis": "2h"}
    return {"milestones": MILESTONES, "targets": targets, **extra}


MATRIX = small_matrix(sla=sla_config())


def decide(now: datetime, matrix: MatrixConfig = MATRIX, facts: Facts | None = None, **fields):
    ticket = make_ticket(CREATED, **fields)
    return evaluate(ticket, make_account(), facts, now, matrix)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (ny(2, 15), SlaState.OK),  # 5h of 8h taken, 3h left
        (ny(2, 16), SlaState.AT_RISK),  # 2h left: 25% of 8h
        (ny(3, 11), SlaState.BREACHED),  # due Tuesday 10:00 (Monday 10-17 = 7h, Tuesday 9-10)
    ],
)
def test_an_unreached_milestone_runs_from_creation(now: datetime, state: SlaState) -> None:
    diagnosis = decide(now).sla["diagnosis"]
    assert diagnosis.due_at == ny(3, 10)
    assert diagnosis.state is state
    assert diagnosis.met_at is None
    # interim_fix 16h: Monday 7h, Tuesday 8h, Wednesday 09:00-10:00 -> Wednesday 10:00.
    assert decide(now).sla["interim_fix"].due_at == ny(4, 10)


def test_the_tag_added_meets_it_in_time() -> None:
    facts = Facts(changes=((ny(2, 14), "tags", '["diagnosed", "vip"]'),))
    diagnosis = decide(ny(3, 11), facts=facts).sla["diagnosis"]
    assert (diagnosis.state, diagnosis.met_at) == (SlaState.OK, ny(2, 14))


def test_the_linked_issue_reaching_in_progress_late_stays_breached() -> None:
    facts = Facts(linked_changes=((ny(3, 10, 30), "status", "In Progress"),))
    diagnosis = decide(ny(3, 11), facts=facts).sla["diagnosis"]
    assert (diagnosis.state, diagnosis.met_at) == (SlaState.BREACHED, ny(3, 10, 30))


def test_a_change_after_now_has_not_happened_yet() -> None:
    facts = Facts(changes=((ny(2, 14), "Workaround", "restart the sync"),))
    assert decide(ny(2, 13), facts=facts).sla["interim_fix"].met_at is None
    assert decide(ny(2, 15), facts=facts).sla["interim_fix"].met_at == ny(2, 14)


def test_a_pause_stops_the_milestone_clock() -> None:
    paused = ((ny(2, 12), ny(2, 13)),)
    # 8h plus the hour pending: Tuesday 11:00.
    assert decide(ny(2, 14), paused_intervals=paused).sla["diagnosis"].due_at == ny(3, 11)


def test_the_level_picks_its_own_target() -> None:
    # action-needed: 2h -> Monday 12:00 (a trigger puts the severity-1 ticket there).
    matrix = small_matrix(
        sla=sla_config(),
        triggers=[trigger("sev1", "action-needed", {"field": "ticket.severity", "eq": 1})],
    )
    assert decide(ny(2, 11), matrix, severity=1).sla["diagnosis"].due_at == ny(2, 12)


def test_a_trigger_reads_the_milestone_state() -> None:
    matrix = small_matrix(
        sla=sla_config(),
        triggers=[trigger("undiagnosed", "advisory", {"field": "sla.diagnosis", "eq": "breached"})],
    )
    assert decide(ny(2, 15), matrix).level == "none"
    late = decide(ny(3, 11), matrix)
    assert late.level == "advisory"
    assert [r.name for r in late.reasons] == ["undiagnosed"]


def test_timed_escalation_on_a_missed_milestone() -> None:
    matrix = small_matrix(
        sla=sla_config(),
        timed_escalation={"metrics": ["diagnosis"], "max_level": "advisory"},
    )
    decision = decide(ny(3, 11), matrix)
    assert decision.level == "informational"
    timed = [r for r in decision.reasons if r.kind is ReasonKind.TIMED]
    assert "diagnosis not reached within the 8h target" in timed[0].text


def test_without_milestones_nothing_changes() -> None:
    assert set(decide(ny(3, 11), small_matrix()).sla) == {"acknowledge", "resolve"}


def problems(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as refused:
        MatrixConfig.model_validate(raw)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in refused.value.errors()}


def test_mistakes_are_reported_at_their_key() -> None:
    config = sla_config()
    config["targets"][0]["milestones"]["diagnsis"] = "1d"
    config["milestones"] = [*MILESTONES, {"name": "x", "met_when": [{}]}]
    found = problems(
        small_matrix_dict(
            sla=config,
            triggers=[trigger("t", "advisory", {"field": "sla.fix", "eq": "breached"})],
            timed_escalation={"metrics": ["fix"], "max_level": "advisory"},
        )
    )
    assert "unknown milestone 'diagnsis'" in found["sla.targets.0.milestones"]
    assert "expected exactly one of tag_added" in found["sla.milestones.2.met_when.0"]
    assert "unknown attribute 'sla.fix'" in found["triggers.0.when.field"]
    assert "unknown SLA metric 'fix'" in found["timed_escalation.metrics"]


def test_a_milestone_may_not_take_a_built_in_name() -> None:
    config = sla_config()
    config["milestones"] = [{"name": "resolve", "met_when": [{"tag_added": "done"}]}]
    assert "built-in SLA metric" in problems(small_matrix_dict(sla=config))["sla.milestones.0.name"]
