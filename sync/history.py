"""Keep the report's history: after each run, what changed for each ticket the engine evaluated.

The report (report/) reads only these tables, the mirror and the accounts: it never calls a
vendor. Recording happens in the transaction that stores the engine states
(`SyncRun._remember_decisions`), so after a crash history and states agree. Only rows that
changed are written, so a run where nothing moved writes next to nothing. Tables:
sync/history_schema.py.

Times are ISO 8601 UTC strings to the second, so the database compares them as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from escalation.compiled import CompiledMatrix
from escalation.decision import Decision, ReasonKind, SlaState
from mapping.records import UNKNOWN_TIER, Ticket
from mapping.serialise import ticket_from_json
from sync.evaluate import Evaluation
from sync.state import StateStore
from sync.store_backend import upsert_sql

SUBJECT_LIMIT = 200  # enough to recognise a ticket in a table; the mirror keeps the whole
_HISTORY_COLUMNS = (
    "system, key, subject, url, account_id, unmatched_reason, tier, region, category, "
    "severity, created_at, is_open, resolved_at, level, level_since, max_level, owner, backup, "
    "role"
)
_HISTORY_UPSERT = upsert_sql(
    "ticket_history", ("ref", *_HISTORY_COLUMNS.split(", "), "updated_at"), ("ref",)
)
_OUTCOME_UPSERT = upsert_sql(
    "sla_outcomes",
    (
        "ref", "metric", "start_at", "due_at", "met_at", "target_seconds", "taken_seconds",
        "breached", "level",
    ),
    ("ref", "metric", "start_at"),
)  # fmt: skip
# Positions in a ticket_history row (after ref) that the recorder reads back.
_TIER, _REGION, _IS_OPEN, _RESOLVED_AT, _LEVEL, _MAX_LEVEL, _OWNER = 6, 7, 11, 12, 13, 15, 16


def iso(moment: datetime) -> str:
    """The stored form of a moment: UTC, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class OpenClock:
    """An SLA clock not met yet, as stored."""

    start_at: str
    due_at: str
    target_seconds: float
    breached: bool
    level: str


class HistoryRecorder:
    """One run's history writes; `record` once, with the run's evaluation."""

    def __init__(self, store: StateStore, compiled: CompiledMatrix, run_id: int, now: datetime):
        self.db = store.db
        self.compiled = compiled
        self.run_id = run_id
        self.now = now
        self.now_text = iso(now)
        self.rank = compiled.level_index
        self.rows: dict[str, tuple] = {
            ref: tuple(rest)
            for ref, *rest in self.db.execute(f"SELECT ref, {_HISTORY_COLUMNS} FROM ticket_history")
        }
        self.clocks: dict[tuple[str, str], OpenClock] = {
            (ref, metric): OpenClock(start, due, target, bool(breached), level)
            for ref, metric, start, due, target, breached, level in self.db.execute(
                "SELECT ref, metric, start_at, due_at, target_seconds, breached, level "
                "FROM sla_outcomes WHERE met_at IS NULL"
            )
        }
        self.history_writes: list[tuple] = []
        self.events: list[tuple] = []
        self.outcomes: list[tuple] = []

    def record(self, evaluation: Evaluation) -> None:
        """Lifecycle, events and SLA clocks of every evaluated ticket, then tickets closed since."""
        unmatched = dict(evaluation.unmatched)
        seen = set()
        for ticket, decision in zip(evaluation.tickets, evaluation.decisions, strict=True):
            account = evaluation.accounts.get(ticket.account_id or "")
            tier = account.tier if account is not None else UNKNOWN_TIER
            region = account.region if account is not None else None
            self._ticket(ticket, decision, tier, region, unmatched.get(ticket.ref))
            seen.add(ticket.ref)
        for ticket in self._closed_since(seen):
            self._resolved(ticket, self.rows[ticket.ref])
        self._flush()

    # -- one ticket --------------------------------------------------------------------------
    def _ticket(
        self, ticket: Ticket, decision: Decision, tier: str, region: str | None, why: str | None
    ) -> None:
        previous = self.rows.get(ticket.ref)
        owner = decision.owner
        current_owner = owner.current if owner is not None else None
        is_open = ticket.status.is_open
        level = decision.level
        max_level = level
        if previous is not None and self.rank.get(previous[_MAX_LEVEL], 0) > self.rank[level]:
            max_level = previous[_MAX_LEVEL]
        if previous is None or previous[_IS_OPEN] or is_open:
            resolved_at = None if is_open else iso(min(ticket.updated_at, self.now))
        else:
            resolved_at = previous[_RESOLVED_AT]
        row = (
            ticket.system,
            ticket.key,
            ticket.subject[:SUBJECT_LIMIT],
            ticket.url,
            ticket.account_id,
            why,
            tier,
            region,
            ticket.category,
            ticket.severity,
            iso(ticket.created_at),
            int(is_open),
            resolved_at,
            level,
            iso(decision.level_since),
            max_level,
            current_owner,
            owner.backup if owner is not None else None,
            owner.role if owner is not None else None,
        )
        self._events(ticket.ref, previous, decision, current_owner, is_open)
        if previous != row:
            self.rows[ticket.ref] = row
            self.history_writes.append((ticket.ref, *row, self.now_text))
        if not is_open:
            if previous is None or previous[_IS_OPEN]:
                self._close_clocks(ticket.ref, resolved_at or self.now_text, tier, region)
            return
        self._clocks(ticket, decision, tier, region)

    def _events(
        self,
        ref: str,
        previous: tuple | None,
        decision: Decision,
        owner: str | None,
        is_open: bool,
    ) -> None:
        old_level = previous[_LEVEL] if previous is not None else None
        level = decision.level
        if previous is not None and not previous[_IS_OPEN] and is_open:
            self._event(ref, "reopened", old_level, level, owner)
        if old_level != level and (old_level is not None or self.rank[level] > 0):
            if old_level is None or self.rank[level] > self.rank.get(old_level, 0):
                kind = "escalated"
            elif any(r.kind is ReasonKind.ENDED for r in decision.reasons):
                kind = "ended"
            else:
                kind = "de_escalated"
            self._event(ref, kind, old_level, level, owner)
        if previous is not None and owner is not None and previous[_OWNER] not in (None, owner):
            self._event(ref, "owner_changed", old_level, level, owner)

    def _event(
        self, ref: str, kind: str, old: str | None, new: str | None, owner: str | None
    ) -> None:
        self.events.append((ref, self.now_text, self.run_id, kind, old, new, owner))

    # -- SLA clocks --------------------------------------------------------------------------
    def _clocks(self, ticket: Ticket, decision: Decision, tier: str, region: str | None) -> None:
        clock = self.compiled.clock_for(tier, region)
        for metric, sla in decision.sla.items():
            start = _clock_start(ticket, metric)
            start_text = iso(start)
            known = self.clocks.get((ticket.ref, metric))
            if known is not None and known.start_at != start_text:
                # A new update restarted the cadence: the previous interval was met by it.
                met = datetime.fromisoformat(start_text)
                self._met(ticket.ref, metric, known, met, clock)
                known = None
            breached = sla.state is SlaState.BREACHED
            if sla.met_at is not None:
                taken = clock.between(start.timestamp(), sla.met_at.timestamp())
                self.outcomes.append(
                    (ticket.ref, metric, start_text, iso(sla.due_at), iso(sla.met_at))
                    + (sla.target_seconds, taken, int(breached), decision.level)
                )
                self.clocks.pop((ticket.ref, metric), None)
                continue
            wanted = OpenClock(
                start_text, iso(sla.due_at), sla.target_seconds, breached, decision.level
            )
            if known != wanted:
                self.clocks[(ticket.ref, metric)] = wanted
                self.outcomes.append(
                    (ticket.ref, metric, start_text, wanted.due_at, None)
                    + (sla.target_seconds, None, int(breached), decision.level)
                )

    def _met(self, ref: str, metric: str, known: OpenClock, met: datetime, clock) -> None:
        start = datetime.fromisoformat(known.start_at)
        taken = clock.between(start.timestamp(), met.timestamp())
        breached = known.breached or iso(met) > known.due_at
        self.outcomes.append(
            (ref, metric, known.start_at, known.due_at, iso(met))
            + (known.target_seconds, taken, int(breached), known.level)
        )

    def _close_clocks(self, ref: str, resolved_at: str, tier: str, region: str | None) -> None:
        """A resolved ticket: its resolution meets every clock still running (the last update)."""
        self._event(ref, "resolved", None, None, None)
        clock = self.compiled.clock_for(tier, region)
        met = datetime.fromisoformat(resolved_at)
        milestones = (m.name for m in self.compiled.config.sla.milestones)
        for metric in ("acknowledge", "next_update", "resolve", *milestones):
            known = self.clocks.pop((ref, metric), None)
            if known is not None:
                self._met(
                    ref, metric, known, max(met, datetime.fromisoformat(known.start_at)), clock
                )

    def _closed_since(self, seen: set[str]) -> list[Ticket]:
        """Tickets open at our last look, closed in the mirror now, that the engine skipped."""
        rows = self.db.execute(
            "SELECT t.ref, t.data FROM tickets t JOIN ticket_history h ON h.ref = t.ref "
            "WHERE t.is_open = 0 AND h.is_open = 1"
        )
        return [ticket_from_json(json.loads(data)) for ref, data in rows if ref not in seen]

    def _resolved(self, ticket: Ticket, previous: tuple) -> None:
        resolved_at = iso(min(ticket.updated_at, self.now))
        row = previous[:_IS_OPEN] + (0, resolved_at) + previous[_RESOLVED_AT + 1 :]
        self.rows[ticket.ref] = row
        self.history_writes.append((ticket.ref, *row, self.now_text))
        self._close_clocks(ticket.ref, resolved_at, previous[_TIER], previous[_REGION])

    # -- writing -----------------------------------------------------------------------------
    def _flush(self) -> None:
        self.db.executemany(_HISTORY_UPSERT, self.history_writes)
        self.db.executemany(
            "INSERT INTO ticket_events (ref, at, run_id, kind, old_level, new_level, owner) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            self.events,
        )
        self.db.executemany(_OUTCOME_UPSERT, self.outcomes)


def _clock_start(ticket: Ticket, metric: str) -> datetime:
    """When a metric's clock started (the rule of escalation.sla.measure)."""
    if metric != "next_update" or ticket.first_response_at is None:
        return ticket.created_at
    latest = ticket.last_agent_update_at
    if latest is None or latest < ticket.first_response_at:
        latest = ticket.first_response_at
    return max(latest, ticket.created_at)


def prune_history(store: StateStore, now: datetime, keep_days: int) -> None:
    """Forget history older than `keep_days`: resolved tickets, their events and met clocks.

    Open tickets keep their rows however old: the report still shows them.
    """
    cutoff = iso(now - timedelta(days=keep_days))
    db = store.db
    db.execute("DELETE FROM ticket_events WHERE at < ?", (cutoff,))
    db.execute("DELETE FROM sla_outcomes WHERE start_at < ? AND met_at IS NOT NULL", (cutoff,))
    db.execute("DELETE FROM ticket_history WHERE is_open = 0 AND resolved_at < ?", (cutoff,))
    db.execute(
        "DELETE FROM sla_outcomes WHERE met_at IS NULL AND start_at < ? "
        "AND ref NOT IN (SELECT ref FROM ticket_history)",
        (cutoff,),
    )


def record_history(
    store: StateStore,
    compiled: CompiledMatrix,
    evaluation: Evaluation,
    run_id: int,
    now: datetime,
    keep_days: int,
) -> None:
    """The run's history, then pruning past the retention; call inside the run's transaction."""
    HistoryRecorder(store, compiled, run_id, now).record(evaluation)
    prune_history(store, now, keep_days)
