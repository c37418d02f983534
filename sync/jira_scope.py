"""Jira issues are known by their id; those outside the configured projects leave the mirror.

Moving an issue to another project gives it a new key and keeps its id; Jira still answers
the old key (GET /rest/api/3/issue/{old key}, JQL `key = OLD-1`) and its changelog records the
move as a "Key" change. So the mirror (`jira:<id>`), the targets, what we wrote, overrides and
failures are keyed by the id: a moved issue keeps its impact fields, is not written twice and
is not duplicated. A link that names the old key (a Zendesk ticket's "Jira issues" field) is
read as naming the issue under its current key.

State kept by a version that keyed issues by their key is renamed to the id once
(`rename_keys_to_ids`). Issues whose project is no longer in `connections.jira.projects` (the
project was dropped from the config, or the issue moved out of them) leave the mirror as a
deleted issue does: stored as deleted, their escalation ends (their escalation record is
closed), they lend nothing to linked tickets and are never written to again; audited as
`left_mirror` with why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from config.schema import Config
from mapping.records import Ticket, TicketStatus
from sync.state import StateStore
from sync.store_backend import Connection
from vocabulary.instances import split_instance

log = logging.getLogger("escalation_sync.jira_scope")

SYSTEM = "jira"


def project_of(key: str | None) -> str | None:
    """The project key of an issue key ("ENG-15" -> "ENG")."""
    if not key or "-" not in key:
        return None
    return key.rpartition("-")[0].upper()


def mirror_keys(store: StateStore) -> dict[str, str]:
    """Issue id -> its key, for every issue in the mirror (read without decoding tickets)."""
    key = store.dialect.json_text("data", "key")
    rows = store.db.execute(f"SELECT ref, {key} FROM tickets WHERE ref LIKE 'jira:%'")
    return {ref[len(SYSTEM) + 1 :]: key for ref, key in rows if key}


def rename_keys_to_ids(store: StateStore) -> int:
    """What we remember under an issue's key, renamed to its id; returns how many records.
    Call inside a transaction."""
    rows = store.db.execute(
        "SELECT record_id FROM written WHERE system = ? "
        "UNION SELECT record_id FROM overrides WHERE system = ? "
        "UNION SELECT record_id FROM failures WHERE system = ?",
        (SYSTEM, SYSTEM, SYSTEM),
    )
    keyed = [record_id for (record_id,) in rows if not record_id.isdigit()]
    if not keyed:
        return 0
    ids = {key: issue_id for issue_id, key in mirror_keys(store).items()}
    renamed = [key for key in keyed if key in ids]
    for key in renamed:
        store.rename_record(SYSTEM, key, ids[key])
    return len(renamed)


def out_of_scope(config: Config, key: str | None) -> bool:
    """Whether an issue key (`SUP-1`, or a named site's `eu/SUP-1`) names a project its site
    does not read. A site turned off, or unknown, keeps its issues: they only wait."""
    site, bare = split_instance(key or "", config.connections.site_names())
    if config.connections.turned_off("jira", site):
        return False
    connection = config.for_site(site).connections.jira
    project = project_of(bare)
    if connection is None or project is None:
        return False
    return project not in {p.upper() for p in connection.projects}


def outside_projects(keys: Mapping[str, str], projects: Iterable[str]) -> dict[str, str]:
    """Issue id -> key of the issues whose key names a project that is not configured."""
    wanted = {p.upper() for p in projects}
    return {
        issue_id: key
        for issue_id, key in keys.items()
        if (project := project_of(key)) is not None and project not in wanted
    }


def leave_mirror(
    store: StateStore, issues: Mapping[str, str | None], why: str, run_id: int, now: datetime
) -> list[str]:
    """The issues (id -> key) leave the mirror: stored as deleted, so their escalation ends as
    a deleted ticket's does (its escalation record closed, nothing lent to linked tickets) and
    nothing is written to them again. Returns their refs. Call inside a transaction."""
    ended = [
        replace(ticket, status=TicketStatus.DELETED)
        for issue_id in sorted(issues)
        if (ticket := store.ticket(f"{SYSTEM}:{issue_id}")) is not None
        and ticket.status is not TicketStatus.DELETED
    ]
    store.upsert_tickets(ended)
    for ticket in ended:
        store.audit(run_id, now, "left_mirror", ticket.ref, {"key": ticket.key, "why": why})
    return [t.ref for t in ended]


def keep_in_scope(
    config: Config, store: StateStore, run_id: int, now: datetime, dry_run: bool
) -> list[str]:
    """State kept under issue keys renamed to ids; mirror issues outside the configured
    projects leave it. Returns the refs of those (a dry run changes nothing)."""
    connection = config.connections.jira
    if connection is None or dry_run:
        return []
    with store.transaction():
        rename_keys_to_ids(store)
        keys = mirror_keys(store)
        outside = {i: key for i, key in keys.items() if out_of_scope(config, key)}
        refs = leave_mirror(store, outside, "project not configured", run_id, now)
    if refs:
        log.warning(
            "jira: %d issue(s) outside connections.jira.projects left the mirror", len(refs)
        )
    return refs


def current_keys(db: Connection, tickets: Iterable[Ticket]) -> dict[str, str]:
    """A key an issue of the mirror had before a move -> its current key (from the "Key"
    changes of its changelog). A named site's keys carry its name (`eu/SUP-1`), as the links
    to its issues do; its changelog names the old key without it."""
    now_keyed = {t.ref: t.key for t in tickets if t.system == SYSTEM and t.key}
    rows = db.execute(
        "SELECT ref, previous FROM ticket_changes WHERE field = 'Key' AND previous IS NOT NULL"
    )
    moved = {}
    for ref, old in rows:
        current = now_keyed.get(ref)
        if current is None:
            continue
        site, _, _ = current.rpartition("/")  # "eu/SUP-2" -> "eu"; "SUP-2" -> ""
        before = f"{site}/{old}" if site else str(old)
        if before.upper() != current.upper():
            moved[before.upper()] = current
    return moved


def with_current_links(tickets: list[Ticket], moved: Mapping[str, str]) -> list[Ticket]:
    """The tickets with each link to a moved issue's old key naming its current key."""
    if not moved:
        return tickets
    found = []
    for ticket in tickets:
        links = tuple(
            f"jira:{moved[link[5:].upper()]}"
            if link.startswith("jira:") and link[5:].upper() in moved
            else link
            for link in ticket.linked
        )
        found.append(ticket if links == ticket.linked else replace(ticket, linked=links))
    return found


def tickets_to_evaluate(config: Config, store: StateStore) -> list[Ticket]:
    """The mirror's tickets as a run evaluates them: issues outside the configured projects
    as deleted (a dry run stores nothing, yet plans as the run would), links to a moved
    issue's old key naming its current key."""
    tickets = store.tickets()
    if config.connections.jira is not None:
        tickets = [
            replace(t, status=TicketStatus.DELETED)
            if t.system == SYSTEM
            and t.status is not TicketStatus.DELETED
            and out_of_scope(config, t.key)
            else t
            for t in tickets
        ]
    return with_current_links(tickets, current_keys(store.db, tickets))
