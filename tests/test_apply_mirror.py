"""The mirror after a chunk of writes (sync/apply.py): it shows what landed, read from the
store once per chunk (StateStore.accounts_by_id / tickets_by_ref) rather than once per write,
on both state backends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from config.write_mapping import WriteField
from connectors.base import ConnectorStats, FieldWrite, WriteResult, WriteStatus
from sync.apply import WRITE_CHUNK, apply_writes
from sync.plan import PlannedWrite, plan_target
from sync.state import StateStore
from sync.wanted import Target
from tests.postgres_server import BOTH_BACKENDS
from tests.report_helpers import account, ticket

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
RANKS = {"healthy": 0, "watch": 1, "at-risk": 2}
TEXT = WriteField(field="Escalation_Level__c", format="text")
NOTE = WriteField(field="Escalation_Note__c", format="text")
ZD_LEVEL = WriteField(field="360000000201", format="text")


def open_store(tmp_path: Path, state_url: str | None) -> StateStore:
    """A fresh store: a SQLite file, or a fresh PostgreSQL schema (the `state_url` fixture)."""
    if state_url is None:
        return StateStore(tmp_path / "state.sqlite")
    from sync.store_postgres import PostgresBackend
    from tests.postgres_server import PASSWORD

    return StateStore(backend=PostgresBackend(state_url, PASSWORD))


@BOTH_BACKENDS
def test_the_batched_readers_read_what_the_single_ones_do(
    tmp_path: Path, state_url: str | None
) -> None:
    store = open_store(tmp_path, state_url)
    try:
        # More than two statements' worth of keys (500 a statement), names that need escaping.
        accounts = [account(f"001{n:05d}", f'Acme "{n}" \\ Zürich') for n in range(1203)]
        tickets = [ticket(str(n), f"001{n:05d}", NOW, tags=("b", "a")) for n in range(1203)]
        with store.transaction():
            store.upsert_accounts(accounts)
            store.upsert_tickets(tickets)
        ids = [a.id for a in reversed(accounts)] + ["001A", accounts[0].id, "001missing"]
        refs = [t.ref for t in tickets] + ["zendesk:missing", tickets[5].ref]
        found = store.accounts_by_id(ids)
        assert found == {i: store.account(i) for i in ids if store.account(i) is not None}
        assert len(found) == 1203 and found[accounts[7].id] == accounts[7]
        by_ref = store.tickets_by_ref(iter(refs))  # any iterable, read once
        assert by_ref == {r: store.ticket(r) for r in refs if store.ticket(r) is not None}
        assert len(by_ref) == 1203 and by_ref[tickets[9].ref] == tickets[9]
        assert store.accounts_by_id([]) == {} and store.tickets_by_ref(()) == {}
    finally:
        store.close()


class Answers:
    """A writer that answers each write with the status given for its ref (else OK)."""

    def __init__(self, statuses: dict[str, WriteStatus]):
        self.statuses = statuses

    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        return [WriteResult(w, self.statuses.get(w.ref, WriteStatus.OK), "no") for w in writes]

    def stats(self) -> ConnectorStats:
        return ConnectorStats()


def account_write(account_id: str, **values: str) -> PlannedWrite:
    writes = {"level": TEXT, "note": NOTE}
    target = Target("salesforce", "account", account_id, "watch", values, writes, ref=account_id)
    return plan_target(target, {}, {}, RANKS, True, True)


def ticket_write(ticket_id: str, level: str, add: set[str], current: set[str]) -> PlannedWrite:
    target = Target(
        "zendesk",
        "ticket",
        ticket_id,
        "watch",
        {"level": level},
        {"level": ZD_LEVEL},
        wanted_tags=frozenset(add),
        current_tags=frozenset(current),
        ref=f"zendesk:{ticket_id}",
    )
    return plan_target(target, {}, {}, RANKS, True, True)


@BOTH_BACKENDS
def test_the_mirror_shows_every_landed_write_of_a_chunk_and_nothing_else(
    tmp_path: Path, state_url: str | None
) -> None:
    store = open_store(tmp_path, state_url)
    try:
        kept = account("001K", "Kept", managed_fields={"other": "theirs"})
        refused = account("001R", "Refused")
        seven = ticket("7", "001K", NOW, tags=("old", "vip"), managed_fields={"level": "x"})
        eight = ticket("8", "001K", NOW, tags=("vip",))
        with store.transaction():
            store.upsert_accounts([kept, refused])
            store.upsert_tickets([seven, eight])
        planned = [
            account_write("001K", level="watch"),
            account_write("001R", level="at-risk"),
            account_write("001N", level="watch"),  # not in the mirror: stays out of it
            account_write("001K", note="twice in one chunk"),
            ticket_write("7", "watch", {"esc_watch", "vip"}, {"old", "vip"}),
            ticket_write("8", "at-risk", {"esc_at_risk"}, {"vip"}),
            ticket_write("7", "at-risk", {"esc_at_risk"}, {"esc_watch"}),
        ]
        connectors = {
            "salesforce": Answers({"salesforce:001R": WriteStatus.REJECTED}),
            "zendesk": Answers({"zendesk:8": WriteStatus.CONFLICT}),
        }
        report = apply_writes(planned, connectors, store, store.begin_run(NOW, False), NOW)
        assert report.rejected == [("salesforce:001R", "no")]
        assert report.conflicts == ["zendesk:8"]
        managed = {"other": "theirs", "level": "watch", "note": "twice in one chunk"}
        assert store.account("001K") == replace(kept, managed_fields=managed)
        assert store.account("001R") == refused
        assert store.account("001N") is None
        assert store.ticket("zendesk:7") == replace(
            seven, managed_fields={"level": "at-risk"}, tags=("esc_at_risk", "vip")
        )
        assert store.ticket("zendesk:8") == eight
    finally:
        store.close()


def test_a_chunk_reads_the_mirror_once_not_once_per_write(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite")
    try:
        count = 2 * WRITE_CHUNK + 5  # three chunks
        with store.transaction():
            store.upsert_accounts(account(f"001{n:05d}", "Acme") for n in range(count))
            store.upsert_tickets(ticket(str(n), None, NOW) for n in range(count))
        planned = [account_write(f"001{n:05d}", level="watch") for n in range(count)]
        planned += [ticket_write(str(n), "watch", set(), set()) for n in range(count)]
        statements: list[str] = []
        store.db.set_trace_callback(statements.append)
        apply_writes(planned, {"salesforce": Answers({}), "zendesk": Answers({})}, store, 1, NOW)
        store.db.set_trace_callback(None)
        reads = [s for s in statements if s.startswith("SELECT")]
        from_accounts = [s for s in reads if " FROM accounts " in s]
        from_tickets = [s for s in reads if " FROM tickets " in s]
        # Per chunk of 1,000 accounts: two statements of 500 ids (the last chunk: one).
        assert len(from_accounts) == 5 and len(from_tickets) == 5
        assert store.account("00100042") == replace(
            account("00100042", "Acme"), managed_fields={"level": "watch"}
        )
    finally:
        store.close()
