"""The account matrix's state tables: what we wrote is read back as it was written (the
reader skips the JSON parser for plain strings; escaped ones must still come back whole)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync.accounts_store import AccountStore
from sync.state import StateStore

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
VALUES = [
    "at-risk",
    "2026-03-04",
    'Initech said "renew later"',
    "C:\\path\\with\\backslashes",
    "two\nlines",
    "tab\there",
    "Zürich – ünïcode ✓",
    "",
    '"',
    "\\",
    12,
    900000.5,
    None,
    True,
    ["a", "b"],
]


def open_store(tmp_path: Path, state_url: str | None) -> StateStore:
    """A fresh store: a SQLite file, or a fresh PostgreSQL schema (the `state_url` fixture)."""
    if state_url is None:
        return StateStore(tmp_path / "state.sqlite")
    from sync.store_postgres import PostgresBackend
    from tests.postgres_server import PASSWORD

    return StateStore(backend=PostgresBackend(state_url, PASSWORD))


@pytest.mark.state_backends("sqlite", "postgresql")
@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_written_values_are_read_back_unchanged(
    tmp_path: Path, value: object, state_url: str | None
) -> None:
    store = open_store(tmp_path, state_url)
    try:
        with store.transaction():
            store.record_written("salesforce.task", "001/x", {"description": value}, NOW)
        found = AccountStore(store).written(("salesforce.task",))
        assert found == {("salesforce.task", "001/x"): {"description": value}}
    finally:
        store.close()


@pytest.mark.state_backends("sqlite", "postgresql")
def test_a_breach_counts_once_per_due_time_and_after_its_ticket_is_solved(
    tmp_path: Path, state_url: str | None
) -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from escalation.decision import SlaState
    from mapping.records import TicketStatus
    from sync.accounts_facts import gather
    from tests.report_helpers import account, example_config

    config = example_config()
    store = open_store(tmp_path, state_url)
    accounts_store = AccountStore(store)
    due = NOW - timedelta(days=1)
    missed = SimpleNamespace(state=SlaState.BREACHED, due_at=due)
    # Two tickets of the account missed a target falling due at the same moment.
    tickets = [
        SimpleNamespace(ref=f"zendesk:{n}", account_id="001A", status=TicketStatus.OPEN)
        for n in (1, 2)
    ]
    decisions = [
        SimpleNamespace(ticket_ref=t.ref, level="advisory", sla={"resolve": missed})
        for t in tickets
    ]
    accounts = {"001A": account("001A", "Acme")}
    try:
        run = SimpleNamespace(tickets=tickets, decisions=decisions, ticket_created={})
        first = gather(config.matrix, run, accounts, accounts_store, NOW)  # type: ignore[arg-type]
        assert first.facts["001A"].breaches == (due.timestamp(),)
        with store.transaction():
            accounts_store.add_breaches(first.new_breaches)
        # Both tickets solved: the breach still counts, and nothing new is stored.
        solved = SimpleNamespace(tickets=[], decisions=[], ticket_created={})
        later = NOW + timedelta(hours=1)
        second = gather(config.matrix, solved, accounts, accounts_store, later)  # type: ignore[arg-type]
        assert second.facts["001A"].breaches == (due.timestamp(),)
        assert second.new_breaches == []
        assert accounts_store.breaches() == {"001A": (due.timestamp(),)}
    finally:
        store.close()


@pytest.mark.state_backends("sqlite", "postgresql")
def test_breaches_read_back_sorted_once_per_due_time_and_a_fresh_one_sorted_in(
    tmp_path: Path, state_url: str | None
) -> None:
    """Rows of several tickets at one due time (an older version stored them all) are one
    breach of the account; a breach found now, earlier than those stored, is sorted in (the
    engine counts a window of them by bisection)."""
    from datetime import timedelta
    from types import SimpleNamespace

    from escalation.decision import SlaState
    from mapping.records import TicketStatus
    from sync.accounts_facts import gather
    from tests.report_helpers import account, example_config

    store = open_store(tmp_path, state_url)
    accounts_store = AccountStore(store)
    t0, t1, t2 = (NOW - timedelta(days=d) for d in (5, 3, 1))
    e0, e1, e2 = (t.timestamp() for t in (t0, t1, t2))
    try:
        with store.transaction():
            accounts_store.add_breaches(
                [
                    ("001A", "zendesk:1", "resolve", e2),
                    ("001A", "zendesk:2", "resolve", e1),
                    ("001A", "zendesk:3", "first_reply", e2),
                    ("001B", "zendesk:4", "resolve", e1),
                ]
            )
        assert accounts_store.breaches() == {"001A": (e1, e2), "001B": (e1,)}
        ticket = SimpleNamespace(ref="zendesk:9", account_id="001A", status=TicketStatus.OPEN)
        missed = SimpleNamespace(state=SlaState.BREACHED, due_at=t0)
        decision = SimpleNamespace(ticket_ref=ticket.ref, level="advisory", sla={"resolve": missed})
        run = SimpleNamespace(tickets=[ticket], decisions=[decision], ticket_created={})
        accounts = {"001A": account("001A", "Acme"), "001B": account("001B", "Initech")}
        config = example_config()
        gathered = gather(config.matrix, run, accounts, accounts_store, NOW)  # type: ignore[arg-type]
        assert gathered.facts["001A"].breaches == (e0, e1, e2)
        assert gathered.facts["001B"].breaches == (e1,)
        assert gathered.new_breaches == [("001A", "zendesk:9", "resolve", e0)]
    finally:
        store.close()
