"""Jira through the `jira` client: incremental issue reads by JQL, field edits, bulk edit on Cloud.

The client runs with its own retries off and the shared PolicyAdapter mounted on its session,
so 429/503, Retry-After and the X-RateLimit-* budget are handled once, in connectors/transport.

Reads: `project in (...) AND updated >= "<local minute>" ORDER BY updated ASC, key ASC`, paged by
nextPageToken (Cloud, GET /rest/api/3/search/jql) or startAt (Data Center, /rest/api/2/search).
JQL dates have minute precision and are read in the API user's time zone (GET /myself), so the
query starts at (newest `updated` seen - overlap), floored to the minute and written in that
zone; what comes back twice is dropped by (key, updated). The cursor is JSON:
{"updated": ISO time of the newest update seen, "seen": {key: epoch ms of its update}} with
only the updates inside the overlap window. The first read (no cursor) backfills open issues.

Writes: one PUT /rest/api/{v}/issue/{key} per issue ({"fields", "update": {"labels": ...}},
notifyUsers=false unless Jira says that needs admin rights). With `use_bulk_edit` on Cloud,
issues getting identical changes go together through POST /rest/api/3/bulk/issues/fields
(see connectors/jira_bulk.py). 400 and 404 are REJECTED with Jira's words; an unknown outcome
(reset, timeout, 5xx) is RETRY.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from jira import JIRA, JIRAError

from connectors.base import ConnectorStats, FieldWrite, Option, Page, WriteResult, WriteStatus
from connectors.errors import (
    AuthError,
    ConfigRefused,
    ConnectorError,
    RateLimited,
    SystemUnavailable,
)
from connectors.jira_bulk import BulkEditor
from connectors.outcomes import JIRA_EDIT
from connectors.paginators import NextPageToken, PageRequest, Paginator, StartAt, pages
from connectors.transport import (
    RetryPolicy,
    WriteOutcomeUnknown,
    batched,
    make_session,
)
from mapping.records import SourceRecord

if TYPE_CHECKING:
    from config.schema import Config

log = logging.getLogger("escalation_sync.jira")

SYSTEM = "jira"
CLOUD, DATA_CENTER = "cloud", "data_center"
DEFAULT_OVERLAP = timedelta(minutes=2)
ORDER = "ORDER BY updated ASC, key ASC"
KEYS_PER_QUERY = 100
CHANGELOG_PAGE = 100  # GET /issue/{id}/changelog: maxResults at most 100
_ISSUE_KEY_OR_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+|[0-9]+", re.ASCII)
NOTIFY_NEEDS_ADMIN = "admin or project admin permissions are required"
T = TypeVar("T")


def _before(history: Mapping[str, Any], moment: datetime) -> bool:
    """Whether a changelog history was made before `moment` (unreadable: treated as before)."""
    try:
        return parse_updated(str(history.get("created"))) < moment
    except (TypeError, ValueError):
        return True


def jql_string(value: str) -> str:
    """`value` as a quoted JQL string: quotes, backslashes and control characters escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    for char, escape in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        escaped = escaped.replace(char, escape)
    return f'"{escaped}"'


def jql_time(moment: datetime, zone: ZoneInfo) -> str:
    """`moment` as a JQL date in `zone`, minute precision, never later than `moment`.

    At the end of daylight saving time a local minute happens twice; Jira may read it as
    either instant, so the text is moved back until both readings are at or before `moment`.
    """
    target = moment.astimezone(UTC)
    candidate = target
    for _ in range(3):
        local = candidate.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)
        readings = [local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
        latest = max(readings)
        if latest <= target:
            return local.strftime("%Y/%m/%d %H:%M")
        candidate -= latest - target
    raise ValueError(f"cannot write {moment.isoformat()} as a JQL date in {zone.key}")


def parse_updated(text: str) -> datetime:
    """A Jira timestamp ('2026-11-20T10:15:30.123+0100') as an aware UTC datetime."""
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class IssueCursor:
    """Where an incremental read stands: the newest update seen and the updates in the overlap."""

    updated: datetime | None = None
    seen: dict[str, int] = field(default_factory=dict)  # key -> epoch ms of the update read

    @classmethod
    def decode(cls, text: str | None) -> IssueCursor:
        if not text:
            return cls()
        if not text.lstrip().startswith("{"):  # a bare ISO timestamp
            return cls(parse_updated(text))
        data = json.loads(text)
        return cls(
            parse_updated(data["updated"]),
            {str(k): int(v) for k, v in data.get("seen", {}).items()},
        )

    def encode(self) -> str | None:
        if self.updated is None:
            return None
        return json.dumps(
            {"updated": self.updated.isoformat(timespec="milliseconds"), "seen": self.seen}
        )

    def floor(self, overlap: timedelta) -> datetime | None:
        """Where the next query starts: newest update - overlap, down to the minute."""
        if self.updated is None:
            return None
        return (self.updated - overlap).replace(second=0, microsecond=0)

    def remember(self, key: str, updated: datetime, overlap: timedelta) -> None:
        self.seen[key] = _epoch_ms(updated)
        if self.updated is None or updated > self.updated:
            before = self.floor(overlap)
            self.updated = updated
            floor = self.floor(overlap)  # None only while nothing was read (updated is set now)
            if floor is not None and floor != before:  # the window moved on: forget what fell out
                bound = _epoch_ms(floor)
                self.seen = {k: ms for k, ms in self.seen.items() if ms >= bound}

    def already_read(self, key: str, updated: datetime, overlap: timedelta) -> bool:
        floor = self.floor(overlap)
        return self.seen.get(key) == _epoch_ms(updated) or (floor is not None and updated < floor)


class JiraConnector:
    """Jira Cloud or Data Center, one project list, one policy session per run.

    Satisfies `connectors.base.Connector`: stream "issues", records of kind "issue" by id
    (writes and re-reads take an id or a key; Jira accepts both).
    """

    system = SYSTEM
    streams = ("issues",)

    def __init__(
        self,
        url: str,
        *,
        email: str | None = None,
        api_token: str | None = None,
        personal_access_token: str | None = None,
        deployment: str = CLOUD,
        projects: Sequence[str] = (),
        extra_jql: str | None = None,
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        page_size: int = 100,
        overlap: timedelta = DEFAULT_OVERLAP,
        search: str | None = None,
        use_bulk_edit: bool = False,
        notify_users: bool = False,
        fields: Sequence[str] = ("*all",),
    ):
        if deployment not in (CLOUD, DATA_CENTER):
            raise ValueError(f"deployment must be {CLOUD!r} or {DATA_CENTER!r}")
        if personal_access_token is None and not (email and api_token):
            raise ValueError(
                "Jira needs email and api_token (basic) or a personal access token (bearer)"
            )
        self.deployment = deployment
        self.projects = list(projects)
        self.extra_jql = extra_jql
        self.page_size = page_size
        self.overlap = overlap
        self.search = search or ("enhanced" if deployment == CLOUD else "start_at")
        self.use_bulk_edit = use_bulk_edit
        self.notify_users = notify_users
        self.fields = list(fields)
        self.policy = policy or RetryPolicy()
        credentials: dict[str, Any] = (
            {"token_auth": personal_access_token}
            if personal_access_token is not None
            else {"basic_auth": (email, api_token)}
        )
        options = {
            "verify": ca_bundle or True,
            "rest_api_version": "3" if deployment == CLOUD else "2",
        }
        self.client = JIRA(
            server=url,
            options=options,
            timeout=timeout,
            max_retries=0,
            get_server_info=False,
            **credentials,
        )
        if self.search == "enhanced":
            self.client.deploymentType = "Cloud"  # the client's enhanced search refuses otherwise
        _, self.adapter = make_session(SYSTEM, ca_bundle, self.policy, session=self.client._session)
        # False: not asked yet; None: Jira did not say
        self._zone: ZoneInfo | None | Literal[False] = False
        self._ids: dict[str, str] = {}  # issue key -> id, from reads (bulk edit answers in ids)
        self._notify_allowed = True

    def close(self) -> None:
        self.client.close()

    def stats(self) -> ConnectorStats:
        return self.adapter.stats.totals(wait_budget_spent=self.adapter.budget.spent)

    # -- reads ------------------------------------------------------------------------------
    def read_changes(
        self, stream: str, cursor: str | None, start: datetime | None = None
    ) -> Iterator[Page]:
        """The contract's read: issues since `cursor`; without one, updated since `start`
        (a bare ISO time is an issue cursor), or every open issue when `start` is None."""
        if stream != "issues":
            raise ValueError(f"jira has no stream {stream!r}; it has issues")
        if not cursor and start is not None:
            cursor = start.isoformat()
        return self.read_issue_changes(cursor)

    def read_by_id(self, kind: str, ids: Sequence[str]) -> list[SourceRecord]:
        """The contract's re-read: issues by id (or key)."""
        if kind != "issue":
            raise ValueError(f"jira reads issues by id, not {kind!r}")
        return self.read_issues(ids)

    def user_time_zone(self) -> ZoneInfo | None:
        """The API user's zone (GET /rest/api/{v}/myself), which JQL dates are read in."""
        if self._zone is False:
            name = self._call("GET myself", self.client.myself).get("timeZone")
            try:
                self._zone = ZoneInfo(name) if name else None
            except (ZoneInfoNotFoundError, ValueError):
                self._zone = None
            if self._zone is None:
                log.warning(
                    "jira: /myself gave no usable time zone (%r); JQL uses epoch milliseconds", name
                )
        return self._zone or None

    def issue_jql(self, cursor: IssueCursor, projects: Sequence[str]) -> str:
        """The query of one incremental read (projects and issue keys are quoted)."""
        clauses = [f"project in ({', '.join(jql_string(p) for p in projects)})"]
        if self.extra_jql:
            clauses.append(f"({self.extra_jql})")
        floor = cursor.floor(self.overlap)
        if floor is None:
            clauses.append("statusCategory != Done")  # the first run backfills open issues
        else:
            zone = self.user_time_zone()
            when = jql_string(jql_time(floor, zone)) if zone else str(_epoch_ms(floor))
            clauses.append(f"updated >= {when}")
        return f"{' AND '.join(clauses)} {ORDER}"

    def read_issue_changes(
        self, cursor: str | None, projects: Sequence[str] | None = None
    ) -> Iterator[Page]:
        """Issues changed since `cursor` (all open issues without one), a page at a time."""
        projects = list(projects or self.projects)
        if not projects:
            raise ConnectorError("jira: no projects to read; Jira Cloud rejects unbounded searches")
        state = IssueCursor.decode(cursor)
        jql = self.issue_jql(state, projects)
        try:
            yield from self._issue_pages(jql, state, cursor)
        except _QueryRefused as refused:
            # The query is built from the configuration: a person must fix it there.
            keys = "connections.jira.projects"
            if self.extra_jql:
                keys = f"connections.jira.jql ({self.extra_jql!r}) and {keys}"
            raise ConfigRefused(
                f"jira: the issue search was refused (HTTP 400: {refused.words}); check {keys}"
            ) from None

    def _issue_pages(self, jql: str, state: IssueCursor, cursor: str | None) -> Iterator[Page]:
        encoded = cursor
        since = state.floor(self.overlap)  # histories before it were read by an earlier run
        for issues, done in self._search_pages(jql, self.fields):
            records = []
            remembered = False
            for issue in issues:
                key = issue["key"]
                self._ids[key] = str(issue["id"])
                try:
                    updated = parse_updated(issue["fields"]["updated"])
                except (KeyError, TypeError, ValueError):
                    # One issue without a readable `updated` must not stop the read: mapping
                    # reports and skips it; the cursor just cannot count it.
                    records.append(SourceRecord(SYSTEM, "issue", str(issue["id"]), issue))
                    continue
                if state.already_read(key, updated, self.overlap):
                    continue
                self._complete_changelog(issue, since)
                records.append(SourceRecord(SYSTEM, "issue", str(issue["id"]), issue))
                state.remember(key, updated, self.overlap)
                remembered = True
            # Encoding is linear in the overlap's `seen` map: re-encoding it for every page of
            # a window already read (e.g. after thousands of edits within two minutes) made
            # the read quadratic. A page that remembered nothing leaves the cursor as it was.
            if remembered:
                encoded = state.encode() or cursor
            yield Page(records, encoded, done)

    def _complete_changelog(self, issue: dict[str, Any], since: datetime | None) -> None:
        """The histories the search's expanded changelog left out, read from the issue's own
        changelog (GET /issue/{id}/changelog, oldest first, 100 a page) into `issue`.

        The search nests at most 100 histories (Jira's cap, JRACLOUD-67458); its `startAt`
        and `total` say which. Older ones are read backwards, a page at a time, until a page
        starts before `since` (an earlier run read those) or the first history is reached
        (a first read: the whole history); newer ones, should Jira leave those out, forwards.
        """
        changelog = issue.get("changelog")
        if not isinstance(changelog, dict) or "id" not in issue:
            return
        histories = list(changelog.get("histories") or [])
        try:
            first, total = int(changelog.get("startAt") or 0), int(changelog.get("total") or 0)
        except (TypeError, ValueError):
            return
        if first == 0 and len(histories) >= total:
            return
        path = f"issue/{issue['id']}/changelog"

        def page(start: int, count: int) -> list[dict[str, Any]]:
            params = {"startAt": start, "maxResults": count}
            body = self._call("GET changelog", self.client._get_json, path, params=params)
            return [h for h in body.get("values") or [] if isinstance(h, dict)]

        older: list[dict[str, Any]] = []
        end = first
        while end > 0:  # backwards: which index `since` falls at is known only by reading
            start = max(0, end - CHANGELOG_PAGE)
            got = page(start, end - start)
            older = got + older
            if not got or (since is not None and _before(got[0], since)):
                break
            end = start
        newer: list[dict[str, Any]] = []
        start = first + len(histories)
        while start < total:
            got = page(start, min(CHANGELOG_PAGE, total - start))
            if not got:
                break
            newer += got
            start += len(got)
        complete = older + histories + newer
        issue["changelog"] = {"startAt": first - len(older), "maxResults": len(complete),
                              "total": total, "histories": complete}  # fmt: skip

    def read_issues(
        self, keys: Sequence[str], fields: Sequence[str] | None = None
    ) -> list[SourceRecord]:
        """The issues with these keys or ids (`key in (...)`, 100 a query); missing ones are
        left out (a key an issue had before a move finds it under its new key).

        Values that are not issue keys (or ids) are left out too: Jira refuses the whole query
        for one malformed key.
        """
        records = []
        wanted = [key for key in dict.fromkeys(keys) if _ISSUE_KEY_OR_ID.fullmatch(key)]
        for chunk in batched(wanted, KEYS_PER_QUERY):
            for issue in self._issues_by_key(chunk, list(fields or self.fields)):
                self._ids[issue["key"]] = str(issue["id"])
                records.append(SourceRecord(SYSTEM, "issue", str(issue["id"]), issue))
        return records

    def _issues_by_key(self, keys: list[str], fields: list[str]) -> list[dict[str, Any]]:
        # Jira answers 400 naming every key that does not exist; ask again without them.
        while keys:
            # An id goes unquoted (JQL's issuekey takes ids too); a key quoted.
            listed = ", ".join(k if k.isdigit() else jql_string(k) for k in keys)
            jql = f"key in ({listed}) ORDER BY key ASC"
            try:
                return [issue for issues, _ in self._search_pages(jql, fields) for issue in issues]
            except _MissingKeys as missing:
                log.info(
                    "jira: %d issue(s) not found: %s",
                    len(missing.keys),
                    ", ".join(sorted(missing.keys)),
                )
                keys = [k for k in keys if k not in missing.keys]
        return []

    def _search_pages(
        self, jql: str, fields: list[str]
    ) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """The issues of `jql`, a page at a time, with whether it was the last page."""
        first = PageRequest.of(maxResults=self.page_size)
        if self.search == "enhanced":
            paginator: Paginator = NextPageToken(first)
            what, search = "search/jql", self.client.enhanced_search_issues
        else:
            paginator = StartAt(first.with_params(startAt=0))
            what, search = "search", self.client.search_issues

        def fetch(request: PageRequest) -> dict[str, Any]:
            params = dict(request.params)
            # expand=changelog: each issue's status/priority/link history comes with it (the
            # state store keeps it for exact pauses and milestones: sync/ticket_changes.py).
            # The search caps it at the latest 100 histories: `_complete_changelog` reads the
            # ones it left out that are newer than the previous read.
            return self._call(
                what,
                search,
                jql,
                fields=list(fields),
                expand="changelog",
                json_result=True,
                **params,
            )

        for page, done in pages(paginator, fetch):
            yield page.get("issues", []), done

    def _call(self, what: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A read through the client, its failures as connector errors (never with secrets)."""
        try:
            return call(*args, **kwargs)
        except JIRAError as error:
            words = vendor_words(error)
            if error.status_code in (401, 403):
                raise AuthError(
                    f"jira: {what} refused our credentials (HTTP {error.status_code}): {words}"
                ) from None
            missing = _missing_keys(error)
            if missing:
                raise _MissingKeys(missing) from None
            if error.status_code == 400:
                raise _QueryRefused(f"jira: {what} refused (HTTP 400): {words}", words) from None
            raise SystemUnavailable(
                f"jira: {what} failed (HTTP {error.status_code}): {words}"
            ) from None
        except requests.RequestException as error:
            raise SystemUnavailable(
                f"jira: {what} got no answer ({type(error).__name__})"
            ) from None

    # -- writes -----------------------------------------------------------------------------
    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """One result per write, in order: OK, REJECTED (Jira's words) or RETRY."""
        sent = self._apply([_in_jira_shape(write) for write in writes])
        return [replace(result, write=write) for write, result in zip(writes, sent, strict=True)]

    def _apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        numbered = list(enumerate(writes))
        try:
            if self.use_bulk_edit and self.deployment == CLOUD:
                results.update(BulkEditor(self).apply(numbered))
            for index, write in numbered:
                if index not in results:
                    results[index] = self.edit_issue(write)
        except RateLimited as error:
            for index, write in numbered:
                results.setdefault(index, WriteResult(write, WriteStatus.RETRY, str(error)))
        return [results[index] for index, _ in numbered]

    def edit_issue(self, write: FieldWrite) -> WriteResult:
        """PUT /rest/api/{v}/issue/{key}: the fields and label changes of one write."""
        body: dict[str, Any] = {"fields": dict(write.fields)}
        labels = [{"add": label} for label in write.tags_add] + [
            {"remove": label} for label in write.tags_remove
        ]
        if labels:
            body["update"] = {"labels": labels}
        url = self.client._get_url(f"issue/{quote(write.record_id, safe='')}")
        params = {} if self.notify_users or not self._notify_allowed else {"notifyUsers": "false"}
        try:
            self.client._session.put(url, params=params, data=json.dumps(body))
        except JIRAError as error:
            if error.status_code == 403 and params and NOTIFY_NEEDS_ADMIN in vendor_words(error):
                log.warning(
                    "jira: notifyUsers=false needs admin rights; editing with notifications"
                )
                self._notify_allowed = False
                return self.edit_issue(write)
            return self.result_for_error(write, error)
        except (WriteOutcomeUnknown, SystemUnavailable) as error:
            return WriteResult(write, WriteStatus.RETRY, str(error))
        except requests.RequestException as error:
            return WriteResult(
                write, WriteStatus.RETRY, f"jira: no answer ({type(error).__name__})"
            )
        return WriteResult(write, WriteStatus.OK)

    def result_for_error(self, write: FieldWrite, error: JIRAError) -> WriteResult:
        words = vendor_words(error)
        if error.status_code == 401:
            raise AuthError(f"jira: edit refused our credentials (HTTP 401): {words}")
        status = JIRA_EDIT.outcome(str(error.status_code))
        if status is WriteStatus.REJECTED:
            return WriteResult(write, status, words or f"HTTP {error.status_code}")
        return WriteResult(write, status, f"HTTP {error.status_code}: {words}")


def _in_jira_shape(write: FieldWrite) -> FieldWrite:
    """A select list's option goes to Jira as {"value": ...}."""
    if not any(isinstance(value, Option) for value in write.fields.values()):
        return write
    fields = {
        field_id: {"value": str(value)} if isinstance(value, Option) else value
        for field_id, value in write.fields.items()
    }
    return replace(write, fields=fields)


class _QueryRefused(SystemUnavailable):
    """Jira answered 400 to a read: unreachable to most callers; the incremental read, whose
    query comes from the configuration, makes it a ConfigRefused."""

    def __init__(self, message: str, words: str):
        super().__init__(message)
        self.words = words


class _MissingKeys(ConnectorError):
    def __init__(self, keys: set[str]):
        super().__init__(", ".join(sorted(keys)))
        self.keys = keys


_MISSING_KEY = ("An issue with key '", "' does not exist for field 'key'.")


def _missing_keys(error: JIRAError) -> set[str]:
    if error.status_code != 400:
        return set()
    keys = set()
    for message in _error_collection(error)[0]:
        head, tail = _MISSING_KEY
        if message.startswith(head) and message.endswith(tail):
            keys.add(message[len(head) : -len(tail)])
    return keys


def _error_collection(error: JIRAError) -> tuple[list[str], dict[str, str]]:
    try:
        body = error.response.json() if error.response is not None else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        return [], {}
    messages = [str(m) for m in body.get("errorMessages") or []]
    found = body.get("errors")
    errors = found if isinstance(found, dict) else {}
    return messages, {str(k): str(v) for k, v in errors.items()}


def vendor_words(error: JIRAError) -> str:
    """Jira's own explanation: errorMessages and `field: message` pairs (no request details)."""
    messages, errors = _error_collection(error)
    words = [*messages, *(f"{field_id}: {message}" for field_id, message in errors.items())]
    if words:
        return "; ".join(words)
    return (error.text or "").strip()[:500]


class _Credentials(TypedDict, total=False):
    """The constructor's credential arguments: an email and API token, or a personal token."""

    email: str
    api_token: str
    personal_access_token: str


def from_config(
    config: Config, secret: Callable[[str], str], policy: RetryPolicy | None = None
) -> JiraConnector:
    """The connector for a validated config (connections.jira, sync.jira); `secret(env_name)`
    reads one secret (Config.secret)."""
    connection = config.connections.jira
    assert connection is not None, "jira is not enabled in this config"
    if connection.auth == "bearer":
        credentials: _Credentials = {"personal_access_token": secret(str(connection.token_env))}
    else:
        credentials = {
            "email": secret(str(connection.email_env)),
            "api_token": secret(str(connection.token_env)),
        }
    sync = config.sync.jira
    return JiraConnector(
        connection.url,
        deployment=connection.deployment,
        projects=connection.projects,
        extra_jql=connection.jql,
        ca_bundle=connection.ca_bundle_path(),
        timeout=connection.timeout_seconds,
        policy=policy,
        page_size=sync.page_size,
        search=config.jira_search_mode(),
        use_bulk_edit=sync.use_bulk_edit,
        **credentials,
    )
