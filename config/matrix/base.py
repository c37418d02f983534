"""Shared pieces of the matrix models: the base model, durations, and declared-name checks.

Every cross-reference (a level, tier, category, region, role or calendar named somewhere) is
checked where the name is written, so the error's location is the key holding the bad value.
`MatrixConfig` reads the names the matrix declares from the raw input first and exposes them
here (a context variable) while its nested models validate.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

from vocabulary.attributes import UNKNOWN_TIER
from vocabulary.durations import parse_positive_duration

DEFAULT_LEVELS = ("none", "informational", "advisory", "action-needed", "executive-review")
DEFAULT_ROLES = ("technical", "commercial", "executive")
ANY = "*"
T = TypeVar("T")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- names the matrix declares, visible to nested validators ------------------------------


@dataclass(frozen=True)
class _Declared:
    levels: tuple[str, ...] | None = None
    tiers: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    roles: tuple[str, ...] | None = None
    calendars: tuple[str, ...] | None = None
    trigger_names: tuple[str, ...] = ()
    # Every old name under the levels' renamed_from, once per mention (to find repeats).
    old_level_names: tuple[str, ...] = ()
    # The further SLA milestones (sla.milestones[*].name): targets and conditions name them.
    milestones: tuple[str, ...] = ()
    # Inside matrix.accounts: `levels` and `trigger_names` are the account matrix's own, the
    # ticket levels move here (highest_ticket_level names them), and conditions read the
    # account attributes.
    ticket_levels: tuple[str, ...] | None = None
    for_accounts: bool = False

    @classmethod
    def from_raw(cls, raw: Any) -> _Declared:
        if not isinstance(raw, dict):
            return cls()
        tiers = _names(raw.get("tiers"))
        calendars = raw.get("calendars")
        raw_levels = raw.get("levels", list(DEFAULT_LEVELS))
        return cls(
            levels=_names(_level_names(raw_levels)),
            tiers=None if tiers is None else with_unknown(tiers),
            categories=_names(raw.get("categories")),
            regions=_names(raw.get("regions")),
            roles=_names(raw.get("roles", list(DEFAULT_ROLES))),
            calendars=tuple(calendars) if isinstance(calendars, dict) else None,
            trigger_names=_trigger_names(raw.get("triggers")),
            old_level_names=_old_level_names(raw_levels),
            milestones=_milestone_names(raw.get("sla")),
        )


def _milestone_names(raw_sla: Any) -> tuple[str, ...]:
    found = raw_sla.get("milestones") if isinstance(raw_sla, dict) else None
    if not isinstance(found, list | tuple):
        return ()
    return tuple(m["name"] for m in found if isinstance(m, dict) and isinstance(m.get("name"), str))


def _names(raw: Any) -> tuple[str, ...] | None:
    """The declared names when the raw value is a list of strings; None means: do not check.

    An empty list is reported at its own key; checking every reference against it would
    only repeat that problem once per trigger and rule.
    """
    if isinstance(raw, list | tuple) and raw and all(isinstance(name, str) for name in raw):
        return tuple(raw)
    return None


def _level_names(raw: Any) -> Any:
    """A level is written as its name or as {name: ..., renamed_from: ...}; the names."""
    if not isinstance(raw, list | tuple):
        return raw
    return [entry.get("name") if isinstance(entry, dict) else entry for entry in raw]


def _old_level_names(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple):
        return ()
    found: list[str] = []
    for entry in raw:
        old = entry.get("renamed_from") if isinstance(entry, dict) else None
        found += [old] if isinstance(old, str) else [o for o in old or () if isinstance(o, str)]
    return tuple(found)


def _trigger_names(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple):
        return ()
    return tuple(t["name"] for t in raw if isinstance(t, dict) and isinstance(t.get("name"), str))


def with_unknown(tiers: tuple[str, ...]) -> tuple[str, ...]:
    return tiers if UNKNOWN_TIER in tiers else (*tiers, UNKNOWN_TIER)


_DECLARED: ContextVar[_Declared | None] = ContextVar("matrix_declared", default=None)


def _account_names(raw: Any) -> _Declared:
    """The names declared inside matrix.accounts, on top of the matrix's own."""
    outer = declared()
    raw = raw if isinstance(raw, dict) else {}
    return replace(
        outer,
        levels=_names(raw.get("levels")),
        ticket_levels=outer.levels,
        trigger_names=_trigger_names(raw.get("triggers")),
        old_level_names=(),
        for_accounts=True,
    )


@contextmanager
def declaring_accounts(raw: Any) -> Iterator[None]:
    """Validate the account matrix (raw: its YAML) against its own levels and attributes."""
    token = _DECLARED.set(_account_names(raw))
    try:
        yield
    finally:
        _DECLARED.reset(token)


def declared() -> _Declared:
    """Names declared by the matrix being validated; nothing is checked outside one."""
    return _DECLARED.get() or _Declared()


@contextmanager
def declaring(raw: Any) -> Iterator[None]:
    token = _DECLARED.set(_Declared.from_raw(raw))
    try:
        yield
    finally:
        _DECLARED.reset(token)


def check_known(value: str, kind: str, *, wildcard: bool = False) -> str:
    """Raise when `value` is not among the declared `kind` names (levels, tiers, ...)."""
    if wildcard and value == ANY:
        return value
    names = getattr(declared(), kind)
    if names is not None and value not in names:
        singular = {"categories": "category", "ticket_levels": "ticket level"}.get(
            kind, kind.removesuffix("s")
        )
        where = {"ticket_levels": "levels"}.get(kind, kind)
        if kind == "levels" and declared().for_accounts:
            singular, where = "account level", "accounts.levels"
        extra = " or '*'" if wildcard else ""
        raise ValueError(
            f"unknown {singular} {value!r}; expected one of {', '.join(names)}{extra} "
            f"(declared under matrix.{where})"
        )
    return value


def unique(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}; each must appear once")
        if not value.strip() or value == ANY:
            raise ValueError(f"{what} names must be non-empty and not '*', found {value!r}")
        seen.add(value)
    return values


def _duration(text: str) -> str:
    parse_positive_duration(text)
    return text


def _not_empty(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # Checked after the items, so a list whose items all failed does not also report "empty".
    if not values:
        raise ValueError("expected at least one entry, found an empty list")
    return values


NonEmpty = Annotated[T, AfterValidator(_not_empty)]
Duration = Annotated[str, AfterValidator(_duration)]
