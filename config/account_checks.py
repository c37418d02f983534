"""Checks across sections for the account matrix: its signals against the mapping, its levels
against the options written. Each problem points at the key that holds the mistake."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from config.base import RelativeProblem
from config.matrix import Condition
from config.read_mapping import signal_kind
from vocabulary.conditions import account_attribute

Path = tuple[str | int, ...]
_VALUE_OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in_", "not_in")


def account_problems(config: Any) -> list[RelativeProblem]:
    """Problems of `config.matrix.accounts` that need the mapping to be seen (a Config)."""
    accounts = config.matrix.accounts
    if accounts is None:
        return []
    base: Path = ("matrix", "accounts", "triggers")
    signals = config.mapping.salesforce.account.signals
    problems: list[RelativeProblem] = []
    for index, trigger in enumerate(accounts.triggers):
        for path, name, values in _fields(trigger.when, (*base, index, "when")):
            problems += _signal_problems(path, name, values, signals)
    levels = accounts.levels
    matrix_write = config.mapping.salesforce.account_matrix
    if matrix_write is not None:
        level = matrix_write.write.outputs().get("account_level")
        path = ("mapping", "salesforce", "account_matrix", "write", "account_level")
        if level is not None:
            problems += _option_problems(path, level.options, level.format == "dropdown", levels)
    organization = config.mapping.zendesk.organization
    if organization is not None:
        path = ("mapping", "zendesk", "organization")
        problems += _option_problems(path, organization.options, True, levels)
    return problems


def _fields(condition: Condition, path: Path) -> Iterator[tuple[Path, str, tuple[Any, ...]]]:
    """(path of the field key, attribute, the values compared with) of every leaf."""
    for key, parts in (("all", condition.all_), ("any", condition.any_)):
        for index, part in enumerate(parts or ()):
            yield from _fields(part, (*path, key, index))
    if condition.not_ is not None:
        yield from _fields(condition.not_, (*path, "not"))
    if condition.field is not None:
        values: list[Any] = []
        for op in _VALUE_OPERATORS:
            value = getattr(condition, op)
            values += list(value) if isinstance(value, tuple) else [value]
        yield (*path, "field"), condition.field, tuple(v for v in values if v is not None)
    if condition.changed is not None:
        changed = condition.changed
        values = [*(changed.from_ or ()), *(changed.to or ())]
        # by / percent compare a difference: the value itself must be a number.
        numeric = (0,) if changed.by is not None or changed.percent is not None else ()
        yield (*path, "changed", "field"), changed.field, (*values, *numeric)


def _signal_problems(
    path: Path, name: str, values: tuple[Any, ...], signals: dict[str, Any]
) -> list[RelativeProblem]:
    found = account_attribute(name)
    if found is None or found.kind != "signal":
        return []
    signal = name.removeprefix("account.")
    read = signals.get(signal)
    if read is None:
        known = ", ".join(f"account.{s}" for s in signals) or "none is mapped"
        return [
            (
                path,
                f"found '{name}', which the mapping does not read; map it under "
                f"mapping.salesforce.account.signals.{signal} (signals: {known})",
            )
        ]
    number = signal_kind(read) == "float"
    for value in values:
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if is_number != number:
            holds = "a number" if number else "text"
            return [(path, f"{name} holds {holds} (its mapping's type); found {value!r}")]
    return []


def _option_problems(
    path: Path, options: dict[str, str] | None, every_level: bool, levels: tuple[str, ...]
) -> list[RelativeProblem]:
    if not options:
        return []
    problems: list[RelativeProblem] = [
        (
            (*path, "options", key),
            f"unknown account level '{key}'; expected one of {', '.join(levels)}",
        )
        for key in options
        if key not in levels
    ]
    missing = [level for level in levels if level not in options]
    if every_level and missing:
        problems.append(
            (
                (*path, "options"),
                f"no option for account level {', '.join(missing)}; expected one per level",
            )
        )
    return problems
