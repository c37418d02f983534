"""Salesforce through simple-salesforce: OAuth login, SOQL incremental reads, sObject Collections.

simple-salesforce's own login builds https://{domain}.salesforce.com URLs, so the connector asks
the configured login URL (https://login.salesforce.com, a My Domain, or the sandbox) for a token
itself, through the shared policy session, then hands instance_url and the token to
`Salesforce(...)` on that same session: retries, 429s and the CA bundle follow the one policy.
An expired session (401 INVALID_SESSION_ID) logs in again once and repeats the call.

Incremental reads: `SELECT ... WHERE SystemModstamp >= <cursor, whole second> ORDER BY
SystemModstamp, Id`, following nextRecordsUrl. Salesforce ignores milliseconds when filtering on
a dateTime, so `>` on the stored stamp could skip records changed later in the same second;
`>=` on the second re-reads that second's records instead (never skip; the mirror is idempotent).

Writes: sObject Collections, 200 records a request, allOrNone false: accounts by Id
(PATCH /composite/sobjects), escalation records by external id
(PATCH /composite/sobjects/{Object}/{ExternalIdField}).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from connectors.base import (
    ApiUsage,
    ConnectorStats,
    FieldWrite,
    Page,
    WriteResult,
    WriteStatus,
)
from connectors.errors import AuthError, ConnectorError, RateLimited, SystemUnavailable
from connectors.outcomes import SALESFORCE_NO_CODE, SALESFORCE_RECORD
from connectors.paginators import NextRecordsUrl, PageRequest, pages
from connectors.transport import Pacer, RetryPolicy, WriteOutcomeUnknown, batched, make_session
from mapping.records import SourceRecord

if TYPE_CHECKING:
    from config.schema import Config

log = logging.getLogger("escalation_sync.salesforce")

SYSTEM = "salesforce"
COLLECTION_SIZE = 200  # sObject Collections take at most 200 records
MAX_BATCH_SIZE = 2000  # query batch; Sforce-Query-Options may ask for 200..2000
IN_LIST_SIZE = 300  # values per IN (...): keeps a query far below SOQL's 100,000 characters
DEFAULT_ESCALATION_OBJECT = ("Escalation__c", "Ticket_Ref__c")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_FIELD_PATH = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")
_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}|[A-Za-z0-9]{18}")
_NO_SUCH_COLUMN = re.compile(r"No such column '([^']+)'")
T = TypeVar("T")


@dataclass(frozen=True)
class SalesforceCredentials:
    """Values read from the environment by the caller; never printed (repr hides them)."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)

    @property
    def grant_type(self) -> str:
        return "password" if self.username else "client_credentials"

    def form(self) -> dict[str, str]:
        data = {
            "grant_type": self.grant_type,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.username:
            data["username"] = self.username
            data["password"] = (self.password or "") + (self.security_token or "")
        return data


def account_fields(config: Config) -> list[str]:
    """The Account fields to SELECT: every mapped source path and every field we write."""
    mapping = config.mapping.salesforce
    fields = {path.text for path in mapping.account.source_paths()}
    fields |= {write.field for write in mapping.write.outputs().values()}
    if mapping.account_matrix is not None:  # what the account matrix wrote: honour edits
        fields |= {write.field for write in mapping.account_matrix.write.outputs().values()}
    return sorted(fields)


def from_config(
    config: Config, secret: Callable[[str], str], policy: RetryPolicy | None = None
) -> SalesforceConnector:
    """The connector for a validated config (connections.salesforce, sync.salesforce, and the
    account fields and filter of mapping.salesforce); `secret(env_name)` reads one secret."""
    connection = config.connections.salesforce
    assert connection is not None, "salesforce is not enabled in this config"

    def read(env_name: str | None) -> str | None:
        return secret(env_name) if env_name else None

    credentials = SalesforceCredentials(
        client_id=read(connection.client_id_env) or "",
        client_secret=read(connection.client_secret_env) or "",
        username=read(connection.username_env) if connection.auth == "password" else None,
        password=read(connection.password_env) if connection.auth == "password" else None,
        security_token=read(connection.security_token_env)
        if connection.auth == "password"
        else None,
    )
    return SalesforceConnector(
        connection.login_url,
        credentials,
        api_version=connection.api_version,
        ca_bundle=connection.ca_bundle_path(),
        timeout=connection.timeout_seconds,
        policy=policy,
        batch_size=config.sync.salesforce.query_batch_size,
        write_batch_size=config.sync.salesforce.write_batch_size,
        account_fields=account_fields(config),
        account_filter=config.mapping.salesforce.where,
    )


class SalesforceConnector:
    """One Salesforce org. Logs in on first use; `close()` ends the session's connections.

    Salesforce has no per-minute limit, only the daily allowance; `pacers` space requests when
    one is imposed anyway (the sandbox's benchmark rule, an integration user's own budget).
    Satisfies `connectors.base.Connector` (stream "accounts": `account_fields`, filtered by
    `account_filter`; records of kind "account" by Id) and `UpsertReader`.
    """

    system = SYSTEM
    streams = ("accounts",)

    def __init__(
        self,
        login_url: str,
        credentials: SalesforceCredentials,
        *,
        api_version: str = "62.0",
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        batch_size: int = MAX_BATCH_SIZE,
        write_batch_size: int = COLLECTION_SIZE,
        pacers: Sequence[Pacer] = (),
        account_fields: Sequence[str] = (),
        account_filter: str | None = None,
    ):
        if urlsplit(login_url).scheme != "https":
            raise ConnectorError(f"salesforce: login URL must be https, got {login_url!r}")
        self.login_url = login_url.rstrip("/")
        self.credentials = credentials
        self.api_version = api_version.removeprefix("v")
        self.timeout = timeout
        self.batch_size = max(200, min(batch_size, MAX_BATCH_SIZE))
        self.write_batch_size = max(1, min(write_batch_size, COLLECTION_SIZE))
        self.account_fields = list(account_fields)
        # The ops team's own SOQL condition (e.g. "Type = 'Customer'"), never record data.
        self.account_filter = account_filter
        self.session, self.adapter = make_session(
            SYSTEM, ca_bundle, policy or RetryPolicy(), list(pacers)
        )
        self._client: Salesforce | None = None
        self.identity_url = ""
        self.logins = 0
        self.rate_limited: RateLimited | None = None  # once set, the org refuses us for the run
        self._usage: ApiUsage | None = None  # the daily allowance as last reported

    def close(self) -> None:
        self.session.close()

    def stats(self) -> ConnectorStats:
        return self.adapter.stats.totals(self.logins, self.adapter.budget.spent)

    def api_usage(self, refresh: bool = False) -> ApiUsage | None:
        """The org's daily API allowance (`DailyAllowance`): from the Sforce-Limit-Info header
        of the last answer (simple-salesforce's `api_usage`), or with `refresh` from
        GET limits (DailyApiRequests Max and Remaining), which costs one request."""
        if refresh:
            limits = self._call("GET limits", lambda sf: sf.limits())
            daily = limits.get("DailyApiRequests") or {}
            if daily.get("Max") is not None and daily.get("Remaining") is not None:
                limit = int(daily["Max"])
                self._usage = ApiUsage(limit - int(daily["Remaining"]), limit)
                return self._usage
        # Every answer carries the header, so the last one is as fresh as anything we know.
        header = self._client.api_usage.get("api-usage") if self._client is not None else None
        if header is not None:
            self._usage = ApiUsage(header.used, header.total)
        return self._usage

    # -- session ----------------------------------------------------------------------------
    def login(self) -> Salesforce:
        """POST {login_url}/services/oauth2/token; a client on instance_url with the token."""
        url = f"{self.login_url}/services/oauth2/token"
        try:
            response = self.session.post(url, data=self.credentials.form(), timeout=self.timeout)
        except (WriteOutcomeUnknown, requests.RequestException) as error:
            raise SystemUnavailable(
                f"salesforce: no answer from {self.login_url} ({type(error).__name__})"
            ) from None
        if response.status_code >= 500:
            raise SystemUnavailable(f"salesforce: login answered HTTP {response.status_code}")
        body = _json(response)
        if response.status_code != 200 or not body.get("access_token"):
            words = f"{body.get('error', 'HTTP ' + str(response.status_code))}: {body.get('error_description', '')}"
            raise AuthError(f"salesforce: login refused ({words.strip(': ')})")
        instance_url = str(body.get("instance_url") or "")
        if urlsplit(instance_url).scheme != "https":
            raise AuthError(
                f"salesforce: login answered an instance URL that is not https: {instance_url!r}"
            )
        self.logins += 1
        self.identity_url = str(body.get("id") or "")  # .../id/{org id}/{user id}
        self._client = Salesforce(
            instance_url=instance_url,
            session_id=body["access_token"],
            session=self.session,
            version=self.api_version,
            object_pairs_hook=dict,
        )
        return self._client

    def _call(self, what: str, operation: Callable[[Salesforce], T]) -> T:
        """Run one client call; an expired session logs in once more and repeats it."""
        if self.rate_limited is not None:
            raise self.rate_limited
        for attempt in (1, 2):
            client = self._client or self.login()
            try:
                return operation(client)
            except SalesforceExpiredSession:
                self._client = None
                if attempt == 2:
                    raise AuthError(
                        f"salesforce: {what}: session refused again after a new login"
                    ) from None
                log.info("salesforce: session expired during %s; logging in again", what)
            except SalesforceRefusedRequest as error:
                if "REQUEST_LIMIT_EXCEEDED" in _codes(error):
                    self.rate_limited = RateLimited(
                        f"salesforce: {what}: {_words(error)} (the org's API allowance)"
                    )
                    raise self.rate_limited from None
                raise AuthError(f"salesforce: {what} refused (HTTP 403: {_words(error)})") from None
            except RateLimited as error:  # the transport's waiting budget for the run is spent
                self.rate_limited = error
                raise
            except (SalesforceMalformedRequest, SalesforceResourceNotFound):
                raise
            except SalesforceError as error:
                raise SystemUnavailable(
                    f"salesforce: {what} answered HTTP {error.status}: {_words(error)}"
                ) from None
            except requests.RequestException as error:
                raise SystemUnavailable(
                    f"salesforce: {what} failed ({type(error).__name__})"
                ) from None
        raise AssertionError("unreachable")

    # -- reads --------------------------------------------------------------------------------
    def read_changes(
        self, stream: str, cursor: str | None, start: datetime | None = None
    ) -> Iterator[Page]:
        """The contract's read: accounts, always in full at first (`start` is not used)."""
        if stream != "accounts":
            raise ValueError(f"salesforce has no stream {stream!r}; it has accounts")
        return self.read_account_changes(cursor)

    def read_by_id(self, kind: str, ids: Sequence[str]) -> list[SourceRecord]:
        """The contract's re-read: accounts by Id, with the account fields; through queryAll,
        so one deleted or merged since comes as an "account_removed" (one purged from the
        Recycle Bin is left out)."""
        if kind != "account":
            raise ValueError(f"salesforce reads accounts by id, not {kind!r}")
        fields = self.account_fields
        names = [*fields, *(f for f in ("IsDeleted", "MasterRecordId") if f not in fields)]
        records = self.read_records("Account", "account", names, ids, include_deleted=True)
        return [_account_or_removal(record) for record in records]

    def read_upserted(
        self, object_name: str, key_field: str, fields: Sequence[str], keys: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """External id -> the fields its record holds now (`UpsertReader`)."""
        records = self.read_records(object_name, "escalation_record", fields, keys, key_field)
        return {str(record.data.get(key_field)): record.data for record in records}

    def read_account_changes(
        self,
        cursor: str | None,
        fields: Sequence[str] | None = None,
        where: str | None = None,
    ) -> Iterator[Page]:
        """Accounts changed since `cursor` (a SystemModstamp; None: every account); `fields`
        and `where` default to the connector's account fields and filter."""
        fields = self.account_fields if fields is None else fields
        where = self.account_filter if where is None else where
        # queryAll: an account deleted or merged into another since the cursor shows up with
        # IsDeleted (and MasterRecordId, the winner of a merge), as an "account_removed".
        names = [*fields, *(f for f in ("IsDeleted", "MasterRecordId") if f not in fields)]
        for page in self.query_changes("Account", "account", cursor, names, where, True):
            yield replace(page, records=[_account_or_removal(r) for r in page.records])

    def query_changes(
        self,
        object_name: str,
        kind: str,
        cursor: str | None,
        fields: Sequence[str],
        where: str | None = None,
        include_deleted: bool = False,
    ) -> Iterator[Page]:
        """Records of `object_name` changed since `cursor`, oldest first, one Page per batch
        (with `include_deleted`, those in the Recycle Bin too: GET /queryAll).

        Each page's cursor is the newest SystemModstamp read so far: persist it once the page
        is stored. The boundary second is read again next time (see the module docstring).
        `where` is the config's own SOQL condition (e.g. "Type = 'Customer'"), ANDed in
        parentheses; it comes from the ops team's config, never from record data.
        """
        names = field_list(fields, ("Id", "SystemModstamp"))
        soql = f"SELECT {', '.join(names)} FROM {_checked_name(object_name)}"
        conditions = [f"({where})"] if where else []
        if cursor:
            stamp = soql_datetime(parse_datetime(cursor), whole_second=True)
            conditions.append(f"SystemModstamp >= {stamp}")
        if conditions:
            soql += " WHERE " + " AND ".join(conditions)
        soql += " ORDER BY SystemModstamp, Id"
        newest = cursor
        for records, done in self._query_batches(soql, include_deleted):
            if records:
                newest = str(records[-1]["SystemModstamp"])
            yield Page([_record(kind, row) for row in records], newest, done)

    def read_records(
        self,
        object_name: str,
        kind: str,
        fields: Sequence[str],
        values: Sequence[str],
        key_field: str = "Id",
        include_deleted: bool = False,
    ) -> list[SourceRecord]:
        """Records whose `key_field` is one of `values` (e.g. the Users owning accounts); with
        `include_deleted`, those in the Recycle Bin too (GET /queryAll).

        By Id, values that are not ids are left out: one would make Salesforce refuse the query.
        """
        names = field_list(fields, ("Id",))
        wanted = sorted(set(values))
        if key_field == "Id":
            wanted = [value for value in wanted if _RECORD_ID.fullmatch(value)]
        found: list[SourceRecord] = []
        for chunk in batched(wanted, IN_LIST_SIZE):
            soql = (
                f"SELECT {', '.join(names)} FROM {_checked_name(object_name)} "
                f"WHERE {_checked_name(key_field)} IN ({', '.join(soql_quote(value) for value in chunk)})"
            )
            for records, _ in self._query_batches(soql, include_deleted):
                found += [_record(kind, row) for row in records]
        return found

    def _query_batches(
        self, soql: str, include_deleted: bool = False
    ) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """GET /query?q=... (/queryAll with `include_deleted`), then nextRecordsUrl until done."""
        headers = (
            {"Sforce-Query-Options": f"batchSize={self.batch_size}"}
            if self.batch_size < MAX_BATCH_SIZE
            else {}
        )

        def fetch(request: PageRequest) -> dict[str, Any]:
            if request.url is None:
                return self._call(
                    "query",
                    lambda sf: sf.query(
                        soql, include_deleted, headers=headers, timeout=self.timeout
                    ),
                )
            return self._call("query_more", self._next_batch(request.url, headers))

        try:
            for page, done in pages(NextRecordsUrl(PageRequest.of(q=soql)), fetch):
                yield list(page.get("records") or []), done
        except (SalesforceMalformedRequest, SalesforceResourceNotFound) as error:
            raise ConnectorError(f"salesforce: query refused: {_words(error)}") from None

    def _next_batch(self, next_url: str, headers: dict[str, str]) -> Callable[[Salesforce], Any]:
        """GET nextRecordsUrl (a path on the instance)."""
        return lambda sf: sf.query_more(
            next_url, identifier_is_url=True, headers=headers, timeout=self.timeout
        )

    # -- writes -------------------------------------------------------------------------------
    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """One WriteResult per write, in order. Accounts: collection update by Id; escalation
        records: collection upsert by external id; write_batch_size records a request (at most
        200), allOrNone false.

        When the org stops answering or its API allowance is spent, the unsent writes are RETRY
        and `rate_limited` is set; an AuthError is raised.
        """
        results: dict[int, WriteResult] = {}
        groups: dict[tuple[str, str | None], list[tuple[int, FieldWrite]]] = {}
        removals: list[tuple[int, FieldWrite, tuple[str, str | None]]] = []
        for position, write in enumerate(writes):
            target = _target(write)
            if isinstance(target, str):
                results[position] = WriteResult(write, WriteStatus.REJECTED, target)
            elif write.delete:
                removals.append((position, write, target))
            else:
                groups.setdefault(target, []).append((position, write))
        stop_reason: str | None = None
        for position, write, (object_name, key_field) in removals:
            if stop_reason is None:
                deleted = self._delete(object_name, key_field, write)
            else:
                deleted = stop_reason
            if isinstance(deleted, str):
                stop_reason = deleted
                deleted = WriteResult(write, WriteStatus.RETRY, stop_reason)
            results[position] = deleted
        for (object_name, key_field), items in groups.items():
            for batch in batched(items, self.write_batch_size):
                if stop_reason is None:
                    outcome = self._send(object_name, key_field, batch, may_split=True)
                else:
                    outcome = stop_reason
                if isinstance(outcome, str):
                    stop_reason = outcome
                    outcome = {p: WriteResult(w, WriteStatus.RETRY, stop_reason) for p, w in batch}
                results.update(outcome)
        return [results[position] for position in range(len(writes))]

    def _send(
        self,
        object_name: str,
        key_field: str | None,
        batch: list[tuple[int, FieldWrite]],
        may_split: bool,
    ) -> dict[int, WriteResult] | str:
        """One collection request; per-write results, or why the run must stop sending."""
        if key_field is None:
            path = "composite/sobjects"
            records = [
                {**_jsonable(w.fields), "attributes": {"type": object_name}, "id": w.record_id}
                for _, w in batch
            ]
        else:
            path = f"composite/sobjects/{object_name}/{key_field}"
            records = [
                {**_jsonable(w.fields), "attributes": {"type": object_name}, key_field: w.record_id}
                for _, w in batch
            ]
        body = {"allOrNone": False, "records": records}
        try:
            answer = self._call(
                f"PATCH {path}",
                lambda sf: sf.restful(path, method="PATCH", json=body, timeout=self.timeout),
            )
        except WriteOutcomeUnknown as error:
            return {p: WriteResult(w, WriteStatus.RETRY, str(error)) for p, w in batch}
        except (RateLimited, SystemUnavailable) as error:
            return str(error)
        except (SalesforceMalformedRequest, SalesforceResourceNotFound) as error:
            unknown = _unknown_column(error)
            if unknown and may_split:
                return self._without_field(object_name, key_field, batch, unknown, _words(error))
            return {p: WriteResult(w, WriteStatus.REJECTED, _words(error)) for p, w in batch}
        if not isinstance(answer, list) or len(answer) != len(batch):
            reason = f"{path} answered {len(answer) if isinstance(answer, list) else 'no'} results for {len(batch)} records"
            return {p: WriteResult(w, WriteStatus.RETRY, reason) for p, w in batch}
        return {p: result_for(w, item) for (p, w), item in zip(batch, answer, strict=True)}

    def _delete(
        self, object_name: str, key_field: str | None, write: FieldWrite
    ) -> WriteResult | str:
        """DELETE /sobjects/{object}/{external id field}/{value}: one record by its external id
        (rare: escalation records of deleted tickets). One already gone is deleted all the same."""
        if key_field is None:
            return WriteResult(write, WriteStatus.REJECTED, "a delete needs an external id field")
        path = f"sobjects/{object_name}/{key_field}/{quote(write.record_id, safe='')}"
        try:
            self._call(
                f"DELETE {path}", lambda sf: sf.restful(path, method="DELETE", timeout=self.timeout)
            )
        except WriteOutcomeUnknown as error:
            return WriteResult(write, WriteStatus.RETRY, str(error))
        except (RateLimited, SystemUnavailable) as error:
            return str(error)
        except SalesforceResourceNotFound:
            return WriteResult(write, WriteStatus.OK)
        except SalesforceMalformedRequest as error:
            return WriteResult(write, WriteStatus.REJECTED, _words(error))
        return WriteResult(write, WriteStatus.OK)

    def _without_field(
        self,
        object_name: str,
        key_field: str | None,
        batch: list[tuple[int, FieldWrite]],
        column: str,
        words: str,
    ) -> dict[int, WriteResult] | str:
        # An unknown field fails the whole request; only the writes naming it are wrong.
        naming = {p for p, w in batch if column.lower() in {name.lower() for name in w.fields}}
        rest = [(p, w) for p, w in batch if p not in naming]
        results = {p: WriteResult(w, WriteStatus.REJECTED, words) for p, w in batch if p in naming}
        if not naming or not rest:
            return {p: WriteResult(w, WriteStatus.REJECTED, words) for p, w in batch}
        outcome = self._send(object_name, key_field, rest, may_split=False)
        if isinstance(outcome, str):
            return outcome
        return results | outcome


# -- results --------------------------------------------------------------------------------------
def result_for(write: FieldWrite, item: Mapping[str, Any]) -> WriteResult:
    """A SaveResult/UpsertResult as a WriteResult, with Salesforce's words for a failure."""
    if item.get("success"):
        return WriteResult(write, WriteStatus.OK)
    errors = [error for error in item.get("errors") or [] if isinstance(error, Mapping)]
    codes = [str(error.get("statusCode")) for error in errors]
    reason = "; ".join(_error_words(error) for error in errors) or "failed without an error"
    status = SALESFORCE_RECORD.outcome_of_all(codes) if codes else SALESFORCE_NO_CODE
    return WriteResult(write, status, reason)


def _error_words(error: Mapping[str, Any]) -> str:
    fields = error.get("fields") or []
    suffix = f" ({', '.join(map(str, fields))})" if fields else ""
    return f"{error.get('statusCode')}: {error.get('message')}{suffix}"


def _target(write: FieldWrite) -> tuple[str, str | None] | str:
    """(sObject, external id field or None for an update by Id), or why the write is refused."""
    if write.system != SYSTEM:
        return f"not a Salesforce write (system {write.system!r})"
    if write.kind == "account":
        return ("Account", None)
    if write.kind == "escalation_record":
        object_name = write.object_name or DEFAULT_ESCALATION_OBJECT[0]
        key_field = write.external_id_field or DEFAULT_ESCALATION_OBJECT[1]
        if not (_NAME.fullmatch(object_name) and _NAME.fullmatch(key_field)):
            return f"not a Salesforce object/field name: {object_name}/{key_field}"
        return (object_name, key_field)
    return f"Salesforce writes of kind {write.kind!r} are not supported"


# -- SOQL literals and names ------------------------------------------------------------------------
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\f": "\\f",
}


# Characters that never need escaping in a SOQL literal (tens of thousands of Ids a run).
_PLAIN = re.compile(r"[A-Za-z0-9_./@+:-]*\Z")


def soql_quote(value: str) -> str:
    """A SOQL string literal: backslash escapes for quotes, backslash and control characters."""
    if _PLAIN.match(value):  # an Id, a key, an e-mail address: nothing to escape
        return f"'{value}'"
    return _quote_each_character(value)


def _quote_each_character(value: str) -> str:
    escaped = []
    for char in value:
        if char in _ESCAPES:
            escaped.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return "'" + "".join(escaped) + "'"


def soql_datetime(moment: datetime, whole_second: bool = False) -> str:
    """An unquoted SOQL dateTime literal in UTC, e.g. 2026-11-20T10:15:30Z."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if whole_second or not moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_datetime(value: str) -> datetime:
    """A Salesforce dateTime ('2026-11-20T10:15:30.000+0000') or ISO string, as aware UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConnectorError(f"salesforce: cursor {value!r} is not a dateTime") from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def field_list(fields: Sequence[str], required: Sequence[str]) -> list[str]:
    """Checked field paths, `required` first, each once (SOQL refuses a field selected twice)."""
    names: list[str] = []
    seen: set[str] = set()
    for name in [*required, *fields]:
        if not _FIELD_PATH.fullmatch(name):
            raise ConnectorError(f"salesforce: {name!r} is not a field name")
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ConnectorError(f"salesforce: {name!r} is not an object or field name")
    return name


# -- small helpers ----------------------------------------------------------------------------------
def _record(kind: str, row: dict[str, Any]) -> SourceRecord:
    return SourceRecord(SYSTEM, kind, str(row["Id"]), row)


def _account_or_removal(record: SourceRecord) -> SourceRecord:
    """An account in the Recycle Bin as the contract's "account_removed" ({"merged_into":
    the winner's Id, or None for a plain delete}); any other as it is."""
    if not isinstance(record.data, Mapping) or record.data.get("IsDeleted") is not True:
        return record
    master = record.data.get("MasterRecordId")
    return SourceRecord(SYSTEM, "account_removed", record.id, {"merged_into": master or None})


def _jsonable(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Field values as JSON: datetimes in UTC with milliseconds, dates as YYYY-MM-DD."""
    converted: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, datetime):
            moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
            value = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        elif isinstance(value, date):
            value = value.isoformat()
        converted[name] = value
    return converted


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _errors(error: SalesforceError) -> list[Mapping[str, Any]]:
    content = error.content
    if isinstance(content, list):
        return [item for item in content if isinstance(item, Mapping)]
    return []


def _codes(error: SalesforceError) -> set[str]:
    return {str(item.get("errorCode")) for item in _errors(error)}


def _words(error: SalesforceError) -> str:
    items = _errors(error)
    if items:
        return "; ".join(
            f"{item.get('errorCode')}: {str(item.get('message', '')).strip()}" for item in items
        )
    return str(error.content)[:300]


def _unknown_column(error: SalesforceError) -> str | None:
    for item in _errors(error):
        if item.get("errorCode") == "INVALID_FIELD":
            found = _NO_SUCH_COLUMN.search(str(item.get("message", "")))
            if found:
                return found.group(1)
    return None
