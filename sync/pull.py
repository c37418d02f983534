"""Pull changes from the three systems into the mirror, a page at a time.

Each page is normalised and stored in one transaction together with the cursor behind it:
the cursor never runs ahead of the data, so a crash re-reads a page instead of losing it. A
record that cannot be normalised is reported and skipped; the rest of the page is stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from config.schema import Config
from connectors.base import Connector, Page
from connectors.errors import AuthError, RateLimited, SystemUnavailable
from escalation.history import with_exact_pauses
from mapping.errors import RecordError, RecordIssue
from mapping.normalise import normalise_account, normalise_ticket
from mapping.records import SourceRecord, Ticket, TicketStatus
from sync.instances import members_of, qualified_pages
from sync.organizations import OrganizationChanges
from sync.pacing import page_size, seconds_per_request
from sync.progress import ProgressListener, StreamProgress, Unseen
from sync.state import StateStore
from sync.ticket_changes import (
    Change,
    jira_changes,
    prune_changes,
    status_history,
    status_translator,
    store_changes,
    zendesk_changes,
)
from vocabulary.instances import cursor_name, qualify, split_instance

log = logging.getLogger("escalation_sync.pull")

# How far after our clock a ticket's time may be and still be taken as real: a vendor's clock
# or a time written in local time without its offset can run hours ahead, never a day.
CLOCK_SKEW = timedelta(days=1)


@dataclass
class PullReport:
    records: dict[str, int] = field(default_factory=dict)  # stream -> records stored
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (record ref, reason)
    unreachable: dict[str, str] = field(default_factory=dict)  # system -> why it could not be read
    refused: dict[str, str] = field(default_factory=dict)  # of those: credentials refused -> why
    # Unreachable, and never read before: decisions lack its data (see SyncRun.execute).
    never_read: list[str] = field(default_factory=list)
    issues: list[RecordIssue] = field(default_factory=list)  # values left empty, with reasons
    # A quota or the run's waiting budget spent: reachable, read up to its stored cursor,
    # resumes next run (sync/progress.py says how far it got). Not in `unreachable`.
    quota_bound: dict[str, str] = field(default_factory=dict)  # system -> why
    streams: dict[str, StreamProgress] = field(default_factory=dict)  # how far each got

    def count(self, stream: str, n: int) -> None:
        self.records[stream] = self.records.get(stream, 0) + n


def merge_paused(
    previous: Ticket | None, ticket: Ticket, pause_statuses: frozenset[TicketStatus]
) -> Ticket:
    """Carry the paused intervals over from the mirror and open/close one on a status change.

    Intervals are built from the status changes we observe; a ticket first seen paused is
    taken to be paused since its status changed (its last update when the system does not
    say: updated_at also moves with our own writes, so a rebuilt mirror would cut the pause).
    """
    intervals = list(previous.paused_intervals) if previous is not None else []
    open_interval = bool(intervals) and intervals[-1][1] is None
    paused_now = ticket.status in pause_statuses
    if paused_now and not open_interval:
        intervals.append((ticket.status_changed_at or ticket.updated_at, None))
    elif not paused_now and open_interval:
        start = intervals[-1][0]
        intervals[-1] = (start, max(start, ticket.updated_at))
    if tuple(intervals) == ticket.paused_intervals:
        return ticket
    return replace(ticket, paused_intervals=tuple(intervals))


def _reader(
    connector: Connector, stream: str, start: datetime | None = None, instance: str | None = None
) -> Callable[[str | None], Iterator[Page]]:
    """Read `stream` from a stored cursor; `start` is where a first read (no cursor) begins.
    A named instance's records come with its name in their ids."""

    def read(cursor: str | None) -> Iterator[Page]:
        return qualified_pages(connector.read_changes(stream, cursor, start), instance)

    return read


class Puller:
    """Runs every configured stream; the connectors come from the caller."""

    # The stream holding each system's records: no cursor yet means the mirror never held them.
    RECORD_STREAMS = {
        "salesforce": "salesforce.accounts",
        "zendesk": "zendesk.tickets",
        "jira": "jira.issues",
    }

    def __init__(
        self,
        config: Config,
        store: StateStore,
        connectors: Mapping[str, Connector],
        now: datetime,
        listener: ProgressListener | None = None,
    ):
        self.config = config
        self.listener = listener or Unseen()
        self.store = store
        self.connectors = connectors
        self.now = now
        self.report = PullReport()
        self.pause_statuses = frozenset(config.matrix.sla.pause_statuses)
        # Zendesk instance (None: the default) -> id in that Zendesk -> the raw record
        self.organizations: dict[str | None, dict[str, dict[str, Any]]] = {}
        self.users: dict[str | None, dict[str, dict[str, Any]]] = {}
        self.zendesk_names = config.connections.instance_names("zendesk")
        self.jira_names = config.connections.site_names()  # every named site, on or off
        # Organisations that change under the mirror's tickets: each Zendesk's, by its own join.
        self.organization_changes = {
            name: OrganizationChanges(store, config.for_instance(name).join, name)
            for name in (None, *self.zendesk_names)
        }
        # Later ticket times are bad values. From the real clock too: a run pinned to an
        # earlier moment (--now, a replay) must not turn records made since into bad ones.
        self.latest_time = max(now, datetime.now(UTC)) + CLOCK_SKEW
        self.translate_status = {
            "zendesk": status_translator(config.mapping.zendesk.ticket.status),
            "jira": status_translator(config.mapping.jira.ticket.status),
        }
        for name in self.zendesk_names:  # a named Zendesk's own statuses
            mapping = config.for_instance(name).mapping.zendesk
            self.translate_status[f"zendesk:{name}"] = status_translator(mapping.ticket.status)
        for name in config.connections.instance_names("jira"):  # a named site's own statuses
            jira = config.for_site(name).mapping.jira
            self.translate_status[f"jira:{name}"] = status_translator(jira.ticket.status)

    def run(self) -> PullReport:
        """Pull every system; one that cannot be reached is reported and the others go on."""
        for system, pull in (
            ("salesforce", self._pull_salesforce),
            ("zendesk", self._pull_zendesk),
            ("jira", self._pull_jira),
        ):
            if system not in self.connectors:
                continue
            self._guarded(system, self.RECORD_STREAMS[system], pull, self.connectors[system])
        with self.store.transaction():
            cutoff = self.now - timedelta(days=self.config.state.changes_days)
            prune_changes(self.store.db, cutoff)
        return self.report

    def _guarded(
        self, key: str, records: str, pull: Callable[[Connector], None], connector: Connector
    ) -> None:
        """Pull one system (or one named instance, `zendesk@eu`); one that cannot be reached
        is reported under `key` and the others go on."""
        never_read = self.store.cursor(records) is None
        try:
            pull(connector)
        except RateLimited as error:
            # Reachable, and read up to the last page stored: the quota or the run's waiting
            # budget is spent, not the system. The next run resumes from the cursors.
            self.report.quota_bound[key] = str(error)
            if never_read:
                self.report.never_read.append(key)
            log.warning("%s", error)
        except (AuthError, SystemUnavailable) as error:
            self.report.unreachable[key] = str(error)
            if isinstance(error, AuthError):
                self.report.refused[key] = str(error)
            if never_read:
                self.report.never_read.append(key)
            # The connector's message starts with the system; a named instance's is named.
            log.error("%s", error if "@" not in key else f"{key}: {error}")

    def _pull_salesforce(self, salesforce: Connector) -> None:
        members = members_of(salesforce)
        self._stream("salesforce.accounts", _reader(salesforce, "accounts"), self._store_accounts)
        for name, member in members[1:]:  # each named org on its own cursor, on its own
            stream = cursor_name("salesforce.accounts", name)
            self._guarded(f"salesforce@{name}", stream, partial(self._pull_org, name), member)

    def _pull_org(self, name: str | None, salesforce: Connector) -> None:
        stream = cursor_name("salesforce.accounts", name)
        read = _reader(salesforce, "accounts", instance=name)
        self._stream(stream, read, partial(self._store_accounts, org=name))

    def load_zendesk_related(self) -> None:
        """The stored organisations and users, which Zendesk tickets are joined through."""
        self.organizations, self.users = {}, {}
        for kind, by_instance in (("organization", self.organizations), ("user", self.users)):
            for record_id, data in self.store.raw_records("zendesk", kind).items():
                name, bare = split_instance(record_id, self.zendesk_names)
                by_instance.setdefault(name, {})[bare] = data

    def _pull_zendesk(self, zendesk: Connector) -> None:
        self.load_zendesk_related()
        members = members_of(zendesk)
        self._pull_zendesk_instance(None, members[0][1])
        for name, member in members[1:]:  # each named Zendesk on its own cursors, on its own
            key, records = f"zendesk@{name}", cursor_name("zendesk.tickets", name)
            self._guarded(key, records, partial(self._pull_zendesk_instance, name), member)

    def _pull_zendesk_instance(self, name: str | None, zendesk: Connector) -> None:
        self._stream(
            cursor_name("zendesk.organizations", name),
            _reader(zendesk, "organizations", instance=name),
            self._store_related,
        )
        tickets = _reader(zendesk, "tickets", self._first_run_start(), name)
        self._stream(cursor_name("zendesk.tickets", name), tickets, self.store_tickets)
        self.organization_changes[name].check(zendesk, self.organizations.setdefault(name, {}))
        # Their status (and tag) changes with exact times, from the same first-run start.
        events = _reader(zendesk, "ticket_events", self._first_run_start(), name)
        self._stream(cursor_name("zendesk.ticket_events", name), events, self.store_ticket_events)

    def _pull_jira(self, jira: Connector) -> None:
        # Without a cursor Jira reads every open issue; backfill none starts at this run instead.
        start = self.now if self.config.sync.first_run.backfill == "none" else None
        self._stream("jira.issues", _reader(jira, "issues", start), self.store_tickets)
        for name, member in members_of(jira)[1:]:  # each named site on its own cursor
            stream = cursor_name("jira.issues", name)
            self._guarded(f"jira@{name}", stream, partial(self._pull_site, name, start), member)

    def _pull_site(self, name: str | None, start: datetime | None, jira: Connector) -> None:
        read = _reader(jira, "issues", start, name)
        self._stream(cursor_name("jira.issues", name), read, self.store_tickets)

    def _first_run_start(self) -> datetime:
        """Where the first run reads tickets from: `lookback_days` back, or now (backfill none)."""
        first_run = self.config.sync.first_run
        if first_run.backfill == "none":
            return self.now
        return self.now - timedelta(days=first_run.lookback_days)

    def _stream(
        self,
        name: str,
        read: Callable[[str | None], Iterator[Page]],
        store_page: Callable[[list[SourceRecord]], int],
    ) -> None:
        cursor = self.store.cursor(name)
        progress = StreamProgress(
            name, page_size(self.config, name), seconds_per_request(self.config, name), self.now
        )
        self.report.streams[name] = progress
        for page in read(cursor):
            with self.store.transaction():
                stored = store_page(page.records)
                if page.cursor is not None:
                    self.store.set_cursor(name, page.cursor, self.now)
            self.report.count(name, stored)
            progress.note_page(page.records, stored)
            self.listener.reading(progress)
        progress.finished = time.monotonic()
        self.listener.reading(progress)
        log.info("pulled %s: %s records", name, self.report.records.get(name, 0))

    def _skip(self, ref: str, reason: str) -> None:
        self.report.skipped.append((ref, reason))
        log.warning("skipped %s: %s", ref, reason)

    def _log_issues(self, first: int) -> None:
        """Each bad value found since `first`: left out of the record, so a person should fix it."""
        for issue in self.report.issues[first:]:
            log.warning("bad value %s", issue)

    def store_accounts(self, records: list[SourceRecord], org: str | None = None) -> int:
        """Normalise and store accounts read by id (the reconciliation; a named org's with
        its name in their ids); returns how many."""
        return self._store_accounts(records, org)

    def _store_accounts(self, records: list[SourceRecord], org: str | None = None) -> int:
        """Normalise and store accounts; a named org's by its own mapping, its name in their
        ids (and in the winner's of a merge)."""
        mapping = self.config.for_org(org).mapping.salesforce
        tiers = tuple(self.config.matrix.tiers)
        first_issue = len(self.report.issues)
        accounts = []
        removed = {
            r.id: _in_org(org, r.data.get("merged_into"))
            for r in records
            if r.kind == "account_removed"
        }
        if removed:
            self.store.remove_accounts(removed)
        for record in records:
            if record.kind == "account_removed":
                continue
            try:
                accounts.append(
                    normalise_account(record, mapping, tiers=tiers, issues=self.report.issues)
                )
            except RecordError as error:
                self._skip(error.record_ref, error.reason)
        self._log_issues(first_issue)
        self.store.upsert_accounts(accounts)
        return len(accounts)

    def _store_related(self, records: list[SourceRecord]) -> int:
        updated: dict[str | None, dict[str, Any]] = {}
        for record in records:
            if record.kind == "organization":
                name, bare = split_instance(record.id, self.zendesk_names)
                updated.setdefault(name, {})[bare] = record.data
        for name, organizations in updated.items():
            # Tickets already in the mirror follow an organisation that changed.
            self.organization_changes[name].changed(organizations, self.organizations.get(name, {}))
        by_kind: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for record in records:
            if record.kind in ("organization", "user"):
                by_kind.setdefault(record.kind, []).append((record.id, record.data))
                name, bare = split_instance(record.id, self.zendesk_names)
                related = self.organizations if record.kind == "organization" else self.users
                related.setdefault(name, {})[bare] = record.data
        for kind, rows in by_kind.items():
            self.store.upsert_raw("zendesk", kind, rows)  # only Zendesk sideloads related records
        return sum(len(rows) for rows in by_kind.values())

    def store_ticket_events(self, records: list[SourceRecord]) -> int:
        """Store Zendesk ticket events' field changes; the mirror's tickets they concern get
        their pauses rebuilt from the status history."""
        changes = [
            self._qualified_change(c, r)
            for r in records
            if isinstance(r.data, dict)
            for c in zendesk_changes(r.data)
        ]
        refs = store_changes(self.store.db, changes)
        mirrored = self.store.tickets_by_ref(refs)  # a few queries, not one per ticket
        updated = []
        for ref in sorted(refs):
            ticket = mirrored.get(ref)
            if ticket is not None:
                exact = self._exact_pauses(ticket)
                if exact is not ticket:
                    updated.append(exact)
        self.store.upsert_tickets(updated)
        return len(changes)

    def _qualified_change(self, change: Change, event: SourceRecord) -> Change:
        """A named Zendesk's change names its ticket with the instance (from the event's id)."""
        name, _ = split_instance(event.id, self.zendesk_names)
        if name is None:
            return change
        return replace(change, ref="zendesk:" + qualify(name, change.ref.split(":", 1)[1]))

    def _exact_pauses(self, ticket: Ticket) -> Ticket:
        translate = self.translate_status[ticket.system]
        if ticket.system == "zendesk" and self.zendesk_names:
            name, _ = split_instance(ticket.id, self.zendesk_names)
            translate = self.translate_status[f"zendesk:{name}" if name else "zendesk"]
        elif ticket.system == "jira" and self.jira_names:
            name, _ = split_instance(ticket.id, self.jira_names)
            translate = self.translate_status.get(f"jira:{name}", translate)
        history = status_history(self.store.db, ticket.ref, translate)
        return with_exact_pauses(ticket, history, self.pause_statuses)

    def _on_sites(self, ticket: Ticket, name: str | None) -> Ticket:
        """A named site's issue with its key as the run knows it (`eu/SUP-1`, what links and
        writes name); a ticket of a Zendesk that names a site with its `jira:` links on it."""
        if ticket.system == "jira":
            if name is None or not ticket.key:
                return ticket
            return replace(ticket, key=qualify(name, ticket.key))
        site = self.config.connections.site_of(name) if self.jira_names else None
        if site is None or not any(link.startswith("jira:") for link in ticket.linked):
            return ticket
        linked = tuple(
            f"jira:{qualify(site, link[5:])}" if link.startswith("jira:") else link
            for link in ticket.linked
        )
        return replace(ticket, linked=linked)

    def store_tickets(self, records: list[SourceRecord]) -> int:
        """Normalise and store tickets/issues (and sideloaded records); returns how many."""
        self._store_related([r for r in records if r.kind in ("organization", "user")])
        first_issue = len(self.report.issues)
        tickets = []
        for record in records:
            if record.kind not in ("ticket", "issue"):
                continue
            name, bare = None, record.id
            if record.system == "zendesk":
                name, bare = split_instance(record.id, self.zendesk_names)
                config = self.config.for_instance(name)  # a named Zendesk's own mapping and join
            else:
                name, bare = split_instance(record.id, self.jira_names)
                config = self.config.for_site(name)  # a named site's own mapping and URL
            try:
                ticket = normalise_ticket(
                    replace(record, id=bare),
                    getattr(config.mapping, record.system),
                    organizations=self.organizations.get(name, {})
                    if record.system == "zendesk"
                    else None,
                    users=self.users.get(name, {}) if record.system == "zendesk" else None,
                    join=config.join,
                    base_url=config.base_url(record.system),
                    issues=self.report.issues,
                    latest=self.latest_time,
                )
            except RecordError as error:
                self._skip(qualified_ref(error.record_ref, name), error.reason)
                continue
            if name is not None:
                ticket = replace(ticket, id=record.id)  # its reference carries the instance
            ticket = self._on_sites(ticket, name)
            previous = self.store.ticket(ticket.ref)
            if previous is not None and previous.updated_at > ticket.updated_at:
                continue  # an older version than the mirror's (pages overlap): keep the newer
            if record.system == "jira" and isinstance(record.data, dict):
                changes = jira_changes(record.data)
                if name is not None:  # a named site's changes name its issue with the site
                    changes = [replace(c, ref=f"jira:{qualify(name, c.ref[5:])}") for c in changes]
                store_changes(self.store.db, changes)
            if record.system == "zendesk":
                organizations = self.organizations.get(name, {})
                self.organization_changes[name].note(previous, ticket, organizations)
            ticket = merge_paused(previous, ticket, self.pause_statuses)
            tickets.append(self._exact_pauses(ticket) if self.pause_statuses else ticket)
        self._log_issues(first_issue)
        self.store.upsert_tickets(tickets)
        return len(tickets)


def _in_org(org: str | None, account_id: Any) -> Any:
    """A named org's account id with the org's name in front (None stays None)."""
    return qualify(org, account_id) if org is not None and account_id else account_id


def qualified_ref(ref: str, instance: str | None) -> str:
    """`zendesk:123` of a named instance as `zendesk:eu/123` (skips and logs name it so)."""
    if instance is None:
        return ref
    system, _, record_id = ref.partition(":")
    return f"{system}:{qualify(instance, record_id)}"
