"""Events are derived purely from what the last run left, the new decision and now; a ticket
the store forgot is told nothing it already shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from escalation.decision import Decision, MetricSla, Owner, Reason, ReasonKind, SlaState
from escalation.facts import PriorState
from notify.events import Before, Timing, derive_events

LEVELS = ("none", "informational", "advisory", "action-needed", "executive-review")
RANK = {name: i for i, name in enumerate(LEVELS)}
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TIMING = Timing(timedelta(hours=1), timedelta(minutes=30), RANK["action-needed"])


def decision(
    level: str = "action-needed",
    owner: str = "ana@acme.example",
    sla: dict[str, MetricSla] | None = None,
    ended: bool = False,
) -> Decision:
    kind = ReasonKind.ENDED if ended else ReasonKind.TRIGGER
    return Decision(
        "zendesk:7",
        LEVELS[0] if ended else level,
        None,
        NOW - timedelta(minutes=5),
        None if ended else Owner("technical", owner, "bo@acme.example"),
        sla or {},
        (Reason(kind, "t", level, "why"),),
        PriorState(level, NOW),
    )


def metric(name: str, due_in: timedelta, state: SlaState = SlaState.OK, **kw) -> MetricSla:
    return MetricSla(name, 3600.0, NOW + due_in, due_in.total_seconds(), state, **kw)


def kinds(before: Before, d: Decision, is_open: bool = True) -> list[str]:
    return [
        e.kind for e in derive_events(before, d, is_open, NOW, RANK, TIMING) if not e.suppressed
    ]


def test_a_level_raised_is_one_event_keyed_by_ticket_kind_level_and_when_it_was_reached():
    events = derive_events(Before("advisory"), decision(), True, NOW, RANK, TIMING)
    assert [e.kind for e in events] == ["level_raised"]
    assert (
        events[0].key
        == f"zendesk:7|level_raised|action-needed|{(NOW - timedelta(minutes=5)).isoformat()}"
    )
    assert events[0].previous_level == "advisory"


def test_the_same_level_is_no_event_and_a_lower_one_is_a_de_escalation():
    assert kinds(Before("action-needed"), decision()) == []
    assert kinds(Before("executive-review"), decision()) == ["de_escalated"]


def test_a_new_owner_is_a_handoff_naming_the_old_owner():
    events = derive_events(
        Before("action-needed", owner="old@acme.example"), decision(), True, NOW, RANK, TIMING
    )
    assert [(e.kind, e.previous_owner, e.due) for e in events] == [
        ("owner_changed", "old@acme.example", "ana@acme.example")
    ]


def test_sla_at_risk_comes_within_the_lead_time_before_its_due_and_breached_after():
    far = {"resolve": metric("resolve", timedelta(hours=2))}
    near = {"resolve": metric("resolve", timedelta(minutes=50))}
    late = {"resolve": metric("resolve", -timedelta(minutes=1), SlaState.BREACHED)}
    assert kinds(Before("action-needed"), decision(sla=far)) == []
    assert kinds(Before("action-needed"), decision(sla=near)) == ["sla_at_risk"]
    assert kinds(Before("action-needed"), decision(sla=late)) == ["sla_breached"]


def test_the_cadence_reminder_comes_before_the_next_update_is_due_and_not_while_paused():
    soon = {"next_update": metric("next_update", timedelta(minutes=20))}
    paused = {"next_update": metric("next_update", timedelta(minutes=20), paused=True)}
    met = {"next_update": metric("next_update", timedelta(minutes=20), met_at=NOW)}
    assert kinds(Before("action-needed"), decision(sla=soon)) == ["update_due"]
    assert kinds(Before("action-needed"), decision(sla=paused)) == []
    assert kinds(Before("action-needed"), decision(sla=met)) == []


def test_resolved_asks_for_a_debrief_from_the_debrief_level_up():
    high = derive_events(Before("action-needed"), decision(ended=True), False, NOW, RANK, TIMING)
    low = derive_events(Before("advisory"), decision(ended=True), False, NOW, RANK, TIMING)
    reached = derive_events(
        Before("advisory", max_level="executive-review"),
        decision(ended=True),
        False,
        NOW,
        RANK,
        TIMING,
    )
    assert [(e.kind, e.debrief) for e in high] == [("resolved", True)]
    assert [(e.kind, e.debrief) for e in low] == [("resolved", False)]
    assert reached[0].debrief


def test_a_ticket_the_store_forgot_is_not_told_what_it_shows():
    sla = {
        "resolve": metric("resolve", -timedelta(minutes=1), SlaState.BREACHED),
        "next_update": metric("next_update", timedelta(minutes=20)),
    }
    # The level it shows is its previous level (sync/shown.py): no level event.
    forgot = Before("action-needed", remembered=False, shows_our_work=True)
    events = derive_events(forgot, decision(sla=sla), True, NOW, RANK, TIMING)
    assert {e.kind: e.suppressed for e in events} == {"sla_breached": True, "update_due": True}
    # Its SLA state field says "at risk": the breach is news.
    shown = Before(
        "action-needed", remembered=False, shown_sla_state="at_risk", shows_our_work=True
    )
    assert kinds(shown, decision(sla=sla)) == ["sla_breached"]
    # A ticket that shows nothing of ours (a true first run) hears everything.
    fresh = Before(None, remembered=False)
    assert kinds(fresh, decision(sla=sla)) == ["level_raised", "sla_breached", "update_due"]


def test_a_forgotten_ticket_that_shows_our_work_but_no_level_is_not_announced_again():
    # A Jira issue's level field holds its customers' highest level, not its own.
    forgot = Before(None, remembered=False, shows_our_work=True)
    events = derive_events(forgot, decision(), True, NOW, RANK, TIMING)
    assert [(e.kind, e.suppressed) for e in events] == [("level_raised", True)]
