"""The mirror's part of the periodic reconciliation (sync/reconcile.py): drift that incremental
reads cannot see, repaired within the request budget.

Incremental reads see what changed; they cannot see what vanished without a trace (a Jira
issue deleted: the search just stops returning it; a ticket or account whose change fell
outside a cursor's window). So the mirror's open Zendesk tickets, open Jira issues and
accounts are read by id, in the vendors' bounded reads: Zendesk `show_many` (100 ids),
Jira `key in (...)` by id (100), SOQL `Id IN (...)` through queryAll (200; an account in the
Recycle Bin comes back deleted or merged). Then:

- gone: a Zendesk ticket is stored as deleted (its escalation ends as for a deletion the
  export reports), a Jira issue leaves the mirror (sync/jira_scope.py), an account is removed
  (as when queryAll shows it deleted);
- changed: the record read replaces the mirror's (stored as a pull stores it).

One request is one batch of ids, taken from each system in turn, so a small budget still
looks at all three; the mirror gets half of `max_requests` when escalation records are
written (their look gets the rest). Where each system's look stopped is stored (cursor `reconcile.mirror`),
and the next reconciliation goes on from there: over several reconciliations the whole
mirror is looked at. Every finding is audited (`reconcile_gone`, `reconcile_refreshed`).
Named instances (another Zendesk, org or site) are looked at the same way, each through its own
connector in its own ids, within a budget of their own: `max_requests` is per instance name (the
default Zendesk, org and site share one, as with a single instance; each name, `eu`, its own),
since each instance's reads count against its own quotas and adding one must not slow the
others' round. An instance not reached this run (`zendesk@eu` unreachable, turned off) is not
looked at: its records, unread, would look gone. Its place is kept under `zendesk@eu`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from config.schema import Config
from connectors.base import Connector
from connectors.errors import ConnectorError
from mapping.records import SourceRecord, TicketStatus
from sync.instances import members_of, qualified
from sync.jira_scope import leave_mirror
from sync.pull import Puller
from sync.reconcile import Reconciliation, writes_records
from sync.state import StateStore
from vocabulary.instances import split_instance

log = logging.getLogger("escalation_sync.reconcile")

POSITION = "reconcile.mirror"  # cursors row: {system: the last id looked at, LAST_SERVED: system}
LAST_SERVED = "last_served"
KINDS = {"zendesk": "ticket", "jira": "issue", "salesforce": "account"}
IDS_PER_REQUEST = {"zendesk": 100, "jira": 100, "salesforce": 200}


@dataclass
class _Queue:
    """One instance's ids (as the run knows them: `eu/12345`) to look at this time, from where
    the last look stopped, round."""

    system: str
    ids: list[str]
    position: int = 0
    instance: str | None = None

    @property
    def key(self) -> str:
        """Its place in the cursor and in `mirror_checked`: `zendesk`, `zendesk@eu`."""
        return self.system if self.instance is None else f"{self.system}@{self.instance}"

    def take(self) -> list[str]:
        batch = self.ids[self.position : self.position + IDS_PER_REQUEST[self.system]]
        self.position += len(batch)
        return batch

    @property
    def left(self) -> int:
        return len(self.ids) - self.position


def _order(record_id: str) -> tuple[int, int | str]:
    bare = record_id.rpartition("/")[2]  # a named instance's by its own id
    return (0, int(bare)) if bare.isdigit() else (1, bare)


def _mirror_ids(config: Config, store: StateStore) -> dict[tuple[str, str | None], list[str]]:
    """(system, instance) -> the ids to compare, in a stable order: open tickets and issues,
    accounts."""
    connections = config.connections
    # Every named instance, on or off: one turned off keeps its records (not the default's).
    named = {system: connections.all_names(system) for system in ("zendesk", "jira", "salesforce")}
    refs = [row[0] for row in store.db.execute("SELECT ref FROM tickets WHERE is_open = 1")]
    found: dict[str, list[str]] = {"zendesk": [], "jira": [], "salesforce": []}
    for ref in refs:
        system, _, record_id = ref.partition(":")
        if system in ("zendesk", "jira"):
            found[system].append(record_id)
    found["salesforce"] = [row[0] for row in store.db.execute("SELECT id FROM accounts")]
    by_instance: dict[tuple[str, str | None], list[str]] = {}
    for system, ids in found.items():
        for record_id in ids:
            key = (system, split_instance(record_id, named[system])[0])
            by_instance.setdefault(key, []).append(record_id)
    return {key: sorted(ids, key=_order) for key, ids in by_instance.items()}


def _queues(
    config: Config,
    store: StateStore,
    members: Mapping[tuple[str, str | None], Connector],
    name: str | None,
) -> list[_Queue]:
    """Each reached instance named `name` (None: the defaults): its ids from where its last
    look stopped; the system after the one served last goes first, so a budget of one request
    a time still reaches every system."""
    stopped = json.loads(store.cursor(POSITION) or "{}")
    queues = []
    for (system, instance), ids in _mirror_ids(config, store).items():
        if instance != name or (system, instance) not in members or not ids:
            continue
        queue = _Queue(system, ids, instance=instance)
        after = stopped.get(queue.key)
        if after is not None:  # go on after the last id looked at, then round from the start
            cut = next((i for i, rid in enumerate(ids) if _order(rid) > _order(after)), len(ids))
            queue.ids = ids[cut:] + ids[:cut]
        queues.append(queue)
    queues.sort(key=lambda q: list(KINDS).index(q.system))
    last = stopped.get(_last_served(name))
    served = [i for i, q in enumerate(queues) if q.system == last]
    if served:
        queues = queues[served[0] + 1 :] + queues[: served[0] + 1]
    return queues


def _last_served(name: str | None) -> str:
    return LAST_SERVED if name is None else f"{LAST_SERVED}@{name}"


def _reached(
    connectors: Mapping[str, Connector], unreachable: set[str]
) -> dict[tuple[str, str | None], Connector]:
    """(system, instance) -> its own connector, for the instances reached this run. A system
    whose default is unreachable is left whole (its named ones were not read either)."""
    reached = {}
    for system, connector in connectors.items():
        if system in unreachable:
            continue
        for name, member in members_of(connector):
            if name is None or f"{system}@{name}" not in unreachable:
                reached[(system, name)] = member
    return reached


def mirror_budget(config: Config, name: str | None = None) -> int:
    """The mirror's share of an instance name's `max_requests`: half of it when escalation
    records are written (their look comes later in the run and gets the rest, so a large
    mirror never starves it), all of it otherwise."""
    budget = config.sync.reconcile.max_requests
    return budget // 2 if writes_records(config, name) else budget


def reconcile_mirror(
    config: Config,
    store: StateStore,
    connectors: Mapping[str, Connector],
    now: datetime,
    run_id: int,
    report: Reconciliation,
    unreachable: set[str],
) -> Reconciliation:
    """Compare the mirror with the systems (when `report.ran`, within its budget; not on a
    dry run, which stores nothing) and repair what drifted; adds the findings to `report`."""
    if not report.ran:
        return report
    members = _reached(connectors, unreachable)
    stopped: dict[str, str] = json.loads(store.cursor(POSITION) or "{}")
    puller = Puller(config, store, {}, now)
    puller.load_zendesk_related()  # re-read tickets are joined through them
    queues: list[_Queue] = []
    for name in sorted({n for _, n in members}, key=lambda n: (n is not None, n or "")):
        # Each instance name within its own budget (module docstring).
        named = _queues(config, store, members, name)
        budget = mirror_budget(config, name)
        _look(store, puller, name, named, members, budget, stopped, run_id, now, report)
        queues += named
    for queue in queues:
        report.leave(queue.instance, queue.left)
        if not queue.left and queue.position:
            stopped.pop(queue.key, None)  # went all the way round: next time from the start
    store.set_cursor(POSITION, json.dumps(stopped, sort_keys=True), now)
    if report.gone or report.refreshed:
        log.warning(
            "reconciliation: %d record(s) gone from the systems left the mirror, %d refreshed",
            len(report.gone),
            len(report.refreshed),
        )
    return report


def _look(
    store: StateStore,
    puller: Puller,
    name: str | None,
    queues: list[_Queue],
    members: Mapping[tuple[str, str | None], Connector],
    budget: int,
    stopped: dict[str, str],
    run_id: int,
    now: datetime,
    report: Reconciliation,
) -> None:
    """One instance name's queues, a batch from each in turn, within `budget` requests;
    each instance read through its own connector in its own ids."""
    spent = report.spent.get(name, 0)
    while spent < budget and any(q.left for q in queues):
        for queue in queues:
            if not queue.left or spent >= budget:
                continue
            ids = queue.take()
            spent += 1
            bare = [split_instance(i, (name,) if name else ())[1] for i in ids]
            try:
                read = members[(queue.system, name)].read_by_id(KINDS[queue.system], bare)
            except ConnectorError as error:
                log.warning("reconciliation: reading %s failed: %s", queue.key, error)
                queue.position = len(queue.ids)  # this instance waits for the next time
                continue
            records = qualified(name, read)
            with store.transaction():
                _repair(store, puller, queue.system, ids, records, run_id, now, report, name)
            checked = report.mirror_checked
            checked[queue.key] = checked.get(queue.key, 0) + len(ids)
            stopped[queue.key] = ids[-1]
            stopped[_last_served(name)] = queue.system
    report.spent[name] = spent


def _repair(
    store: StateStore,
    puller: Puller,
    system: str,
    ids: list[str],
    records: list[SourceRecord],
    run_id: int,
    now: datetime,
    report: Reconciliation,
    instance: str | None = None,
) -> None:
    """Store what was read, end what is gone; audit both. Inside a transaction."""
    read_ids = {r.id for r in records}
    missing = [i for i in ids if i not in read_ids]
    before = _stored(store, system, ids)
    if system == "salesforce":
        puller.store_accounts(records, org=instance)
        if missing:  # purged from the Recycle Bin: nothing to read at all
            store.remove_accounts(dict.fromkeys(missing))
        gone = missing + [r.id for r in records if r.kind == "account_removed"]
        refs = [f"salesforce:{i}" for i in gone]
    elif system == "zendesk":
        puller.store_tickets([r for r in records if r.id in set(ids)])
        ended = [t for i in missing if (t := store.ticket(f"zendesk:{i}")) is not None]
        # show_many leaves out deleted tickets: the escalation ends as for a deletion.
        store.upsert_tickets(replace(t, status=TicketStatus.DELETED) for t in ended)
        refs = [t.ref for t in ended]
    else:
        puller.store_tickets(records)
        keys = _stored_keys(store, missing)
        refs = leave_mirror(store, keys, "not found by id (deleted)", run_id, now)
    after = _stored(store, system, ids)
    changed = [f"{system}:{i}" for i in ids if i in read_ids and before.get(i) != after.get(i)]
    changed = [ref for ref in changed if ref not in refs]
    for ref in refs:
        store.audit(run_id, now, "reconcile_gone", ref, {"system": system})
    for ref in changed:
        store.audit(run_id, now, "reconcile_refreshed", ref, {"system": system})
    report.gone += refs
    report.refreshed += changed


def _stored(store: StateStore, system: str, ids: list[str]) -> dict[str, str]:
    """Id -> the mirror's stored text of each record (to tell a changed one)."""
    marks = ", ".join("?" * len(ids))
    if system == "salesforce":
        rows = store.db.execute(f"SELECT id, data FROM accounts WHERE id IN ({marks})", ids)
        return dict(rows)
    refs = [f"{system}:{i}" for i in ids]
    rows = store.db.execute(f"SELECT ref, data FROM tickets WHERE ref IN ({marks})", refs)
    return {ref.partition(":")[2]: data for ref, data in rows}


def _stored_keys(store: StateStore, ids: list[str]) -> dict[str, str | None]:
    """Jira issue id -> its key in the mirror."""
    found: dict[str, str | None] = {}
    for issue_id in ids:
        ticket = store.ticket(f"jira:{issue_id}")
        found[issue_id] = ticket.key if ticket is not None else None
    return found
