"""Warnings across the mapping and the matrix: what validates, runs, and is surely wrong.

- A trigger comparing an attribute with a value its read mapping never produces
  (`account.health eq: Red` when the translate table yields `red`): it can never fire.
- Two levels written as the same option of a field: the system cannot tell them apart.

Each is a (key path, message) pair like the errors; `sync.checks` makes them warnings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from config.base import RelativeProblem
from config.matrix import Condition
from config.problems import did_you_mean
from config.read_mapping import ReadField, ReadMappingBase
from config.schema import Config
from config.write_mapping import LEVEL_OUTPUTS
from vocabulary.attributes import UNKNOWN_TIER
from vocabulary.values import ValueProblem, coerce


def mapping_warnings(config: Config) -> list[RelativeProblem]:
    """Every warning of this module, with key paths from the root of the config."""
    return _never_produced(config) + _shared_level_options(config)


# --- trigger values the mapping never produces ------------------------------------------


def _readers(config: Config, attribute: str) -> list[tuple[str, ReadMappingBase]] | None:
    """(path, read mapping) of each enabled system that fills `attribute`; None: not read."""
    scope, _, name = attribute.partition(".")
    enabled = config.connections.enabled
    if scope == "ticket":
        return [
            (f"mapping.{system}.ticket", getattr(config.mapping, system).ticket)
            for system in ("zendesk", "jira")
            if enabled(system)
        ]
    if scope == "account" and enabled("salesforce"):
        return [("mapping.salesforce.account", config.mapping.salesforce.account)]
    return None


def _produced(config: Config, attribute: str) -> tuple[set[Any], list[str]] | None:
    """The values the mappings can give `attribute` and where they say so; None: any value."""
    readers = _readers(config, attribute)
    if not readers:
        return None
    name = attribute.partition(".")[2]
    values: set[Any] = set()
    where = []
    for path, reader in readers:
        read: ReadField | None = reader.mapped().get(name)
        if read is None:
            continue  # not read in this system: it gives no value at all
        if read.translate is None or read.keep_unknown:
            return None  # source values pass through: anything may come
        kind = read.value_kind(reader.attribute_kinds[name])
        for value in (*read.translate.values(), read.default):
            if value is None:
                continue
            try:
                values.add(coerce(value, kind))
            except ValueProblem:
                continue  # reported as an error at the translate table
        where.append(f"{path}.{name}")
    if attribute == "account.tier":
        values.add(UNKNOWN_TIER)  # given to tickets that match no account
    return values, where


def _comparisons(condition: Condition, path: tuple[str | int, ...]) -> Iterator[tuple]:
    """(path, attribute, values) of every eq / in comparison in a condition tree."""
    for key, parts in (("all", condition.all_), ("any", condition.any_)):
        for index, part in enumerate(parts or ()):
            yield from _comparisons(part, path + (key, index))
    if condition.not_ is not None:
        yield from _comparisons(condition.not_, path + ("not",))
    if condition.field is None:
        return
    if condition.eq is not None:
        yield path + ("eq",), condition.field, (condition.eq,)
    if condition.in_ is not None:
        yield path + ("in",), condition.field, condition.in_


def _never_produced(config: Config) -> list[RelativeProblem]:
    problems: list[RelativeProblem] = []
    for index, trigger in enumerate(config.matrix.triggers):
        base: tuple[str | int, ...] = ("matrix", "triggers", index, "when")
        for path, attribute, wanted in _comparisons(trigger.when, base):
            produced = _produced(config, attribute)
            if produced is None:
                continue
            values, where = produced
            missing = [value for value in wanted if value not in values]
            if not missing:
                continue
            shown = sorted(str(value) for value in values)
            hint = did_you_mean(str(missing[0]), shown) if len(missing) == 1 else ""
            never = ", ".join(repr(value) for value in missing)
            verb = "give" if len(where) > 1 else "gives"
            gives = f"{verb} only {', '.join(shown)}" if shown else f"{verb} no value"
            so = "this comparison never holds" if missing == list(wanted) else "it never matches"
            problems.append(
                (
                    path,
                    f"{attribute} is never {never}{hint}: {' and '.join(where)} {gives}, so "
                    f"{so}; expected one of those values",
                )
            )
    return problems


# --- levels sharing an option -------------------------------------------------------------


def _shared_level_options(config: Config) -> list[RelativeProblem]:
    problems: list[RelativeProblem] = []
    for path, output, write in config.write_fields():
        if output not in LEVEL_OUTPUTS or not write.options:  # labels: an error, see schema
            continue
        first_level: dict[str, str] = {}
        for level in config.matrix.levels:
            option = write.options.get(level)
            if option is None:
                continue
            if option in first_level:
                problems.append(
                    (
                        path + ("options", level),
                        f"level {level} is written as '{option}', like level "
                        f"{first_level[option]}; the system cannot tell them apart; expected "
                        "one option per level",
                    )
                )
            first_level.setdefault(option, level)
    return problems
