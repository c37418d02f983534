"""The account matrix's writes through the connectors, shaped as sync/apply.py expects:
one object per system label with `apply(writes) -> results`, one result per write, in order,
and the `stats()` of the connector it writes through (a spent waiting budget is its writes'
reason to wait for the next run, as for the tickets).

- "salesforce.account": the Salesforce connector's own Account update (sObject Collections).
- "salesforce.task": tasks created (POST) or updated by Id (PATCH), sObject Collections; the
  Ids of the tasks created are kept for the run to remember.
- "zendesk.organization": update_many jobs of up to 100 organisations, each with its full tag
  list (connectors/zendesk_organizations.py).

With several orgs or Zendesks, `ByInstance` puts one such writer per instance behind a label:
each writes its own instance's records, in that instance's own ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from config.account_mapping import TaskMapping
from connectors.base import Connector, ConnectorStats, FieldWrite, WriteResult, WriteStatus
from connectors.errors import ConnectorError
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_records import save_records
from connectors.zendesk import ZendeskConnector
from connectors.zendesk_organizations import update_organizations
from sync.apply import Writer
from sync.instances import apply_by_instance


class SalesforceAccountWriter:
    """Account fields: written as the Salesforce connector writes accounts."""

    def __init__(self, connector: Connector):
        self.connector = connector

    def stats(self) -> ConnectorStats:
        return self.connector.stats()

    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        results = self.connector.apply([replace(w, system="salesforce") for w in writes])
        return [WriteResult(w, r.status, r.reason) for w, r in zip(writes, results, strict=True)]


class TaskWriter:
    """Playbook tasks. A write's record_id is the task key ("<account>/<playbook>"); one with
    a known Salesforce Id is an update, one without is a create."""

    def __init__(
        self, connector: SalesforceConnector, mapping: TaskMapping, task_ids: Mapping[str, str]
    ):
        self.connector = connector
        self.mapping = mapping
        self.task_ids = dict(task_ids)
        self.created: dict[str, str] = {}  # task key -> the new task's Id

    def stats(self) -> ConnectorStats:
        return self.connector.stats()

    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        creates = [(i, w) for i, w in enumerate(writes) if w.record_id not in self.task_ids]
        updates = [(i, w) for i, w in enumerate(writes) if w.record_id in self.task_ids]
        if creates:
            outcomes = save_records(
                self.connector, self.mapping.object, [w for _, w in creates], create=True
            )
            for (i, write), outcome in zip(creates, outcomes, strict=True):
                results[i] = WriteResult(write, outcome.result.status, outcome.result.reason)
                if outcome.result.status is WriteStatus.OK and outcome.record_id:
                    self.created[write.record_id] = outcome.record_id
        if updates:
            by_id = [replace(w, record_id=self.task_ids[w.record_id]) for _, w in updates]
            outcomes = save_records(self.connector, self.mapping.object, by_id, create=False)
            for (i, write), outcome in zip(updates, outcomes, strict=True):
                results[i] = WriteResult(write, outcome.result.status, outcome.result.reason)
        return [results[i] for i in range(len(writes))]


class OrganizationWriter:
    """Zendesk organisations; `tags_now` holds each one's tags as last read."""

    def __init__(self, connector: ZendeskConnector, tags_now: Mapping[str, Sequence[str]]):
        self.connector = connector
        self.tags_now = tags_now

    def stats(self) -> ConnectorStats:
        return self.connector.stats()

    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        return update_organizations(self.connector, writes, self.tags_now)


class ByInstance:
    """One label's writes to several instances of a system (orgs, Zendesks): each write goes
    to the writer of the instance its record id names (`eu/001...`), with the instance's own
    id; its result names the write as the run knows it. The default instance goes first and,
    failing, fails the call as a single writer would; a named one that fails answers RETRY
    for its own writes (they wait for the next run), the others' results are kept."""

    def __init__(
        self,
        system: str,
        writers: Mapping[str | None, Writer],
        names: Sequence[str],
        unreached: dict[str, ConnectorError] | None = None,
    ):
        self.system = system  # "salesforce", "zendesk": how a failing instance is named
        self.writers = writers
        self.names = tuple(names)
        # `salesforce@eu` -> why it refused or failed our writes: apply_writes reports it
        # under that name; shared by a system's labels (fields, tasks), so none asks it again.
        self.unreached = {} if unreached is None else unreached

    def stats(self) -> ConnectorStats:
        # apply_writes asks whether a waiting budget ran out: any instance's says so.
        every = [writer.stats() for writer in self.writers.values()]
        return next((s for s in every if s.wait_budget_spent), every[0])

    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        return apply_by_instance(self.system, self.writers, self.names, writes, self.unreached)
