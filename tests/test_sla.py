"""SLA clocks through the engine: due times, time left, at-risk / breached, met on time or
late, pauses, the update cadence, and how targets are looked up.

The small matrix (escalation.testing): accounts without region run on the New York office
calendar (Mon-Fri 09:00-17:00); acknowledge 4h, next_update 8h, resolve 2d (= 16h);
at risk with 25% left; pending / on_hold pause."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from escalation.decision import SlaState
from escalation.engine import evaluate
from escalation.testing import make_account, make_ticket, small_matrix, small_matrix_dict
from mapping.records import TicketStatus

NY = ZoneInfo("America/New_York")
HOUR = 3600.0


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in New York (EST until Sunday 8 March): 2 = Monday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=NY)


CREATED = ny(2, 10)  # Monday 10:00
MATRIX = small_matrix()


def decide(now: datetime, matrix=MATRIX, account=None, **ticket_fields):
    ticket = make_ticket(CREATED, **ticket_fields)
    return evaluate(ticket, account or make_account(), None, now, matrix)


@pytest.mark.parametrize(
    ("now", "left_hours", "state"),
    [
        (ny(2, 12), 2.0, SlaState.OK),
        (ny(2, 13), 1.0, SlaState.AT_RISK),  # exactly 25% of 4h left
        (ny(2, 13, 30), 0.5, SlaState.AT_RISK),
        (ny(2, 14, 30), -0.5, SlaState.BREACHED),
        (ny(3, 10), -4.0, SlaState.BREACHED),  # Monday 14:00-17:00 and Tuesday 09:00-10:00
    ],
)
def test_acknowledge_clock_runs_in_business_hours(
    now: datetime, left_hours: float, state: SlaState
) -> None:
    acknowledge = decide(now).sla["acknowledge"]
    assert acknowledge.due_at == ny(2, 14)
    assert acknowledge.business_seconds_left == pytest.approx(left_hours * HOUR)
    assert acknowledge.state is state
    assert acknowledge.met_at is None


def test_acknowledged_in_time_is_met_and_ok() -> None:
    acknowledge = decide(ny(3, 10), first_response_at=ny(2, 13)).sla["acknowledge"]
    assert (acknowledge.state, acknowledge.met_at, acknowledge.business_seconds_left) == (
        SlaState.OK,
        ny(2, 13),
        None,
    )


def test_acknowledged_late_stays_breached() -> None:
    acknowledge = decide(ny(3, 10), first_response_at=ny(2, 15)).sla["acknowledge"]
    assert acknowledge.state is SlaState.BREACHED
    assert acknowledge.met_at == ny(2, 15)


def test_update_cadence_starts_at_first_response_and_restarts_with_each_update() -> None:
    assert "next_update" not in decide(ny(2, 11)).sla
    after_response = decide(ny(2, 12), first_response_at=ny(2, 11)).sla["next_update"]
    assert after_response.due_at == ny(3, 11)  # Monday 11-17 (6h) + Tuesday 09-11 (2h)
    after_update = decide(
        ny(2, 12), first_response_at=ny(2, 11), last_agent_update_at=ny(2, 12)
    ).sla["next_update"]
    assert after_update.due_at == ny(3, 12)
    assert after_update.business_seconds_left == pytest.approx(8 * HOUR)


def test_resolve_counts_working_days_of_the_calendar() -> None:
    resolve = decide(ny(2, 12)).sla["resolve"]
    assert resolve.target_seconds == 16 * HOUR  # "2d" on an 8-hour calendar
    assert resolve.due_at == ny(4, 10)  # Mon 7h + Tue 8h + Wed 1h


def test_past_pause_moves_the_due_time_out() -> None:
    resolve = decide(ny(2, 14), paused_intervals=((ny(2, 11), ny(2, 13)),)).sla["resolve"]
    assert resolve.due_at == ny(4, 12)
    assert resolve.paused is False
    assert resolve.business_seconds_left == pytest.approx(14 * HOUR)


def test_open_pause_freezes_time_left_and_flags_paused() -> None:
    paused = ((ny(2, 12), None),)
    at_two = decide(ny(2, 14), status=TicketStatus.PENDING, paused_intervals=paused).sla["resolve"]
    at_four = decide(ny(2, 16), status=TicketStatus.PENDING, paused_intervals=paused).sla["resolve"]
    assert at_two.paused and at_four.paused
    assert at_two.business_seconds_left == at_four.business_seconds_left == pytest.approx(14 * HOUR)
    assert at_two.due_at == ny(4, 12)  # as if the pause ended now
    assert at_four.due_at == ny(4, 14)


def test_pausing_status_without_recorded_interval_pauses_since_last_update() -> None:
    resolve = decide(ny(2, 14), status=TicketStatus.ON_HOLD, updated_at=ny(2, 12)).sla["resolve"]
    assert resolve.paused
    assert resolve.business_seconds_left == pytest.approx(14 * HOUR)


def test_pauses_apply_only_to_the_configured_metrics() -> None:
    raw = small_matrix_dict()
    raw["sla"]["pause_applies_to"] = ["resolve"]
    decision = decide(
        ny(2, 14),
        matrix=small_matrix(sla=raw["sla"]),
        status=TicketStatus.PENDING,
        paused_intervals=((ny(2, 11), None),),
    )
    assert decision.sla["acknowledge"].due_at == ny(2, 14)
    assert not decision.sla["acknowledge"].paused
    assert decision.sla["resolve"].paused


def test_no_pause_statuses_means_the_clock_never_stops() -> None:
    raw = small_matrix_dict()
    raw["sla"]["pause_statuses"] = []
    decision = decide(
        ny(2, 14),
        matrix=small_matrix(sla=raw["sla"]),
        status=TicketStatus.PENDING,
        paused_intervals=((ny(2, 11), None),),
    )
    assert decision.sla["resolve"].due_at == ny(4, 10)
    assert not decision.sla["resolve"].paused


def test_at_risk_threshold_may_be_a_duration() -> None:
    raw = small_matrix_dict()
    raw["sla"]["at_risk_when_remaining"] = "3h"
    acknowledge = decide(ny(2, 11, 30), matrix=small_matrix(sla=raw["sla"])).sla["acknowledge"]
    assert acknowledge.state is SlaState.AT_RISK  # 2h30 left


def test_targets_tighten_with_the_level() -> None:
    raw = small_matrix_dict(
        triggers=[
            {
                "name": "sev1",
                "level": "action-needed",
                "reason": "sev 1",
                "when": {"field": "ticket.severity", "eq": 1},
            }
        ]
    )
    decision = decide(ny(2, 10, 30), matrix=small_matrix(**raw), severity=1)
    assert decision.level == "action-needed"
    assert decision.sla["acknowledge"].due_at == ny(2, 11)  # 1h at action-needed


def test_metric_missing_from_specific_row_falls_back_to_less_specific_rows() -> None:
    raw = small_matrix_dict()
    raw["sla"]["targets"].append({"tier": "silver", "acknowledge": "2h"})
    raw["sla"]["targets"].append({"level": "action-needed", "tier": "silver", "resolve": "3d"})
    matrix = small_matrix(sla=raw["sla"])
    from escalation.compiled import compile_matrix

    compiled = compile_matrix(matrix)
    clock = compiled.clocks["new-york"]
    none_silver = {metric: rest for metric, *rest in compiled.sla.targets("none", "silver", clock)}
    assert none_silver == {
        "acknowledge": [2 * HOUR, 0.5 * HOUR],
        "next_update": [8 * HOUR, 2 * HOUR],
        "resolve": [16 * HOUR, 4 * HOUR],
    }
    # level+tier gives resolve; acknowledge comes from level+"*" before "*"+tier.
    escalated = {
        metric: target
        for metric, target, _ in compiled.sla.targets("action-needed", "silver", clock)
    }
    assert escalated == {"acknowledge": HOUR, "next_update": 2 * HOUR, "resolve": 24 * HOUR}


def test_untracked_metric_is_left_out() -> None:
    raw = small_matrix_dict()
    raw["sla"]["targets"] = [{"resolve": "2d"}]
    assert set(
        decide(ny(2, 12), matrix=small_matrix(sla=raw["sla"]), first_response_at=ny(2, 11)).sla
    ) == {"resolve"}


def test_calendar_follows_tier_then_region() -> None:
    gold = decide(ny(2, 11), account=make_account(tier="gold", region="EMEA"))
    berlin = decide(ny(2, 11), account=make_account(region="EMEA"))
    assert gold.sla["acknowledge"].due_at == ny(2, 14)  # 24x7: four elapsed hours
    assert gold.sla["resolve"].target_seconds == 48 * HOUR  # "2d" on a 24-hour calendar
    # Created 16:00 in Berlin: one hour that day, three the next morning (09:00-12:00 Berlin).
    assert berlin.sla["acknowledge"].due_at == datetime(
        2026, 3, 3, 12, tzinfo=ZoneInfo("Europe/Berlin")
    )
