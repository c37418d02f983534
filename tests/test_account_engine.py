"""The account matrix engine (escalation/accounts.py): hand-worked cases for every trigger
kind, routing, playbooks and their due dates, hysteresis; hypothesis for the properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.matrix import MatrixConfig
from escalation.account_context import AccountFacts
from escalation.accounts import AccountDecision, CompiledAccountMatrix, evaluate_accounts
from escalation.compiled import compile_matrix
from escalation.facts import PriorState
from escalation.testing import make_account, small_matrix_dict, trigger, utc

# Monday 2 March 2026, 10:00 UTC: 11:00 in Berlin, 05:00 in New York.
NOW = utc(2026, 3, 2, 10)
DAY = 86400.0

ACCOUNTS: dict[str, Any] = {
    "levels": ["healthy", "watch", "at-risk", "executive-attention"],
    "triggers": [
        trigger(
            "big-renewal-red",
            "executive-attention",
            {
                "all": [
                    {"field": "account.arr", "ge": 500000},
                    {"field": "days_to_renewal", "ge": 0, "le": 90},
                    {"field": "account.health", "eq": "red"},
                ]
            },
            "{account.name} renews in {days_to_renewal} days",
        ),
        trigger(
            "health-fell",
            "at-risk",
            {"changed": {"field": "account.health", "days": 30, "from": ["green"], "to": ["red"]}},
        ),
        trigger(
            "usage-drop",
            "at-risk",
            {"changed": {"field": "account.usage", "days": 30, "percent": {"le": -25}}},
        ),
        trigger("breaches", "at-risk", {"breaches": {"days": 30, "ge": 2}}, "{breaches:30} missed"),
        trigger("escalated", "at-risk", {"field": "highest_ticket_level", "in": ["action-needed"]}),
        trigger("detractor", "watch", {"field": "account.nps", "lt": 0}, "NPS {account.nps}"),
        trigger("many-tickets", "watch", {"recent_tickets": {"days": 30, "ge": 3}}),
        trigger("open-tickets", "watch", {"field": "open_tickets", "ge": 5}),
    ],
    "de_escalation": {"policy": "quiet_period", "quiet_for": "2d"},
    "routing": [
        {
            "level": "executive-attention",
            "role": "executive",
            "primary": "vp-cs",
            "backup": "coo",
        },
        {
            "level": "at-risk",
            "tier": "gold",
            "role": "commercial",
            "primary": "team-lead",
            "backup": "{account.csm}",
        },
        {"level": "at-risk", "region": "EMEA", "role": "commercial", "primary": "emea-lead"},
        {"role": "commercial", "primary": "{account.csm}", "backup": "{account.owner}"},
    ],
    "playbooks": {
        "at-risk": {
            "name": "save-plan",
            "subject": "Save plan: {account.name}",
            "actions": ["Call the sponsor"],
            "required_data": ["usage trend"],
            "outreach_within": "3d",
            "priority": "High",
        },
        "executive-attention": {
            "name": "exec",
            "subject": "Executive outreach: {account.name}",
            "outreach_within": "1d",
            "priority": "High",
        },
    },
    "owner_calendars": {"vp-cs": "new-york"},
}


def matrix(**changes: Any) -> MatrixConfig:
    accounts = {**ACCOUNTS, **changes}
    return MatrixConfig.model_validate(
        small_matrix_dict(
            out_of_office=[{"person": "team-lead", "from": "2026-03-01", "until": "2026-03-06"}],
            accounts=accounts,
        )
    )


MATRIX = matrix()


def decide(account=None, facts: AccountFacts | None = None, now: datetime = NOW, m=MATRIX):
    return evaluate_accounts([(account or make_account(), facts)], now, m)[0]


def fired(decision: AccountDecision) -> list[str]:
    return [r.name for r in decision.reasons if r.kind == "trigger"]


# --- triggers ---------------------------------------------------------------------------------


def test_an_account_with_no_trigger_is_at_the_lowest_level_with_its_csm_as_owner() -> None:
    decision = decide(make_account(csm="csm@globex", owner="ae@globex"))
    assert decision.level == "healthy"
    assert decision.owner.current == "csm@globex"
    assert decision.playbook is None
    assert decision.reasons == ()


def test_a_big_account_renewing_red_within_90_days_needs_executive_attention() -> None:
    account = make_account(arr=600000.0, renewal_date=date(2026, 4, 1), health="red")
    decision = decide(account)
    assert decision.level == "executive-attention"
    assert decision.reasons[0].text == "Globex renews in 30 days"
    assert decision.owner.current == "vp-cs"


def test_a_missing_renewal_date_compares_false() -> None:
    account = make_account(arr=600000.0, renewal_date=None, health="red")
    assert decide(account).level == "healthy"


def test_health_that_fell_from_green_to_red_within_30_days_is_at_risk() -> None:
    history = {"account.health": ((NOW.timestamp() - 20 * DAY, "green"), (NOW.timestamp(), "red"))}
    decision = decide(make_account(health="red"), AccountFacts(history=history))
    assert fired(decision) == ["health-fell"]


def test_health_red_for_longer_than_the_period_is_not_a_fall() -> None:
    history = {
        "account.health": (
            (NOW.timestamp() - 60 * DAY, "green"),
            (NOW.timestamp() - 40 * DAY, "red"),
        )
    }
    assert decide(make_account(health="red"), AccountFacts(history=history)).level == "healthy"


def test_usage_down_by_a_quarter_against_30_days_ago_is_at_risk() -> None:
    at = NOW.timestamp()
    history = {"account.usage": ((at - 45 * DAY, 400.0), (at - 10 * DAY, 350.0), (at, 300.0))}
    account = make_account(signals={"usage": 300.0})
    # 30 days ago the value held was 400 (observed 45 days ago): 300 is -25%.
    assert fired(decide(account, AccountFacts(history=history))) == ["usage-drop"]
    less = {"account.usage": ((at - 45 * DAY, 390.0), (at, 300.0))}  # -23%
    assert decide(account, AccountFacts(history=less)).level == "healthy"


def test_repeated_breaches_in_the_last_30_days_put_the_account_at_risk() -> None:
    at = NOW.timestamp()
    facts = AccountFacts(breaches=(at - 40 * DAY, at - 5 * DAY, at - DAY))
    decision = decide(make_account(), facts)
    assert fired(decision) == ["breaches"]
    assert decision.reasons[0].text == "2 missed"
    assert decide(make_account(), AccountFacts(breaches=(at - 40 * DAY, at - DAY))).level == (
        "healthy"
    )


def test_an_escalated_ticket_puts_its_account_at_risk() -> None:
    facts = AccountFacts(open_tickets=1, escalated_tickets=1, highest_ticket_level="action-needed")
    assert fired(decide(make_account(), facts)) == ["escalated"]


def test_a_detractor_nps_signal_is_watched_and_a_missing_one_is_not() -> None:
    decision = decide(make_account(signals={"nps": -30}))
    assert (decision.level, decision.reasons[0].text) == ("watch", "NPS -30")
    assert decide(make_account(signals={})).level == "healthy"


def test_repeated_tickets_and_open_tickets_are_counted() -> None:
    at = NOW.timestamp()
    facts = AccountFacts(ticket_created=(at - 50 * DAY, at - 9 * DAY, at - 2 * DAY, at - 3600))
    assert fired(decide(make_account(), facts)) == ["many-tickets"]
    assert fired(decide(make_account(), AccountFacts(open_tickets=5))) == ["open-tickets"]


def test_reasons_read_from_the_highest_level_down() -> None:
    account = make_account(
        arr=600000.0, renewal_date=date(2026, 4, 1), health="red", signals={"nps": -1}
    )
    assert fired(decide(account)) == ["big-renewal-red", "detractor"]


# --- owners -----------------------------------------------------------------------------------


def test_routing_goes_by_level_then_tier_then_region() -> None:
    facts = AccountFacts(highest_ticket_level="action-needed")
    emea = decide(make_account(region="EMEA", csm="csm@x"), facts)
    assert (emea.owner.current, emea.owner.role) == ("emea-lead", "commercial")
    other = decide(make_account(region="AMER", csm="csm@x", owner="ae@x"), facts)
    assert other.owner.current == "csm@x"


def test_an_owner_out_of_office_is_replaced_by_the_backup() -> None:
    facts = AccountFacts(highest_ticket_level="action-needed")
    decision = decide(make_account(tier="gold", csm="csm@x"), facts)
    assert decision.owner.primary == "team-lead"
    assert decision.owner.current == "csm@x"
    assert decision.owner.note == "team-lead is out of office"


# --- playbooks ----------------------------------------------------------------------------------


def test_the_playbook_is_due_in_business_days_of_the_account_calendar() -> None:
    # At risk on Monday 11:00 Berlin; 3d of 8h on the Berlin calendar: Thursday 11:00.
    facts = AccountFacts(highest_ticket_level="action-needed")
    decision = decide(make_account(region="EMEA"), facts)
    assert decision.playbook is not None
    assert (decision.playbook.name, decision.playbook.subject) == ("save-plan", "Save plan: Globex")
    assert (decision.playbook.due, decision.playbook.calendar) == (date(2026, 3, 5), "berlin")
    assert decision.playbook.priority == "High"


def test_the_playbook_is_due_in_the_owners_own_calendar() -> None:
    # Friday 20:00 UTC = 15:00 New York; 1d = 8h of 09:00-17:00: Monday 15:00 New York.
    account = make_account(arr=600000.0, renewal_date=date(2026, 4, 1), health="red")
    decision = decide(account, now=utc(2026, 3, 6, 20))
    assert decision.playbook is not None
    assert (decision.playbook.due, decision.playbook.calendar) == (date(2026, 3, 9), "new-york")


def test_the_due_date_counts_from_reaching_the_level_not_from_now() -> None:
    facts = AccountFacts(highest_ticket_level="action-needed")
    first = decide(make_account(region="EMEA"), facts)
    later = decide(
        make_account(region="EMEA"), replace(facts, prior=first.state), now=NOW + timedelta(days=1)
    )
    assert later.playbook is not None and first.playbook is not None
    assert later.playbook.due == first.playbook.due
    assert later.level_since == first.level_since


# --- hysteresis -----------------------------------------------------------------------------------


def test_a_level_is_held_during_the_quiet_period_and_falls_after_it() -> None:
    prior = PriorState("at-risk", NOW - timedelta(days=1), NOW - timedelta(days=1))
    held = decide(make_account(), AccountFacts(prior=prior))
    assert held.level == "at-risk"
    assert held.reasons[-1].kind == "held"
    # 2d of 8h on the New York calendar after Sunday 1 March 10:00 UTC: Tuesday 17:00 NY.
    fell = decide(make_account(), AccountFacts(prior=prior), now=utc(2026, 3, 3, 22, 1))
    assert fell.level == "healthy"
    assert fell.reasons[-1].kind == "de_escalated"
    assert fell.previous_level == "at-risk"


def test_with_policy_never_a_level_does_not_fall() -> None:
    m = matrix(de_escalation={"policy": "never"})
    prior = PriorState("watch", NOW - timedelta(days=300))
    assert decide(make_account(), AccountFacts(prior=prior), m=m).level == "watch"


def test_a_level_that_rises_starts_a_new_level_since() -> None:
    prior = PriorState("watch", NOW - timedelta(days=30), NOW - timedelta(days=30))
    facts = AccountFacts(highest_ticket_level="action-needed", prior=prior)
    decision = decide(make_account(), facts)
    assert (decision.level, decision.level_since, decision.changed) == ("at-risk", NOW, True)


def test_a_prior_level_the_matrix_no_longer_has_is_ignored() -> None:
    prior = PriorState("red-alert", NOW - timedelta(hours=1), NOW - timedelta(hours=1))
    assert decide(make_account(), AccountFacts(prior=prior)).level == "healthy"


# --- properties -----------------------------------------------------------------------------------

LEVELS = MATRIX.accounts.levels if MATRIX.accounts else ()
facts_strategy = st.builds(
    AccountFacts,
    open_tickets=st.integers(0, 10),
    escalated_tickets=st.integers(0, 10),
    highest_ticket_level=st.sampled_from([None, "none", "advisory", "action-needed"]),
    breaches=st.lists(st.floats(NOW.timestamp() - 60 * DAY, NOW.timestamp()), max_size=4).map(
        lambda xs: tuple(sorted(xs))
    ),
)
accounts_strategy = st.builds(
    make_account,
    arr=st.one_of(st.none(), st.floats(0, 2_000_000)),
    renewal_date=st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2027, 12, 31))),
    health=st.sampled_from([None, "green", "red", "at-risk"]),
    region=st.sampled_from([None, "EMEA", "AMER"]),
    tier=st.sampled_from(["gold", "silver"]),
    signals=st.fixed_dictionaries({}, optional={"nps": st.integers(-100, 100)}),
)


@settings(max_examples=150, deadline=None)
@given(account=accounts_strategy, facts=facts_strategy, more=st.integers(1, 5))
def test_more_trouble_never_lowers_the_level(account, facts: AccountFacts, more: int) -> None:
    """Monotonic in trigger strength: more breaches, more open tickets, a worse ticket level
    and a worse NPS give at least the level of the milder facts."""
    at = NOW.timestamp()
    worse_facts = replace(
        facts,
        open_tickets=facts.open_tickets + more,
        breaches=tuple(sorted(facts.breaches + (at - 1.0,) * more)),
        highest_ticket_level="action-needed",
    )
    nps = account.signals.get("nps")
    worse_account = replace(account, signals={"nps": min(nps, -1) if nps is not None else -1})
    mild, worse = decide(account, facts), decide(worse_account, worse_facts)
    assert LEVELS.index(worse.level) >= LEVELS.index(mild.level)


@settings(max_examples=150, deadline=None)
@given(
    account=accounts_strategy,
    facts=facts_strategy,
    level=st.sampled_from(["watch", "at-risk", "executive-attention"]),
    hours_ago=st.floats(0, 400),
    later=st.floats(0, 400),
)
def test_hysteresis_never_drops_a_level_within_the_quiet_period(
    account, facts: AccountFacts, level: str, hours_ago: float, later: float
) -> None:
    since = NOW - timedelta(hours=hours_ago)
    now = NOW + timedelta(hours=later)
    prior = PriorState(level, since, since)
    decision = decide(account, replace(facts, prior=prior), now=now)
    m = MATRIX.accounts
    assert m is not None
    clock_name = {"gold": "always"}.get(account.tier) or (
        "berlin" if account.region == "EMEA" else "new-york"
    )
    clock = compile_matrix(MATRIX).clocks[clock_name]
    quiet = clock.between(since.timestamp(), now.timestamp())
    if quiet < 2 * clock.working_day_seconds:
        assert LEVELS.index(decision.level) >= LEVELS.index(level)
    assert decision.level_since <= now


@settings(max_examples=100, deadline=None)
@given(account=accounts_strategy, facts=facts_strategy)
def test_decisions_are_pure(account, facts: AccountFacts) -> None:
    assert decide(account, facts) == decide(account, facts)


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_accounts([(make_account(), None)], datetime(2026, 3, 2), MATRIX)


def test_a_missing_accounts_section_cannot_be_compiled() -> None:
    with pytest.raises(ValueError, match="no accounts section"):
        CompiledAccountMatrix(MatrixConfig.model_validate(small_matrix_dict()))


def test_level_since_is_utc() -> None:
    assert decide(make_account()).level_since.tzinfo == UTC
