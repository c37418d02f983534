"""The periodic reconciliation: what incremental reads cannot see, looked for within a budget.

Every `sync.reconcile.every_hours` (0: every run) a run reconciles, at most
`sync.reconcile.max_requests` requests per instance name (the default Zendesk, org and site
together; each named one's, `eu`, together: their reads count against their own quotas) and
the rest waits for the next reconciliation:

- The mirror (sync/reconcile_mirror.py): its open Zendesk tickets, Jira issues and accounts
  are read by id and compared with what the systems hold; a record gone leaves the mirror,
  one changed is refreshed. It goes round the mirror across reconciliations.
- Escalation records (here): we upsert them by an external id and never pull them
  (connectors/base.py, `UpsertReader`), so a record a person deleted in Salesforce is invisible
  to the next run: it would compare with what we wrote and send nothing. The records we
  remember writing are read by external id; a record that is gone is re-created
  (`when_deleted_by_person: recreate`: planned as never written) or left deleted for good
  (`honour`: remembered, never written again), each by its org's own policy. A named org's
  records are asked of it alone, in its own keys; an org not reached this run is not asked.

What it found and what it cost are in the run summary and the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from config.schema import Config
from config.write_mapping import SalesforceTicketRecord
from connectors.base import Connector, UpsertReader
from connectors.errors import ConnectorError
from sync.instances import members_of
from sync.state import StateStore
from sync.wanted import Target
from vocabulary.instances import split_instance

log = logging.getLogger("escalation_sync.reconcile")

LAST_RECONCILED = "reconcile"  # the cursors row holding when the last reconciliation ran
HONOURED_KIND = "record_deleted_by_person"  # raw_records kind: deletions we honour
KEYS_PER_REQUEST = 200  # external ids per SOQL IN list


@dataclass
class Reconciliation:
    """What one reconciliation looked at, found and cost."""

    ran: bool = False
    checked: int = 0
    deleted_by_person: list[str] = field(default_factory=list)  # record ids
    # Records not looked at this time (their instance name's budget ran out, or their read
    # failed), per instance name (None: the default instances), as `spent`.
    left: dict[str | None, int] = field(default_factory=dict)
    records_done: bool = False  # escalation records looked at (a run plans twice at most)
    # The mirror: per system, records read again; refs gone (left the mirror or ended);
    # refs whose record had changed (refreshed).
    mirror_checked: dict[str, int] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    # Requests per instance name (None: the default instances), each within `max_requests`.
    spent: dict[str | None, int] = field(default_factory=dict)

    def budget_left(self, config: Config, instance: str | None = None) -> int:
        """Requests left to an instance name (None: the default instances): `max_requests`
        each, as each instance's reads count against its own quotas."""
        return max(config.sync.reconcile.max_requests - self.spent.get(instance, 0), 0)

    @property
    def requests(self) -> int:
        """Requests made, every instance name's together."""
        return sum(self.spent.values())

    @property
    def left_for_next_time(self) -> int:
        """Records not looked at this time, every instance name's together."""
        return sum(self.left.values())

    def leave(self, instance: str | None, count: int) -> None:
        """`count` of an instance name's records wait for the next time."""
        self.left[instance] = self.left.get(instance, 0) + count

    def summary(self) -> dict[str, Any]:
        # With named instances, what each instance name spent of its own `max_requests` and
        # what it left for the next time ("(default)": no instance name can be written so).
        per_instance = {
            "requests_per_instance": _by_name(self.spent),
            "left_per_instance": _by_name(self.left),
        }
        named = any(name is not None for name in (*self.spent, *self.left))
        return {
            "checked": self.checked,
            "requests": self.requests,
            "deleted_by_person": len(self.deleted_by_person),
            "left_for_next_time": self.left_for_next_time,
            "mirror_checked": dict(sorted(self.mirror_checked.items())),
            "gone": len(self.gone),
            "refreshed": len(self.refreshed),
            **(per_instance if named else {}),
        }


def _by_name(counts: dict[str | None, int]) -> dict[str, int]:
    """Counts per instance name as the summary shows them: the default's as `(default)`."""
    return dict(sorted(("(default)" if name is None else name, n) for name, n in counts.items()))


def start(config: Config, store: StateStore, now: datetime, dry_run: bool) -> Reconciliation:
    """Whether this run reconciles (`ran`): the period has passed since the last one. A
    first run (nothing written yet, nothing to look for) starts the period; a run that
    reconciles starts the next one."""
    report = Reconciliation(ran=is_due(store, config, now))
    if not dry_run and (report.ran or store.cursor(LAST_RECONCILED) is None):
        store.set_cursor(LAST_RECONCILED, now.isoformat(), now)
    return report


def honoured(store: StateStore) -> set[tuple[str, str]]:
    """(system, record id) of records whose deletion by a person we honour."""
    return {("salesforce", rid) for rid in store.raw_records("salesforce", HONOURED_KIND)}


def is_due(store: StateStore, config: Config, now: datetime) -> bool:
    """Whether the period has passed since the last reconciliation; a first run (nothing
    written yet, nothing to look for) starts the period."""
    last = store.cursor(LAST_RECONCILED)
    every = timedelta(hours=config.sync.reconcile.every_hours)
    return last is not None and now - datetime.fromisoformat(last) >= every


def reconcile(
    config: Config,
    store: StateStore,
    connectors: Mapping[str, Connector],
    targets: list[Target],
    written: dict[tuple[str, str], dict[str, Any]],
    now: datetime,
    run_id: int,
    dry_run: bool,
    report: Reconciliation,
) -> tuple[list[Target], dict[tuple[str, str], dict[str, Any]], Reconciliation]:
    """(targets, what we wrote) to plan with, after honoured deletions and, when this run
    reconciles (`report` from `start`), a look for records deleted by a person; and what the
    look found, added to `report`."""
    kept = honoured(store)
    targets = [t for t in targets if (t.system, t.record_id) not in kept]
    record = config.mapping.salesforce.ticket_record
    orgs = (None, *config.connections.instance_names("salesforce"))
    if not any(writes_records(config, o) for o in orgs) or not report.ran or report.records_done:
        return targets, written, report
    report.records_done = True
    known = [
        t
        for t in targets
        if t.kind == "escalation_record" and not t.delete and (t.system, t.record_id) in written
    ]
    gone = _missing(config, connectors, known, report)
    # Each org's own policy (a named org's `mapping` may say otherwise than the default's).
    named = config.connections.org_names()
    policy = {key: _policy(config, split_instance(key[1], named)[0], record) for key in gone}
    honour = {key for key in gone if policy[key] == "honour"}
    if gone:
        written = {k: v for k, v in written.items() if k not in gone}
        targets = [t for t in targets if (t.system, t.record_id) not in honour]
    report.deleted_by_person = sorted(rid for _, rid in gone)
    if not dry_run:
        with store.transaction():
            for system, record_id in sorted(gone):
                store.forget_written(system, record_id)
                detail = {"policy": policy[(system, record_id)]}
                store.audit(run_id, now, "deleted_by_person", f"{system}:{record_id}", detail)
            if honour:
                kept_deleted = [(rid, {"at": now.isoformat()}) for _, rid in sorted(honour)]
                store.upsert_raw("salesforce", HONOURED_KIND, kept_deleted)
    if gone:
        log.warning(
            "reconciliation: %d escalation record(s) deleted by a person (%s)",
            len(gone),
            ", ".join(sorted(set(policy.values()))),
        )
    return targets, written, report


def _policy(config: Config, org: str | None, default: SalesforceTicketRecord | None) -> str:
    """`when_deleted_by_person` of an org's own `ticket_record` (the default's without one)."""
    record = config.for_org(org).mapping.salesforce.ticket_record or default
    return record.when_deleted_by_person if record is not None else "recreate"


def writes_records(config: Config, org: str | None = None) -> bool:
    """Whether an org (None: the default; a name that is no org's: none) writes escalation
    records (a named org's own mapping may say otherwise than the default's)."""
    if config.connections.turned_off("salesforce", org):
        return False
    return config.for_org(org).mapping.salesforce.ticket_record is not None


def _missing(
    config: Config,
    connectors: Mapping[str, Connector],
    known: list[Target],
    report: Reconciliation,
) -> set[tuple[str, str]]:
    """(system, record id) of known records the system no longer holds. Each org's records
    are asked of its own connector, in its own keys, within its own budget; an org not
    reached this run (not among `connectors`' members) is not asked, so nothing of it looks
    gone."""
    gone: set[tuple[str, str]] = set()
    groups: dict[tuple[str, str | None, str, str], list[str]] = {}
    for target in known:
        connector = connectors.get(target.system)
        names = getattr(connector, "names", ())
        org = split_instance(target.record_id, names)[0]
        key = (target.system, org, str(target.object_name), str(target.external_id_field))
        groups.setdefault(key, []).append(target.record_id)
    order = sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] is not None, g[0][1] or ""))
    for (system, org, object_name, key_field), ids in order:
        member = dict(members_of(connectors[system])).get(org) if system in connectors else None
        if not isinstance(member, UpsertReader):
            continue  # not reached this run (or turned off): asked again next time
        names = (org,) if org is not None else ()
        for start in range(0, len(ids), KEYS_PER_REQUEST):
            chunk = ids[start : start + KEYS_PER_REQUEST]
            if report.budget_left(config, org) <= 0:
                report.leave(org, len(chunk))
                continue
            report.spent[org] = report.spent.get(org, 0) + 1
            bare = [split_instance(rid, names)[1] for rid in chunk]
            try:
                found = member.read_upserted(object_name, key_field, [key_field], bare)
            except ConnectorError as error:
                where = system if org is None else f"{system}@{org}"
                log.warning("reconciliation: reading %s records of %s failed: %s",
                            object_name, where, error)  # fmt: skip
                report.leave(org, len(chunk))
                continue
            report.checked += len(chunk)
            gone |= {
                (system, rid) for rid, key in zip(chunk, bare, strict=True) if key not in found
            }
    return gone
