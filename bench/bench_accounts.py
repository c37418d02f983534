#!/usr/bin/env python3
"""Benchmark: the account matrix's step of a run over 20,000 accounts (and 100,000 tickets).

What the step adds to a run, apart from its requests: gathering the facts (ticket decisions,
breaches and value history from the state file), evaluating every account, building the
targets (account fields, organisations, tasks), planning them against what was written, and
remembering states, history and breaches in the state file. The vendors are stand-ins that
answer at once (the requests are counted instead: they are the sync's usual batched reads
and writes, timed by bench_sync.py). Three runs: the first (nothing remembered, every task to
make), the next one with nothing changed, and one a week later with 5% of the accounts'
health and usage changed. Deterministic: same seed, same data.

    python bench/bench_accounts.py [--accounts 20000] [--tickets 100000] [--seed 7]
                                   [--open-tickets 17000]      # the rest solved
                                   [--profile accounts.prof]   # cProfile of the steps only
"""

from __future__ import annotations

import argparse
import cProfile
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import NOW, generate_accounts, generate_tickets  # noqa: E402

from config.loader import load_config  # noqa: E402
from config.matrix import MatrixConfig  # noqa: E402
from connectors.base import ConnectorStats  # noqa: E402
from connectors.salesforce import SalesforceConnector  # noqa: E402
from connectors.transport import RetryPolicy  # noqa: E402
from connectors.zendesk import BULK_SIZE, JobPolling, ZendeskConnector  # noqa: E402
from escalation.compiled import compile_matrix  # noqa: E402
from escalation.engine import evaluate_many  # noqa: E402
from escalation.facts import Facts, index_ticket_creation  # noqa: E402
from mapping.records import Account, TicketStatus  # noqa: E402
from sync import accounts_run  # noqa: E402
from sync.accounts_run import AccountStep  # noqa: E402
from sync.accounts_store import AccountStore  # noqa: E402
from sync.evaluate import Evaluation  # noqa: E402
from sync.run import RunResult  # noqa: E402
from sync.state import StateStore  # noqa: E402

EXAMPLE = ROOT / "config" / "example"


class Requests(Counter):
    """Requests the stand-in vendors answered, by endpoint."""


class Org:
    """The stand-in org's tasks (by Id), kept across runs."""

    def __init__(self) -> None:
        self.tasks: dict[str, dict] = {}


class _SalesforceAnswers:
    """simple-salesforce's `restful`: every collection record succeeds; tasks are kept."""

    def __init__(self, requests: Requests, org: Org):
        self.requests, self.org = requests, org

    def restful(self, path: str, method: str, json: dict, timeout: float) -> list[dict]:
        self.requests[f"salesforce {method} {path}"] += 1
        answers = []
        for record in json["records"]:
            task_id = record.get("id") or f"00T{len(self.org.tasks) + 1:015d}"
            fields = {k: v for k, v in record.items() if k not in ("attributes", "id")}
            self.org.tasks[task_id] = {**self.org.tasks.get(task_id, {}), **fields, "Id": task_id}
            answers.append({"id": task_id, "success": True})
        return answers


class FakeSalesforce(SalesforceConnector):
    """Stands in for the Salesforce connector: task queries find the tasks made, users none,
    writes succeed. A subclass (its __init__ not called), so the step takes it for one."""

    write_batch_size, timeout = 200, 30.0

    def __init__(self, requests: Requests, org: Org):
        self.requests, self.org = requests, org
        self.answers = _SalesforceAnswers(requests, org)
        self.served = False

    def _query_batches(self, soql: str) -> Any:
        self.requests["salesforce GET query"] += 1
        # One IN list of 300 accounts a query; every task is answered once per run.
        tasks = [] if " FROM User " in soql or self.served else list(self.org.tasks.values())
        self.served = self.served or " FROM Task " in soql
        yield tasks, True

    def _call(self, what: str, operation: Any) -> Any:
        return operation(self.answers)

    def stats(self) -> ConnectorStats:
        return ConnectorStats(requests=sum(self.requests.values()))

    def apply(self, writes: list) -> list:
        from connectors.base import WriteResult, WriteStatus

        self.requests["salesforce PATCH composite/sobjects"] += -(-len(writes) // 200)
        return [WriteResult(w, WriteStatus.OK) for w in writes]


class FakeZendesk(ZendeskConnector):
    """Stands in for the Zendesk connector: every organisation update succeeds (a subclass,
    its __init__ not called, as FakeSalesforce). It answers zenpy's calls of the connector's
    update_many jobs: `organizations.update([...])` (one request a job) and
    `job_status(id=...)` (one request a poll; the job is done at its first)."""

    write_batch_size, job_polling = BULK_SIZE, JobPolling(first_wait_seconds=0.0)
    policy = RetryPolicy(sleep=lambda seconds: None)

    def __init__(self, requests: Requests):
        self.requests = requests
        self.client = self.organizations = self
        self.jobs: dict[str, list[int]] = {}

    def update(self, organizations: list[Any]) -> Any:
        self.requests["zendesk PUT organizations/update_many"] += 1
        job_id = str(len(self.jobs) + 1)
        self.jobs[job_id] = [o.id for o in organizations]
        return SimpleNamespace(id=job_id)

    def job_status(self, id: str) -> Any:
        self.requests["zendesk GET job_statuses/{id}"] += 1
        results = [{"id": i, "success": True} for i in self.jobs[id]]
        return SimpleNamespace(status="completed", message=None, results=results)

    def stats(self) -> ConnectorStats:
        return ConnectorStats(requests=sum(self.requests.values()))


def world(
    seed: int, accounts: int, tickets: int, open_tickets: int | None = None
) -> tuple[list[Account], Evaluation, Any]:
    """Accounts with signals, tickets, the ticket matrix's decisions, the config.
    `open_tickets`: how many tickets are still open (None: all, the heaviest case); the
    others are solved, and count only as tickets the account opened lately."""
    rng = random.Random(seed)
    generated = generate_accounts(rng, accounts)
    # A customer base as CS teams describe theirs: most accounts small and green, a few large.
    arr = ((5_000, 40), (20_000, 30), (80_000, 20), (250_000, 7), (600_000, 2), (1_500_000, 1))
    health = (("green", 85), ("at-risk", 10), ("red", 5))
    generated = [
        replace(
            a,
            arr=float(rng.choices([v for v, _ in arr], [w for _, w in arr])[0]),
            health=rng.choices([v for v, _ in health], [w for _, w in health])[0],
            renewal_date=NOW.date() + timedelta(days=rng.randint(0, 365)),
            # One account in ten a detractor (NPS below 0).
            signals={
                "usage": float(rng.randint(10, 2000)),
                "nps": rng.randint(-100, -1) if rng.random() < 0.1 else rng.randint(0, 100),
            }
            if rng.random() < 0.8
            else {},
        )
        for a in generated
    ]
    all_tickets = generate_tickets(rng, generated, tickets)
    if open_tickets is not None and open_tickets < len(all_tickets):
        still_open = set(rng.sample(range(len(all_tickets)), open_tickets))
        all_tickets = [
            t if i in still_open else replace(t, status=TicketStatus.SOLVED)
            for i, t in enumerate(all_tickets)
        ]
    created = index_ticket_creation(all_tickets)
    config = load_config(EXAMPLE / "escalation-sync.yaml")
    raw = yaml.safe_load((EXAMPLE / "matrix.yaml").read_text(encoding="utf-8"))
    matrix = compile_matrix(MatrixConfig.model_validate(raw["matrix"]))
    by_id = {a.id: a for a in generated}
    items = [
        (t, by_id.get(t.account_id or ""), Facts(created.get(t.account_id or "", ())))
        for t in all_tickets
    ]
    decisions = evaluate_many(items, NOW, matrix)
    evaluation = Evaluation(all_tickets, by_id, decisions, [], {}, ticket_created=created)
    return generated, evaluation, config


def organizations(store: StateStore, accounts: list[Account]) -> None:
    """One Zendesk organisation per account, joined by the account id in its field."""
    store.upsert_raw(
        "zendesk",
        "organization",
        [
            (str(900_000 + i), {"organization_fields": {"salesforce_account_id": a.id}, "tags": []})
            for i, a in enumerate(accounts)
        ],
    )


class WritesTimed:
    """sync.accounts_run's apply_writes, timed: what sending the step's writes through the
    stand-ins and remembering their outcomes (the audit log, written values, the mirror)
    costs, apart from the matrix itself. Per write it is the ticket writes' bookkeeping."""

    def __init__(self, apply_writes: Any):
        self.apply_writes, self.seconds = apply_writes, 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.apply_writes(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def one_run(
    config: Any,
    store: StateStore,
    evaluation: Evaluation,
    now: Any,
    org: Org,
    profile: cProfile.Profile | None = None,
) -> tuple:
    # As a run has them: the mirror's accounts, showing what earlier runs wrote to them.
    mirror = {a.id: a for a in store.accounts()}
    evaluation = replace(
        evaluation,
        accounts={
            key: replace(a, managed_fields=mirror[key].managed_fields) if key in mirror else a
            for key, a in evaluation.accounts.items()
        },
    )
    requests = Requests()
    connectors = {"salesforce": FakeSalesforce(requests, org), "zendesk": FakeZendesk(requests)}
    result = RunResult(store.begin_run(now, False), False)
    result.evaluation = evaluation
    step = AccountStep(config, store, connectors, now, False, result)
    writing = WritesTimed(accounts_run.apply_writes)
    accounts_run.apply_writes = writing  # type: ignore[assignment]
    started, cpu = time.perf_counter(), time.process_time()
    try:
        if profile is not None:
            profile.runcall(step.execute)
        else:
            step.execute()
    finally:
        accounts_run.apply_writes = writing.apply_writes
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    planned = Counter(p.target.system for p in result.planned if p.write is not None)
    levels = Counter(state["level"] for state in AccountStore(store).states().values())
    return wall, cpu, writing.seconds, planned, requests, levels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--open-tickets",
        type=int,
        help="tickets still open, the rest solved (default: all open, the heaviest case; "
        "the sandbox's generated 100k-ticket quarter has 17,000 open)",
    )
    parser.add_argument("--profile", help="write cProfile stats of the account steps here")
    args = parser.parse_args()

    started = time.perf_counter()
    accounts, evaluation, config = world(args.seed, args.accounts, args.tickets, args.open_tickets)
    still_open = sum(1 for t in evaluation.tickets if t.status.is_open)
    print(
        f"generated {len(accounts):,} accounts, {args.tickets:,} tickets ({still_open:,} open) "
        f"and their decisions in {time.perf_counter() - started:.1f} s"
    )
    with tempfile.TemporaryDirectory() as folder:
        store = StateStore(Path(folder) / "state.sqlite")
        organizations(store, accounts)
        store.upsert_accounts(accounts)
        rng = random.Random(args.seed + 1)
        runs = [("first run", evaluation, NOW), ("next run, nothing changed", evaluation, NOW)]
        changed = [
            replace(a, health="red", signals={**a.signals, "usage": a.signals.get("usage", 0) / 2})
            if rng.random() < 0.05
            else a
            for a in accounts
        ]
        week = replace(evaluation, accounts={a.id: a for a in changed})
        runs.append(("a week later, 5% of accounts changed", week, NOW + timedelta(days=7)))
        org = Org()
        profile = cProfile.Profile() if args.profile else None
        for name, data, now in runs:
            wall, cpu, writes, planned, requests, levels = one_run(
                config, store, data, now, org, profile
            )
            print(f"{name}: {wall:.2f} s wall, {cpu:.2f} s CPU")
            print(
                f"  of which sending the writes to the stand-ins and remembering them (apply_writes):"
                f" {writes:.2f} s; the rest (facts, decisions, targets, plans, states): "
                f"{wall - writes:.2f} s"
            )
            print("  account levels: " + ", ".join(f"{k} {v:,}" for k, v in sorted(levels.items())))
            print(
                "  records to write: "
                + (", ".join(f"{k} {v:,}" for k, v in sorted(planned.items())) or "none")
            )
            print("  requests: " + ", ".join(f"{k} {v:,}" for k, v in sorted(requests.items())))
        store.close()
    if profile is not None:
        profile.dump_stats(args.profile)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of the process): {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main()
