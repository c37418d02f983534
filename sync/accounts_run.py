"""The account matrix's step of a run: after the tickets, escalate the accounts.

evaluate (sync/accounts_facts.py gathers the facts, escalation/accounts.py decides) -> find our
tasks and the owners' user ids -> targets (sync/accounts_targets.py) -> plan against what we
wrote and what the systems hold (sync/plan.py: a person's value is an override, honoured) ->
write (sync/apply.py, in the vendors' batches) -> remember states, history, breaches, tasks,
and audit every account decision that changed. A dry run plans and remembers nothing.
Called from sync/run.py with the run; everything here reads the run, nothing else does.
"""

from __future__ import annotations

import gc
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from config.account_mapping import TaskMapping
from config.schema import Config
from connectors.base import Connector
from connectors.errors import ConnectorError
from connectors.salesforce import SalesforceConnector, soql_quote
from connectors.salesforce_records import find_records
from connectors.zendesk import ZendeskConnector
from escalation.accounts import AccountDecision, compile_account_matrix, evaluate_accounts
from escalation.facts import PriorState
from mapping.join import AccountIndex
from mapping.records import Account
from sync.accounts_facts import GatheredFacts, gather
from sync.accounts_store import AccountStore, TaskMemory
from sync.accounts_targets import (
    SF_ACCOUNT,
    SF_TASK,
    ZD_ORGANIZATION,
    FoundTask,
    Organization,
    TaskPlan,
    account_targets,
    organization_targets,
    parse_task,
    task_fields,
    task_targets,
)
from sync.accounts_writers import (
    ByInstance,
    OrganizationWriter,
    SalesforceAccountWriter,
    TaskWriter,
)
from sync.allowance import WriteBudget
from sync.apply import ApplyReport, Writer, apply_writes
from sync.diff import FieldAction, Override
from sync.instances import members_of, reachable_instances
from sync.plan import PlannedWrite, plan_target, rejected_before
from sync.state import StateStore
from sync.wanted import Target
from vocabulary.instances import qualify, split_instance

log = logging.getLogger("escalation_sync.accounts")
LABELS = (SF_ACCOUNT, SF_TASK, ZD_ORGANIZATION)
_NO_TASKS = TaskPlan([], {}, [], {}, set())


def escalate_accounts(run: Any) -> None:
    """The account matrix's step of `run` (a sync.run.SyncRun); nothing without matrix.accounts."""
    if run.config.matrix.accounts is None or run.result.evaluation is None:
        return
    step = AccountStep(run.config, run.store, run.connectors, run.now, run.dry_run, run.result)
    step.budgets = run.budgets  # the run's shared allowances: the tickets' writes spent some
    step.execute()


def decision_detail(decision: AccountDecision) -> dict[str, Any]:
    """An account decision as the audit log and `explain account:ID` show it."""
    owner, playbook = decision.owner, decision.playbook
    return {
        "level": decision.level,
        "previous_level": decision.previous_level,
        "level_since": decision.level_since.isoformat(),
        "owner": {
            "role": owner.role,
            "primary": owner.primary,
            "backup": owner.backup,
            "current": owner.current,
            "note": owner.note,
        },
        "playbook": None
        if playbook is None
        else {
            "name": playbook.name,
            "due": playbook.due.isoformat(),
            "calendar": playbook.calendar,
        },
        "reasons": [
            {"kind": r.kind.value, "name": r.name, "level": r.level, "text": r.text}
            for r in decision.reasons
        ],
    }


class AccountStep:
    def __init__(
        self,
        config: Config,
        store: StateStore,
        connectors: Mapping[str, Connector],
        now: datetime,
        dry_run: bool,
        result: Any,
    ):
        self.config, self.store, self.connectors = config, store, connectors
        self.now, self.dry_run, self.result = now, dry_run, result
        self.accounts_store = AccountStore(store)
        assert config.matrix.accounts is not None
        self.levels = config.matrix.accounts.levels
        self.rank = {level: i for i, level in enumerate(self.levels)}
        self.budgets: Mapping[str, WriteBudget] = {}  # system -> what it has left to write
        # The Zendesks' organisations as the mirror held them when planned (nothing else
        # writes them during the step): read once, not again to show our writes.
        self._every_organization: dict[str, dict[str, Any]] | None = None
        self._task_writers: dict[str | None, Writer] = {}  # org -> its tasks' writer

    def execute(self) -> None:
        # The step allocates a few small, acyclic objects per account (facts, decisions,
        # targets, plans); the cyclic collector would rescan the run's whole heap (its
        # mirror of tickets) again and again: a fifth of the step's time at 100k tickets.
        # Reference counting still frees them; collection resumes when the step ends.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._execute()
        finally:
            if collecting:
                gc.enable()

    def _execute(self) -> None:
        evaluation = self.result.evaluation
        # Every org's accounts (a named org's carry its name, `eu/001...`): one matrix decides
        # them all; each org's are written to it alone (_targets).
        accounts: dict[str, Account] = evaluation.accounts
        gathered = gather(self.config.matrix, evaluation, accounts, self.accounts_store, self.now)
        compiled = compile_account_matrix(self.config.matrix)
        items = [(account, gathered.facts[account.id]) for account in accounts.values()]
        decisions = evaluate_accounts(items, self.now, compiled)
        log_accounts(decisions, gathered)
        written = self.accounts_store.written(LABELS)
        targets, writers, task_plan = self._targets(decisions, accounts, written)
        overrides = self._overrides()
        failures = self.store.failures()
        # A record holding what we want and what we wrote (most of them, most runs) has
        # nothing to send, note or count: it is left out of the plan.
        planned: list[PlannedWrite] = []
        for target in targets:
            item = self._plan(target, written, overrides, task_plan)
            if item is not None:
                failure = failures.get((target.system, target.record_id))
                planned.append(self._unless_rejected_before(item, failure))
        self.result.planned += planned
        if self.dry_run:
            return
        with self.store.transaction():
            self.accounts_store.forget_written(
                SF_TASK,
                [
                    item.target.record_id
                    for item in planned
                    if item.write is not None and self._is_new_task(item.target, task_plan)
                ],
            )
        # A writer's label names its system ("salesforce.task"): that system's allowance.
        budgets = {
            label: self.budgets[label.split(".")[0]]
            for label in writers
            if label.split(".")[0] in self.budgets
        }
        report = apply_writes(
            planned, writers, self.store, self.result.run_id, self.now,
            rank=self.rank, budgets=budgets,
        )  # fmt: skip
        self._merge(report)
        with self.store.transaction():
            for item in planned:
                self._note_field_outcomes(item.target, item, written.get(item.key, {}))
            self._remember(decisions, gathered, task_plan, writers, planned)

    # -- targets -----------------------------------------------------------------------------
    def _targets(
        self,
        decisions: list[AccountDecision],
        accounts: dict[str, Account],
        written: dict[tuple[str, str], dict[str, Any]],
    ) -> tuple[list[Target], dict[str, Writer], TaskPlan | None]:
        """Each org's account fields and tasks, written to that org through its own connector
        by its own mapping; each Zendesk's organisations, matched to the accounts of its org by
        its own join rules and written by its own mapping. An instance not reached this run
        (`salesforce@eu` unreachable or refusing us) gets no targets: nothing is planned for
        it, so nothing is lost; the next run plans its writes again."""
        unreachable = {**self.result.pull.unreachable, **self.result.apply.unreachable}
        reachable = reachable_instances(self.connectors, unreachable)
        lowest = self.levels[0]
        written_ids: dict[str, set[str]] = {label: set() for label in LABELS}
        for system, record_id in written:
            written_ids[system].add(record_id)
        connections = self.config.connections
        orgs = connections.org_names()
        # Without named orgs every account is the default org's: nothing to split.
        by_org: dict[str | None, list[AccountDecision]] = (
            _by_instance(decisions, orgs) if orgs else {None: decisions}
        )
        targets: list[Target] = []
        account_writers: dict[str | None, Writer] = {}
        task_writers: dict[str | None, Writer] = {}
        task_plans: list[TaskPlan] = []
        memory: dict[tuple[str, str], TaskMemory] | None = None  # read when tasks are written
        salesforce = reachable.get("salesforce")
        for org, connector in members_of(salesforce) if salesforce is not None else ():
            matrix_write = self.config.for_org(org).mapping.salesforce.account_matrix
            if not matrix_write:
                continue  # this org's mapping writes nothing of the account matrix
            org_decisions = by_org.get(org, [])
            current = {a.id: a.managed_fields for a in _accounts_of(accounts, org_decisions, orgs)}
            account_side = account_targets(
                org_decisions, matrix_write.write, current, written_ids[SF_ACCOUNT], lowest
            )
            targets += account_side
            account_writers[org] = SalesforceAccountWriter(connector)
            # Tasks are any sObject, read and written with the Salesforce connector's own
            # client (connectors/salesforce_records.py): no capability of the contract.
            if matrix_write.task is not None and isinstance(connector, SalesforceConnector):
                if memory is None:
                    memory = self.accounts_store.tasks()
                found = self._task_plan(
                    org, connector, matrix_write.task, org_decisions, accounts, account_side,
                    memory if not orgs else _memory_of(memory, org, orgs),
                )  # fmt: skip
                if found is not None:
                    task_plan, task_writer = found
                    task_plans.append(task_plan)
                    targets += task_plan.targets
                    task_writers[org] = task_writer
        writers: dict[str, Writer] = {}
        refused_orgs: dict[str, ConnectorError] = {}  # one for both labels: see ByInstance
        if account_writers:
            writers[SF_ACCOUNT] = _one_writer("salesforce", account_writers, orgs, refused_orgs)
        if task_writers:
            writers[SF_TASK] = _one_writer("salesforce", task_writers, orgs, refused_orgs)
        self._task_writers = task_writers
        zendesk = reachable.get("zendesk")
        # Organisation ids are split on every named Zendesk, on or off: one turned off keeps
        # its organisations (the default never gets them as `eu/7`).
        zendesks = connections.zendesk_names()
        organization_writers: dict[str | None, Writer] = {}
        by_id = {d.account_id: d for d in decisions}
        for name, connector in members_of(zendesk) if zendesk is not None else ():
            seen_as = self.config.for_instance(name)
            mapping = seen_as.mapping.zendesk.organization
            if not isinstance(connector, ZendeskConnector) or not mapping:
                continue  # organisations: its own client's PUTs, by its own mapping
            org_accounts = _accounts_of(accounts, by_org.get(connections.org_of(name), []), orgs)
            organizations = self._organizations(org_accounts, name, zendesks, seen_as)
            targets += organization_targets(
                by_id, organizations, mapping, written_ids[ZD_ORGANIZATION], lowest
            )
            organization_writers[name] = OrganizationWriter(
                connector,
                {split_instance(o.org_id, zendesks)[1]: o.tags for o in organizations},
            )
        if organization_writers:
            writers[ZD_ORGANIZATION] = _one_writer("zendesk", organization_writers, zendesks)
        return targets, writers, _merged(task_plans)

    def _task_plan(
        self,
        org: str | None,
        salesforce: SalesforceConnector,
        task: TaskMapping,
        decisions: list[AccountDecision],
        accounts: Mapping[str, Account],
        account_side: list[Target],
        memory: Mapping[tuple[str, str], TaskMemory],
    ) -> tuple[TaskPlan, TaskWriter] | None:
        """An org's tasks as it holds them, what each should become, and the writer that
        makes them. Its tasks hold the org's own account ids; the plan names accounts (and
        task keys, `eu/001.../save-plan`) as the run does."""
        scope = {d.account_id for d in decisions if d.playbook is not None}
        scope |= {account_id for account_id, _ in memory} | {t.record_id for t in account_side}
        emails = {
            (d.owner.current or "").lower()
            for d in decisions
            if d.playbook is not None and "@" in (d.owner.current or "")
        }
        marker = (
            f"{task.key_field} LIKE '%/%'"
            if task.key_field
            else f"{task.subject_field} LIKE '%[escalation-sync:%'"
        )
        # Open tasks, and those closed within the lookback: a person's closing is honoured
        # also when the state file that remembered the task is lost.
        closed = ", ".join(soql_quote(s) for s in task.closed_statuses)
        since = self.now - timedelta(days=task.closed_lookback_days)
        marker += (
            f" AND ({task.status_field} NOT IN ({closed}) OR "
            f"LastModifiedDate >= {since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ})"
        )
        prefix = "" if org is None else f"{org}/"
        try:
            rows = find_records(
                salesforce,
                task.object,
                list(task_fields(task).values()),
                task.related_field,
                sorted(account_id[len(prefix) :] for account_id in scope),
                marker,
            )
            users = find_records(salesforce, "User", ["Email"], "Email", sorted(emails))
        except ConnectorError as error:
            where = "" if org is None else f" of salesforce@{org}"
            log.warning("account matrix: tasks%s not planned this run: %s", where, error)
            return None
        fields = task_fields(task)
        found: list[FoundTask] = [t for row in rows if (t := parse_task(row.data, task, fields))]
        if prefix:
            found = [replace(t, account_id=prefix + t.account_id) for t in found]
        owner_ids = {
            str(user.data.get("Email") or "").lower(): user.id for user in users if user.data
        }
        by_id = {d.account_id: d for d in decisions}
        names = {account_id: accounts[account_id].name for account_id in by_id}
        own_id = (lambda i: i[len(prefix) :]) if prefix else None  # the org's own Ids
        plan = task_targets(by_id, names, found, memory, owner_ids, task, org_id=own_id)
        own_ids = {key[len(prefix) :]: task_id for key, task_id in plan.task_ids.items()}
        return plan, TaskWriter(salesforce, task, own_ids)

    def _organizations(
        self,
        accounts: Iterable[Account],
        zendesk: str | None,
        zendesks: tuple[str, ...],
        seen_as: Config,
    ) -> list[Organization]:
        """The mirror's organisations of one Zendesk (None: the default) with the account of
        its org each belongs to, by that Zendesk's own join rules (the organisation strategies,
        in order; an organisation matching several accounts: none)."""
        organization = seen_as.mapping.zendesk.organization
        assert organization is not None
        if self._every_organization is None:  # read once for every Zendesk
            self._every_organization = self.store.raw_records("zendesk", "organization")
        raw = {
            org_id: data
            for org_id, data in self._every_organization.items()
            if split_instance(org_id, zendesks)[0] == zendesk
        }
        strategies = [
            s
            for s in seen_as.join
            if s.key.split(":", 1)[0] in ("organization_external_id", "organization_field")
        ]
        # Only the attributes these strategies match on are indexed (names are normalised
        # for 20k accounts otherwise, to match organisations by id).
        index = AccountIndex(accounts, dict.fromkeys(s.match for s in strategies))
        found: dict[str, str] = {}
        for strategy in strategies:
            kind = strategy.key.split(":", 1)[0]
            for org_id, data in raw.items():
                if org_id in found:
                    continue
                fields = data.get("organization_fields") or {}
                value = (
                    data.get("external_id")
                    if kind == "organization_external_id"
                    else fields.get(getattr(strategy, "field", ""))
                )
                matches = index.lookup(strategy.match, str(value)) if value else []
                if len(matches) == 1:
                    found[org_id] = matches[0]
        level_field = organization.level_field
        return [
            Organization(
                org_id,
                account_id,
                (raw[org_id].get("organization_fields") or {}).get(level_field or ""),
                tuple(raw[org_id].get("tags") or ()),
            )
            for org_id, account_id in sorted(found.items())
        ]

    # -- plan ------------------------------------------------------------------------------------
    def _overrides(self) -> dict[tuple[str, str], dict[str, Override]]:
        found: dict[tuple[str, str], dict[str, Override]] = {}
        for (system, record_id, name), info in self.store.overrides().items():
            if system in LABELS:
                found.setdefault((system, record_id), {})[name] = Override(
                    info["human_value"],
                    info["level_at_detection"],
                    datetime.fromisoformat(info["detected_at"]),
                )
        return found

    def _plan(
        self,
        target: Target,
        written: dict[tuple[str, str], dict[str, Any]],
        overrides: dict[tuple[str, str], dict[str, Override]],
        task_plan: TaskPlan | None,
    ) -> PlannedWrite | None:
        """The target's plan; None when the record holds what we want and wrote."""
        key = (target.system, target.record_id)
        last, kept = written.get(key, {}), overrides.get(key, {})
        if task_plan is not None and target.record_id in task_plan.closing:
            # The level is over: the task is closed whatever status a person gave it.
            last = {k: v for k, v in last.items() if k != "status"}
            kept = {k: v for k, v in kept.items() if k != "status"}
        elif self._is_new_task(target, task_plan):
            # A new task: what we wrote to an earlier one of this key says nothing about it.
            last, kept = {}, {}
        if not kept and _unchanged(target, last):
            return None
        expire = self.config.sync.overrides.expire == "on_level_rise"
        return plan_target(target, last, kept, self.rank, expire, True)

    def _unless_rejected_before(
        self, item: PlannedWrite, failure: dict[str, Any] | None
    ) -> PlannedWrite:
        """A payload the vendor refused for good is not sent again (as for tickets): listed
        as still rejected with the vendor's words; a changed payload is sent."""
        if item.write is None or failure is None or not rejected_before(item, failure):
            return item
        result = self.result
        result.still_rejected.append((item.write.ref, failure["reason"]))
        since = result.still_rejected_since
        first = failure["first_failed_at"]
        result.still_rejected_since = min(since or first, first)
        return PlannedWrite(item.target, item.record_plan, None, {}, None)

    @staticmethod
    def _is_new_task(target: Target, task_plan: TaskPlan | None) -> bool:
        return (
            target.system == SF_TASK and target.record_id not in (task_plan or _NO_TASKS).task_ids
        )

    def _note_field_outcomes(
        self, target: Target, item: PlannedWrite, written: dict[str, Any]
    ) -> None:
        """A person's value found, kept or expired (audited); a value in place remembered."""
        store, now, run_id = self.store, self.now, self.result.run_id
        ref = f"{target.system}:{target.record_id}"
        for plan in item.record_plan.fields:
            if plan.action is FieldAction.OVERRIDE_FOUND:
                self.result.overrides_found.append((ref, plan.field, plan.current))
                store.record_override(
                    target.system, target.record_id, plan.field, plan.current, target.level, now
                )
                detail = {
                    "field": plan.field,
                    "human_value": plan.current,
                    "we_wrote": plan.written,
                    "we_want": plan.wanted,
                    "account": target.ref,
                    "level": target.level,
                }
                store.audit(run_id, now, "override", ref, detail)
            elif plan.action is FieldAction.OVERRIDE_KEPT:
                self.result.overrides_kept += 1
            elif plan.action is FieldAction.OVERRIDE_EXPIRED:
                store.clear_override(target.system, target.record_id, plan.field)
                detail = {"field": plan.field, "level": target.level}
                store.audit(run_id, now, "override_expired", ref, detail)
            elif (
                plan.action is FieldAction.IN_PLACE
                and written.get(plan.field) != target.values.get(plan.field)
                and target.values.get(plan.field) is not None
            ):
                store.record_written(
                    target.system, target.record_id, {plan.field: target.values[plan.field]}, now
                )

    # -- after the writes ------------------------------------------------------------------------
    def _merge(self, report: ApplyReport) -> None:
        apply = self.result.apply
        apply.results.update(report.results)
        apply.rejected += report.rejected
        apply.retry += report.retry
        apply.conflicts += report.conflicts
        apply.unreachable.update(report.unreachable)
        apply.refused.update(report.refused)
        # A spent waiting budget makes these writes wait for the next run (exit 10), not fail.
        apply.quota_bound.update(report.quota_bound)
        apply.progress.update(report.progress)
        apply.waiting_levels.update(report.waiting_levels)

    def _remember(
        self,
        decisions: list[AccountDecision],
        gathered: GatheredFacts,
        task_plan: TaskPlan | None,
        writers: dict[str, Writer],
        planned: list[PlannedWrite],
    ) -> None:
        store, accounts_store, now = self.store, self.accounts_store, self.now
        by_id = {d.account_id: d for d in decisions}
        states: dict[str, PriorState] = {}
        entries: list[tuple[str, str, dict[str, Any]]] = []
        for decision in decisions:
            prior = gathered.facts[decision.account_id].prior
            # The engine hands back the prior state itself when nothing changed.
            if prior is None or (decision.state is not prior and decision.state != prior):
                states[decision.account_id] = decision.state
            if decision.previous_level != decision.level and (
                decision.previous_level is not None or decision.level != self.levels[0]
            ):
                entries.append(
                    (
                        "account_decision",
                        f"account:{decision.account_id}",
                        decision_detail(decision),
                    )
                )
        accounts_store.save_states(states)
        accounts_store.add_observations(gathered.new_observations)
        accounts_store.add_breaches(gathered.new_breaches)
        epoch = now.timestamp()
        if gathered.history_days:
            accounts_store.forget_history_before(epoch - (gathered.history_days + 1) * 86400.0)
        accounts_store.forget_breaches_before(epoch - (max(gathered.breach_days, 1) + 1) * 86400.0)
        if task_plan is not None:
            self._remember_tasks(by_id, task_plan, self._created_tasks(), entries)
        self._refresh_organizations(planned)
        store.audit_many(self.result.run_id, now, entries)

    def _created_tasks(self) -> dict[str, str]:
        """Task key (as the run knows it: `eu/001.../save-plan`) -> the Id of the task made."""
        created: dict[str, str] = {}
        for org, writer in self._task_writers.items():
            if isinstance(writer, TaskWriter):
                created.update((qualify(org, key), i) for key, i in writer.created.items())
        return created

    def _remember_tasks(
        self,
        by_id: dict[str, AccountDecision],
        task_plan: TaskPlan,
        created: dict[str, str],
        entries: list[tuple[str, str, dict[str, Any]]],
    ) -> None:
        accounts_store = self.accounts_store
        remembered = [(a, p, adopted) for (a, p), adopted in task_plan.adopted.items()]
        for key, task_id in created.items():
            # The playbook's name holds no "/"; a named org's account id does (eu/001...).
            account_id, _, playbook = key.rpartition("/")
            since = by_id[account_id].level_since.isoformat()
            remembered.append((account_id, playbook, TaskMemory(task_id, since)))
            entries.append(
                ("task_created", f"account:{account_id}", {"playbook": playbook, "task": task_id})
            )
        accounts_store.remember_tasks(remembered)
        memory = accounts_store.tasks()
        for account_id, playbook, why in task_plan.left_alone:
            known = memory[(account_id, playbook)]
            accounts_store.remember_task(account_id, playbook, replace(known, left_alone=True))
            detail = {"playbook": playbook, "task": known.task_id, "why": f"{why}; left alone"}
            entries.append(("task_left_alone", f"account:{account_id}", detail))

    def _refresh_organizations(self, planned: list[PlannedWrite]) -> None:
        """Show what we wrote on the organisations in the mirror (as apply does for tickets),
        so a run before Zendesk's export returns them does not take our value for a person's."""
        failures = self.store.failures()
        raw = self._every_organization or {}  # read when organisations were planned
        updated = []
        for item in planned:
            write = item.write
            if write is None or item.target.system != ZD_ORGANIZATION:
                continue
            if (ZD_ORGANIZATION, write.record_id) in failures:
                continue
            data = dict(raw.get(write.record_id) or {})
            fields = {**(data.get("organization_fields") or {}), **write.fields}
            tags = (set(data.get("tags") or ()) - set(write.tags_remove)) | set(write.tags_add)
            updated.append(
                (write.record_id, {**data, "organization_fields": fields, "tags": sorted(tags)})
            )
        if updated:
            self.store.upsert_raw("zendesk", "organization", updated)


def _by_instance(
    decisions: list[AccountDecision], orgs: tuple[str, ...]
) -> dict[str | None, list[AccountDecision]]:
    """The decisions by the org (None: the default) whose account each is."""
    by_org: dict[str | None, list[AccountDecision]] = {}
    for decision in decisions:
        by_org.setdefault(split_instance(decision.account_id, orgs)[0], []).append(decision)
    return by_org


def _accounts_of(
    accounts: dict[str, Account], decisions: list[AccountDecision], orgs: tuple[str, ...]
) -> Iterable[Account]:
    """The accounts of one org's decisions; every account when there is one org."""
    if not orgs:
        return accounts.values()
    return [accounts[d.account_id] for d in decisions]


def _memory_of(
    memory: Mapping[tuple[str, str], TaskMemory], org: str | None, orgs: tuple[str, ...]
) -> dict[tuple[str, str], TaskMemory]:
    """The tasks remembered for one org's accounts."""
    return {key: m for key, m in memory.items() if split_instance(key[0], orgs)[0] == org}


def _one_writer(
    system: str,
    writers: dict[str | None, Writer],
    names: tuple[str, ...],
    unreached: dict[str, ConnectorError] | None = None,
) -> Writer:
    """A label's writer: the default instance's own when the system has no named ones (the
    path of a single org or Zendesk, unchanged), else one routing each write by its id.
    `unreached`: the named instances that refused or failed a label's writes, shared."""
    if not names and list(writers) == [None]:
        return writers[None]
    return ByInstance(system, writers, names, unreached)


def _merged(plans: list[TaskPlan]) -> TaskPlan | None:
    """The orgs' task plans as one (their keys differ: each names its org's accounts)."""
    if len(plans) <= 1:
        return plans[0] if plans else None
    merged = TaskPlan([], {}, [], {}, set())
    for plan in plans:
        merged.targets.extend(plan.targets)
        merged.task_ids.update(plan.task_ids)
        merged.left_alone.extend(plan.left_alone)
        merged.adopted.update(plan.adopted)
        merged.closing.update(plan.closing)
    return merged


def _unchanged(target: Target, written: dict[str, Any]) -> bool:
    """The record holds exactly what we want and what we last wrote (the usual case from one
    run to the next): nothing to write or to note, without comparing field by field in the
    vendors' formats. Anything else goes through plan_target."""
    current, values = target.current, target.values
    if current is None or target.wanted_tags != target.current_tags:
        return False
    if current == values:  # the usual case: the record's side compared in one go
        if written == values:
            return True
        # What we wrote: every value but those we want empty (a task with no owner found).
        return all(
            written.get(name) == value for name, value in values.items() if value is not None
        )
    for name, value in values.items():
        if value is not None and (current.get(name) != value or written.get(name) != value):
            return False
        if value is None and current.get(name) not in (None, ""):
            return False
    return True


def log_accounts(decisions: list[AccountDecision], gathered: GatheredFacts) -> None:
    """Info, once per run: accounts by level, and how many lack each value the triggers read
    (missing in Salesforce, or unreadable: each bad value is a warning when it is read). Such
    accounts are evaluated without it. Debug: a few of them per value."""
    levels = Counter(d.level for d in decisions)
    line = ", ".join(f"{level} {n}" for level, n in sorted(levels.items())) or "none"
    if gathered.missing:
        lacking = ", ".join(f"{name} {count}" for name, (count, _) in gathered.missing.items())
        line += f"; evaluated without a value they lack: {lacking}"
    log.info("evaluated %d account(s): %s", len(decisions), line)
    for name, (count, examples) in gathered.missing.items():
        log.debug("%s is missing or unreadable on %d account(s), e.g. %s", name, count, examples)
