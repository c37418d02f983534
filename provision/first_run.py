"""Doctor's estimate of the first run: how many requests it makes in each system, from counts the
vendors answer cheaply, and how long that takes at their quotas.

- Zendesk: `GET /api/v2/tickets/count` (every ticket in the account, approximate; the first run
  exports those changed within `sync.first_run.lookback_days`, so this is an upper bound). The
  export reads 1,000 tickets a request at `sync.zendesk.export_per_minute` requests a minute
  (Zendesk's 10, or 30 with the High Volume add-on; the rate the run paces itself to): that is
  what makes a first run long. The ticket events export (the tickets' field changes,
  for exact pauses) shares that quota and reads 1,000 events a request; Zendesk gives no count
  of them, so the first page from the first run's start is read: all of them when it is the
  last, else its events scaled from the time they cover to the time up to now. Writes are
  update_many jobs of 100 plus their polls, at the run's share of the plan's limit
  (`sync.zendesk.rate_share` of X-Rate-Limit, requests a minute); at most one per ticket.
- Salesforce: `SELECT COUNT() FROM Account` (with the mapping's `where`): 2,000 accounts a read,
  at most 200 a write, against the daily allowance left (DailyApiRequests.Remaining).
- Jira Cloud: `POST /rest/api/3/search/approximate-count` for the open issues of the configured
  projects: 100 a search page, at most one edit each. Jira publishes no per-minute figure, so
  this is told, not judged; Data Center has no count endpoint.

A first run over `LONG_FIRST_RUN_MINUTES`, or over today's Salesforce allowance, is a warning
naming `escalation-sync backfill`, which spreads the first run over several runs.
"""

from __future__ import annotations

import time
from math import ceil

from config.schema import Config
from connectors.jira_setup import JiraSetup
from connectors.salesforce_setup import SalesforceSetup
from connectors.setup_errors import SetupRefused
from connectors.zendesk_setup import ZendeskSetup
from provision.findings import Finding, ok, warning, where

SUBJECT = "first run"
EXPORT_PAGE = 1000  # tickets a Zendesk export request
HIGH_VOLUME_EXPORT_PER_MINUTE = 30  # Zendesk's incremental export limit with the add-on
UPDATE_BATCH = 100  # tickets a Zendesk update_many job
QUERY_BATCH = 2000  # Salesforce records a query batch
COLLECTION = 200  # Salesforce records an sObject Collections write
JIRA_PAGE = 100  # issues a Jira search page
LONG_FIRST_RUN_MINUTES = 30.0
DAY = 24 * 3600
BACKFILL = "`escalation-sync backfill` spreads a long first run over several runs"


def _minutes(requests: int, per_minute: float) -> float:
    return requests / per_minute if per_minute > 0 else 0.0


def events_until(now: int, on_first_page: int, first: int, end_time: int, last: bool) -> int:
    """About how many ticket events the export holds until `now`, from its first page: exact
    when that page is the last, else its events scaled from the time they cover (from the
    first one's timestamp to the page's end_time) to the time up to `now`."""
    if last or not on_first_page:
        return on_first_page
    return ceil(on_first_page * max(1, now - first) / max(1, end_time - first))


def zendesk_first_run(config: Config, setup: ZendeskSetup) -> list[Finding]:
    """The export and write requests of a first run, and the minutes they take at the quotas."""
    first_run = config.sync.first_run
    if first_run.backfill == "none":
        return [ok("zendesk", SUBJECT, "backfill none: the first run reads only what changes from then on")]  # fmt: skip
    tickets = setup.ticket_count()
    headers = {k.lower(): v for k, v in setup.last_headers.items()}
    plan_limit = int(headers.get("x-rate-limit") or 0)
    our_limit = plan_limit * config.sync.zendesk.rate_share
    now = int(time.time())
    start = now - first_run.lookback_days * DAY
    events = events_until(now, *setup.ticket_events_page(start))
    ticket_pages = max(1, ceil(tickets / EXPORT_PAGE))
    event_pages = max(1, ceil(events / EXPORT_PAGE))
    export = ticket_pages + event_pages  # one quota for every incremental export
    writes = 2 * ceil(tickets / UPDATE_BATCH)  # a job and its poll per 100 tickets, at most
    per_minute = config.sync.zendesk.export_per_minute  # what the run paces its exports to
    minutes = _minutes(export, per_minute) + _minutes(writes, our_limit)
    high_volume = _minutes(export, HIGH_VOLUME_EXPORT_PER_MINUTE) + _minutes(writes, our_limit)
    add_on = (
        f" ({ceil(high_volume)} with High Volume's {HIGH_VOLUME_EXPORT_PER_MINUTE} exports a minute)"
        if per_minute < HIGH_VOLUME_EXPORT_PER_MINUTE
        else ""
    )
    limit = (
        f"{our_limit:g} a minute (rate_share of {plan_limit})"
        if plan_limit
        else "an unknown plan limit"
    )
    detail = (f"{tickets} tickets in the account (changed in the last {first_run.lookback_days} days: at most that) "
              f"and about {events} ticket events since then: {ticket_pages} + {event_pages} export requests "
              f"at {per_minute} a minute and at most {writes} write requests at {limit}, "
              f"about {ceil(minutes)} minutes{add_on}")  # fmt: skip
    if minutes > LONG_FIRST_RUN_MINUTES:
        return [warning("zendesk", SUBJECT, detail,
                        f"let it run (the lock keeps cron from starting another), shorten lookback_days at {where(config, ('sync', 'first_run'))}, or {BACKFILL}")]  # fmt: skip
    return [ok("zendesk", SUBJECT, detail)]


def salesforce_first_run(
    config: Config, setup: SalesforceSetup, remaining: int | None
) -> list[Finding]:
    """The account reads and writes of a first run against the daily allowance left."""
    where_clause = config.mapping.salesforce.where  # the config's own SOQL, as the run reads
    accounts = setup.count("SELECT COUNT() FROM Account" + (f" WHERE ({where_clause})" if where_clause else ""))  # fmt: skip
    reads = max(1, ceil(accounts / QUERY_BATCH))
    writes = ceil(accounts / COLLECTION)  # every account's rollups at most
    needed = reads + writes
    detail = f"{accounts} accounts: {reads} query requests and at most {writes} write requests (escalation records: one per 200 escalated tickets more)"  # fmt: skip
    if remaining is not None and needed > remaining:
        return [warning("salesforce", SUBJECT, f"{detail}; only {remaining} requests are left of today's allowance",
                        f"run it after the 24-hour window rolls, raise the org's allowance, or {BACKFILL}")]  # fmt: skip
    return [ok("salesforce", SUBJECT, detail)]


def jira_first_run(config: Config, setup: JiraSetup) -> list[Finding]:
    """Jira Cloud's estimate of the open issues a first run reads, and the requests that takes."""
    jira = config.connections.jira
    if jira is None or jira.deployment != "cloud":
        return [ok("jira", SUBJECT, "not estimated: the approximate count is Jira Cloud's only")]
    projects = ", ".join(f'"{key}"' for key in jira.projects)
    try:
        issues = setup.approximate_count(f"project in ({projects}) AND statusCategory != Done")
    except SetupRefused as refused:
        return [ok("jira", SUBJECT, f"not estimated: the approximate count answered HTTP {refused.status}")]  # fmt: skip
    reads = max(1, ceil(issues / JIRA_PAGE))
    return [ok("jira", SUBJECT, f"about {issues} open issues: {reads} search requests and at most {issues} issue edits (Jira publishes no per-minute limit)")]  # fmt: skip
