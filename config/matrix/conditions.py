"""Trigger conditions as the YAML writes them: all / any / not / a comparison / recent_tickets.

Attribute names and value types are checked here, at load time; escalation/conditions.py
compiles a validated condition into a closure. The account matrix (matrix.accounts) writes its
triggers in the same language over the account attributes, and adds two shapes of its own:
`breaches` (SLA breaches of the account's tickets in the last N days) and `changed` (a value's
change over a period).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.matrix.base import Model, NonEmpty, check_known, declared
from vocabulary.conditions import (
    ACCOUNT_CONDITION_ATTRIBUTES,
    ATTRIBUTES,
    OPERATORS,
    RECENT_TICKETS,
    SLA_STATE,
    Attribute,
    Kind,
    account_attribute,
)


def attribute(name: str) -> Attribute | None:
    """The attribute a condition names, in the catalog of the matrix being validated: the
    account matrix's, or the ticket matrix's with the SLA milestones it declares."""
    if declared().for_accounts:
        return account_attribute(name)
    if name.startswith("sla.") and name.removeprefix("sla.") in declared().milestones:
        return SLA_STATE  # a milestone's state (sla.milestones)
    return ATTRIBUTES.get(name)


def _catalog() -> str:
    if declared().for_accounts:
        return ", ".join([*ACCOUNT_CONDITION_ATTRIBUTES, "account.<signal>"])
    return ", ".join(ATTRIBUTES)


def _scalar(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number or a text, found {value!r}")
    return value


# A validator rather than a union, so a wrong value gives one plain message; which values
# fit which attribute is checked in Condition._operator_fits_attribute.
Value = Annotated[Any, BeforeValidator(_scalar)]


class RecentTickets(Model):
    """The account's tickets opened in the last `days` days (this one included), compared."""

    days: int = Field(gt=0, le=3660)
    eq: int | None = None
    ne: int | None = None
    lt: int | None = None
    le: int | None = None
    gt: int | None = None
    ge: int | None = None

    @model_validator(mode="after")
    def _one_comparison(self) -> RecentTickets:
        if all(getattr(self, op) is None for op in ("eq", "ne", "lt", "le", "gt", "ge")):
            raise ValueError("expected a comparison next to days, e.g. {days: 30, ge: 3}")
        return self


class NumberTest(Model):
    """Comparisons of a number: {le: -20}, {gt: 0, lt: 10}."""

    eq: float | None = None
    ne: float | None = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None

    @model_validator(mode="after")
    def _one_comparison(self) -> NumberTest:
        if all(getattr(self, op) is None for op in ("eq", "ne", "lt", "le", "gt", "ge")):
            raise ValueError("expected a comparison, e.g. {le: -20}")
        return self


class Changed(Model):
    """An account value's change over the last `days` days (account triggers only).

    from / to: the value held at some time in the period was one of `from`, and the value now
    is one of `to` ("health fell from green to red within 30 days"). by / percent: the value
    now minus the one held at the start of the period (or the oldest one seen in it), as a
    difference or in percent of that value ("usage fell by a quarter": percent: {le: -25}).
    """

    field: str
    days: int = Field(gt=0, le=3660)
    from_: tuple[Value, ...] | None = Field(None, alias="from", min_length=1)
    to: tuple[Value, ...] | None = Field(None, min_length=1)
    by: NumberTest | None = None
    percent: NumberTest | None = None

    @field_validator("field")
    @classmethod
    def _account_value(cls, name: str) -> str:
        if not name.startswith("account.") or attribute(name) is None:
            raise ValueError(
                f"found {name!r}; changed follows an account value over time, expected e.g. "
                "account.health, account.arr or account.<signal>"
            )
        return name

    @model_validator(mode="after")
    def _something_to_test(self) -> Changed:
        if all(getattr(self, name) is None for name in ("from_", "to", "by", "percent")):
            raise ValueError("expected from, to, by or percent next to field and days")
        return self


_OPERATOR_FIELDS: tuple[str, ...] = ("eq", "ne", "lt", "le", "gt", "ge", "in_", "not_in")
_OPERATOR_FIELDS += ("contains", "contains_any", "exists")


class Condition(Model):
    """One node of a trigger's `when`: all / any / not / a comparison / recent_tickets."""

    all_: NonEmpty[tuple[Condition, ...]] | None = Field(None, alias="all")
    any_: NonEmpty[tuple[Condition, ...]] | None = Field(None, alias="any")
    not_: Condition | None = Field(None, alias="not")
    recent_tickets: RecentTickets | None = None
    breaches: RecentTickets | None = None  # account triggers only
    changed: Changed | None = None  # account triggers only
    field: str | None = None
    eq: Value | None = None
    ne: Value | None = None
    lt: Value | None = None
    le: Value | None = None
    gt: Value | None = None
    ge: Value | None = None
    in_: tuple[Value, ...] | None = Field(None, alias="in", min_length=1)
    not_in: tuple[Value, ...] | None = Field(None, min_length=1)
    contains: StrictStr | None = None
    contains_any: tuple[StrictStr, ...] | None = Field(None, min_length=1)
    exists: bool | None = None

    @field_validator("field")
    @classmethod
    def _known_attribute(cls, name: str) -> str:
        if attribute(name) is None:
            hint = " (recent_tickets takes days: write {recent_tickets: {days: 30, ge: 3}})"
            raise ValueError(
                f"unknown attribute {name!r}; expected one of {_catalog()}"
                + (hint if name == RECENT_TICKETS else "")
            )
        return name

    @field_validator(*_OPERATOR_FIELDS)
    @classmethod
    def _operator_fits_attribute(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.data.get("field")
        op = info.field_name.rstrip("_") if info.field_name else "?"
        if value is None or name is None:
            return value  # the shape check below reports a missing or unknown field
        found = attribute(name)
        if found is None:
            return value  # reported by _known_attribute
        if op not in OPERATORS[found.kind]:
            allowed = ", ".join(sorted(OPERATORS[found.kind]))
            raise ValueError(f"{op!r} does not apply to {name} ({found.kind}); use {allowed}")
        if op == "exists":
            return value
        for item in value if isinstance(value, tuple) else (value,):
            _check_value(name, item)
        return value

    @model_validator(mode="after")
    def _one_shape(self) -> Condition:
        shapes = [
            key
            for key, value in (
                ("all", self.all_),
                ("any", self.any_),
                ("not", self.not_),
                ("recent_tickets", self.recent_tickets),
                ("breaches", self.breaches),
                ("changed", self.changed),
                ("field", self.field),
            )
            if value is not None
        ]
        operators = [op.rstrip("_") for op in _OPERATOR_FIELDS if getattr(self, op) is not None]
        if len(shapes) != 1:
            found = ", ".join(shapes) or "none of them"
            raise ValueError(
                "expected exactly one of all, any, not, field, recent_tickets in a condition, "
                f"found {found}"
            )
        if shapes[0] in ("breaches", "changed") and not declared().for_accounts:
            raise ValueError(
                f"{shapes[0]} applies to account triggers only (matrix.accounts.triggers)"
            )
        if shapes[0] == "field" and not operators:
            raise ValueError(f"expected a comparison for {self.field}, e.g. eq: ..., in: [...]")
        if shapes[0] != "field" and operators:
            raise ValueError(f"{', '.join(operators)} needs a field next to it")
        return self


def _check_value(name: str, value: Any) -> None:
    found = attribute(name)
    if found is None or found.kind is Kind.SIGNAL:
        return  # a signal's values are checked against the mapping (config/account_checks.py)
    if found.kind is Kind.NUMBER:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{name} is a number; found {value!r}")
    elif not isinstance(value, str):
        raise ValueError(f"{name} holds text; found {value!r} (quote it in YAML)")
    elif found.kind is Kind.ENUM and value not in found.values:
        raise ValueError(f"{name} is one of {', '.join(found.values)}; found {value!r}")
    elif found.declared_in:
        check_known(value, found.declared_in)
