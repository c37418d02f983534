"""Requests, wall time and peak memory of real sync runs against a generated data set.

Starts the sandbox in this process (quotas off), then runs the real sync three times:
1. the first run (backfill of every open ticket, writes for every escalation),
2. a run with nothing changed (our own writes come back in the export and are recognised),
3. a run after N changes (default 1,000), spread over the three systems through the
   sandbox's admin APIs: Zendesk agent edits (priority), Jira human edits (severity),
   Salesforce account edits (tier, renewal date, ARR).
For each run it prints the requests per system and endpoint (counted by the sandbox) next to
the floor: ceil(records / page or batch size) for each read and write endpoint.

The sandbox answers from threads of this process: the sync and the three servers share one
interpreter and its GIL, so the wall times include the servers' work (JSON, TLS, queries).

Run: .venv/bin/python bench/bench_sync.py [--tickets 2000 --accounts 400 --jira-issues 400]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _world import (
    SYSTEMS,
    BenchWorld,
    RunMeasure,
    add_size_flags,
    floors,
    max_rss_mb,
    request_table,
)  # noqa: E402

from sandbox import catalogue  # noqa: E402

TIERS = ("strategic", "enterprise", "growth", "standard")
PRIORITIES = ("urgent", "high", "normal", "low")


def make_changes(world: BenchWorld, count: int, seed: int) -> dict[str, int]:
    """`count` edits by people: 40% Zendesk agent edits, 30% Jira, 30% Salesforce accounts."""
    rng = random.Random(f"{seed}:changes")
    zendesk_n = count * 4 // 10
    jira_n = count * 3 // 10
    salesforce_n = count - zendesk_n - jira_n
    sandbox = world.sandbox
    open_tickets = sorted(
        ticket_id
        for ticket_id, ticket in sandbox.zendesk.store.tickets.items()
        if ticket.get("status") in ("new", "open", "pending", "hold")
    )
    for ticket_id in rng.sample(open_tickets, min(zendesk_n, len(open_tickets))):
        sandbox.zendesk.agent_edit(ticket_id, {"priority": rng.choice(PRIORITIES)})
    open_issues = sorted(
        key for key, row in sandbox.jira.store.rows.items() if row.category_key != "done"
    )
    for key in rng.sample(open_issues, min(jira_n, len(open_issues))):
        severity = rng.choice(catalogue.JIRA_SEVERITY_OPTIONS)
        sandbox.jira.human_edit(key, fields={catalogue.JIRA_FIELD_SEVERITY: {"value": severity}})
    accounts = sorted(record["Id"] for record in sandbox.salesforce.records("Account"))
    for index, account_id in enumerate(rng.sample(accounts, min(salesforce_n, len(accounts)))):
        change = (
            {"Tier__c": rng.choice(TIERS)},
            {
                "Renewal_Date__c": (
                    world.anchor.date() + timedelta(days=rng.randint(5, 400))
                ).isoformat()
            },
            {"ARR__c": float(rng.randrange(10_000, 2_000_000, 100))},
        )[index % 3]
        sandbox.salesforce.edit_record("Account", account_id, **change)
    return {"zendesk": min(zendesk_n, len(open_tickets)), "jira": min(jira_n, len(open_issues)),
            "salesforce": min(salesforce_n, len(accounts))}  # fmt: skip


def print_run(measure: RunMeasure, jira_page_size: int) -> None:
    result = measure.result
    print(f"\n== {measure.label}: {measure.seconds:.1f} s wall (CPU: sync thread {measure.main_cpu_seconds:.1f} s, "
          f"process {measure.cpu_seconds:.1f} s), peak RSS {measure.max_rss_mb:.0f} MB "
          f"(now {measure.rss_mb:.0f} MB), exit {result.exit_code}")  # fmt: skip
    read = measure.read.counts

    def both(key: str) -> str:
        return f"{read[key]}" + (
            f" ({read[key + '.new']} changed)" if read[key + ".new"] != read[key] else ""
        )

    print(f"   records read: zendesk {both('zendesk.tickets.ticket')} tickets (+{read['zendesk.tickets.user']} "
          f"users, {read['zendesk.tickets.organization']} orgs sideloaded), "
          f"{both('zendesk.organizations.organization')} organisations; jira {both('jira.issues.issue')} issues; "
          f"salesforce {both('salesforce.accounts.account')} accounts")  # fmt: skip
    summary = result.summary()
    planned = summary["planned_writes"]
    print(f"   evaluated {summary['evaluated']} open tickets; writes: "
          + ", ".join(f"{s} {planned.get(s, 0)}" for s in SYSTEMS)
          + f"; failed {measure.failed_writes()}")  # fmt: skip
    print("   time in reads: " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(measure.read.seconds.items()))
          + "; in writes: " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(measure.apply_seconds.items())))  # fmt: skip
    for line in request_table(measure, floors(measure, jira_page_size)):
        print(line)
    errors = {s: sum(n for (_, st), n in measure.statuses[s].items() if st >= 400) for s in SYSTEMS}
    if any(errors.values()):
        print("   answers >= 400: " + ", ".join(f"{s} {n}" for s, n in errors.items()))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog="Prints one table per run."
    )
    add_size_flags(parser)
    parser.add_argument(
        "--changes", type=int, default=1000, help="edits before the third run (default 1000)"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="write a cProfile of the first run to FILE"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    world = BenchWorld(args.accounts, args.tickets, args.jira_issues, args.seed, quotas=False)
    print(f"data set: {args.accounts} accounts, {args.tickets} tickets, {args.jira_issues} Jira issues "
          f"(seed {args.seed}); generated in {world.generate_seconds:.1f} s, loaded in {world.load_seconds:.1f} s; "
          f"RSS {max_rss_mb():.0f} MB with the sandbox loaded")  # fmt: skip
    print(
        "sandbox in this process (quotas off): wall times include the servers' work under the same GIL"
    )
    with world:
        jira_page_size = world.config.sync.jira.page_size
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            first = profiler.runcall(world.run, "first run (backfill)")
            profiler.dump_stats(args.profile)
        else:
            first = world.run("first run (backfill)")
        print_run(first, jira_page_size)
        world.settle()
        second = world.run("no-change run", now=world.now + timedelta(seconds=30))
        print_run(second, jira_page_size)
        made = make_changes(world, args.changes, args.seed)
        world.settle()
        third = world.run(f"run after {sum(made.values())} changes ("
                          + ", ".join(f"{s} {n}" for s, n in made.items()) + ")",
                          now=world.now + timedelta(seconds=30))  # fmt: skip
        print_run(third, jira_page_size)
    print(f"\ntotal {time.perf_counter() - started:.1f} s, peak RSS {max_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
