"""Compile validated trigger conditions into closures; never eval.

A condition is compiled once per matrix into nested Python closures over a context (the ticket
matrix's `TicketContext`, or any `ConditionContext` such as the account matrix's), so
evaluating a trigger is a few function calls. Semantics: a comparison with a missing value
(None) is false, whatever the operator (`ne` and `not_in` included); `exists` tests presence
(for lists: non-empty).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import attrgetter
from typing import Any, Protocol, TypeVar, overload

from config.matrix import Condition, RecentTickets
from config.matrix.conditions import Changed, NumberTest
from escalation.context import TicketContext
from vocabulary.conditions import ATTRIBUTES, BREACHES, RECENT_TICKETS, Kind


class ConditionContext(Protocol):
    """What the compiled closures read off a context themselves; everything else they read
    through the getters of its kind (`getter`, escalation/account_context.account_getter).
    Ticket triggers never count breaches or follow changes (config/matrix/conditions.py
    refuses them), so a ticket context answers those with nothing."""

    def recent_tickets(self, days: int) -> int: ...

    def breaches(self, days: int) -> int: ...

    def past_values(self, name: str, days: int) -> tuple[Any, ...]: ...


C = TypeVar("C", bound=ConditionContext)
Predicate = Callable[[C], bool]
Getter = Callable[[C], Any]
GetterFor = Callable[[str], Getter[C]]  # attribute name -> how to read it off a context
# (metric, "eq" | "in", operand) -> the SLA condition in one closure; only tickets have SLA.
SlaTest = Callable[[str, str, Any], Predicate[C]]

_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


@overload
def compile_condition(condition: Condition) -> Predicate[TicketContext]: ...


@overload
def compile_condition(condition: Condition, getter_for: GetterFor[C]) -> Predicate[C]: ...


def compile_condition(
    condition: Condition, getter_for: GetterFor[Any] | None = None
) -> Predicate[Any]:
    """A closure that says whether `condition` holds for a ticket context.

    `getter_for` reads attributes off another kind of context (the account matrix's, see
    escalation/account_context.py); the ticket matrix uses `getter`.
    """
    if getter_for is None:
        return _compile(condition, getter, _sla_state_test)
    return _compile(condition, getter_for, None)


def _compile(condition: Condition, read: GetterFor[C], sla: SlaTest[C] | None) -> Predicate[C]:
    if condition.all_ is not None:
        return _all_of([_compile(p, read, sla) for p in _cheap_first(condition.all_)])
    if condition.any_ is not None:
        return _any_of([_compile(p, read, sla) for p in _cheap_first(condition.any_)])
    if condition.not_ is not None:
        inner = _compile(condition.not_, read, sla)
        return lambda ctx: not inner(ctx)
    if condition.recent_tickets is not None:
        return _recent_tickets(condition.recent_tickets)
    if condition.breaches is not None:
        return _breaches(condition.breaches)
    if condition.changed is not None:
        return _changed(condition.changed, read)
    assert condition.field is not None  # the model guarantees one shape
    return _comparison(condition, read, sla)


def _cheap_first(parts: tuple[Condition, ...]) -> list[Condition]:
    # Conditions are pure, so the order of all/any parts does not change the result; reading
    # a record field is cheaper than deriving a fact (business hours, recent tickets).
    return sorted(parts, key=_cost)


def _cost(condition: Condition) -> int:
    if condition.field is not None:
        return 0 if condition.field.startswith(("ticket.", "account.")) else 1
    if condition.recent_tickets is not None or condition.breaches is not None:
        return 1
    if condition.changed is not None:
        return 2
    if condition.not_ is not None:
        return _cost(condition.not_)
    return max(_cost(part) for part in (*(condition.all_ or ()), *(condition.any_ or ())))


def uses_sla(condition: Condition) -> bool:
    """Whether the condition reads an SLA state (such triggers are evaluated after SLA)."""
    if condition.field is not None:
        return condition.field.startswith("sla.")
    parts = (*(condition.all_ or ()), *(condition.any_ or ()))
    if condition.not_ is not None:
        parts += (condition.not_,)
    return any(uses_sla(part) for part in parts)


def required_values(condition: Condition, name: str) -> frozenset[Any] | None:
    """The values attribute `name` must have for the condition to hold; None: any value.

    Lets the engine skip, e.g., every outage trigger for a question ticket without running it.
    """
    if condition.field == name:
        if condition.eq is not None:
            return frozenset((condition.eq,))
        return frozenset(condition.in_) if condition.in_ is not None else None
    if condition.all_ is not None:
        found = [required_values(part, name) for part in condition.all_]
        known = [values for values in found if values is not None]
        return frozenset.intersection(*known) if known else None
    if condition.any_ is not None:
        found = [required_values(part, name) for part in condition.any_]
        known = [values for values in found if values is not None]
        if len(known) < len(found):  # one part holds for any value, so the whole may too
            return None
        return frozenset().union(*known)
    return None


def getter(name: str) -> Getter[TicketContext]:
    """How to read attribute `name` (from vocabulary.conditions) off a context."""
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


def _all_of(parts: list[Predicate[C]]) -> Predicate[C]:
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda ctx: first(ctx) and second(ctx)

    def all_hold(ctx: C) -> bool:
        for part in parts:
            if not part(ctx):
                return False
        return True

    return all_hold


def _any_of(parts: list[Predicate[C]]) -> Predicate[C]:
    if len(parts) == 1:
        return parts[0]

    def any_holds(ctx: C) -> bool:
        for part in parts:
            if part(ctx):
                return True
        return False

    return any_holds


def _comparison(
    condition: Condition, getter_for: GetterFor[C], sla: SlaTest[C] | None
) -> Predicate[C]:
    name = condition.field or ""
    read = getter_for(name)
    compared = (_value_test(op, getattr(condition, op)) for op in _COMPARISONS)
    tests = [test for test in compared if test is not None]
    if condition.in_ is not None:
        tests.append(("in", frozenset(condition.in_)))
    if condition.not_in is not None:
        tests.append(("not_in", frozenset(condition.not_in)))
    if condition.contains is not None:
        tests.append(("contains", condition.contains))
    if condition.contains_any is not None:
        tests.append(("contains_any", frozenset(condition.contains_any)))
    if condition.exists is not None:
        is_list = name in ATTRIBUTES and ATTRIBUTES[name].kind is Kind.LIST  # sla.* never is
        tests.append(("exists_list" if is_list else "exists", condition.exists))
    if sla and name.startswith("sla.") and len(tests) == 1 and tests[0][0] in ("eq", "in"):
        return sla(name.removeprefix("sla."), *tests[0])
    return _leaf(read, tests)


def _sla_state_test(metric: str, op: str, x: Any) -> Predicate[TicketContext]:
    # The usual SLA condition ("sla.resolve eq breached") read and compared in one closure.
    if op == "eq":
        return lambda ctx: ctx.sla_states.get(metric) == x
    return lambda ctx: ctx.sla_states.get(metric) in x


def _recent_tickets(recent: RecentTickets) -> Predicate[C]:
    days = recent.days
    tests = [_value_test(op, getattr(recent, op)) for op in _COMPARISONS]
    read: Getter[C] = lambda ctx: ctx.recent_tickets(days)  # noqa: E731
    return _leaf(read, [t for t in tests if t is not None])


def _breaches(counted: RecentTickets) -> Predicate[C]:
    """{breaches: {days: 30, ge: 2}}: the SLA breaches the context counts in the last `days`."""
    days = counted.days
    tests = [_value_test(op, getattr(counted, op)) for op in _COMPARISONS]
    read: Getter[C] = lambda ctx: ctx.breaches(days)  # noqa: E731
    return _leaf(read, [t for t in tests if t is not None])


def _number_tests(spec: NumberTest | None) -> Callable[[Any], bool] | None:
    if spec is None:
        return None
    tests = [_value_test(op, getattr(spec, op)) for op in _COMPARISONS]
    checks = [_fused(lambda value: value, op, x) for op, x in (t for t in tests if t)]
    return lambda value: all(check(value) for check in checks)


def _changed(changed: Changed, getter_for: GetterFor[C]) -> Predicate[C]:
    """A value's change over the last `days` days, from the context's history of it.

    `ctx.past_values(field, days)` gives the value held at the start of the period (or the
    oldest seen in it) first, then every other value held in it. No history: false.
    """
    read, name, days = getter_for(changed.field), changed.field, changed.days
    from_values = frozenset(changed.from_) if changed.from_ is not None else None
    to_values = frozenset(changed.to) if changed.to is not None else None
    by, percent = _number_tests(changed.by), _number_tests(changed.percent)

    def holds(ctx: C) -> bool:
        now_value = read(ctx)
        if now_value is None or (to_values is not None and now_value not in to_values):
            return False
        past = ctx.past_values(name, days)
        if not past:
            return False
        if from_values is not None and not any(value in from_values for value in past):
            return False
        if by is None and percent is None:
            return True
        start = past[0]
        if not _is_number(now_value) or not _is_number(start):
            return False
        if by is not None and not by(now_value - start):
            return False
        if percent is not None and (
            start == 0 or not percent((now_value - start) / abs(start) * 100)
        ):
            return False
        return True

    return holds


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value_test(op: str, operand: Any) -> tuple[str, Any] | None:
    return None if operand is None else (op, operand)


def _leaf(read: Getter[C], tests: list[tuple[str, Any]]) -> Predicate[C]:
    if len(tests) == 1:
        return _fused(read, *tests[0])
    checks = [_fused(lambda value: value, op, operand) for op, operand in tests]

    def all_tests(ctx: C) -> bool:
        value = read(ctx)
        for check in checks:
            if not check(value):
                return False
        return True

    return all_tests


def _fused(read: Getter[C], op: str, x: Any) -> Callable[[Any], bool]:
    """One closure that reads and compares: the hot path of every trigger.

    Missing values (None) compare false; `in` needs no None check because x holds no None.
    """
    if op == "eq":
        return lambda ctx: read(ctx) == x
    if op == "in":
        return lambda ctx: read(ctx) in x
    if op == "exists":
        return lambda ctx: (read(ctx) is not None) == x
    if op == "exists_list":
        return lambda ctx: bool(read(ctx)) == x
    return _ordered(read, op, x) if op in ("lt", "le", "gt", "ge") else _other(read, op, x)


def _ordered(read: Getter[C], op: str, x: Any) -> Callable[[Any], bool]:
    # One closure per operator rather than a shared one calling operator.le & co: these run
    # several times per ticket, and the extra call is a third of their cost.
    if op == "lt":
        return lambda ctx: (v := read(ctx)) is not None and v < x
    if op == "le":
        return lambda ctx: (v := read(ctx)) is not None and v <= x
    if op == "gt":
        return lambda ctx: (v := read(ctx)) is not None and v > x
    return lambda ctx: (v := read(ctx)) is not None and v >= x


def _other(read: Getter[C], op: str, x: Any) -> Callable[[Any], bool]:
    if op == "ne":
        return lambda ctx: (v := read(ctx)) is not None and v != x
    if op == "not_in":
        return lambda ctx: (v := read(ctx)) is not None and v not in x
    if op == "contains":
        return lambda ctx: (v := read(ctx)) is not None and x in v
    return lambda ctx: (v := read(ctx)) is not None and not x.isdisjoint(v)


# --- reason templates -------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@overload
def compile_template(template: str) -> Callable[[TicketContext], str]: ...


@overload
def compile_template(template: str, getter_for: GetterFor[C]) -> Callable[[C], str]: ...


def compile_template(
    template: str, getter_for: GetterFor[Any] | None = None
) -> Callable[[Any], str]:
    """A closure that fills a reason's {placeholders} for a ticket (or, with `getter_for`,
    another context such as an account's)."""
    return _compile_template(template, getter_for or getter)


def _compile_template(template: str, getter_for: GetterFor[C]) -> Callable[[C], str]:
    literals: list[str] = []
    getters: list[Getter[C]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        literals.append(template[position : match.start()])
        getters.append(_placeholder_getter(match.group(1), getter_for))
        position = match.end()
    tail = template[position:]
    if not getters:
        return lambda ctx: template
    pairs = tuple(zip(literals, getters, strict=True))

    def render(ctx: C) -> str:
        parts = []
        for literal, read in pairs:
            value = read(ctx)
            parts.append(literal)
            parts.append(value if type(value) is str else format_value(value))
        parts.append(tail)
        return "".join(parts)

    return render


def _placeholder_getter(name: str, getter_for: GetterFor[C]) -> Getter[C]:
    read: Getter[C]
    if name.startswith(RECENT_TICKETS + ":"):
        days = int(name.split(":", 1)[1])
        read = lambda ctx: ctx.recent_tickets(days)  # noqa: E731
    elif name.startswith(BREACHES + ":"):
        days = int(name.split(":", 1)[1])
        read = lambda ctx: ctx.breaches(days)  # noqa: E731
    else:
        read = getter_for(name)
    return read


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
