"""One sync run: pull -> mirror -> evaluate every open ticket -> plan -> write the differences.

The run keeps going past bad records and past a system that cannot be reached (its writes
wait for the next run); the summary and exit code say what happened.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from config.schema import Config
from connectors.base import Connector
from errors import ExitCode
from escalation.compiled import CompiledMatrix, compile_matrix
from escalation.decision import Decision
from mapping.records import SourceRecord, TicketStatus
from sync.accounts_run import escalate_accounts
from sync.allowance import WriteBudget, allowance_summaries, reached_budgets, write_budgets
from sync.apply import ApplyReport, apply_writes
from sync.clock import check_clock
from sync.diff import FieldAction, Override
from sync.evaluate import Evaluation, evaluate_mirror
from sync.history import record_history
from sync.human import PeopleLevels
from sync.instances import reachable_instances, waiting_for_an_org
from sync.jira_scope import keep_in_scope, tickets_to_evaluate
from sync.logs import log_decision_change
from sync.notifications import NotifyResult, RunNotifications
from sync.plan import PlannedWrite, plan_target, rejected_before
from sync.progress import ProgressListener
from sync.pull import Puller, PullReport
from sync.quota_bound import quota_bound_summary
from sync.readback import (
    NoteLook,
    look_for_notes,
    read_again,
    read_back_unknown,
    read_unknown_outcomes,
)
from sync.reconcile import Reconciliation, reconcile
from sync.reconcile import start as start_reconciliation
from sync.reconcile_mirror import reconcile_mirror
from sync.run_log import log_applied, log_evaluated, log_planned
from sync.shown import noted_level, shows_our_work
from sync.state import StateStore
from sync.ticket_changes import milestone_changes
from sync.wanted import Target, TargetBuilder
from vocabulary.instances import split_instance

log = logging.getLogger("escalation_sync.run")

ACCOUNT_SOURCE = "salesforce"  # accounts feed every decision: tier, ARR, renewal, health, owner


@dataclass
class RunResult:
    run_id: int
    dry_run: bool
    pull: PullReport = field(default_factory=PullReport)
    evaluation: Evaluation | None = None
    planned: list[PlannedWrite] = field(default_factory=list)
    apply: ApplyReport = field(default_factory=ApplyReport)
    # (record, field, the value a person set)
    overrides_found: list[tuple[str, str, Any]] = field(default_factory=list)
    overrides_kept: int = 0
    still_rejected: list[tuple[str, str]] = field(default_factory=list)
    # When the oldest of the still rejected records was first refused (ISO 8601, UTC).
    still_rejected_since: str | None = None
    # system -> requests, retries, 429s, seconds waited (and Salesforce logins): what the
    # transport absorbed, so a run that recovered from faults still says it met them.
    transport: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: NotifyResult | None = None  # None: no notifications configured
    reconciled: Reconciliation | None = None  # the periodic reconciliation, when one ran
    # system -> its shared allowance at the end of the run (used, limit, reserve, stop at).
    allowances: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def writes(self) -> list[PlannedWrite]:
        return [p for p in self.planned if p.write is not None]

    @property
    def unreachable(self) -> dict[str, str]:
        return {**self.pull.unreachable, **self.apply.unreachable}

    @property
    def quota_bound(self) -> dict[str, str]:
        """Systems whose quota or waiting budget ran out (reachable; resuming next run)."""
        return {**self.pull.quota_bound, **self.apply.quota_bound}

    @property
    def refused(self) -> dict[str, str]:
        """Systems that refused our credentials (also unreachable), with their words."""
        return {**self.pull.refused, **self.apply.refused}

    @property
    def exit_code(self) -> ExitCode:
        if self.refused:
            return ExitCode.CREDENTIALS_REFUSED
        if self.unreachable:
            return ExitCode.UNREACHABLE
        # A record still rejected from an earlier run keeps the exit code at 1 on every run, so
        # monitoring that looks at exit codes sees it until a person acts.
        apply = self.apply
        if apply.rejected or apply.failed_retries() or apply.conflicts or self.still_rejected:
            return ExitCode.RECORDS_FAILED
        if self.quota_bound:
            return ExitCode.QUOTA_BOUND
        if self.notifications is not None and self.notifications.failed:
            return ExitCode.NOTIFICATIONS_FAILED
        return ExitCode.OK

    def summary(self) -> dict[str, Any]:
        """Counts for the one-line summary and the runs table. No secrets, no record values."""
        decisions = self.evaluation.decisions if self.evaluation else []
        return {
            "pulled": dict(self.pull.records),
            "skipped_records": len(self.pull.skipped),
            "bad_values": len(self.pull.issues),
            "evaluated": len(decisions),
            "levels": dict(Counter(d.level for d in decisions)),
            "unmatched": len(self.evaluation.unmatched) if self.evaluation else 0,
            "planned_writes": dict(Counter(p.target.system for p in self.writes)),
            "results": {f"{s}:{st}": n for (s, st), n in sorted(self.apply.results.items())},
            "overrides_found": len(self.overrides_found),
            "overrides_kept": self.overrides_kept,
            "rejected": len(self.apply.rejected),
            "still_rejected": len(self.still_rejected),
            "still_rejected_since": self.still_rejected_since,
            "retry": len(self.apply.retry),
            "conflicts": len(self.apply.conflicts),
            "unreachable": sorted(set(self.unreachable) - set(self.refused)),
            "credentials_refused": dict(sorted(self.refused.items())),
            "never_read": sorted(self.pull.never_read),
            "quota_bound": quota_bound_summary(self),
            "transport": self.transport,
            **({"allowances": self.allowances} if self.allowances else {}),
            **({"notifications": self.notifications.summary()} if self.notifications else {}),
            **(
                {"reconciled": self.reconciled.summary()}
                if self.reconciled is not None and self.reconciled.ran
                else {}
            ),
        }


class SyncRun:
    """Everything one run needs; `execute()` does the run."""

    def __init__(
        self,
        config: Config,
        connectors: Mapping[str, Connector],
        store: StateStore,
        now: datetime,
        dry_run: bool = False,
        listener: ProgressListener | None = None,
    ):
        self.config = config
        self.listener = listener
        self.connectors = dict(connectors)
        self.store = store
        self.now = now
        self.dry_run = dry_run
        self.compiled: CompiledMatrix = compile_matrix(config.matrix)
        self.rank = {level: i for i, level in enumerate(config.matrix.levels)}
        self.result = RunResult(store.begin_run(now, dry_run), dry_run)
        self.notify = (
            RunNotifications(config, store, self.compiled, now, self.result.run_id)
            if config.notifications is not None
            else None
        )
        self.result.notifications = self.notify.result if self.notify else None
        self.budgets: dict[str, WriteBudget] = write_budgets(config, self.connectors)

    def execute(self) -> RunResult:
        result = self.result
        result.pull = Puller(
            self.config, self.store, self.connectors, self.now, self.listener
        ).run()
        # A named org not reached is not asked for its allowance: its writes wait anyway.
        self.budgets = reached_budgets(self.budgets, result.pull.unreachable)
        self._read_unknown_again()
        result.reconciled = start_reconciliation(self.config, self.store, self.now, self.dry_run)
        if not self.dry_run:
            # A system unreachable or out of quota this run waits for the next look.
            unreachable = set(result.pull.unreachable) | set(result.pull.quota_bound)
            reconcile_mirror(self.config, self.store, self.connectors, self.now,
                             result.run_id, result.reconciled, unreachable)  # fmt: skip
        keep_in_scope(self.config, self.store, result.run_id, self.now, self.dry_run)
        result.evaluation = self._evaluate()
        log_evaluated(result.evaluation)
        never_read = result.pull.never_read
        if ACCOUNT_SOURCE in never_read:
            # Levels worked out without the accounts (a first run that could not reach them)
            # would be written, announced in private notes and corrected a run later, with a
            # second note. Nothing is planned or remembered until the accounts have been read.
            log.error("no writes this run: %s not read yet", ACCOUNT_SOURCE)
        else:
            # Without a system never read yet (say, Jira's linked severities) some levels may
            # change once it is: fields are written and corrected then, but a private note
            # would announce the passing level. Notes and engine states wait for that read.
            if never_read:
                log.warning("private notes wait until %s has been read once", ", ".join(never_read))
            self._plan_and_apply()
        result.transport = transport_stats(self.connectors)
        self._record_allowances()
        self.store.end_run(result.run_id, self.now, result.exit_code, result.summary())
        return result

    def _plan_and_apply(self) -> None:
        result = self.result
        assert result.evaluation is not None
        result.planned = self._plan(result.evaluation, only_refs=None)
        result.planned = waiting_for_an_org(self.config, result.planned, result.pull.never_read)
        log_planned(result.planned, self.dry_run)
        if not self.dry_run:
            reachable = reachable_instances(self.connectors, result.pull.unreachable)
            result.apply = apply_writes(
                result.planned, reachable, self.store, result.run_id, self.now, self.listener,
                self.rank, self.budgets,
            )  # fmt: skip
            if result.apply.conflicts:
                self._replan_conflicts(reachable)
            log_applied(result.apply)
            if not result.pull.never_read:
                self._remember_decisions(result.evaluation.decisions, result.evaluation)
                if self.notify is not None:
                    # After every field write: a channel never holds them. The connectors make
                    # the debriefs' Tasks and notes (a named instance not reached: they wait).
                    self.notify.deliver(self._without_named_unreached())
        elif self.notify is not None and not result.pull.never_read:
            self.notify.plan(result.evaluation)  # what this run would send, for the plan
        escalate_accounts(self)  # the account matrix (sync/accounts_run.py), after the tickets

    def _record_allowances(self) -> None:
        """The shared allowances as the systems last reported them: in the summary and, for a
        run that wrote, in the audit log."""
        for system, budget in self.budgets.items():
            if system in self.result.unreachable:
                continue
            for label, summary in allowance_summaries(system, budget).items():
                if label in self.result.unreachable:  # a named org not reached this run
                    continue
                self.result.allowances[label] = summary
                if not self.dry_run:
                    with self.store.transaction():
                        self.store.audit(
                            self.result.run_id, self.now, "api_allowance", label, summary
                        )

    # -- steps ------------------------------------------------------------------------------
    def _evaluate(self) -> Evaluation:
        store = self.store
        return evaluate_mirror(
            self.config,
            self.compiled,
            tickets_to_evaluate(self.config, store),
            store.accounts(),
            store.prior_states(),
            self.now,
            milestone_changes(store.db, self.config.matrix.sla.milestones),
            store.merged_accounts(),
        )

    def _plan(self, evaluation: Evaluation, only_refs: set[str] | None) -> list[PlannedWrite]:
        """Build the targets, read what planning needs (sync/readback.py), then plan them."""
        written = self.store.written()
        overrides = overrides_by_record(self.store, self.config.matrix.renamed)
        expire = self.config.sync.overrides.expire == "on_level_rise"
        builder = TargetBuilder(
            self.config,
            evaluation.tickets,
            evaluation.accounts.values(),
            evaluation.decisions,
            set(written),
            self.store.last_notes(),
            PeopleLevels(self.compiled.levels, written, overrides, expire, self.now),
            now=self.now,
        )
        targets = builder.all_targets()
        if only_refs is not None:
            targets = [t for t in targets if f"{t.system}:{t.record_id}" in only_refs]
        # A named org not reached this run is not asked for its records (they would look gone).
        reached = reachable_instances(self.connectors, self.result.pull.unreachable)
        targets, written, self.result.reconciled = reconcile(
            self.config, self.store, reached, targets, written, self.now,
            self.result.run_id, self.dry_run, self.result.reconciled or Reconciliation(),
        )  # fmt: skip
        notes = self.store.notes()
        failures = self.store.failures()
        # Escalation records are never pulled: without a memory of writing them, those of
        # tickets that show our work (a lost state file) are read, not upserted blindly.
        showing_work = {t.ref for t in evaluation.tickets if shows_our_work(t, self.config)}
        unremembered = {
            (t.system, t.record_id)
            for t in targets
            if t.kind == "escalation_record"
            and (t.system, t.record_id) not in written
            and t.record_id in showing_work
        }
        # Every read planning needs happens here; planning itself does no I/O.
        # Of what was not reached this run, nothing is asked again (it would only wait for
        # its retries to fail once more): its records stay unknown, its notes unlooked-for.
        targets = read_back_unknown(targets, failures, reached, unremembered)
        never_read = bool(self.result.pull.never_read)
        looks = {} if never_read else look_for_notes(targets, notes, reached)
        return self._plan_targets(targets, looks, written, overrides, failures, notes)

    def _plan_targets(
        self,
        targets: list[Target],
        looks: Mapping[tuple[str, str], NoteLook],
        written: Mapping[tuple[str, str], dict[str, Any]],
        overrides: Mapping[tuple[str, str], dict[str, Override]],
        failures: Mapping[tuple[str, str], dict[str, Any]],
        notes: Mapping[tuple[str, str], str],
    ) -> list[PlannedWrite]:
        """Plan each target from what was read before (no I/O); remember what planning found."""
        expire = self.config.sync.overrides.expire == "on_level_rise"
        planned = []
        for target in targets:
            key = (target.system, target.record_id)
            note_there = bool(self.result.pull.never_read) or self._note_already_there(
                target, notes, looks
            )
            item = plan_target(
                target, written.get(key, {}), overrides.get(key, {}), self.rank, expire, note_there
            )
            item = self._unless_rejected_before(item, failures.get(key))
            if target.announced_key and not self.dry_run and not self.result.pull.never_read:
                # The ticket shows its level: that is the note announcing it, for later runs.
                self.store.set_note_state(
                    target.system, target.ref, target.announced_key, "sent", self.now
                )
            self._record_field_outcomes(target, item, written.get(key, {}))
            if (
                item.write is None
                and (failures.get(key) or {}).get("status") == "retry"
                and not self.dry_run
                and self._read_this_run(target)
            ):
                self.store.clear_failure(
                    *key
                )  # the unknown write landed after all: nothing to retry
            planned.append(item)
        return planned

    def _read_this_run(self, target: Target) -> bool:
        """Whether the record's system (its instance) was read this run, so what it was
        planned against tells whether an unknown write landed. Not reached (`zendesk@eu`), or
        an escalation record not read back: planned against what we last wrote, or the
        mirror from before, it says nothing, and the write stays unknown for the next run."""
        unreachable = self.result.pull.unreachable
        names = getattr(self.connectors.get(target.system), "names", ())
        name = split_instance(target.record_id, names)[0]
        if target.system in unreachable or f"{target.system}@{name}" in unreachable:
            return False
        return target.kind != "escalation_record" or target.current is not None

    def _unless_rejected_before(
        self, item: PlannedWrite, failure: dict[str, Any] | None
    ) -> PlannedWrite:
        """The same payload the vendor rejected for good is not sent again; a changed one is."""
        if item.write is None or failure is None or not rejected_before(item, failure):
            return item
        self.result.still_rejected.append((item.write.ref, failure["reason"]))
        since = self.result.still_rejected_since
        self.result.still_rejected_since = min(
            since or failure["first_failed_at"], failure["first_failed_at"]
        )
        return PlannedWrite(item.target, item.record_plan, None, {}, None)

    def _record_field_outcomes(
        self, target: Target, item: PlannedWrite, written: dict[str, Any]
    ) -> None:
        record_ref = f"{target.system}:{target.record_id}"
        store, now, keep = self.store, self.now, not self.dry_run
        for plan in item.record_plan.fields:
            if plan.action is FieldAction.OVERRIDE_FOUND:
                self.result.overrides_found.append((record_ref, plan.field, plan.current))
                if keep:
                    matrix_level = target.matrix_level or target.level
                    store.record_override(
                        target.system, target.record_id, plan.field, plan.current, matrix_level, now
                    )
                    store.audit(
                        self.result.run_id,
                        now,
                        "override",
                        record_ref,
                        {
                            "field": plan.field,
                            "human_value": plan.current,
                            "we_wrote": plan.written,
                            "we_want": plan.wanted,
                            "ticket": target.ref,
                            "level": target.level,
                        },
                    )
            elif plan.action is FieldAction.OVERRIDE_KEPT:
                self.result.overrides_kept += 1
            elif plan.action is FieldAction.OVERRIDE_EXPIRED and keep:
                store.clear_override(target.system, target.record_id, plan.field)
                store.audit(
                    self.result.run_id,
                    now,
                    "override_expired",
                    record_ref,
                    {"field": plan.field, "level": target.level},
                )
            elif (
                plan.action is FieldAction.IN_PLACE
                and keep
                and written.get(plan.field) != target.values.get(plan.field)
            ):
                # The system holds what we want (our earlier write read back, or a person
                # agreeing): remember it as written so a later human change is recognised.
                store.record_written(
                    target.system, target.record_id, {plan.field: target.values[plan.field]}, now
                )

    def _note_already_there(
        self,
        target: Target,
        notes: Mapping[tuple[str, str], str],
        looks: Mapping[tuple[str, str], NoteLook],
    ) -> bool:
        """Whether the note for this level change is on the ticket already (never post it twice).

        Looked for on the ticket (before planning) when its outcome is unknown, or when we
        remember no note on a ticket that shows our work. A key names a level reached, which a
        ticket may reach again: "sent" long ago is no answer, and only the ticket's last note
        of ours counts.
        """
        if not target.note_key:
            return True
        state = notes.get((target.ref, target.note_key))
        if state != "unknown" and not target.look_for_note:
            return False
        look = looks.get((target.system, target.record_id))
        if look is None or not look.readable:
            return True  # cannot check: better no note than a duplicate
        marker = look.last_key
        renamed = self.config.matrix.renamed
        found = marker is not None and noted_level(target.ref, marker, renamed) == target.level
        if found and not self.dry_run:
            self.store.set_note_state(target.system, target.ref, target.note_key, "sent", self.now)
        return found

    def _read_unknown_again(self) -> None:
        """Records whose last write has an unknown outcome, on a system whose stream lags, are
        read now, by id, into the mirror (sync/readback.py says why)."""
        unreachable = set(self.result.pull.unreachable)
        records = read_unknown_outcomes(
            reachable_instances(self.connectors, unreachable), self.store.failures(), unreachable
        )
        if records:
            self._store_read_again(records)

    def _without_named_unreached(self) -> dict[str, Connector]:
        """The run's connectors less the named instances not reached (`zendesk@eu`); a whole
        system not reached stays, for its channels to say its messages wait."""
        named = {key for key in self.result.unreachable if "@" in key}
        return {**self.connectors, **reachable_instances(self.connectors, named)}

    def _store_read_again(self, records: list[SourceRecord]) -> None:
        puller = Puller(self.config, self.store, {}, self.now)
        puller.load_zendesk_related()  # without them re-read tickets lose their account
        with self.store.transaction():
            puller.store_tickets(records)

    def _replan_conflicts(self, reachable: Mapping[str, Connector]) -> None:
        """Records a person edited while we planned: read them again, plan, write once more."""
        result = self.result
        kinds = {p.write.ref: p.target.kind for p in result.planned if p.write is not None}
        by_system: dict[tuple[str, str], list[str]] = {}
        for ref in result.apply.conflicts:
            system, record_id = ref.split(":", 1)
            if system in reachable:
                by_system.setdefault((system, kinds[ref]), []).append(record_id)
        records: list[SourceRecord] = []
        for (system, kind), ids in by_system.items():
            read = read_again(reachable[system], kind, ids)
            if read is None:
                return
            records += read
        if not by_system:
            return
        self._store_read_again(records)
        evaluation = self._evaluate()
        refs = {f"{system}:{i}" for (system, _), ids in by_system.items() for i in ids}
        second = self._plan(evaluation, only_refs=refs)
        systems = {system for system, _ in by_system}
        again = apply_writes(
            second, {s: reachable[s] for s in systems}, self.store, result.run_id, self.now,
            rank=self.rank, budgets=self.budgets,
        )  # fmt: skip
        result.apply.conflicts = again.conflicts
        result.apply.results.update(again.results)
        result.apply.rejected += again.rejected
        result.apply.retry += again.retry
        result.planned += second

    def _remember_decisions(self, decisions: list[Decision], evaluation: Evaluation) -> None:
        """Persist each ticket's new engine state; audit the decisions that changed."""
        states: dict[str, dict[str, Any]] = {}
        entries = []
        deleted = {t.ref for t in evaluation.tickets if t.status is TicketStatus.DELETED}
        for decision in decisions:
            ref = decision.ticket_ref
            state = decision.state.to_dict()
            stored = evaluation.priors.get(ref)
            if stored is None or ref in evaluation.renamed or stored.to_dict() != state:
                states[ref] = state
            # A level the ticket showed already (no stored state) did not change.
            prior = stored or evaluation.shown_priors.get(ref)
            if prior is None or prior.level != decision.level:
                entries.append(("decision", ref, decision_detail(decision)))
                log_decision_change(decision, prior.level if prior else None)
                if ref in deleted:  # the escalation ends because the ticket was deleted
                    entries.append(("deleted", ref, {"level": prior.level if prior else None}))
            if stored is not None and ref in evaluation.renamed:
                renamed = {"from": evaluation.renamed[ref], "to": stored.level}
                entries.append(("renamed", ref, renamed))
        notifications = self.notify.plan(evaluation) if self.notify is not None else None
        with self.store.transaction():
            if self.notify is not None and notifications is not None:
                self.notify.enqueue(notifications)  # with the states they were derived from
            self.store.save_prior_states(states)
            self.store.audit_many(self.result.run_id, self.now, entries)
            record_history(
                self.store,
                self.compiled,
                evaluation,
                self.result.run_id,
                self.now,
                self.config.state.history_days,
            )


def overrides_by_record(
    store: StateStore, renamed: Mapping[str, str]
) -> dict[tuple[str, str], dict[str, Override]]:
    """(system, record id) -> output -> the override an earlier run recorded (a level recorded
    under a name the matrix has since renamed is read under its new name)."""
    overrides: dict[tuple[str, str], dict[str, Override]] = {}
    for (system, record_id, name), info in store.overrides().items():
        level = info["level_at_detection"]
        overrides.setdefault((system, record_id), {})[name] = Override(
            info["human_value"],
            renamed.get(level, level),
            datetime.fromisoformat(info["detected_at"]),
        )
    return overrides


def transport_stats(connectors: Mapping[str, Connector]) -> dict[str, dict[str, Any]]:
    """Per system, what its transport did this run (connectors live for one run)."""
    return {system: dict(connector.stats().summary()) for system, connector in connectors.items()}


def decision_detail(decision: Decision) -> dict[str, Any]:
    """A decision as the audit log and `explain` show it."""
    owner = decision.owner
    return {
        "level": decision.level,
        "previous_level": decision.previous_level,
        "owner": {
            "role": owner.role,
            "primary": owner.primary,
            "backup": owner.backup,
            "current": owner.current,
        }
        if owner
        else None,
        "sla": {
            metric: {
                "due_at": m.due_at.isoformat(),
                "state": m.state.value,
                "business_seconds_left": m.business_seconds_left,
                "paused": m.paused,
                "met_at": m.met_at.isoformat() if m.met_at else None,
            }
            for metric, m in decision.sla.items()
        },
        "reasons": [
            {"kind": r.kind.value, "name": r.name, "level": r.level, "text": r.text}
            for r in decision.reasons
        ],
    }


def run_once(
    config: Config,
    connectors: Mapping[str, Connector],
    store: StateStore,
    now: datetime,
    dry_run: bool = False,
    allow_backwards_clock: bool = False,
    listener: ProgressListener | None = None,
) -> RunResult:
    """A whole run against connectors already built (the CLI builds them; tests may inject them).

    Raises ClockWentBackwards, before anything is read or written, when `now` is earlier than
    the last run's (sync/clock.py). `listener` is told the progress (`backfill` shows it)."""
    check_clock(store, now, allow_backwards_clock)
    return SyncRun(config, connectors, store, now, dry_run, listener).execute()
