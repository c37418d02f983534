"""Send planned writes through the connectors and remember what landed.

- OK: the values are remembered as written, the mirror shows them, the note is marked sent.
- CONFLICT (someone edited the ticket meanwhile): re-read the ticket; the next plan uses it.
- RETRY (transient, or the outcome is unknown): nothing is remembered, so the next run plans
  the same change again against a fresh read; a note whose fate is unknown is looked for on
  the ticket before it is sent again. Every write is marked in flight (and its note unknown)
  before it is sent, so a run killed before the answer leaves the same trail.
- REJECTED: remembered with the vendor's reason and this payload's hash; the same payload is
  not sent again, a different one (the wanted values changed) is.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from connectors.base import ConnectorStats, FieldWrite, WriteResult, WriteStatus
from connectors.errors import AuthError, RateLimited, SystemUnavailable
from mapping.records import Account, Ticket
from sync.allowance import WriteBudget, highest_levels_first
from sync.plan import PlannedWrite
from sync.progress import ProgressListener, Unseen, WriteProgress
from sync.state import StateStore

log = logging.getLogger("escalation_sync.apply")


class Writer(Protocol):
    """What apply_writes asks of a system: every Connector is one, and so is each of the
    account matrix's writers (sync/accounts_writers.py), which write records of their own."""

    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]: ...

    def stats(self) -> ConnectorStats: ...


@dataclass
class ApplyReport:
    results: Counter = field(default_factory=Counter)  # (system, status) -> count
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (ref, vendor's reason)
    retry: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)  # system -> why
    refused: dict[str, str] = field(default_factory=dict)  # of those: credentials refused -> why
    # A quota or the run's waiting budget ran out while writing: its writes still to retry
    # wait for the next run, and are not failures (sync/run.py RunResult.exit_code).
    quota_bound: dict[str, str] = field(default_factory=dict)  # system -> why
    progress: dict[str, WriteProgress] = field(default_factory=dict)  # system -> writes sent
    # Of a quota-bound system: the levels of the writes waiting for the next run -> how many.
    waiting_levels: dict[str, Counter] = field(default_factory=dict)

    def failed_retries(self) -> list[tuple[str, str]]:
        """Writes to retry for a reason other than a spent quota."""
        return [
            (ref, why) for ref, why in self.retry if ref.split(":", 1)[0] not in self.quota_bound
        ]


# Writes handed to a connector at a time (a multiple of every vendor's batch: 10 Zendesk jobs,
# 5 Salesforce collections, one Jira bulk edit task at most): results are remembered and
# progress is told after each chunk.
WRITE_CHUNK = 1000


def apply_writes(
    planned: list[PlannedWrite],
    connectors: Mapping[str, Writer],
    store: StateStore,
    run_id: int,
    now: datetime,
    listener: ProgressListener | None = None,
    rank: Mapping[str, int] | None = None,
    budgets: Mapping[str, WriteBudget] | None = None,
) -> ApplyReport:
    """Send each system's writes, highest level first when `rank` (level -> rank) is given,
    within its shared budget if it has one (sync/allowance.py)."""
    report = ApplyReport()
    listener = listener or Unseen()
    budgets = budgets or {}
    by_system: dict[str, list[PlannedWrite]] = {}
    for item in planned:
        if item.write is not None:
            by_system.setdefault(item.target.system, []).append(item)
    for system, all_items in by_system.items():
        connector = connectors.get(system)
        if connector is None:
            continue
        if rank is not None:
            all_items = highest_levels_first(all_items, rank)
        progress = report.progress[system] = WriteProgress(system, len(all_items))
        budget = budgets.get(system)
        while progress.sent < len(all_items):
            items = all_items[progress.sent : progress.sent + WRITE_CHUNK]
            if budget is not None:
                items = items[: budget.allowed(items)]
                if not items:
                    report.quota_bound[system] = budget.why()
                    break
            _apply_chunk(system, connector, items, store, run_id, now, report)
            progress.sent += len(items)
            listener.writing(progress)
            _record_spent_budget(system, connector, report)
            if system in report.unreachable or system in report.quota_bound:
                break  # the rest is planned again next run (nothing was marked or sent)
        if system in report.quota_bound:
            report.waiting_levels[system] = _waiting_levels(all_items, progress.sent, report)
    return report


def _waiting_levels(items: list[PlannedWrite], sent: int, report: ApplyReport) -> Counter:
    """The levels of the writes sent but to be retried and of those not sent, in the order
    they were to go (highest level first when ranked)."""
    retry = {ref for ref, _ in report.retry}
    waiting = [i for i in items[:sent] if i.write and i.write.ref in retry] + items[sent:]
    return Counter(item.target.level for item in waiting)


def _record_spent_budget(system: str, connector: Writer, report: ApplyReport) -> None:
    """A connector reports writes it could not send for a spent waiting budget as RETRY; its
    stats say whether the budget ran out, which tells those apart from an unknown outcome."""
    spent = connector.stats().wait_budget_spent
    if spent and any(ref.startswith(f"{system}:") for ref, _ in report.retry):
        report.quota_bound.setdefault(
            system, f"{system}: the run's waiting budget is spent ({spent}); resuming next run"
        )


def _apply_chunk(
    system: str,
    connector: Writer,
    items: list[PlannedWrite],
    store: StateStore,
    run_id: int,
    now: datetime,
    report: ApplyReport,
) -> None:
    """Mark, send and remember one chunk of a system's writes."""
    with store.transaction():
        store.mark_in_flight_many([(i.target.system, i.target.record_id) for i in items], now)
        store.set_note_states(_notes_in_flight(items), now)
    writes = [item.write for item in items if item.write is not None]  # all: see by_system
    try:
        results = connector.apply(writes)
    except RateLimited as error:
        report.quota_bound[system] = str(error)
        results = [WriteResult(write, WriteStatus.RETRY, str(error)) for write in writes]
    except (AuthError, SystemUnavailable) as error:
        # Refused credentials mid-run (a session that cannot be renewed) end this system's
        # writes, not the run: the other systems' results are still remembered.
        report.unreachable[system] = str(error)
        if isinstance(error, AuthError):
            report.refused[system] = str(error)
        results = [WriteResult(write, WriteStatus.RETRY, str(error)) for write in writes]
    # A named instance that failed or refused its writes (sync/instances.py): reported under
    # its name, as a failed read is, so the rest of the run leaves it alone.
    for key, why in getattr(connector, "unreached", {}).items():
        report.unreachable.setdefault(key, str(why))
        if isinstance(why, AuthError):
            report.refused.setdefault(key, str(why))
    with store.transaction():
        batch = _Remembered()
        _read_mirror(items, results, store, batch)
        for item, result in zip(items, results, strict=True):
            _remember(item, result, store, now, report, batch)
        batch.store(store, run_id, now)


def _notes_in_flight(items: list[PlannedWrite]) -> list[tuple[str, str, str, str]]:
    """Written down before sending (with the record, marked in flight): a run killed before
    the answer leaves the outcome unknown, so the next run reads the record (and looks for the
    note) instead of resending blindly."""
    return [
        (item.target.system, item.target.ref, item.target.note_key, "unknown")
        for item in items
        if item.write is not None and item.write.note is not None and item.target.note_key
    ]


@dataclass
class _Remembered:
    """A chunk's outcomes to store, gathered so each kind is one statement (at 100k writes a
    run spent seconds on three statements per write); stored in the order they came."""

    audits: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    written: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    cleared: dict[tuple[str, str], None] = field(default_factory=dict)  # failures to forget
    tickets: dict[str, Ticket] = field(default_factory=dict)  # the mirror as we left it
    accounts: dict[str, Account] = field(default_factory=dict)
    notes: list[tuple[str, str, str, str]] = field(default_factory=list)  # (.., key, state)
    # The mirror as the chunk found it, of the records its landed writes change.
    tickets_read: dict[str, Ticket] = field(default_factory=dict)
    accounts_read: dict[str, Account] = field(default_factory=dict)

    def store(self, store: StateStore, run_id: int, now: datetime) -> None:
        store.audit_many(run_id, now, self.audits)
        store.set_note_states(self.notes, now)
        store.record_written_many(self.written, now)
        store.clear_failures(self.cleared)
        store.upsert_tickets(self.tickets.values())
        store.upsert_accounts(self.accounts.values())


def _remember(
    item: PlannedWrite,
    result: WriteResult,
    store: StateStore,
    now: datetime,
    report: ApplyReport,
    batch: _Remembered,
) -> None:
    target, write = item.target, item.write
    assert write is not None
    report.results[(target.system, result.status.value)] += 1
    detail = {
        "record": write.ref,
        "ticket": target.ref,
        "fields": write.fields,
        "tags_add": list(write.tags_add),
        "tags_remove": list(write.tags_remove),
        "note": write.note is not None,
        "status": result.status.value,
        "reason": result.reason,
        "why": list(target.reasons),
        "level": target.level,
        **({"delete": True} if write.delete else {}),
    }
    batch.audits.append(("write", write.ref, detail))
    record = (target.system, target.record_id)
    if result.status is WriteStatus.OK and write.delete:
        # The record is gone: nothing of ours is left on it to compare with.
        store.forget_written(target.system, target.record_id)
        batch.written = [w for w in batch.written if (w[0], w[1]) != record]
        batch.cleared[record] = None
        return
    if result.status is WriteStatus.OK:
        batch.written.append((target.system, target.record_id, item.written_values))
        batch.cleared[record] = None
        if write.note is not None and target.note_key:
            batch.notes.append((target.system, target.ref, target.note_key, "sent"))
        _refresh_mirror(item, batch)
        return
    if write.note is not None and target.note_key:
        # A refused update (conflict, rejection) added no note; an unknown outcome may have.
        state = "unknown" if result.status is WriteStatus.RETRY else "not_sent"
        batch.notes.append((target.system, target.ref, target.note_key, state))
    status = "rejected" if result.status is WriteStatus.REJECTED else result.status.value
    reason = result.reason or status
    if result.status is WriteStatus.REJECTED:
        reason = f"{reason} [payload {item.payload_hash}]"
        report.rejected.append((write.ref, result.reason or "rejected"))
    elif result.status is WriteStatus.CONFLICT:
        report.conflicts.append(write.ref)
    else:
        report.retry.append((write.ref, reason))
    batch.cleared.pop(record, None)  # a failure after a success of the same record stands
    store.record_failure(target.system, target.record_id, status, reason, now)


def _read_mirror(
    items: list[PlannedWrite], results: list[WriteResult], store: StateStore, batch: _Remembered
) -> None:
    """The mirror's records of the writes that landed, read in one query per kind before they
    are remembered (a query per write was a third of remembering a chunk). Nothing in the
    chunk's remembering changes the mirror before its end, so this is what each write would
    have read on its own."""
    landed = [
        item.target
        for item, result in zip(items, results, strict=True)
        if result.status is WriteStatus.OK and item.write is not None and not item.write.delete
    ]
    batch.accounts_read = store.accounts_by_id(t.record_id for t in landed if t.kind == "account")
    batch.tickets_read = store.tickets_by_ref(t.ref for t in landed if t.kind in _MIRRORED)


_MIRRORED = ("ticket", "issue")  # the kinds of targets the tickets' mirror holds


def _refresh_mirror(item: PlannedWrite, batch: _Remembered) -> None:
    """Show what we wrote in the mirror: the system holds it now, even before we read it back."""
    target = item.target
    if target.kind not in _MIRRORED:
        if target.kind != "account":
            return
        account = batch.accounts.get(target.record_id) or batch.accounts_read.get(target.record_id)
        if account is not None:
            batch.accounts[target.record_id] = replace(
                account, managed_fields={**account.managed_fields, **item.written_values}
            )
        return
    ticket = batch.tickets.get(target.ref) or batch.tickets_read.get(target.ref)
    if ticket is None:
        return
    write = item.write
    assert write is not None
    tags = (set(ticket.tags) - set(write.tags_remove)) | set(write.tags_add)
    batch.tickets[target.ref] = replace(
        ticket,
        managed_fields={**ticket.managed_fields, **item.written_values},
        tags=tuple(sorted(tags)),
    )
