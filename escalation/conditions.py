"""Compile validated trigger conditions into closures; never eval.

A condition is compiled once per matrix into nested Python closures over a `TicketContext`,
so evaluating a trigger is a few function calls. Semantics: a comparison with a missing value
(None) is false, whatever the operator (`ne` and `not_in` included); `exists` tests presence
(for lists: non-empty).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from config.matrix import Condition, RecentTickets
from escalation.attributes import ATTRIBUTES, RECENT_TICKETS, Kind
from escalation.context import TicketContext

Predicate = Callable[[TicketContext], bool]
Getter = Callable[[TicketContext], Any]

_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


def compile_condition(condition: Condition) -> Predicate:
    """A closure that says whether `condition` holds for a ticket context."""
    if condition.all_ is not None:
        return _all_of([compile_condition(part) for part in condition.all_])
    if condition.any_ is not None:
        return _any_of([compile_condition(part) for part in condition.any_])
    if condition.not_ is not None:
        inner = compile_condition(condition.not_)
        return lambda ctx: not inner(ctx)
    if condition.recent_tickets is not None:
        return _recent_tickets(condition.recent_tickets)
    assert condition.field is not None  # the model guarantees one shape
    return _comparison(condition)


def uses_sla(condition: Condition) -> bool:
    """Whether the condition reads an SLA state (such triggers are evaluated after SLA)."""
    if condition.field is not None:
        return condition.field.startswith("sla.")
    parts = (*(condition.all_ or ()), *(condition.any_ or ()))
    if condition.not_ is not None:
        parts += (condition.not_,)
    return any(uses_sla(part) for part in parts)


def getter(name: str) -> Getter:
    """How to read attribute `name` (from escalation.attributes) off a context."""
    if name.startswith(("ticket.", "account.")):
        return attrgetter(name)
    if name.startswith("sla."):
        metric = name.removeprefix("sla.")
        return lambda ctx: ctx.sla_states.get(metric)
    derived = {
        "days_to_renewal": TicketContext.days_to_renewal,
        "business_hours_age": TicketContext.business_hours_age,
        "linked_max_severity": TicketContext.linked_max_severity,
    }
    return derived[name]


def _all_of(parts: list[Predicate]) -> Predicate:
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda ctx: first(ctx) and second(ctx)

    def all_hold(ctx: TicketContext) -> bool:
        for part in parts:
            if not part(ctx):
                return False
        return True

    return all_hold


def _any_of(parts: list[Predicate]) -> Predicate:
    if len(parts) == 1:
        return parts[0]

    def any_holds(ctx: TicketContext) -> bool:
        for part in parts:
            if part(ctx):
                return True
        return False

    return any_holds


def _comparison(condition: Condition) -> Predicate:
    name = condition.field or ""
    read = getter(name)
    tests = [_value_test(op, getattr(condition, op)) for op in _COMPARISONS]
    if condition.in_ is not None:
        allowed = frozenset(condition.in_)
        tests.append(lambda v: v is not None and v in allowed)
    if condition.not_in is not None:
        refused = frozenset(condition.not_in)
        tests.append(lambda v: v is not None and v not in refused)
    if condition.contains is not None:
        wanted = condition.contains
        tests.append(lambda v: v is not None and wanted in v)
    if condition.contains_any is not None:
        any_wanted = frozenset(condition.contains_any)
        tests.append(lambda v: v is not None and not any_wanted.isdisjoint(v))
    if condition.exists is not None:
        tests.append(_exists_test(condition.exists, ATTRIBUTES[name].kind is Kind.LIST))
    return _leaf(read, [test for test in tests if test is not None])


def _recent_tickets(recent: RecentTickets) -> Predicate:
    days = recent.days
    tests = [_value_test(op, getattr(recent, op)) for op in _COMPARISONS]
    return _leaf(lambda ctx: ctx.recent_tickets(days), [t for t in tests if t is not None])


def _leaf(read: Getter, tests: list[Callable[[Any], bool]]) -> Predicate:
    if len(tests) == 1:
        (test,) = tests
        return lambda ctx: test(read(ctx))

    def all_tests(ctx: TicketContext) -> bool:
        value = read(ctx)
        for test in tests:
            if not test(value):
                return False
        return True

    return all_tests


def _value_test(op: str, x: Any) -> Callable[[Any], bool] | None:
    if x is None:
        return None
    if op == "eq":
        return lambda v: v == x
    if op == "ne":
        return lambda v: v is not None and v != x
    if op == "lt":
        return lambda v: v is not None and v < x
    if op == "le":
        return lambda v: v is not None and v <= x
    if op == "gt":
        return lambda v: v is not None and v > x
    return lambda v: v is not None and v >= x


def _exists_test(wanted: bool, is_list: bool) -> Callable[[Any], bool]:
    if is_list:
        return lambda v: bool(v) == wanted
    return lambda v: (v is not None) == wanted


# --- reason templates -------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def compile_template(template: str) -> Callable[[TicketContext], str]:
    """A closure that fills a reason's {placeholders} for a ticket."""
    pieces: list[str | Getter] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        pieces.append(template[position : match.start()])
        pieces.append(_placeholder_getter(match.group(1)))
        position = match.end()
    pieces.append(template[position:])
    if len(pieces) == 1:
        return lambda ctx: template

    def render(ctx: TicketContext) -> str:
        return "".join(p if isinstance(p, str) else format_value(p(ctx)) for p in pieces)

    return render


def _placeholder_getter(name: str) -> Getter:
    if name.startswith(RECENT_TICKETS + ":"):
        days = int(name.split(":", 1)[1])
        return lambda ctx: ctx.recent_tickets(days)
    return getter(name)


def format_value(value: Any) -> str:
    """How a value reads in a sentence: numbers with thousands separators, missing as unknown."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, tuple | list):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)
