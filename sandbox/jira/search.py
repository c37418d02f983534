"""What a parsed JQL query means: which issues match, in which order, one page at a time.

Fields of the subset: project, updated (updatedDate), created (createdDate), statusCategory,
key (issuekey, id). Dates are read in the querying user's time zone with minute precision;
an unquoted number is epoch milliseconds. Every other field, operator or function is a 400
with Jira's ErrorCollection, naming every problem found (Jira reports them together).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sandbox.jira.jql import And, Clause, JqlError, Node, Not, Or, Query, Value, parse
from sandbox.jira.store import JiraStore, Row

UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
FIELD_ALIASES = {
    "project": "project",
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "statuscategory": "statusCategory",
    "key": "key",
    "issuekey": "key",
    "id": "key",
}
OPERATORS = {
    "project": ("=", "!=", "in", "not in"),
    "statusCategory": ("=", "!=", "in", "not in"),
    "key": ("=", "!=", "in", "not in"),
    "updated": ("=", "!=", "<", ">", "<=", ">=", "in", "not in"),
    "created": ("=", "!=", "<", ">", "<=", ">=", "in", "not in"),
}
# statusCategory values by name, key and id, lower-cased -> key
STATUS_CATEGORIES = {
    "to do": "new", "new": "new", "2": "new",
    "in progress": "indeterminate", "indeterminate": "indeterminate", "4": "indeterminate",
    "done": "done", "complete": "done", "3": "done",
}  # fmt: skip
DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
DATE_HELP = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)
PERIOD = re.compile(r"^([+-]?)((?:\d+[wdhm]\s*)+)$")
PERIOD_UNITS = {"w": 7 * 86400_000, "d": 86400_000, "h": 3600_000, "m": 60_000}
ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-\d+$")
SORTABLE = {"updated": "updated", "created": "created", "key": "key", "project": "project"}

Predicate = Callable[[Row], bool]


@dataclass(frozen=True)
class Compiled:
    matches: Predicate
    sort_specs: tuple[tuple[str, bool], ...]  # (sortable field, descending)
    bounded: bool


def parse_date(value: Value, field: str, zone: ZoneInfo, now_ms: int) -> int:
    """Epoch ms of a JQL date value, read as the user's local time (minute precision)."""
    text = value.text.strip()
    if not value.quoted and text.isdigit():
        return int(text)
    for pattern in DATE_FORMATS:
        try:
            local = datetime.strptime(text, pattern)
        except ValueError:
            continue
        # fold=0 picks the earlier of two repeated local times, as java.time does.
        return int(local.replace(tzinfo=zone).timestamp() * 1000)
    period = PERIOD.match(text)
    if period:
        sign = -1 if period.group(1) == "-" else 1
        amounts = re.findall(r"(\d+)([wdhm])", period.group(2))
        return now_ms + sign * sum(int(n) * PERIOD_UNITS[unit] for n, unit in amounts)
    raise ValueError(f"Date value '{value.text}' for field '{field}' is invalid. {DATE_HELP}")


class _Compiler:
    def __init__(self, store: JiraStore, now_ms: int):
        self.store = store
        self.now_ms = now_ms
        self.zone = ZoneInfo(store.time_zone)
        self.errors: list[str] = []

    def node(self, node: Node) -> Predicate:
        if isinstance(node, And):
            parts = [self.node(part) for part in node.parts]
            return lambda row: all(part(row) for part in parts)
        if isinstance(node, Or):
            parts = [self.node(part) for part in node.parts]
            return lambda row: any(part(row) for part in parts)
        if isinstance(node, Not):
            inner = self.node(node.part)
            return lambda row: not inner(row)
        return self.clause(node)

    def clause(self, clause: Clause) -> Predicate:
        field = FIELD_ALIASES.get(clause.field.lower())
        if field is None:
            self.errors.append(
                f"Field '{clause.field}' does not exist or you do not have permission to view it."
            )
            return lambda row: False
        if clause.operator not in OPERATORS[field]:
            self.errors.append(
                f"The operator '{clause.operator.upper()}' is not supported by the '{clause.field}' field."
            )
            return lambda row: False
        if field in ("updated", "created"):
            return self._date_clause(field, clause)
        wanted = set()
        for value in clause.values:
            resolved = getattr(self, f"_{field}_value")(clause.field, value)
            if resolved is not None:
                wanted.add(resolved)
        attribute = {"project": "project_id", "statusCategory": "category_key", "key": "key"}[field]
        if clause.operator in ("=", "in"):
            return lambda row: getattr(row, attribute) in wanted
        return lambda row: getattr(row, attribute) not in wanted

    def _project_value(self, field: str, value: Value) -> str | None:
        wanted = value.text.lower()
        for project in self.store.projects:
            if wanted in (
                str(project["id"]).lower(),
                project["key"].lower(),
                project.get("name", "").lower(),
            ):
                return str(project["id"])
        self.errors.append(f"The value '{value.text}' does not exist for the field '{field}'.")
        return None

    def _statusCategory_value(self, field: str, value: Value) -> str | None:  # noqa: N802 - the JQL field's name
        category = STATUS_CATEGORIES.get(value.text.lower())
        if category is None:
            self.errors.append(f"The value '{value.text}' does not exist for the field '{field}'.")
        return category

    def _key_value(self, field: str, value: Value) -> str | None:
        text = value.text
        if text.isdigit():
            key = self.store.keys_by_id.get(text)
        elif ISSUE_KEY.match(text):
            # A key the issue had before a move still finds it, as in Jira.
            found = self.store.find(text)
            key = found["key"] if found is not None else None
        else:
            self.errors.append(f"The issue key '{text}' for field '{field}' is invalid.")
            return None
        if key is None:
            self.errors.append(f"An issue with key '{text}' does not exist for field '{field}'.")
        return key

    def _date_clause(self, field: str, clause: Clause) -> Predicate:
        instants = []
        for value in clause.values:
            try:
                instants.append(parse_date(value, clause.field, self.zone, self.now_ms))
            except ValueError as problem:
                self.errors.append(str(problem))
        if len(instants) != len(clause.values):
            return lambda row: False
        attribute = "updated_ms" if field == "updated" else "created_ms"
        bound = instants[0]
        tests: dict[str, Predicate] = {
            "=": lambda row: getattr(row, attribute) == bound,
            "!=": lambda row: getattr(row, attribute) != bound,
            "<": lambda row: getattr(row, attribute) < bound,
            ">": lambda row: getattr(row, attribute) > bound,
            "<=": lambda row: getattr(row, attribute) <= bound,
            ">=": lambda row: getattr(row, attribute) >= bound,
            "in": lambda row: getattr(row, attribute) in instants,
            "not in": lambda row: getattr(row, attribute) not in instants,
        }
        return tests[clause.operator]


def compile_query(jql: str, store: JiraStore, now_ms: int) -> Compiled:
    """Parse and check `jql`; raises `JqlError` with every problem found."""
    query: Query = parse(jql)
    compiler = _Compiler(store, now_ms)
    matches = compiler.node(query.where) if query.where is not None else (lambda row: True)
    specs = []
    for key in query.order_by:
        sortable = SORTABLE.get(FIELD_ALIASES.get(key.field.lower(), key.field.lower()))
        if sortable is None:
            compiler.errors.append(
                f"Field '{key.field}' does not exist or you do not have permission to view it."
            )
        else:
            specs.append((sortable, key.descending))
    if compiler.errors:
        raise JqlError(compiler.errors)
    return Compiled(matches, tuple(specs), query.where is not None)


def _sort_value(row: Row, field: str) -> tuple:
    if field == "updated":
        return (row.updated_ms,)
    if field == "created":
        return (row.created_ms,)
    if field == "project":
        return (row.project_key,)
    return (row.project_key, row.number)


Specs = tuple[tuple[str, bool], ...]


def _ascending(value: int | str, descending: bool) -> object:
    """One sort component, turned so that plain ascending order gives the asked-for order."""
    if not descending:
        return value
    if isinstance(value, str):  # reversed text order; the closing 1 puts "AB" before "A"
        return (*(-ord(char) for char in value), 1)
    return -value


def sort_key(row: Row, specs: Specs) -> tuple:
    """The row's place in the query's order; ties fall back to id ascending so paging is stable."""
    parts = [
        _ascending(value, descending)
        for field, descending in specs
        for value in _sort_value(row, field)
    ]
    return (*parts, _id_number(row))


@dataclass(frozen=True)
class Found:
    rows: list[Row]  # in the query's order
    keys: list[tuple]  # sort_key of each row, ascending


INVALID_TOKEN = "The provided next page token is invalid or expired."


def _fingerprint(jql: str) -> str:
    return hashlib.sha256(jql.encode()).hexdigest()[:16]


def page_token(key: tuple, jql: str) -> str:
    """An opaque nextPageToken: the sort position of the page's last issue (keyset paging).

    Jira does not document what its tokens hold; keyset paging means an issue edited while a
    client pages moves instead of shifting the rest of the result under the client.
    """
    raw = json.dumps({"after": key, "q": _fingerprint(jql)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _tuples(value: object) -> object:
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def start_after(found: Found, token: str, jql: str) -> int:
    """The position of the first row after the token's; ValueError for a foreign token."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
        after, query = _tuples(decoded["after"]), decoded["q"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ValueError(INVALID_TOKEN) from None
    if query != _fingerprint(jql) or not isinstance(after, tuple):
        raise ValueError(INVALID_TOKEN)
    try:
        return bisect.bisect_right(found.keys, after)
    except TypeError:  # a token whose parts do not compare with this query's keys
        raise ValueError(INVALID_TOKEN) from None


def _id_number(row: Row) -> int:
    return int(row.id) if row.id.isdigit() else 0


def search(store: JiraStore, jql: str, now_ms: int, require_bounded: bool) -> Found:
    """All matching rows in order; `JqlError` (400) on bad or unbounded queries."""
    compiled = compile_query(jql, store, now_ms)
    if require_bounded and not compiled.bounded:
        raise JqlError([UNBOUNDED])
    keyed = sorted(
        (sort_key(row, compiled.sort_specs), row)
        for row in store.rows.values()
        if compiled.matches(row)
    )
    return Found([row for _, row in keyed], [key for key, _ in keyed])
