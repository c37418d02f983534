"""Read one canonical attribute out of a vendor record, as a read mapping describes it.

`AttributeReader` is built once per mapping entry (paths parsed, table ready) and then applied
to every record of a run, so the per-record work is a few dict lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config.read_mapping import ReadField
from mapping.paths import resolve
from vocabulary.attributes import ValueKind
from vocabulary.paths import SourcePath, parse_source_path
from vocabulary.values import (
    ValueProblem,
    coerce,
    is_empty,
    short,
    to_domain,
    to_list,
    to_text,
    translation_key,
)

_LIST_KINDS = ("list", "domains")


@dataclass(frozen=True, slots=True)
class AttributeReader:
    attribute: str
    kind: ValueKind
    paths: tuple[SourcePath, ...]
    source_type: str | None
    table: Mapping[str, Any] | None
    keep_unknown: bool
    default: Any
    prefix: str | None
    # Set: the value read is a number of minutes; normalise adds it to this attribute's time.
    minutes_after: str | None = None
    # Set: (path, values) - the attribute is empty while the path holds one of the values.
    unless: tuple[SourcePath, frozenset[str]] | None = None

    @classmethod
    def build(cls, attribute: str, kind: ValueKind, read: ReadField) -> AttributeReader:
        return cls(
            attribute,
            read.value_kind(kind),
            read.paths,
            read.type,
            read.translate,
            read.keep_unknown,
            read.default,
            read.prefix,
            read.minutes_after,
            (parse_source_path(read.unless.source), frozenset(read.unless.in_))
            if read.unless
            else None,
        )

    def read(self, data: Mapping[str, Any], related: Mapping[str, Mapping[str, Any]]) -> Any:
        """The canonical value, or None when the record has none; ValueProblem when unusable."""
        if self.unless is not None:
            path, values = self.unless
            if translation_key(resolve(data, path, related)) in values:
                return None
        if self.kind in _LIST_KINDS:
            return self._read_list(data, related)
        return self._read_scalar(data, related)

    def _translate(self, raw: Any) -> tuple[bool, Any]:
        """(found, value): the table's value, the raw value when there is no table or it is kept."""
        if self.table is None:
            return True, raw
        key = translation_key(raw)
        if key in self.table:
            return True, self.table[key]
        return self.keep_unknown, raw

    def _prefixed(self, value: Any) -> Any:
        if self.prefix and isinstance(value, str) and not value.startswith(self.prefix):
            return self.prefix + value
        return value

    def _read_scalar(
        self, data: Mapping[str, Any], related: Mapping[str, Mapping[str, Any]]
    ) -> Any:
        problem: ValueProblem | None = None
        for path in self.paths:
            raw = resolve(data, path, related)
            if is_empty(raw):
                continue
            try:
                if self.source_type is not None:
                    raw = coerce(raw, self.source_type)
                found, value = self._translate(raw)
                if not found:
                    problem = problem or ValueProblem(
                        f"found {short(raw)} at {path}, which the translate table does not list"
                    )
                    continue
                if value is None:
                    continue
                return coerce(self._prefixed(value), self.kind)
            except ValueProblem as error:
                problem = problem or ValueProblem(f"{path}: {error}")
        if self.default is not None:
            return coerce(self.default, self.kind)
        if problem is not None:
            raise problem
        return None

    def _item(self, value: Any) -> str:
        text = to_text(value)
        return to_domain(text) if self.kind == "domains" else text

    def _read_list(
        self, data: Mapping[str, Any], related: Mapping[str, Mapping[str, Any]]
    ) -> list[Any]:
        items: list[Any] = []
        problem: ValueProblem | None = None
        for path in self.paths:
            raw = resolve(data, path, related)
            if is_empty(raw):
                continue
            # Text is split at commas and spaces; items of a list are kept whole ("Data Privacy").
            for item in raw if isinstance(raw, list) else [raw]:
                if is_empty(item):
                    continue
                try:
                    for text in [to_text(item)] if isinstance(raw, list) else to_list(item):
                        found, value = self._translate(text)
                        if found and not is_empty(value):
                            items.append(self._item(self._prefixed(value)))
                except ValueProblem as error:  # one bad item does not spoil the others
                    problem = problem or ValueProblem(f"{path}: {error}")
        if not items and self.default is not None:
            return coerce(self.default, self.kind)
        if not items and problem is not None:
            raise problem
        return list(dict.fromkeys(items))  # keep order, drop repeats
