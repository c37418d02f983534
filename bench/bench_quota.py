"""A full sync under vendor-like quotas: requests vs the floor, achieved vs allowed rate, and
the naive one-request-per-record approach for comparison.

The sandbox (in this process) enforces its apps' default quota rules with time running
`1/--time-factor` times faster: Zendesk's 10 incremental exports a minute become 10 per 6 s at
0.1. A rule whose window would drop below 5 s (Jira's per-second bursts) keeps a 5 s window
(or its own, if shorter) with a proportionally higher limit, since Retry-After and reset headers
count whole seconds; the allowed rate is the same. The clients pace to the scaled limits they
know (Zendesk's export pacer) and otherwise follow the budget headers and Retry-After.

Printed: requests per endpoint vs the floor; per quota rule the requests, 429s, whether it
bound, achieved vs allowed rate and the time it forced; 429s and failed writes; wall time vs the
quota-bound minimum. Then, in the same process against a fresh copy of the data, the naive
approach a user would script with the same clients: one request per record written (zenpy
PUT /tickets/{id}.json, one Jira edit per issue, one Salesforce PATCH per account and one
single-record upsert per escalation record), on a sample of each system's writes
(--naive-sample) extrapolated linearly: requests and wall time as a ratio to the sync's.

The sync and the sandbox share one interpreter (GIL): wall times include the servers' work.

Run: .venv/bin/python bench/bench_quota.py [--tickets 2000 --accounts 400 --jira-issues 400]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _world import (
    SYSTEMS,
    BenchWorld,
    RequestLog,
    RunMeasure,
    add_size_flags,
    floors,
    request_table,
)  # noqa: E402

from connectors.base import FieldWrite, WriteStatus  # noqa: E402
from connectors.jira import _in_jira_shape  # noqa: E402
from connectors.salesforce import _jsonable  # noqa: E402
from connectors.zendesk import ticket_payload  # noqa: E402
from sandbox.quotas import QuotaRule  # noqa: E402

# What the naive script sends per record (the sandbox's endpoint names).
NAIVE_ENDPOINTS = frozenset({"ticket_update", "issue_edit", "sobject_update", "composite_upsert"})


@dataclass
class RuleUse:
    system: str
    rule: QuotaRule
    allowed: int
    refused: int
    span: float  # seconds from the first to the last request the rule allowed
    fullest: int  # most requests allowed in one of its windows
    floor_requests: int

    @property
    def bound(self) -> bool:
        return self.fullest >= self.rule.limit

    @property
    def allowed_rate(self) -> float:
        return self.rule.limit / self.rule.window_seconds

    @property
    def achieved_rate(self) -> float:
        """Requests per second over the span (a fixed window lets a partial last one through
        early, so this can exceed the allowed rate over a few windows; the share of the
        allowed rate is `forced_seconds / span`)."""
        return (self.allowed - 1) / self.span if self.span > 0 else 0.0

    @property
    def forced_seconds(self) -> float:
        """The least time the rule allows for the requests made (all sent at once per window)."""
        return (max(self.allowed, 1) - 1) // self.rule.limit * self.rule.window_seconds

    @property
    def floor_seconds(self) -> float:
        """The least time the rule allows for the floor's requests."""
        return (max(self.floor_requests, 1) - 1) // self.rule.limit * self.rule.window_seconds


def rule_uses(
    log: RequestLog, world: BenchWorld, floor: dict[str, dict[str, int]]
) -> list[RuleUse]:
    uses = []
    for system in SYSTEMS:
        for rule in world.sandbox.apps[system].quotas.rules:
            entries = [(t, by) for t, endpoint, by in log.entries[system] if rule.selects(endpoint)]
            times = [t for t, by in entries if by is None]
            if not entries:
                continue
            refused = sum(1 for _, by in entries if by == rule.name)
            fullest, start, count = 0, None, 0
            for moment in times:  # the sandbox's fixed windows, replayed
                if start is None or moment - start >= rule.window_seconds:
                    start, count = moment, 0
                count += 1
                fullest = max(fullest, count)
            floor_requests = sum(n for e, n in floor[system].items() if rule.selects(e))
            uses.append(RuleUse(system, rule, len(times), refused,
                                times[-1] - times[0] if times else 0.0, fullest, floor_requests))  # fmt: skip
    return uses


def quota_bound_minimum(uses: list[RuleUse]) -> float:
    """Rules naming endpoints bind phases that follow one another (reads, then writes); an
    account-wide rule adds only what its own bound exceeds theirs by, in the same system."""
    total = 0.0
    for system in SYSTEMS:
        mine = [u for u in uses if u.system == system]
        specific = sum(u.floor_seconds for u in mine if u.rule.endpoints)
        overall = max((u.floor_seconds for u in mine if not u.rule.endpoints), default=0.0)
        total += specific + max(0.0, overall - specific)
    return total


# -- the naive approach ------------------------------------------------------------------------------
@dataclass
class Naive:
    system: str
    writes: int  # the sync's writes for this system (what the naive script has to send)
    sampled: int
    seconds: float
    requests: Counter  # endpoint -> requests the sample made
    throttled: int
    failed: int
    quota_seconds: float  # the least time the quotas allow for all `writes` one by one

    @property
    def scale(self) -> float:
        return self.writes / self.sampled if self.sampled else 0.0

    @property
    def full_requests(self) -> int:
        """The sample's per-record requests scaled to all writes; one-off ones (a login) once."""
        per_record = sum(n for e, n in self.requests.items() if e in NAIVE_ENDPOINTS)
        return round(per_record * self.scale) + sum(self.requests.values()) - per_record

    @property
    def full_seconds(self) -> float:
        """Linear in the writes, but never under what the quotas force for all of them: a
        sample that fits in a few quota windows is proportionally faster than the whole."""
        return max(self.seconds * self.scale, self.quota_seconds)


def _sample(items: list[Any], size: int) -> list[Any]:
    if size <= 0 or len(items) <= size:
        return list(items)
    step = len(items) / size
    return [items[int(i * step)] for i in range(size)]


def _send_one(system: str, connector: Any, write: FieldWrite) -> bool:
    """One request for one record, as a user's script would send it; True when it landed."""
    if system == "zendesk":
        try:
            connector.client.tickets.update(ticket_payload(write))  # PUT /api/v2/tickets/{id}.json
        except Exception:  # noqa: BLE001 - the naive script counts any failure
            return False
        return True
    if system == "jira":
        # PUT /rest/api/3/issue/{id}, the write in the shape the connector's apply gives it
        return connector.edit_issue(_in_jira_shape(write)).status is WriteStatus.OK
    salesforce = getattr(connector, "connector", connector)  # a wrapper, or the connector
    if write.kind == "account":  # PATCH /services/data/vXX/sobjects/Account/{Id}
        try:
            salesforce._call(
                "PATCH Account",
                lambda sf: sf.Account.update(write.record_id, _jsonable(write.fields)),
            )
        except Exception:  # noqa: BLE001
            return False
        return True
    # No per-record upsert by external id in the sandbox: a collection of one record.
    object_name, key_field = (
        write.object_name or "Escalation__c",
        write.external_id_field or "Ticket_Ref__c",
    )
    outcome = salesforce._send(object_name, key_field, [(0, write)], may_split=False)
    return not isinstance(outcome, str) and outcome[0].status is WriteStatus.OK


def run_naive(world: BenchWorld, measure: RunMeasure, sample: int) -> list[Naive]:
    world.reload()  # the data as it was before the sync wrote anything; fresh quota windows
    connectors = world.connectors()
    found = []
    try:
        for system in SYSTEMS:
            writes = [p.write for p in measure.result.writes if p.target.system == system]
            chosen = _sample(writes, sample)
            app = world.sandbox.apps[system]
            before = Counter(app.traffic.requests)
            adapter = connectors[system].adapter
            throttled_before = adapter.stats.throttled
            started = time.perf_counter()
            failed = sum(1 for write in chosen if not _send_one(system, connectors[system], write))
            seconds = time.perf_counter() - started
            made = Counter(app.traffic.requests) - before
            forced = max((math.ceil(len(writes) * n / max(len(chosen), 1) - 1) // rule.limit * rule.window_seconds
                          for rule in app.quotas.rules for e, n in made.items()
                          if e in NAIVE_ENDPOINTS and rule.selects(e)), default=0.0)  # fmt: skip
            found.append(Naive(system, len(writes), len(chosen), seconds, made,
                               adapter.stats.throttled - throttled_before, failed, forced))  # fmt: skip
    finally:
        for connector in connectors.values():
            connector.close()
    return found


# -- output ----------------------------------------------------------------------------------------
def print_rules(uses: list[RuleUse], time_factor: float) -> None:
    print(f"\n   quota rules (scaled by {time_factor}; rates per real second):")
    print(f"   {'system':<11}{'rule':<28}{'limit/window':>14}{'requests':>9}{'429s':>6}{'bound':>6}"
          f"{'allowed/s':>10}{'achieved/s':>11}{'% of allowed':>13}{'forced s':>9}{'span s':>8}")  # fmt: skip
    for use in uses:
        share = f"{100 * use.forced_seconds / use.span:.0f}%" if use.bound and use.span else "-"
        print(f"   {use.system:<11}{use.rule.name[:27]:<28}{use.rule.limit:>7}/{use.rule.window_seconds:<6g}"
              f"{use.allowed:>9}{use.refused:>6}{'yes' if use.bound else 'no':>6}{use.allowed_rate:>10.1f}"
              f"{use.achieved_rate:>11.1f}{share:>13}{use.forced_seconds:>9.1f}{use.span:>8.1f}")  # fmt: skip


def print_naive(measure: RunMeasure, naive: list[Naive]) -> None:
    print(
        "\n   naive: one request per record written, same clients and policy (a sample,"
        " extrapolated linearly but never below what the quotas force for all the writes)"
    )
    print(f"   {'system':<11}{'writes':>7}{'sampled':>8}{'sync reqs':>10}{'naive reqs':>11}{'ratio':>7}"
          f"{'sync s':>8}{'naive s':>9}{'ratio':>7}{'429s':>6}{'failed':>7}")  # fmt: skip
    write_endpoints = {
        "update_many",
        "job_status",
        "issue_edit",
        "composite_update",
        "composite_upsert",
    }
    sync_total_requests = sum(sum(measure.traffic[s].values()) for s in SYSTEMS)
    naive_total_requests = sync_total_requests
    naive_seconds = measure.seconds
    for item in naive:
        ours = sum(n for e, n in measure.traffic[item.system].items() if e in write_endpoints)
        theirs = item.full_requests
        seconds = measure.apply_seconds.get(item.system, 0.0)
        naive_s = item.full_seconds
        naive_total_requests += theirs - ours
        naive_seconds += naive_s - seconds
        print(f"   {item.system:<11}{item.writes:>7}{item.sampled:>8}{ours:>10}{theirs:>11}"
              f"{theirs / ours if ours else 0:>7.1f}{seconds:>8.1f}{naive_s:>9.1f}"
              f"{naive_s / seconds if seconds else 0:>7.1f}{item.throttled:>6}{item.failed:>7}")  # fmt: skip
    print(f"   whole run (reads and evaluation as the sync's): requests {sync_total_requests} vs "
          f"{naive_total_requests} naive ({naive_total_requests / sync_total_requests:.1f}x), wall "
          f"{measure.seconds:.0f} s vs {naive_seconds:.0f} s naive ({naive_seconds / measure.seconds:.1f}x)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_flags(parser)
    parser.add_argument("--time-factor", type=float, default=0.1,
                        help="quota windows scaled by this (default 0.1: a minute lasts 6 s)")  # fmt: skip
    parser.add_argument("--naive-sample", type=int, default=2000,
                        help="writes per system sent the naive way, then extrapolated (0: all; default 2000)")  # fmt: skip
    parser.add_argument("--no-naive", action="store_true", help="skip the naive comparison")
    args = parser.parse_args()

    world = BenchWorld(args.accounts, args.tickets, args.jira_issues, args.seed, quotas=True,
                       time_factor=args.time_factor)  # fmt: skip
    print(f"data set: {args.accounts} accounts, {args.tickets} tickets, {args.jira_issues} Jira issues "
          f"(seed {args.seed}); sandbox in this process with quotas on, time factor {args.time_factor}")  # fmt: skip
    log = RequestLog(world.sandbox)
    with world:
        measure = world.run("full sync under quotas")
        floor = floors(measure, world.config.sync.jira.page_size)
        uses = rule_uses(log, world, floor)
        result = measure.result
        summary = result.summary()
        print(f"\n== {measure.label}: {measure.seconds:.1f} s wall, exit {result.exit_code}; writes "
              + ", ".join(f"{s} {summary['planned_writes'].get(s, 0)}" for s in SYSTEMS)
              + f"; failed writes {measure.failed_writes()}")  # fmt: skip
        print("   429s received: " + ", ".join(f"{s} {measure.status_count(s, 429)}" for s in SYSTEMS)
              + "; waited (pacing, budget headers, Retry-After): "
              + ", ".join(f"{s} {measure.waited[s]:.1f} s" for s in SYSTEMS))  # fmt: skip
        used, allowance = world.sandbox.salesforce.api_usage()
        print(f"   Salesforce daily API allowance used: {used} of {allowance}")
        for line in request_table(measure, floor):
            print(line)
        print_rules(uses, args.time_factor)
        minimum = quota_bound_minimum(uses)
        print(f"\n   wall {measure.seconds:.1f} s vs quota-bound minimum {minimum:.1f} s "
              f"(the floor's requests at the allowed rates, phases in sequence): "
              f"{measure.seconds / minimum if minimum else math.inf:.2f}x")  # fmt: skip
        if not args.no_naive:
            print_naive(measure, run_naive(world, measure, args.naive_sample))
    return 0


if __name__ == "__main__":
    sys.exit(main())
