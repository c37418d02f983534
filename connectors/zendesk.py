"""Zendesk Support through zenpy: incremental ticket export, organisations, re-reads, bulk updates.

zenpy speaks through a session from `connectors.transport.make_session`, so retries, 429s,
budget headers and pacing follow the shared policy. zenpy's own 429 loop never runs: the
adapter only hands back a 429 after its policy is spent, and raises `RateLimited` instead.

Reads go through the session zenpy holds, on the raw JSON: the records are stored as Zendesk
returned them, and each export page's cursor must be visible (zenpy's generators hide page
boundaries). Writes are zenpy's update_many (`tickets.update([...])`, and for the account
matrix's organisations `organizations.update([...])` in connectors/zendesk_organizations.py)
and `job_status` polls, one job path for both (`update_in_jobs`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit

import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

from connectors.base import ConnectorStats, FieldWrite, Page, WriteResult, WriteStatus
from connectors.errors import AuthError, ConnectorError, RateLimited, SystemUnavailable
from connectors.outcomes import ZENDESK_JOB_ITEM
from connectors.paginators import (
    IdBatches,
    NextPageUrl,
    PageRequest,
    ZendeskCursorExport,
    ZendeskTimeExport,
    pages,
)
from connectors.transport import Pacer, RetryPolicy, WriteOutcomeUnknown, batched, make_session
from connectors.zenpy_objects import make
from mapping.records import SourceRecord

if TYPE_CHECKING:
    from config.schema import Config

log = logging.getLogger("escalation_sync.zendesk")

SYSTEM = "zendesk"
EXPORT_PAGE_SIZE = 1000  # Zendesk's maximum for incremental exports
MINUTE = 60.0
BULK_SIZE = 100  # update_many and show_many take at most 100 ids
JOBS_IN_FLIGHT = 25  # Zendesk keeps at most 30 queued jobs per account (unconfirmed)
EXPORT_LAG_SECONDS = 61  # start_time must be over a minute in the past
# Requesters and organisations come as lists of their own; each ticket's metric set (first
# reply, last assignee update) is nested in the ticket as "metric_set".
TICKET_SIDELOADS = ("users", "organizations", "metric_sets")
INCREMENTAL_QUOTA = (10, 60.0)  # requests per window, shared by the incremental exports
ACCOUNT_LIMIT_HEADER = "X-Rate-Limit"  # the plan's requests a minute, on every answer


@dataclass(frozen=True)
class JobPolling:
    """How job statuses are polled: backing off from `first_wait` up to `max_wait`, bounded."""

    first_wait_seconds: float = 0.2
    max_wait_seconds: float = 5.0
    give_up_after_seconds: float = 300.0


@dataclass(frozen=True)
class _NotQueued:
    status: WriteStatus | None  # None: stop sending, the system is out of reach or of budget
    reason: str


def split_url(url: str) -> tuple[str, str]:
    """zenpy builds https://{subdomain}.{domain}: split the host at its first dot."""
    host = urlsplit(url).netloc or url
    subdomain, _, domain = host.partition(".")
    if not domain:
        raise ConnectorError(f"zendesk: {url!r} is not a https://<subdomain>.<domain> URL")
    return subdomain, domain


class ZendeskConnector:
    """One Zendesk account. Credentials are values (read from the environment by the caller).

    Satisfies `connectors.base.Connector` (streams "organizations" and "tickets", records of
    kind "ticket" by id), `LaggingStream` (the export leaves out the last minute) and
    `NoteReader`.
    """

    system = SYSTEM
    streams = ("organizations", "tickets", "ticket_events")
    reread_kind = "ticket"

    def __init__(
        self,
        url: str,
        *,
        email: str | None = None,
        api_token: str | None = None,
        oauth_token: str | None = None,
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        page_size: int = EXPORT_PAGE_SIZE,
        write_batch_size: int = BULK_SIZE,
        include: Sequence[str] = TICKET_SIDELOADS,
        incremental_quota: tuple[int, float] = INCREMENTAL_QUOTA,
        account_quota: tuple[int, float] | None = None,
        rate_share: float = 1.0,
        job_polling: JobPolling | None = None,
        clock: Callable[[], float] = time.time,
    ):
        if not oauth_token and not (email and api_token):
            raise AuthError("zendesk: an email and API token, or an OAuth token, are required")
        self.policy = policy or RetryPolicy()
        pacers = [Pacer(r"/api/v2/incremental/", incremental_quota[0], incremental_quota[1])]
        if account_quota is not None:
            # The plan's account-wide limit is shared with the account's other apps: at most
            # `rate_share` of it, following X-Rate-Limit once Zendesk has announced it.
            limit, window = account_quota
            pacers.append(Pacer(r"/api/v2/", limit, window, rate_share, ACCOUNT_LIMIT_HEADER))
        self.session, self.adapter = make_session(SYSTEM, ca_bundle, self.policy, pacers)
        subdomain, domain = split_url(url)
        self.base_url = f"https://{subdomain}.{domain}/api/v2"
        credentials = (
            {"oauth_token": oauth_token} if oauth_token else {"email": email, "token": api_token}
        )
        # ratelimit_budget=0: were a 429 ever to reach zenpy, it raises instead of sleeping.
        self.client = Zenpy(
            subdomain=subdomain,
            domain=domain,
            session=self.session,
            timeout=timeout,
            disable_cache=True,
            ratelimit_budget=0,
            **credentials,
        )
        self.timeout = timeout
        self.page_size = min(page_size, EXPORT_PAGE_SIZE)
        self.write_batch_size = max(1, min(write_batch_size, BULK_SIZE))
        self.include = tuple(include)
        self.job_polling = job_polling or JobPolling()
        self._clock = clock

    def close(self) -> None:
        self.session.close()

    def stats(self) -> ConnectorStats:
        return self.adapter.stats.totals(wait_budget_spent=self.adapter.budget.spent)

    # -- reads ----------------------------------------------------------------------------
    def read_changes(
        self, stream: str, cursor: str | None, start: datetime | None = None
    ) -> Iterator[Page]:
        """The contract's read: organisations (always in full at first) or tickets."""
        if stream == "organizations":
            return self.read_organization_changes(cursor)
        if stream == "tickets":
            return self.read_ticket_changes(cursor=cursor, start_time=None if cursor else start)
        if stream == "ticket_events":
            return self.read_ticket_events(cursor, start)
        raise ValueError(f"zendesk has no stream {stream!r}; it has {', '.join(self.streams)}")

    def read_by_id(self, kind: str, ids: Sequence[str]) -> list[SourceRecord]:
        """The contract's re-read: tickets, or organisations, by id."""
        if kind == "organization":
            # GET /api/v2/organizations/show_many.json?ids=: a deleted one is left out.
            return self._show_many("/organizations/show_many.json", "organizations", kind, ids)
        if kind != "ticket":
            raise ValueError(f"zendesk reads tickets or organizations by id, not {kind!r}")
        return self.get_tickets(ids)

    def read_ticket_changes(
        self, cursor: str | None = None, start_time: datetime | None = None
    ) -> Iterator[Page]:
        """Tickets changed since the stored cursor (or start_time; the first run: everything).

        Each page's `cursor` is Zendesk's after_cursor, to persist once the page is stored.
        Sideloaded requesters and organisations come as "user"/"organization" records; metric
        sets stay nested in their tickets.
        """
        params: dict[str, Any] = {"per_page": self.page_size}
        if self.include:
            params["include"] = ",".join(self.include)
        if cursor:
            params["cursor"] = cursor
        else:
            params["start_time"] = self._export_start(start_time.timestamp() if start_time else 0)
        export = ZendeskCursorExport(PageRequest.of(**params))
        for body, done in pages(export, self._fetch("/incremental/tickets/cursor.json")):
            cursor = body.get("after_cursor") or cursor
            records = [_record("ticket", t) for t in body.get("tickets") or []]
            records += [_record("user", u) for u in body.get("users") or []]
            records += [_record("organization", o) for o in body.get("organizations") or []]
            yield Page(records, cursor, done)

    def read_organization_changes(self, cursor: str | None = None) -> Iterator[Page]:
        """Organisations changed since the stored cursor (an end_time; None: all of them).

        Time-based export: the page boundary's second may repeat on the next page.
        """
        start = self._export_start(float(cursor) if cursor else 0)
        export = ZendeskTimeExport(PageRequest.of(start_time=start, per_page=self.page_size))
        for body, done in pages(export, self._fetch("/incremental/organizations.json")):
            end_time = int(body.get("end_time") or export.request.param("start_time"))
            records = [_record("organization", o) for o in body.get("organizations") or []]
            yield Page(records, str(end_time), done)

    def read_ticket_events(
        self, cursor: str | None = None, start: datetime | None = None
    ) -> Iterator[Page]:
        """Ticket events (audits with their field changes) since the stored end_time.

        Time-based export (GET /incremental/ticket_events.json), records of kind
        "ticket_event"; the cursor is the answer's end_time. The boundary second may repeat
        on the next page: the store keeps each change once (by event id).
        """
        first = float(cursor) if cursor else (start.timestamp() if start else 0)
        export = ZendeskTimeExport(
            PageRequest.of(start_time=self._export_start(first), per_page=self.page_size)
        )
        for body, done in pages(export, self._fetch("/incremental/ticket_events.json")):
            end_time = int(body.get("end_time") or export.request.param("start_time"))
            records = [_record("ticket_event", e) for e in body.get("ticket_events") or []]
            yield Page(records, str(end_time), done)

    def get_tickets(self, ids: Sequence[str]) -> list[SourceRecord]:
        """Current state of the given tickets (GET show_many, 100 ids a call); unknown ids left out."""
        # A re-read ticket must carry its metric set as the exported one did, or its first reply
        # would look missing; its people and organisation are already stored.
        extra = {"include": "metric_sets"} if "metric_sets" in self.include else {}
        return self._show_many("/tickets/show_many.json", "tickets", "ticket", ids, extra)

    def _show_many(
        self,
        path: str,
        key: str,
        kind: str,
        ids: Sequence[str],
        params: Mapping[str, Any] | None = None,
    ) -> list[SourceRecord]:
        """GET {path}?ids=..., BULK_SIZE ids a call; ids Zendesk does not know are left out."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        if not wanted:
            return []
        batches = IdBatches(PageRequest.of(**(params or {})), wanted, BULK_SIZE)
        return [
            _record(kind, item)
            for body, _ in pages(batches, self._fetch(path))
            for item in body.get(key) or []
        ]

    def ticket_comments(self, ticket_id: str) -> list[dict[str, Any]]:
        """The ticket's comments, every page (to see whether a note already landed)."""
        listing = NextPageUrl(PageRequest.of())
        fetch = self._fetch(f"/tickets/{int(ticket_id)}/comments.json")
        return [
            comment for body, _ in pages(listing, fetch) for comment in body.get("comments") or []
        ]

    def read_note_texts(self, record_id: str) -> list[str]:
        """The texts of the ticket's comments, oldest first (`NoteReader`)."""
        return [
            str(comment.get("body") or comment.get("plain_body") or "")
            for comment in self.ticket_comments(record_id)
        ]

    def _export_start(self, start: float) -> int:
        return int(min(start, self._clock() - EXPORT_LAG_SECONDS))

    def _fetch(self, path: str) -> Callable[[PageRequest], dict[str, Any]]:
        """GET one page of `path`: the paginator's parameters, or the URL Zendesk handed out."""

        def fetch(request: PageRequest) -> dict[str, Any]:
            if request.url is not None:
                return self._get(request.url.removeprefix(self.base_url), dict(request.params))
            return self._get(path, dict(request.params))

        return fetch

    def _get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        try:
            response = self.session.get(self.base_url + path, params=params, timeout=self.timeout)
        except requests.RequestException as error:
            raise SystemUnavailable(
                f"zendesk: GET {path} failed ({type(error).__name__})"
            ) from None
        _raise_for_status(response, f"GET {path}")
        try:
            return response.json()
        except ValueError:
            raise SystemUnavailable(
                f"zendesk: GET {path} answered something other than JSON"
            ) from None

    # -- writes ---------------------------------------------------------------------------
    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """Update tickets with update_many (write_batch_size a job), poll the jobs, one result each.

        A write whose outcome is unknown (no answer to the PUT, a job that failed or never
        finished) is RETRY: the sync re-reads the ticket before sending it again, so a private
        note is never added twice.
        """
        return self.update_in_jobs(
            writes,
            "ticket",
            lambda batch: self.client.tickets.update([ticket_payload(write) for write in batch]),
        )

    def update_in_jobs(
        self,
        writes: Sequence[FieldWrite],
        noun: str,
        send: Callable[[list[FieldWrite]], Any],
    ) -> list[WriteResult]:
        """Records written by update_many jobs, one result per write, in order.

        The path tickets and organisations share: `send(batch)` queues one job through zenpy
        (`tickets.update([...])`, `organizations.update([...])`) and answers its JobStatus;
        `noun` names the record in reasons. Up to write_batch_size records a job, a record at
        most once a job, JOBS_IN_FLIGHT jobs queued before their results are polled. A record
        id that is not numeric is REJECTED unsent; a job's result with an error is that
        record's outcome (connectors/outcomes.py); an unknown outcome (no answer, a job that
        did not finish, no result for the id) is RETRY; once Zendesk is out of reach or rate
        limited the remaining writes are RETRY; AuthError when it refuses our credentials.
        """
        results: dict[int, WriteResult] = {}
        numeric = []
        for position, write in enumerate(writes):
            if str(write.record_id).isdigit():
                numeric.append((position, write))
            else:
                results[position] = WriteResult(
                    write, WriteStatus.REJECTED, f"not a Zendesk {noun} id"
                )
        stop_reason: str | None = None  # set when the system is out of reach or of budget
        for group in batched(_batches(numeric, self.write_batch_size), JOBS_IN_FLIGHT):
            submitted = []  # (batch, job id, when it was queued)
            for batch in group:
                outcome = (
                    self._submit(batch, send)
                    if stop_reason is None
                    else _NotQueued(None, stop_reason)
                )
                if isinstance(outcome, str):
                    submitted.append((batch, outcome, time.monotonic()))
                    continue
                stop_reason = stop_reason or (outcome.reason if outcome.status is None else None)
                status = outcome.status or WriteStatus.RETRY
                results.update({p: WriteResult(w, status, outcome.reason) for p, w in batch})
            for batch, job_id, queued_at in submitted:
                results.update(self._collect(batch, job_id, queued_at, noun))
        return [results[position] for position in range(len(writes))]

    def _submit(
        self, batch: list[tuple[int, FieldWrite]], send: Callable[[list[FieldWrite]], Any]
    ) -> str | _NotQueued:
        """PUT /api/v2/{tickets|organizations}/update_many.json; the job id, or why nothing was queued."""
        try:
            job = send([write for _, write in batch])
        except WriteOutcomeUnknown as error:
            return _NotQueued(WriteStatus.RETRY, str(error))
        except (RateLimited, SystemUnavailable) as error:
            return _NotQueued(None, str(error))
        except RatelimitBudgetExceeded:
            return _NotQueued(None, "zendesk: rate limited")
        except APIException as error:
            status = getattr(error.response, "status_code", 0)
            if status in (401, 403):
                raise AuthError(
                    f"zendesk: update_many refused our credentials (HTTP {status})"
                ) from None
            words = _vendor_words(error.response)
            if status >= 500:  # a 503 handed back once the policy's attempts are spent
                return _NotQueued(None, f"zendesk: update_many answered HTTP {status}: {words}")
            return _NotQueued(WriteStatus.REJECTED, f"update_many answered HTTP {status}: {words}")
        except (ZenpyException, requests.RequestException) as error:
            return _NotQueued(WriteStatus.RETRY, f"update_many failed: {type(error).__name__}")
        return str(job.id)

    def _collect(
        self, batch: list[tuple[int, FieldWrite]], job_id: str, queued_at: float, noun: str
    ) -> dict[int, WriteResult]:
        job = self._await_job(job_id, queued_at)
        if job is None or job.get("status") not in ("completed", "failed"):
            reason = f"job {job_id} did not finish ({(job or {}).get('status', 'no answer')}); outcome unknown"
            return {p: WriteResult(w, WriteStatus.RETRY, reason) for p, w in batch}
        by_id = {int(r["id"]): r for r in job.get("results") or [] if r.get("id") is not None}
        mapped = {}
        for position, write in batch:
            result = by_id.get(int(write.record_id))
            if result is None:
                reason = f"job {job_id} {job.get('status')} without a result for this {noun}: {job.get('message')}"
                mapped[position] = WriteResult(write, WriteStatus.RETRY, reason)
            else:
                mapped[position] = result_for(write, result)
        return mapped

    def _await_job(self, job_id: str, queued_at: float) -> dict[str, Any] | None:
        """GET /api/v2/job_statuses/{id}.json until it completes or fails, backing off, bounded."""
        waited, wait = 0.0, self.job_polling.first_wait_seconds
        young = wait - (time.monotonic() - queued_at)
        if young > 0:  # no job is done the instant it is queued: a poll now is wasted
            self.policy.sleep(young)
        while True:
            try:
                job = self.client.job_status(id=job_id)
            except (
                RateLimited,
                SystemUnavailable,
                RatelimitBudgetExceeded,
                requests.RequestException,
            ):
                return None
            except APIException as error:
                log.warning(
                    "zendesk: polling job %s answered HTTP %s",
                    job_id,
                    getattr(error.response, "status_code", "?"),
                )
                return None
            state = {
                "status": job.status,
                "message": job.message,
                "results": [_job_result(r) for r in job.results or []]
                if isinstance(job.results, list)
                else [],
            }
            if (
                job.status in ("completed", "failed")
                or waited >= self.job_polling.give_up_after_seconds
            ):
                return state
            self.policy.sleep(wait)
            waited += wait
            wait = min(wait * 2, self.job_polling.max_wait_seconds)


class _Credentials(TypedDict, total=False):
    """The constructor's credential arguments: an email and API token, or an OAuth token."""

    email: str
    api_token: str
    oauth_token: str


def from_config(
    config: Config, secret: Callable[[str], str], policy: RetryPolicy | None = None
) -> ZendeskConnector:
    """The connector for a validated config (connections.zendesk, sync.zendesk); `secret(env_name)`
    reads one secret (Config.secret)."""
    connection = config.connections.zendesk
    assert connection is not None, "zendesk is not enabled in this config"
    credentials: _Credentials
    if connection.auth == "oauth":
        credentials = {"oauth_token": secret(str(connection.oauth_token_env))}
    else:
        credentials = {
            "email": secret(str(connection.email_env)),
            "api_token": secret(str(connection.token_env)),
        }
    ca_bundle = connection.ca_bundle_path()
    rates, rates_scale = config.sync.zendesk, config.sync.quota_time_factor
    return ZendeskConnector(
        connection.url,
        ca_bundle=ca_bundle,
        timeout=connection.timeout_seconds,
        policy=policy,
        page_size=config.sync.zendesk.page_size,
        write_batch_size=config.sync.zendesk.write_batch_size,
        # The configured rates (High Volume: 30 exports a minute), windows scaled by
        # quota_time_factor (1 against the real vendor; the sandbox's benchmarks speed time up).
        incremental_quota=(rates.export_per_minute, MINUTE * rates_scale),
        account_quota=(rates.requests_per_minute, MINUTE * rates_scale),
        rate_share=rates.rate_share,
        **credentials,
    )


def ticket_payload(write: FieldWrite) -> Ticket:
    """One update_many item: custom fields, tag edits, a private note, safe_update if planned."""
    attributes: dict[str, Any] = {"id": int(write.record_id)}
    custom = [
        {"id": int(key), "value": value}
        for key, value in write.fields.items()
        if str(key).isdigit()
    ]
    if custom:
        attributes["custom_fields"] = custom
    attributes.update({key: value for key, value in write.fields.items() if not str(key).isdigit()})
    if write.tags_add:
        attributes["additional_tags"] = list(write.tags_add)
    if write.tags_remove:
        attributes["remove_tags"] = list(write.tags_remove)
    if write.note:
        attributes["comment"] = make(Comment, {"body": write.note, "public": False})
    if write.expected_updated_at:
        attributes["safe_update"] = True
        attributes["updated_stamp"] = write.expected_updated_at
    return make(Ticket, attributes)


def result_for(write: FieldWrite, result: dict[str, Any]) -> WriteResult:
    """A job result item as a WriteResult, with Zendesk's words for a failure.

    Failed items come without `success` (`{"index", "error", "id", "details"}`); the error
    code's outcome is in connectors/outcomes.py.
    """
    if result.get("success"):
        return WriteResult(write, WriteStatus.OK)
    error = str(result.get("error") or "")
    reason = f"{error}: {result.get('details')}" if result.get("details") else error or "failed"
    return WriteResult(write, ZENDESK_JOB_ITEM.outcome(error), reason)


def _batches(
    numbered: list[tuple[int, FieldWrite]], size: int
) -> list[list[tuple[int, FieldWrite]]]:
    # At most `size` records a job and a record at most once per job: a second write for the
    # same record goes into a later job than its first.
    batches: list[list[tuple[int, FieldWrite]]] = []
    last_job_of: dict[int, int] = {}
    for item in numbered:
        ticket_id = int(item[1].record_id)
        first = last_job_of.get(ticket_id, -1) + 1
        index = next(
            (i for i in range(first, len(batches)) if len(batches[i]) < size), len(batches)
        )
        if index == len(batches):
            batches.append([])
        batches[index].append(item)
        last_job_of[ticket_id] = index
    return batches


def _job_result(result: Any) -> dict[str, Any]:
    keys = ("id", "index", "action", "status", "success", "error", "details")
    if isinstance(result, dict):
        return {k: result.get(k) for k in keys}
    return {k: getattr(result, k, None) for k in keys}


def _record(kind: str, data: Any) -> SourceRecord:
    # An entry that is not an object, or has no id, is passed on as it is: mapping reports
    # and skips that one record instead of the whole page failing here.
    record_id = data.get("id") if isinstance(data, dict) else None
    return SourceRecord(SYSTEM, kind, "" if record_id is None else str(record_id), data)


def _vendor_words(response: requests.Response | None) -> str:
    if response is None:
        return "no answer"
    try:
        body = response.json()
    except ValueError:
        return (response.text or "")[:200]
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("error", "description") if body.get(k)]
        if body.get("details"):
            parts.append(str(body["details"]))
        return ": ".join(parts) or str(body)[:200]
    return str(body)[:200]


def _raise_for_status(response: requests.Response, what: str) -> None:
    status = response.status_code
    if status < 300:
        return
    words = _vendor_words(response)
    if status in (401, 403):
        raise AuthError(f"zendesk: {what} refused our credentials (HTTP {status}: {words})")
    if status == 429:
        raise RateLimited(f"zendesk: {what} rate limited ({words})")
    if status >= 500:
        raise SystemUnavailable(f"zendesk: {what} answered HTTP {status} ({words})")
    raise ConnectorError(f"zendesk: {what} answered HTTP {status} ({words})")
