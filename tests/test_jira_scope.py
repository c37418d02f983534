"""Jira issues by id: links naming a moved issue's old key, state kept under keys, projects."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mapping.records import Ticket, TicketStatus
from sync.jira_scope import (
    current_keys,
    mirror_keys,
    outside_projects,
    rename_keys_to_ids,
    with_current_links,
)
from sync.state import StateStore
from sync.ticket_changes import Change, store_changes

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ticket(system: str, ident: str, key: str | None = None, linked: tuple[str, ...] = ()) -> Ticket:
    return Ticket(system, ident, "s", TicketStatus.OPEN, NOW, NOW, key=key, linked=linked)


def test_a_link_naming_a_moved_issues_old_key_names_its_current_key():
    store = StateStore(":memory:")
    issue = ticket("jira", "10014", "OPS-5")
    store.upsert_tickets([issue])
    store_changes(store.db, [Change(issue.ref, "1.0", "Key", NOW, "OPS-5", "ENG-10")])
    linking = ticket("zendesk", "1103", linked=("jira:ENG-10", "jira:ENG-2"))
    tickets = [issue, linking]
    moved = current_keys(store.db, tickets)
    assert moved == {"ENG-10": "OPS-5"}
    assert with_current_links(tickets, moved)[1].linked == ("jira:OPS-5", "jira:ENG-2")


def store_on(state_url: str | None) -> StateStore:
    """An empty store on SQLite (in memory) or on the PostgreSQL schema `state_url` names."""
    if state_url is None:
        return StateStore(":memory:")
    from sync.store_postgres import PostgresBackend
    from tests.postgres_server import PASSWORD

    return StateStore(backend=PostgresBackend(state_url, PASSWORD))


@pytest.mark.state_backends("sqlite", "postgresql")
def test_state_kept_under_an_issue_key_is_renamed_to_its_id(state_url):
    store = store_on(state_url)
    store.upsert_tickets([ticket("jira", "10014", "OPS-5"), ticket("jira", "10015", "OPS-6")])
    store.record_written("jira", "OPS-5", {"level": "advisory"}, NOW)
    store.record_override("jira", "OPS-5", "level", "executive-review", "advisory", NOW)
    store.record_written("jira", "ENG-99", {"level": "advisory"}, NOW)  # not in the mirror
    # Both names held: what the id holds wins, the key's other fields move over.
    store.record_written("jira", "OPS-6", {"level": "advisory", "tier": "gold"}, NOW)
    store.record_written("jira", "10015", {"level": "executive-review"}, NOW)
    with store.transaction():
        assert rename_keys_to_ids(store) == 2
    written = store.written()
    assert written[("jira", "10014")] == {"level": "advisory"}
    assert written[("jira", "10015")] == {"level": "executive-review", "tier": "gold"}
    assert ("jira", "OPS-5") not in written and ("jira", "OPS-6") not in written
    assert ("jira", "10014", "level") in store.overrides()
    assert mirror_keys(store) == {"10014": "OPS-5", "10015": "OPS-6"}


def test_issues_outside_the_configured_projects_are_found_by_their_key():
    keys = {"1": "ENG-1", "2": "OPS-3", "3": "ops-4"}
    assert outside_projects(keys, ["ENG"]) == {"2": "OPS-3", "3": "ops-4"}


def test_a_named_sites_moved_issue_renames_only_links_to_that_site():
    store = StateStore(":memory:")
    issue = ticket("jira", "eu/10014", "eu/OPS-5")
    store.upsert_tickets([issue])
    store_changes(store.db, [Change(issue.ref, "1.0", "Key", NOW, "OPS-5", "ENG-10")])
    linking = ticket("zendesk", "eu/1103", linked=("jira:eu/ENG-10", "jira:ENG-10"))
    tickets = [issue, linking]
    moved = current_keys(store.db, tickets)
    assert moved == {"EU/ENG-10": "eu/OPS-5"}
    # The default site's ENG-10 is another issue: its link stays as it is.
    assert with_current_links(tickets, moved)[1].linked == ("jira:eu/OPS-5", "jira:ENG-10")
