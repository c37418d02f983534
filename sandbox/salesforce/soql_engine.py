"""Checks a parsed SOQL query against the schema and runs it over the store's records.

Semantics follow the SOQL reference where the connector depends on them:
- string comparisons and ORDER BY on text are case-insensitive; nulls sort first by default;
- `field != value` and `NOT IN` match records whose field is null (SOQL treats null as a value);
- dateTime filters compare whole seconds: Salesforce ignores milliseconds when filtering, so
  `SystemModstamp > 10:15:30.500Z` does not match a record stamped 10:15:30.900Z. ORDER BY
  uses the full stored precision.
- ids compare in their 18-character form, so 15-character literals match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sandbox.salesforce import ids
from sandbox.salesforce.schema import FieldInfo, ObjectInfo, Schema
from sandbox.salesforce.soql_lexer import SoqlError
from sandbox.salesforce.soql_parser import (
    Comparison,
    Condition,
    InList,
    Junction,
    Literal,
    Not,
    Path,
    Query,
)

Record = dict[str, Any]
Resolver = Callable[[str, str], Record | None]  # (object name, id) -> record

TEXT_TYPES = frozenset({"string", "textarea", "email", "url", "picklist", "phone"})
ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"double", "currency", "int", "percent"})
_EXPECTED = {
    "datetime": ("dateTime", False),
    "date": ("date", False),
    "boolean": ("boolean", False),
    **{t: ("string", True) for t in TEXT_TYPES | ID_TYPES},
    **{t: ("double", False) for t in NUMBER_TYPES},
}
_LITERAL_FITS = {
    "datetime": {"datetime"},
    "date": {"date"},
    "boolean": {"boolean"},
    **{t: {"string"} for t in TEXT_TYPES | ID_TYPES},
    **{t: {"number"} for t in NUMBER_TYPES},
}


@dataclass(frozen=True)
class FieldRef:
    """A resolved field path: the reference hops and the final field."""

    hops: tuple[FieldInfo, ...]  # reference fields followed, e.g. (Account.OwnerId,)
    target: FieldInfo

    @property
    def output_path(self) -> tuple[str, ...]:
        return tuple(hop.relationship or "" for hop in self.hops) + (self.target.name,)


@dataclass(frozen=True)
class CompiledQuery:
    query: Query
    obj: ObjectInfo
    fields: tuple[FieldRef, ...]
    predicate: Callable[[Record, Resolver], bool] | None
    order: tuple[tuple[FieldRef, bool, bool], ...]  # (field, descending, nulls_last)


def compile_query(query: Query, schema: Schema | None = None) -> CompiledQuery:
    """The query resolved against an org's schema (default: the catalogue's full org)."""
    schema = schema or Schema()
    obj = schema.object_info(query.object_name)
    if obj is None:
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{query.object_name}' is not supported. If you are attempting to use a "
            "custom object, be sure to append the '__c' after the entity name. Please reference "
            "your WSDL or the describe call for the appropriate names.",
            query.object_position,
        )
    fields = tuple(_resolve(schema, obj, path) for path in query.fields)
    seen: set[tuple[str, ...]] = set()
    for path, ref in zip(query.fields, fields, strict=True):
        if ref.output_path in seen:
            raise SoqlError(
                "MALFORMED_QUERY", f"duplicate field selected: {path.text}", path.position
            )
        seen.add(ref.output_path)
    predicate = _compile(schema, obj, query.where) if query.where is not None else None
    order = tuple(
        (_resolve(schema, obj, key.path), key.descending, key.nulls_last) for key in query.order
    )
    return CompiledQuery(query, obj, fields, predicate, order)


def run(compiled: CompiledQuery, records: list[Record], resolve: Resolver) -> list[Record]:
    """Filter, sort, offset and limit; returns the matching stored records (not projected)."""
    predicate = compiled.predicate
    rows = [record for record in records if predicate is None or predicate(record, resolve)]
    for ref, descending, nulls_last in reversed(compiled.order):
        rows.sort(key=_sort_key(ref, resolve, descending, nulls_last), reverse=descending)
    query = compiled.query
    start = query.offset or 0
    end = start + query.limit if query.limit is not None else None
    return rows[start:end]


def project(compiled: CompiledQuery, record: Record, resolve: Resolver, version: str) -> Record:
    """One result row as the REST API returns it: attributes, then the selected fields."""
    row: Record = {"attributes": attributes(compiled.obj.name, record["Id"], version)}
    for ref in compiled.fields:
        target_row, current = row, record
        for hop in ref.hops:
            name = hop.relationship or hop.name
            parent = _follow(current, hop, resolve) if current is not None else None
            if parent is None:
                target_row[name] = None
                current = None
                break
            nested = target_row.get(name)
            if not isinstance(nested, dict):
                nested = {"attributes": attributes(hop.reference_to or "", parent["Id"], version)}
                target_row[name] = nested
            target_row, current = nested, parent
        if current is not None:
            target_row[ref.target.name] = current.get(ref.target.name)
    return row


def attributes(object_name: str, record_id: str, version: str) -> dict[str, str]:
    return {
        "type": object_name,
        "url": f"/services/data/v{version}/sobjects/{object_name}/{record_id}",
    }


def format_error(text: str, error: SoqlError) -> str:
    """Salesforce's message shape: the query line, a caret, the row and column, the reason."""
    if error.position is None:
        return error.message
    line_start = text.rfind("\n", 0, error.position) + 1
    line_end = text.find("\n", error.position)
    line = text[line_start : None if line_end < 0 else line_end]
    row = text.count("\n", 0, error.position) + 1
    column = error.position - line_start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{error.message}"


# -- resolving names ------------------------------------------------------------------------
def _resolve(schema: Schema, obj: ObjectInfo, path: Path) -> FieldRef:
    hops: list[FieldInfo] = []
    current = obj
    for part in path.parts[:-1]:
        hop = current.relationship(part)
        target = schema.object_info(hop.reference_to) if hop and hop.reference_to else None
        if hop is None or target is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"Didn't understand relationship '{part}' in field path. If you are attempting to "
                "use a custom relationship, be sure to append the '__r' after the custom "
                "relationship name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
                path.position,
            )
        hops.append(hop)
        current = target
    info = current.field(path.parts[-1])
    if info is None:
        raise SoqlError(
            "INVALID_FIELD",
            f"No such column '{path.parts[-1]}' on entity '{current.name}'. If you are attempting "
            "to use a custom field, be sure to append the '__c' after the custom field name. "
            "Please reference your WSDL or the describe call for the appropriate names.",
            path.position,
        )
    return FieldRef(tuple(hops), info)


def _follow(record: Record, hop: FieldInfo, resolve: Resolver) -> Record | None:
    parent_id = record.get(hop.name)
    if not parent_id or not hop.reference_to:
        return None
    return resolve(hop.reference_to, str(parent_id))


def _value(ref: FieldRef, record: Record, resolve: Resolver) -> Any:
    current: Record | None = record
    for hop in ref.hops:
        current = _follow(current, hop, resolve) if current is not None else None
    return None if current is None else current.get(ref.target.name)


# -- WHERE ------------------------------------------------------------------------------------
Predicate = Callable[[Record, Resolver], bool]


def _compile(schema: Schema, obj: ObjectInfo, condition: Condition) -> Predicate:
    if isinstance(condition, Junction):
        parts = [_compile(schema, obj, operand) for operand in condition.operands]
        if condition.kind == "and":
            return lambda record, resolve: all(part(record, resolve) for part in parts)
        return lambda record, resolve: any(part(record, resolve) for part in parts)
    if isinstance(condition, Not):
        inner = _compile(schema, obj, condition.operand)
        return lambda record, resolve: not inner(record, resolve)
    if isinstance(condition, InList):
        return _compile_in(schema, obj, condition)
    return _compile_comparison(schema, obj, condition)


def _check_filterable(ref: FieldRef, path: Path) -> None:
    if ref.target.type == "textarea":
        raise SoqlError(
            "INVALID_FIELD",
            f"field '{ref.target.name}' can not be filtered in a query call",
            path.position,
        )


def _literal_value(ref: FieldRef, literal: Literal) -> Any:
    """The literal converted to the comparable form of the field's type (None for null)."""
    field_type = ref.target.type
    if literal.kind == "null":
        return None
    if literal.kind not in _LITERAL_FITS.get(field_type, {"string"}):
        expected, quoted = _EXPECTED.get(field_type, ("string", True))
        quoting = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        raise SoqlError(
            "INVALID_FIELD",
            f"value of filter criterion for field '{ref.target.name}' must be of type {expected} "
            f"and {quoting}",
            literal.position,
        )
    if field_type in ID_TYPES:
        normalised = ids.normalise(str(literal.value))
        if normalised is None:
            raise SoqlError(
                "INVALID_QUERY_FILTER_OPERATOR",
                f"invalid ID field: {literal.value}",
                literal.position,
            )
        return normalised
    return _comparable(field_type, literal.value, for_filter=True)


def _comparable(field_type: str, value: Any, for_filter: bool) -> Any:
    """A stored or literal value in a form Python compares the way SOQL does."""
    if value is None:
        return None
    if field_type == "datetime":
        millis = value if isinstance(value, int) else datetime_millis(value)
        return millis // 1000 if for_filter else millis
    if field_type == "date":
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    if field_type in NUMBER_TYPES:
        return float(value)
    if field_type in ID_TYPES:
        return ids.normalise(str(value)) or str(value)
    if field_type == "boolean":
        return bool(value)
    return str(value).casefold()


def _compile_comparison(schema: Schema, obj: ObjectInfo, condition: Comparison) -> Predicate:
    ref = _resolve(schema, obj, condition.path)
    _check_filterable(ref, condition.path)
    if condition.op == "like":
        if ref.target.type not in TEXT_TYPES | ID_TYPES:
            raise SoqlError(
                "INVALID_FIELD",
                f"invalid operator on {ref.target.type} field: {ref.target.name}",
                condition.literal.position,
            )
        pattern = _like_regex(str(condition.literal.value))
        return lambda record, resolve: _like(pattern, _value(ref, record, resolve))
    wanted = _literal_value(ref, condition.literal)
    op = condition.op
    if wanted is None and op not in ("=", "!="):
        raise SoqlError("MALFORMED_QUERY", "unexpected token: 'null'", condition.literal.position)
    field_type = ref.target.type
    compare = _OPERATORS[op]

    def predicate(record: Record, resolve: Resolver) -> bool:
        actual = _comparable(field_type, _value(ref, record, resolve), for_filter=True)
        if actual is None or wanted is None:
            return (actual is None and wanted is None) == (op == "=")
        return compare(actual, wanted)

    return predicate


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _compile_in(schema: Schema, obj: ObjectInfo, condition: InList) -> Predicate:
    ref = _resolve(schema, obj, condition.path)
    _check_filterable(ref, condition.path)
    wanted = {_literal_value(ref, literal) for literal in condition.literals}
    field_type = ref.target.type
    negated = condition.negated

    def predicate(record: Record, resolve: Resolver) -> bool:
        actual = _comparable(field_type, _value(ref, record, resolve), for_filter=True)
        return (actual in wanted) != negated

    return predicate


def _like_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "%_":
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _like(pattern: re.Pattern[str], value: Any) -> bool:
    return value is not None and pattern.fullmatch(str(value)) is not None


# -- ORDER BY ----------------------------------------------------------------------------------
def _sort_key(ref: FieldRef, resolve: Resolver, descending: bool, nulls_last: bool) -> Callable:
    # Python's reverse=True also reverses where nulls land, so their rank flips with it.
    null_rank = 2 if nulls_last != descending else 0
    field_type = ref.target.type

    def key(record: Record) -> tuple[int, Any]:
        value = _comparable(field_type, _value(ref, record, resolve), for_filter=False)
        return (null_rank, 0) if value is None else (1, value)

    return key


# -- datetimes ---------------------------------------------------------------------------------
@lru_cache(maxsize=262_144)
def datetime_millis(value: str | datetime) -> int:
    """Milliseconds since the epoch of a stored dateTime ('2026-11-20T10:15:30.000+0000')."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
