"""The condition language: every operator and attribute kind, missing values, composition,
and reason templates."""

from __future__ import annotations

from datetime import date

import pytest

from config.matrix import Condition
from escalation.calendar import AlwaysOpen
from escalation.conditions import (
    compile_condition,
    compile_template,
    format_value,
    required_values,
    uses_sla,
)
from escalation.context import NO_ACCOUNT, TicketContext
from escalation.decision import SlaState
from escalation.facts import NO_FACTS, Facts
from escalation.testing import make_account, make_ticket, utc
from mapping.records import TicketStatus

NOW = utc(2026, 3, 10, 12)
DAY = 86400.0


def context(ticket=None, account=None, facts=NO_FACTS, sla=None) -> TicketContext:
    ticket = ticket or make_ticket(
        utc(2026, 3, 10, 2), severity=2, category="defect", tags=("vip", "api")
    )
    ctx = TicketContext(
        ticket,
        account
        if account is not None
        else make_account(arr=120_000.0, renewal_date=date(2026, 4, 9)),
        facts,
        NOW.timestamp(),
        NOW.date(),
        AlwaysOpen("always"),
    )
    ctx.sla_states = sla or {}
    return ctx


def holds(when: dict, ctx: TicketContext | None = None) -> bool:
    return compile_condition(Condition.model_validate(when))(ctx or context())


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"field": "ticket.severity", "eq": 2}, True),
        ({"field": "ticket.severity", "ne": 2}, False),
        ({"field": "ticket.severity", "lt": 2}, False),
        ({"field": "ticket.severity", "le": 2}, True),
        ({"field": "ticket.severity", "gt": 1}, True),
        ({"field": "ticket.severity", "ge": 3}, False),
        ({"field": "ticket.severity", "in": [1, 2]}, True),
        ({"field": "ticket.severity", "not_in": [1, 2]}, False),
        ({"field": "ticket.severity", "ge": 1, "le": 3}, True),
        ({"field": "ticket.severity", "ge": 1, "le": 1}, False),
        ({"field": "ticket.category", "eq": "defect"}, True),
        ({"field": "ticket.category", "in": ["outage", "privacy"]}, False),
        ({"field": "ticket.status", "eq": "open"}, True),
        ({"field": "ticket.status", "in": ["pending", "on_hold"]}, False),
        ({"field": "ticket.tags", "contains": "vip"}, True),
        ({"field": "ticket.tags", "contains": "legal"}, False),
        ({"field": "ticket.tags", "contains_any": ["legal", "api"]}, True),
        ({"field": "ticket.tags", "exists": True}, True),
        ({"field": "ticket.linked", "exists": False}, True),
        ({"field": "account.tier", "eq": "silver"}, True),
        ({"field": "account.arr", "ge": 100_000}, True),
        ({"field": "account.arr", "gt": 120_000}, False),
        ({"field": "account.health", "exists": False}, True),
        ({"field": "days_to_renewal", "eq": 30}, True),
        ({"field": "days_to_renewal", "le": 29}, False),
        ({"field": "business_hours_age", "ge": 10}, True),
        ({"field": "business_hours_age", "gt": 10}, False),
    ],
)
def test_operator_compares_attribute(when: dict, expected: bool) -> None:
    assert holds(when) is expected


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge", "not_in"])
def test_missing_value_makes_every_comparison_false(op: str) -> None:
    value = [3] if op == "not_in" else 3
    unmatched = context(ticket=make_ticket(NOW, severity=None))
    assert holds({"field": "ticket.severity", op: value}, unmatched) is False


def test_ticket_without_account_reads_account_attributes_as_missing_and_tier_unknown() -> None:
    ctx = context(account=NO_ACCOUNT)
    assert holds({"field": "account.arr", "ge": 0}, ctx) is False
    assert holds({"field": "account.id", "exists": False}, ctx) is True
    assert holds({"field": "account.tier", "eq": "unknown"}, ctx) is True
    assert holds({"field": "days_to_renewal", "le": 1000}, ctx) is False


def test_all_any_not_compose() -> None:
    severe = {"field": "ticket.severity", "le": 2}
    outage = {"field": "ticket.category", "eq": "outage"}
    assert holds({"all": [severe, {"not": outage}]}) is True
    assert holds({"all": [severe, outage]}) is False
    assert holds({"any": [outage, severe]}) is True
    assert holds({"any": [outage, {"not": severe}]}) is False
    assert (
        holds(
            {
                "all": [
                    severe,
                    {"any": [outage, {"field": "ticket.tags", "contains": "vip"}]},
                    severe,
                ]
            }
        )
        is True
    )


def test_recent_tickets_counts_the_accounts_tickets_in_the_window() -> None:
    times = tuple(NOW.timestamp() - days * DAY for days in (40, 20, 5, 1, 0))
    ctx = context(facts=Facts(account_ticket_created=times))
    assert holds({"recent_tickets": {"days": 7, "ge": 3}}, ctx) is True
    assert holds({"recent_tickets": {"days": 7, "ge": 4}}, ctx) is False
    assert holds({"recent_tickets": {"days": 30, "eq": 4}}, ctx) is True
    assert holds({"recent_tickets": {"days": 30, "ge": 1}}, context()) is False  # no index


def test_recent_tickets_ignores_tickets_after_now() -> None:
    times = (NOW.timestamp() - DAY, NOW.timestamp() + DAY)
    ctx = context(facts=Facts(account_ticket_created=times))
    assert holds({"recent_tickets": {"days": 30, "eq": 1}}, ctx) is True


def test_linked_max_severity_is_the_most_severe_linked_issue() -> None:
    ctx = context(facts=Facts(linked_severities=(3, 1, 2)))
    assert holds({"field": "linked_max_severity", "le": 1}, ctx) is True
    assert holds({"field": "linked_max_severity", "exists": True}, context()) is False


def test_sla_state_reads_the_measured_state() -> None:
    ctx = context(sla={"acknowledge": SlaState.BREACHED, "resolve": SlaState.AT_RISK})
    assert holds({"field": "sla.acknowledge", "eq": "breached"}, ctx) is True
    assert holds({"field": "sla.resolve", "in": ["at_risk", "breached"]}, ctx) is True
    assert holds({"field": "sla.next_update", "eq": "ok"}, ctx) is False  # not tracked


def test_uses_sla_finds_sla_attributes_at_any_depth() -> None:
    nested = Condition.model_validate({"all": [{"not": {"field": "sla.resolve", "eq": "ok"}}]})
    assert uses_sla(nested) is True
    assert uses_sla(Condition.model_validate({"field": "ticket.severity", "eq": 1})) is False


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"field": "ticket.category", "eq": "outage"}, {"outage"}),
        (
            {
                "all": [
                    {"field": "ticket.category", "in": ["outage", "defect"]},
                    {"field": "ticket.category", "ne": "x"},
                ]
            },
            {"outage", "defect"},
        ),
        (
            {
                "any": [
                    {"field": "ticket.category", "eq": "outage"},
                    {"field": "ticket.category", "eq": "privacy"},
                ]
            },
            {"outage", "privacy"},
        ),
        (
            {
                "any": [
                    {"field": "ticket.category", "eq": "outage"},
                    {"field": "ticket.severity", "eq": 1},
                ]
            },
            None,
        ),
        ({"not": {"field": "ticket.category", "eq": "outage"}}, None),
        ({"field": "ticket.severity", "eq": 1}, None),
    ],
)
def test_required_categories_are_derived_from_the_condition(
    when: dict, expected: set | None
) -> None:
    found = required_values(Condition.model_validate(when), "ticket.category")
    assert (None if found is None else set(found)) == expected


def test_template_fills_attributes_and_recent_ticket_counts() -> None:
    times = tuple(NOW.timestamp() - days * DAY for days in (20, 5, 1))
    ctx = context(facts=Facts(account_ticket_created=times))
    render = compile_template(
        "{account.name} (ARR {account.arr}) renews in {days_to_renewal} days; "
        "{recent_tickets:7} tickets this week; health {account.health}"
    )
    assert (
        render(ctx) == "Globex (ARR 120,000) renews in 30 days; 2 tickets this week; health unknown"
    )


def test_template_without_placeholders_is_returned_as_is() -> None:
    assert compile_template("Plain words")(context()) == "Plain words"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "unknown"),
        (1.5, "1.5"),
        (2.0, "2"),
        (1234567, "1,234,567"),
        (("a", "b"), "a, b"),
        (TicketStatus.PENDING, "pending"),
        (True, "yes"),
    ],
)
def test_values_read_naturally_in_sentences(value: object, text: str) -> None:
    assert format_value(value) == text
