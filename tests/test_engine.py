"""The engine end to end: every trigger kind, highest level wins, SLA-driven triggers, timed
escalation, no flapping / de-escalation, ended tickets, and purity.

Hand-worked on the small matrix (escalation.testing): New York office hours (Mon-Fri
09:00-17:00) for accounts without region, acknowledge 4h / next_update 8h / resolve 2d."""

from __future__ import annotations

import gc
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.decision import ReasonKind
from escalation.engine import evaluate, evaluate_many
from escalation.facts import Facts, PriorState, index_ticket_creation
from escalation.testing import make_account, make_ticket, small_matrix, trigger, utc
from mapping.records import TicketStatus

NY = ZoneInfo("America/New_York")


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=NY)  # 2 March 2026 is a Monday


CREATED = ny(2, 10)
NOW = ny(2, 11)


# --- every trigger kind ---------------------------------------------------------------------

CASES = [
    # (condition, fires for (ticket fields, account fields, facts), does not fire for ...)
    ({"field": "ticket.severity", "le": 1}, ({"severity": 1}, {}, {}), ({"severity": 2}, {}, {})),
    (
        {"field": "ticket.category", "eq": "outage"},
        ({"category": "outage"}, {}, {}),
        ({"category": "defect"}, {}, {}),
    ),
    (
        {"field": "account.tier", "eq": "gold"},
        ({}, {"tier": "gold"}, {}),
        ({}, {"tier": "silver"}, {}),
    ),
    (
        {"field": "account.arr", "ge": 500000},
        ({}, {"arr": 600000.0}, {}),
        ({}, {"arr": 90000.0}, {}),
    ),
    (
        {"all": [{"field": "days_to_renewal", "ge": 0}, {"field": "days_to_renewal", "le": 30}]},
        ({}, {"renewal_date": date(2026, 3, 31)}, {}),
        ({}, {"renewal_date": date(2026, 5, 1)}, {}),
    ),
    (
        {"field": "sla.acknowledge", "eq": "at_risk"},  # Friday 16:00 + 4h = Monday 12:00
        ({"created_at": datetime(2026, 2, 27, 16, tzinfo=NY)}, {}, {}),
        ({}, {}, {}),
    ),
    (
        {"field": "sla.resolve", "eq": "breached"},
        ({"created_at": ny(2, 8) - timedelta(days=7)}, {}, {}),
        ({}, {}, {}),
    ),
    (
        {"field": "business_hours_age", "ge": 10},  # Thursday 12:00: 5h + 8h + 2h
        ({"created_at": datetime(2026, 2, 26, 12, tzinfo=NY)}, {}, {}),
        ({}, {}, {}),
    ),
    (
        {"recent_tickets": {"days": 30, "ge": 3}},
        (
            {},
            {},
            {
                "account_ticket_created": (
                    ny(1, 9).timestamp(),
                    ny(1, 10).timestamp(),
                    CREATED.timestamp(),
                )
            },
        ),
        (
            {},
            {},
            {"account_ticket_created": (ny(1, 9).timestamp() - 40 * 86400, CREATED.timestamp())},
        ),
    ),
    (
        {"field": "linked_max_severity", "le": 1},
        ({}, {}, {"linked_severities": (3, 1)}),
        ({}, {}, {"linked_severities": (3,)}),
    ),
    (
        {"field": "ticket.tags", "contains": "vip"},
        ({"tags": ("vip",)}, {}, {}),
        ({"tags": ("api",)}, {}, {}),
    ),
]


@pytest.mark.parametrize(
    ("when", "firing", "quiet"), CASES, ids=[str(case[0])[:60] for case in CASES]
)
def test_trigger_kind_fires_only_when_its_condition_holds(
    when: dict, firing: tuple, quiet: tuple
) -> None:
    matrix = small_matrix(triggers=[trigger("t", "advisory", when, reason="because")])

    def level(ticket_fields: dict, account_fields: dict, facts: dict) -> str:
        fields = {"created_at": CREATED, **ticket_fields}
        ticket = make_ticket(fields.pop("created_at"), **fields)
        return evaluate(ticket, make_account(**account_fields), Facts(**facts), NOW, matrix).level

    assert level(*firing) == "advisory"
    assert level(*quiet) == "none"


def test_level_is_the_highest_fired_and_reasons_read_most_serious_first() -> None:
    matrix = small_matrix(
        triggers=[
            trigger(
                "vip", "informational", {"field": "ticket.tags", "contains": "vip"}, "VIP customer"
            ),
            trigger(
                "sev1",
                "action-needed",
                {"field": "ticket.severity", "eq": 1},
                "Severity {ticket.severity}",
            ),
            trigger("big", "advisory", {"field": "account.arr", "ge": 100000}, "ARR {account.arr}"),
            trigger("never", "executive-review", {"field": "ticket.severity", "eq": 9}),
        ]
    )
    ticket = make_ticket(CREATED, severity=1, tags=("vip",))
    decision = evaluate(ticket, make_account(arr=250000.0), None, NOW, matrix)
    assert decision.level == "action-needed"
    assert [(r.name, r.level, r.text) for r in decision.reasons] == [
        ("sev1", "action-needed", "Severity 1"),
        ("big", "advisory", "ARR 250,000"),
        ("vip", "informational", "VIP customer"),
    ]
    assert decision.owner is not None and decision.owner.primary == "tier3"


def test_sla_trigger_settles_the_level_and_sla_follows_it() -> None:
    # Breached at "none" (4h ack) -> action-needed, whose 1h ack target is reported.
    matrix = small_matrix(
        triggers=[
            trigger("ack-missed", "action-needed", {"field": "sla.acknowledge", "eq": "breached"})
        ]
    )
    decision = evaluate(make_ticket(CREATED), make_account(), None, ny(2, 15), matrix)
    assert decision.level == "action-needed"
    assert decision.sla["acknowledge"].due_at == ny(2, 11)
    assert decision.sla["acknowledge"].target_seconds == 3600


# --- timed escalation -----------------------------------------------------------------------

TIMED = {"metrics": ["acknowledge", "next_update"], "step": 1, "max_level": "action-needed"}


def run_timed(now: datetime, prior: PriorState | None = None, **ticket_fields):
    matrix = small_matrix(timed_escalation=TIMED)
    ticket = make_ticket(CREATED, **ticket_fields)
    return evaluate(ticket, make_account(), Facts(prior=prior), now, matrix)


def test_unacknowledged_ticket_moves_up_one_level_when_its_target_passes() -> None:
    assert run_timed(ny(2, 13, 59)).level == "none"
    decision = run_timed(ny(2, 14, 1))
    assert decision.level == "informational"
    assert decision.reasons[-1].kind is ReasonKind.TIMED
    assert "not acknowledged within the 4h target" in decision.reasons[-1].text
    assert decision.state.timed_steps == 1
    assert decision.state.last_timed_step_at == ny(2, 14, 1)


def test_next_step_waits_for_the_new_levels_target_and_stops_at_max_level() -> None:
    first = run_timed(ny(2, 14, 1))
    soon = run_timed(ny(2, 16), prior=first.state)
    assert soon.level == "informational"  # 4h must pass again since the step
    later = run_timed(ny(3, 11, 2), prior=first.state)  # Mon 14:01-17:00 + Tue 09:00-11:02
    assert later.level == "advisory"
    capped = run_timed(ny(9, 12), prior=PriorState("action-needed", ny(3, 12), None, 3, ny(3, 12)))
    assert capped.level == "action-needed"
    assert capped.state.timed_steps == 3


def test_missed_update_cadence_also_escalates() -> None:
    decision = run_timed(
        ny(3, 11, 1), first_response_at=ny(2, 10, 30), last_agent_update_at=ny(2, 11)
    )
    assert decision.level == "informational"
    assert "no update within the 8h target" in decision.reasons[-1].text


def test_acknowledged_ticket_does_not_escalate_for_a_late_acknowledge() -> None:
    late = run_timed(ny(2, 16), first_response_at=ny(2, 15))
    assert late.sla["acknowledge"].state.value == "breached"
    assert late.level == "none"


def test_timed_escalation_moves_up_by_the_configured_step() -> None:
    matrix = small_matrix(timed_escalation={**TIMED, "step": 2, "max_level": "executive-review"})
    decision = evaluate(make_ticket(CREATED), make_account(), None, ny(2, 14, 1), matrix)
    assert decision.level == "advisory"


# --- no flapping / de-escalation ------------------------------------------------------------

SEV1 = trigger("sev1", "action-needed", {"field": "ticket.severity", "eq": 1}, "Severity 1")
QUIET = {"policy": "quiet_period", "quiet_for": "4h"}


def run_levels(severity: int, now: datetime, prior: PriorState | None, **matrix_overrides):
    matrix = small_matrix(**{"triggers": [SEV1], **matrix_overrides})
    ticket = make_ticket(
        CREATED, severity=severity, first_response_at=ny(2, 10, 5), last_agent_update_at=now
    )
    return evaluate(ticket, make_account(), Facts(prior=prior), now, matrix)


def test_level_does_not_fall_while_open_by_default() -> None:
    first = run_levels(1, NOW, None)
    assert first.level == "action-needed"
    assert first.previous_level is None
    later = run_levels(3, ny(20, 12), first.state)
    assert later.level == "action-needed"
    assert later.previous_level == "action-needed"
    assert later.level_since == NOW
    assert later.reasons[-1].kind is ReasonKind.HELD


def test_quiet_period_lets_the_level_fall_after_enough_business_time() -> None:
    first = run_levels(1, NOW, None, de_escalation=QUIET)
    assert first.state.last_trigger_at == NOW
    held = run_levels(3, ny(2, 14, 59), first.state, de_escalation=QUIET)
    assert held.level == "action-needed"
    assert "until no action-needed trigger has fired for 4h" in held.reasons[-1].text
    # 11:00 + 4 business hours = 15:00 Monday
    fallen = run_levels(3, ny(2, 15), held.state, de_escalation=QUIET)
    assert fallen.level == "none"
    assert fallen.previous_level == "action-needed"
    assert fallen.reasons[-1].kind is ReasonKind.DE_ESCALATED
    assert fallen.level_since == ny(2, 15)


def test_quiet_period_restarts_when_a_trigger_of_the_level_fires_again() -> None:
    first = run_levels(1, NOW, None, de_escalation=QUIET)
    again = run_levels(1, ny(2, 14), first.state, de_escalation=QUIET)
    assert again.state.last_trigger_at == ny(2, 14)
    assert again.level_since == NOW
    assert run_levels(3, ny(2, 15), again.state, de_escalation=QUIET).level == "action-needed"
    assert run_levels(3, ny(3, 10), again.state, de_escalation=QUIET).level == "none"  # 3h + 1h


def test_level_falls_only_to_what_the_triggers_say_now() -> None:
    triggers = [SEV1, trigger("sev2", "advisory", {"field": "ticket.severity", "le": 2})]
    first = run_levels(1, NOW, None, de_escalation=QUIET, triggers=triggers)
    later = evaluate(
        make_ticket(
            CREATED, severity=2, first_response_at=ny(2, 10, 5), last_agent_update_at=ny(3, 12)
        ),
        make_account(),
        Facts(prior=first.state),
        ny(3, 12),
        small_matrix(triggers=triggers, de_escalation=QUIET),
    )
    assert later.level == "advisory"


def test_missed_timed_target_blocks_de_escalation() -> None:
    matrix = small_matrix(triggers=[SEV1], de_escalation=QUIET, timed_escalation=TIMED)
    prior = PriorState("action-needed", ny(2, 10), ny(2, 10))
    unacknowledged = make_ticket(CREATED, severity=3)
    decision = evaluate(unacknowledged, make_account(), Facts(prior=prior), ny(3, 16), matrix)
    assert decision.level == "action-needed"
    assert "acknowledge target is still missed" in decision.reasons[-1].text


def test_level_unknown_to_the_matrix_is_ignored() -> None:
    decision = run_levels(3, NOW, PriorState("sev-red", ny(1, 9)))
    assert decision.level == "none"
    assert decision.previous_level == "sev-red"


# --- ended tickets, purity, helpers -----------------------------------------------------------


@pytest.mark.parametrize("status", [TicketStatus.SOLVED, TicketStatus.CLOSED])
def test_solved_or_closed_ticket_ends_at_the_lowest_level(status: TicketStatus) -> None:
    prior = PriorState("executive-review", ny(2, 10), ny(2, 10), 2, ny(2, 10))
    decision = evaluate(
        make_ticket(CREATED, status=status, severity=1),
        make_account(),
        Facts(prior=prior),
        NOW,
        small_matrix(triggers=[SEV1]),
    )
    assert (decision.level, decision.previous_level, decision.owner, decision.sla) == (
        "none",
        "executive-review",
        None,
        {},
    )
    assert decision.reasons[0].kind is ReasonKind.ENDED
    assert decision.state == PriorState("none", NOW)


def test_same_inputs_give_the_same_decision_in_any_batch_order() -> None:
    matrix = small_matrix(triggers=[SEV1], timed_escalation=TIMED)
    items = [
        (
            make_ticket(CREATED - timedelta(hours=h), id=str(h), severity=1 + h % 3),
            make_account(),
            None,
        )
        for h in range(12)
    ]
    forward = evaluate_many(items, ny(3, 12), matrix)
    backward = evaluate_many(list(reversed(items)), ny(3, 12), matrix)
    assert forward == list(reversed(backward))
    assert forward[0] == evaluate(*items[0], ny(3, 12), matrix)


def test_batch_restores_garbage_collection() -> None:
    assert gc.isenabled()
    evaluate_many([(make_ticket(CREATED), None, None)], NOW, small_matrix())
    assert gc.isenabled()


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(make_ticket(CREATED), None, None, datetime(2026, 3, 2, 11), small_matrix())


def test_ticket_without_account_uses_tier_unknown_and_default_calendar() -> None:
    decision = evaluate(make_ticket(CREATED), None, None, NOW, small_matrix())
    assert decision.sla["acknowledge"].due_at == ny(2, 14)
    assert decision.owner is not None and decision.owner.primary == "tier1"


def test_prior_state_round_trips_through_json_form() -> None:
    state = PriorState("advisory", utc(2026, 3, 2, 15), utc(2026, 3, 2, 16), 1, utc(2026, 3, 2, 17))
    assert PriorState.from_dict(state.to_dict()) == state
    assert (
        PriorState.from_dict(PriorState("none", utc(2026, 1, 1)).to_dict()).last_trigger_at is None
    )


def test_creation_index_groups_sorted_times_by_account() -> None:
    tickets = [
        make_ticket(utc(2026, 3, 3), id="a", account_id="acc-1"),
        make_ticket(utc(2026, 3, 1), id="b", account_id="acc-1"),
        make_ticket(utc(2026, 3, 2), id="c", account_id=None),
    ]
    assert index_ticket_creation(tickets) == {
        "acc-1": (utc(2026, 3, 1).timestamp(), utc(2026, 3, 3).timestamp())
    }


# --- properties -------------------------------------------------------------------------------


PROPERTY_MATRIX = small_matrix(
    triggers=[SEV1, trigger("vip", "advisory", {"field": "ticket.tags", "contains": "vip"})],
    timed_escalation=TIMED,
)
LEVELS = PROPERTY_MATRIX.levels


@settings(max_examples=150, deadline=None)
@given(
    age_hours=st.floats(0, 24 * 60),
    severity=st.integers(1, 4),
    vip=st.booleans(),
    status=st.sampled_from(list(TicketStatus)),
    prior_level=st.none() | st.sampled_from(LEVELS),
    responded=st.booleans(),
)
def test_open_ticket_never_falls_below_its_previous_level_without_a_policy(
    age_hours: float, severity: int, vip: bool, status: TicketStatus, prior_level, responded: bool
) -> None:
    now = ny(20, 12)
    created = now - timedelta(hours=age_hours)
    ticket = make_ticket(
        created,
        severity=severity,
        tags=("vip",) if vip else (),
        status=status,
        first_response_at=created + timedelta(minutes=5) if responded else None,
    )
    prior = None if prior_level is None else PriorState(prior_level, created)
    decision = evaluate(ticket, make_account(), Facts(prior=prior), now, PROPERTY_MATRIX)
    assert decision == evaluate(ticket, make_account(), Facts(prior=prior), now, PROPERTY_MATRIX)
    if not status.is_open:
        assert decision.level == LEVELS[0]
        return
    index = LEVELS.index(decision.level)
    assert index >= (LEVELS.index(prior_level) if prior_level else 0)
    fired = {r.name for r in decision.reasons}
    assert ("sev1" in fired) == (severity == 1)
    if severity == 1:
        assert index >= LEVELS.index("action-needed")
    for status_ in decision.sla.values():
        assert status_.due_at >= created - timedelta(seconds=1)
