"""Budgets a run shares with others, and the order its writes spend them in.

Some of what a run may send is not its own: Salesforce's daily API allowance is the org's,
shared with every other integration (`Sforce-Limit-Info: api-usage=N/M` on every answer,
`GET /services/data/vXX.X/limits` once a run), so writing stops when
`sync.salesforce.api_reserve` of it is left. Zendesk's plan limit and Jira's quotas are paced
in the transport and bounded by `sync.max_wait` (connectors/transport.py); when one of them
runs out the rest of the writes wait too.

Whichever budget runs out, the writes that did go are the most urgent ones: each system's
writes are sent highest level first (the matrix lists its levels lowest first), so
executive-review lands before informational. The others are not sent and not marked: they are
diff-based, so the next run plans them again, and nothing is lost.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from math import ceil, floor
from typing import Any, Protocol

from config.schema import Config
from connectors.base import ApiUsage, DailyAllowance
from connectors.errors import ConnectorError
from sync.plan import PlannedWrite
from vocabulary.instances import split_instance

log = logging.getLogger("escalation_sync.allowance")

SALESFORCE = "salesforce"


def highest_levels_first(
    items: Sequence[PlannedWrite], rank: Mapping[str, int]
) -> list[PlannedWrite]:
    """`items` with the highest levels first; a write of no known level last. Stable: writes of
    one level keep the planned order."""
    return sorted(items, key=lambda item: -rank.get(item.target.level or "", -1))


class WriteBudget(Protocol):
    """How many of the next writes of one system the run may still send."""

    def allowed(self, items: Sequence[PlannedWrite]) -> int:
        """How many of `items`, taken in order, fit in what is left (0: stop writing)."""
        ...

    def why(self) -> str:
        """Why writing stopped, for the summary: "Salesforce API reserve reached (...)"."""
        ...

    def summary(self) -> dict[str, Any] | None:
        """What the budget stood at, for the summary and the audit log (None: not known)."""
        ...


@dataclass
class SalesforceReserve:
    """Salesforce's daily allowance less the reserve left to the org's other integrations.

    Usage is asked of `GET limits` once (the first time writes are weighed), then read from
    the Sforce-Limit-Info header of each answer, so each chunk of writes is weighed against
    what Salesforce last said. A chunk is cut to the requests left: deletes one request each,
    the rest `batch_size` records of one kind a request, as the connector sends them.
    """

    connector: DailyAllowance
    reserve: float
    batch_size: int
    refreshed: bool = False
    usage: ApiUsage | None = None

    def stop_at(self, usage: ApiUsage) -> int:
        """The request count at which writing stops."""
        return floor(usage.limit * (1 - self.reserve))

    def _read_usage(self) -> ApiUsage | None:
        if not self.refreshed:
            self.refreshed = True
            try:
                return self.connector.api_usage(refresh=True)
            except ConnectorError as error:
                # Without GET limits the last answer's header still tells the usage.
                log.warning("salesforce: the daily allowance could not be read (%s)", error)
        return self.connector.api_usage()

    def allowed(self, items: Sequence[PlannedWrite]) -> int:
        self.usage = self._read_usage() or self.usage
        if self.usage is None:
            return len(items)  # not told: the vendor's own limit still answers for itself
        left = self.stop_at(self.usage) - self.usage.used
        records: Counter = Counter()
        deletes = 0
        for count, item in enumerate(items):
            assert item.write is not None
            if item.write.delete:
                deletes += 1
            else:
                write = item.write
                records[(write.kind, write.object_name, write.external_id_field)] += 1
            if deletes + sum(ceil(n / self.batch_size) for n in records.values()) > left:
                return count
        return len(items)

    def why(self) -> str:
        usage = self.usage
        if usage is None:
            return "Salesforce API reserve reached"
        used = round(100 * (1 - self.reserve))
        return f"Salesforce API reserve reached ({used}% of {usage.limit:,} used)"

    def summary(self) -> dict[str, Any] | None:
        usage = self._latest()
        if usage is None:
            return None
        return {
            "used": usage.used,
            "limit": usage.limit,
            "reserve": self.reserve,
            "stop_writing_at": self.stop_at(usage),
        }

    def _latest(self) -> ApiUsage | None:
        self.usage = self.connector.api_usage() or self.usage
        return self.usage


class OrgReserves:
    """Several Salesforce orgs' reserves as one budget: each write is weighed against the
    allowance of the org it goes to (a named org's record id carries its name, `eu/...`), with
    that org's own `api_reserve`. Writing stops at the first write whose org has no room."""

    def __init__(self, reserves: Mapping[str | None, SalesforceReserve], names: Sequence[str]):
        self.reserves = reserves
        self.names = tuple(names)
        self.stopped: str | None = None  # the org whose reserve stopped writing

    def _org(self, item: PlannedWrite) -> str | None:
        assert item.write is not None
        return split_instance(item.write.record_id, self.names)[0]

    def allowed(self, items: Sequence[PlannedWrite]) -> int:
        by_org: dict[str | None, list[int]] = {}
        for index, item in enumerate(items):
            by_org.setdefault(self._org(item), []).append(index)
        stop = len(items)
        for org, indexes in by_org.items():
            reserve = self.reserves.get(org)
            if reserve is None:
                continue  # an org not reached this run: its writes wait anyway
            fit = reserve.allowed([items[i] for i in indexes])
            if fit < len(indexes) and indexes[fit] < stop:
                stop, self.stopped = indexes[fit], org
        return stop

    def why(self) -> str:
        why = self.reserves[self.stopped].why()
        return why if self.stopped is None else f"{why} in salesforce@{self.stopped}"

    def summary(self) -> dict[str, Any] | None:
        """The default org's allowance (the summary's shape for one org)."""
        default = self.reserves.get(None)
        return default.summary() if default is not None else None

    def summaries(self) -> dict[str | None, dict[str, Any]]:
        """Each org's allowance as it last reported it (None: the default org), for orgs that
        did: every org has its own daily allowance and its own reserve."""
        found = {org: reserve.summary() for org, reserve in self.reserves.items()}
        return {org: summary for org, summary in found.items() if summary is not None}


def allowance_summaries(system: str, budget: WriteBudget) -> dict[str, dict[str, Any]]:
    """A system's shared allowances for the summary and the audit log, by label: `salesforce`
    for the default org, `salesforce@eu` for a named one."""
    if isinstance(budget, OrgReserves):
        return {
            system if org is None else f"{system}@{org}": summary
            for org, summary in budget.summaries().items()
        }
    summary = budget.summary()
    return {} if summary is None else {system: summary}


def write_budgets(config: Config, connectors: Mapping[str, object]) -> dict[str, WriteBudget]:
    """The shared budgets of this run's systems, by system."""
    budgets: dict[str, WriteBudget] = {}
    salesforce = connectors.get(SALESFORCE)
    members = getattr(salesforce, "members", None)
    if isinstance(members, dict):  # several orgs (sync/instances.py SalesforceOrgs)
        reserves = {}
        for name, member in members.items():
            if isinstance(member, DailyAllowance):
                policy = config.for_org(name).sync.salesforce
                reserves[name] = SalesforceReserve(
                    member, policy.api_reserve, policy.write_batch_size
                )
        budgets[SALESFORCE] = OrgReserves(reserves, config.connections.org_names())
    elif isinstance(salesforce, DailyAllowance):
        policy = config.sync.salesforce
        budgets[SALESFORCE] = SalesforceReserve(
            salesforce, policy.api_reserve, policy.write_batch_size
        )
    return budgets


def reached_budgets(
    budgets: Mapping[str, WriteBudget], unreachable: Collection[str]
) -> dict[str, WriteBudget]:
    """`budgets` less the named orgs not reached this run (`salesforce@eu`): their writes
    wait anyway, so their allowance is not asked for (which would ask the org again)."""
    kept: dict[str, WriteBudget] = {}
    for system, budget in budgets.items():
        if isinstance(budget, OrgReserves):
            reserves = {
                org: reserve
                for org, reserve in budget.reserves.items()
                if org is None or f"{system}@{org}" not in unreachable
            }
            budget = OrgReserves(reserves, budget.names)
        kept[system] = budget
    return kept


def allowance_line(system: str, summary: Mapping[str, Any]) -> str:
    """The summary's words for a system's shared allowance."""
    percent = round(100 * (1 - summary["reserve"]))
    return (
        f"{system} API allowance: {summary['used']:,} of {summary['limit']:,} used "
        f"(writing stops at {percent}%: {summary['stop_writing_at']:,})"
    )
