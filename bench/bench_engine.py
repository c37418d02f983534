#!/usr/bin/env python3
"""Benchmark: evaluate 100,000 generated open tickets against the example matrix.

Prints tickets per second for the evaluation alone (generation and matrix compilation are
timed separately) and the peak memory of the process. Deterministic: same seed, same data.
The matrix is read with yaml.safe_load + MatrixConfig, independently of the config loader.

    python bench/bench_engine.py [--tickets 100000] [--seed 7] [--repeat 3] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.matrix import MatrixConfig  # noqa: E402
from escalation.compiled import compile_matrix  # noqa: E402
from escalation.engine import evaluate_many  # noqa: E402
from escalation.facts import Facts, PriorState, index_ticket_creation  # noqa: E402
from mapping.records import Account, Ticket, TicketStatus  # noqa: E402

NOW = datetime(2026, 5, 12, 14, 30, tzinfo=UTC)
TIERS = (("strategic", 2), ("enterprise", 8), ("growth", 25), ("standard", 55), ("unknown", 10))
CATEGORIES = (("outage", 5), ("defect", 35), ("contract", 5), ("privacy", 2), ("question", 53))
STATUSES = (
    (TicketStatus.NEW, 15),
    (TicketStatus.OPEN, 55),
    (TicketStatus.PENDING, 20),
    (TicketStatus.ON_HOLD, 10),
)
LEVELS = ("none", "informational", "advisory", "action-needed", "executive-review")


def _pick(rng: random.Random, weighted: tuple) -> object:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def generate_accounts(rng: random.Random, count: int) -> list[Account]:
    accounts = []
    for index in range(count):
        tier = _pick(rng, TIERS)
        accounts.append(
            Account(
                id=f"001A{index:06d}",
                name=f"Customer {index}",
                tier=str(tier),
                renewal_date=NOW.date() + timedelta(days=rng.randint(-30, 400)),
                arr=float(rng.choice((5_000, 20_000, 80_000, 250_000, 600_000, 1_500_000))),
                owner=f"ae{index % 40}@acme.example",
                csm=f"csm{index % 60}@acme.example" if rng.random() < 0.9 else None,
                region=rng.choice(("EMEA", "AMER", "APAC", None)),
                health=rng.choice(("green", "green", "green", "yellow", "red")),
            )
        )
    return accounts


def generate_tickets(rng: random.Random, accounts: list[Account], count: int) -> list[Ticket]:
    tickets = []
    for index in range(count):
        account = rng.choice(accounts) if rng.random() < 0.92 else None
        status = _pick(rng, STATUSES)
        # A live backlog is mostly young: ages are exponential (mean 2 days, new: 3 hours).
        mean_age = 3 * 3600 if status is TicketStatus.NEW else 2 * 86400
        age = min(max(600.0, rng.expovariate(1 / mean_age)), 45 * 86400)
        created = NOW - timedelta(seconds=age)
        first_response = None
        if status is not TicketStatus.NEW and rng.random() < 0.9:
            first_response = created + timedelta(seconds=rng.expovariate(1 / 3600))
            first_response = min(first_response, NOW)
        last_update = None
        if first_response is not None and rng.random() < 0.7:
            last_update = first_response + (NOW - first_response) * (0.5 + rng.random() / 2)
        paused: tuple = ()
        if status in (TicketStatus.PENDING, TicketStatus.ON_HOLD):
            paused = ((NOW - (NOW - created) * rng.random() * 0.5, None),)
        tickets.append(
            Ticket(
                system="zendesk",
                id=str(100_000 + index),
                subject=f"Ticket {index}",
                status=status,  # type: ignore[arg-type]
                created_at=created,
                updated_at=max(created, last_update or created),
                severity=rng.choice((1, 2, 2, 3, 3, 3, 4, 4)),
                category=str(_pick(rng, CATEGORIES)),
                first_response_at=first_response,
                last_agent_update_at=last_update,
                tags=("vip",) if rng.random() < 0.03 else (),
                linked=("jira:ENG-1",) if rng.random() < 0.1 else (),
                account_id=account.id if account else None,
                paused_intervals=paused,
            )
        )
    return tickets


def generate_items(seed: int, count: int) -> list[tuple[Ticket, Account | None, Facts]]:
    rng = random.Random(seed)
    accounts = generate_accounts(rng, max(100, count))
    by_id = {account.id: account for account in accounts}
    tickets = generate_tickets(rng, accounts, count)
    created_index = index_ticket_creation(tickets)
    items = []
    for ticket in tickets:
        prior = None
        if rng.random() < 0.7:  # most tickets were seen by an earlier run
            since = ticket.created_at + (NOW - ticket.created_at) * rng.random()
            prior = PriorState(level=rng.choice(LEVELS[:3]), level_since=since)
        facts = Facts(
            account_ticket_created=created_index.get(ticket.account_id or "", ()),
            linked_severities=(rng.randint(1, 4),) if ticket.linked else (),
            prior=prior,
        )
        items.append((ticket, by_id.get(ticket.account_id or ""), facts))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="evaluation runs; best is shown")
    parser.add_argument("--matrix", default=str(ROOT / "config" / "example" / "matrix.yaml"))
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python allocations (slower)"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    items = generate_items(args.seed, args.tickets)
    generated = time.perf_counter() - started

    started = time.perf_counter()
    raw = yaml.safe_load(Path(args.matrix).read_text(encoding="utf-8"))
    matrix = compile_matrix(MatrixConfig.model_validate(raw["matrix"]))
    evaluate_many(items[:200], NOW, matrix)  # builds the calendar windows
    compiled = time.perf_counter() - started

    timings, cpu_timings = [], []
    decisions = []
    for _ in range(args.repeat):
        decisions = []  # let the previous run's decisions go before timing the next
        started, cpu_started = time.perf_counter(), time.process_time()
        decisions = evaluate_many(items, NOW, matrix)
        timings.append(time.perf_counter() - started)
        cpu_timings.append(time.process_time() - cpu_started)
    best = min(timings)

    levels: dict[str, int] = {}
    for decision in decisions:
        levels[decision.level] = levels.get(decision.level, 0) + 1
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(f"generated {len(items):,} open tickets in {generated:.2f} s")
    print(f"compiled the matrix (and calendar windows) in {compiled:.2f} s")
    print(
        f"evaluated {len(items):,} tickets in {best:.2f} s (best of {len(timings)}: "
        + ", ".join(f"{t:.2f}" for t in timings)
        + f") = {len(items) / best:,.0f} tickets/s, {best / len(items) * 1e6:.1f} us/ticket"
    )
    # On a machine shared with other work, CPU time is the steadier figure.
    print(f"CPU time of the best evaluation run: {min(cpu_timings):.2f} s")
    print(f"peak memory (max RSS of the process): {peak_mib:,.0f} MiB")
    print("levels: " + ", ".join(f"{name} {levels.get(name, 0):,}" for name in LEVELS))

    if args.tracemalloc:
        tracemalloc.start()
        decisions = evaluate_many(items, NOW, matrix)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak Python allocations during one evaluation: {peak / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
