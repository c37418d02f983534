#!/usr/bin/env python3
"""Benchmark: `replay` of 90 days, hourly (2,160 steps), over 10,000 tickets, two matrices.

Writes a state store with generated history (tickets created across the quarter, answered,
updated, paused and solved; agent updates as the next_update clocks a sync records), then
times what `escalation-sync replay` does: reading the past from the store, replaying the
example matrix and a draft (tighter growth targets, a higher timed-escalation ceiling), and
comparing them. Deterministic: same seed, same data.

    python bench/bench_replay.py [--tickets 10000] [--accounts 2000] [--days 90] [--step 1h]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_engine import CATEGORIES, _pick, generate_accounts  # noqa: E402

from config.loader import load_config  # noqa: E402
from config.matrix import MatrixConfig  # noqa: E402
from escalation.compiled import compile_matrix  # noqa: E402
from mapping.records import Ticket, TicketStatus  # noqa: E402
from rehearse.compare import compare  # noqa: E402
from rehearse.past import load_past  # noqa: E402
from rehearse.render import as_json  # noqa: E402
from rehearse.replay import grid, replay  # noqa: E402
from sync.history import iso  # noqa: E402
from sync.state import StateStore  # noqa: E402

START = datetime(2026, 2, 2, 0, 0, tzinfo=UTC)


def generate_history(
    rng: random.Random, accounts: list, count: int, days: int
) -> tuple[list, list]:
    """Tickets as the mirror holds them at the end, and the next_update clock starts."""
    end = START + timedelta(days=days)
    tickets, clocks = [], []
    for index in range(count):
        account = rng.choice(accounts) if rng.random() < 0.92 else None
        created = START - timedelta(days=10) + timedelta(seconds=rng.random() * (days + 10) * 86400)
        life = timedelta(seconds=min(rng.expovariate(1 / (3 * 86400)), 60 * 86400))
        solved = created + life if created + life < end else None
        first = created + timedelta(seconds=rng.expovariate(1 / 7200))
        first = first if first < (solved or end) else None
        updates = []
        moment = first
        while moment is not None:
            moment = moment + timedelta(seconds=rng.expovariate(1 / 86400))
            if moment >= (solved or end):
                break
            updates.append(moment)
        paused: tuple = ()
        if first is not None and rng.random() < 0.2:
            pause_start = first + timedelta(hours=1)
            pause_end = pause_start + timedelta(seconds=rng.expovariate(1 / 86400))
            if pause_start < (solved or end):
                paused = ((pause_start, pause_end if pause_end < (solved or end) else None),)
        status = TicketStatus.SOLVED if solved else TicketStatus.OPEN
        if not solved and paused and paused[-1][1] is None:
            status = TicketStatus.PENDING
        ref_id = str(200_000 + index)
        last = updates[-1] if updates else first
        tickets.append(
            Ticket(
                system="zendesk",
                id=ref_id,
                subject=f"Ticket {index}",
                status=status,
                created_at=created,
                updated_at=solved or last or created,
                severity=rng.choice((1, 2, 2, 3, 3, 3, 4, 4)),
                category=str(_pick(rng, CATEGORIES)),
                first_response_at=first,
                last_agent_update_at=last,
                account_id=account.id if account else None,
                paused_intervals=paused,
                status_changed_at=paused[-1][0] if status is TicketStatus.PENDING else None,
            )
        )
        clocks += [(f"zendesk:{ref_id}", iso(u)) for u in ([first] if first else []) + updates]
    return tickets, clocks


def write_store(path: Path, accounts: list, tickets: list, clocks: list) -> None:
    store = StateStore(path)
    with store.transaction():
        store.upsert_accounts(accounts)
        store.upsert_tickets(tickets)
        store.db.executemany(
            "INSERT OR IGNORE INTO sla_outcomes (ref, metric, start_at, due_at, target_seconds, "
            "breached, level) VALUES (?, 'next_update', ?, ?, 0, 0, 'none')",
            [(ref, start, start) for ref, start in clocks],
        )
    store.close()


def draft_matrix() -> MatrixConfig:
    data = yaml.safe_load((ROOT / "config" / "example" / "matrix.yaml").read_text(encoding="utf-8"))
    matrix = data["matrix"]
    for row in matrix["sla"]["targets"]:
        if row["tier"] == "growth":
            row.update(acknowledge="2h", resolve="3d")
    matrix["timed_escalation"]["max_level"] = "executive-review"
    return MatrixConfig.model_validate(matrix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--step-minutes", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    accounts = generate_accounts(rng, args.accounts)
    tickets, clocks = generate_history(rng, accounts, args.tickets, args.days)
    config = load_config(ROOT / "config" / "example" / "escalation-sync.yaml")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.sqlite"
        write_store(path, accounts, tickets, clocks)
        began = time.perf_counter()
        store = StateStore(path)
        past = load_past(store, config)
        store.close()
        loaded = time.perf_counter()
    moments = grid(
        START.timestamp(), (START + timedelta(days=args.days)).timestamp(), args.step_minutes * 60.0
    )
    timings, traces = [], []
    for matrix in (config.matrix, draft_matrix()):
        before = time.perf_counter()
        traces.append(
            replay(
                compile_matrix(matrix), past.tickets, past.accounts, past.account_created, moments
            )
        )
        timings.append(time.perf_counter() - before)
    before = time.perf_counter()
    comparison = compare(traces[0], traces[1], moments[0], moments[-1], f"{args.step_minutes}m")
    rendered = as_json(comparison)
    compared = time.perf_counter() - before
    total = time.perf_counter() - began
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    brute = sum(1 for _ in moments) * len(past.tickets)
    print(f"tickets {len(past.tickets):,}, accounts {len(past.accounts):,}, steps {len(moments):,}")
    print(f"read the past from the state store: {loaded - began:.1f} s")
    for name, seconds, trace in zip(("current", "draft"), timings, traces, strict=True):
        steps = sum(len(s) for s in trace.steps.values())
        print(
            f"replay {name}: {seconds:.1f} s, {trace.evaluations:,} evaluations "
            f"({trace.evaluations / brute:.1%} of tickets x steps), {steps:,} steps kept"
        )
    differences = len(comparison.tables[0].rows)
    print(
        f"compare and render JSON: {compared:.1f} s ({differences:,} differences, {len(rendered) / 1e6:.1f} MB)"
    )
    print(f"total (what the command does, without writing the file): {total:.1f} s")
    print(f"peak RSS: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
