#!/usr/bin/env python3
"""Benchmark: `run_sync.py report` over 100,000 tickets with 90 days of history.

1. Writes a state file with the history a quarter of sync runs would have left (seeded,
   deterministic): 20,000 accounts, 100,000 tickets created over 90 days (about 15% still
   open), their SLA clocks (acknowledge, resolve, and next-update intervals) and events
   (escalations, de-escalations, owner changes, resolutions, reopenings). Rows are inserted
   directly into the history tables: this measures the report, not the sync.
2. Runs `run_sync.py report --since 90d` as a separate process, as a person would, and prints
   its wall time and peak memory (the child's ru_maxrss).

    python bench/bench_report.py [--tickets 100000] [--accounts 20000] [--seed 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapping.records import Account  # noqa: E402
from sync.history import iso  # noqa: E402
from sync.state import StateStore  # noqa: E402

NOW = datetime(2026, 5, 12, 14, 30, tzinfo=UTC)
LEVELS = ("none", "informational", "advisory", "action-needed", "executive-review")
LEVEL_WEIGHTS = (50, 20, 15, 10, 5)
TIERS = ("strategic", "enterprise", "growth", "standard", "unknown")
TIER_WEIGHTS = (2, 8, 25, 55, 10)
REGIONS = ("EMEA", "AMER", "APAC", None)
TARGETS = {"acknowledge": 4 * 3600, "next_update": 8 * 3600, "resolve": 5 * 36000}
OWNERS = [f"owner{i}@acme.example" for i in range(120)]


def _accounts(rng: random.Random, count: int) -> list[Account]:
    return [
        Account(
            id=f"001A{index:06d}",
            name=f"Customer {index}",
            tier=rng.choices(TIERS[:4], TIER_WEIGHTS[:4])[0],
            renewal_date=NOW.date() + timedelta(days=rng.randint(-30, 400)),
            arr=float(rng.choice((5_000, 20_000, 80_000, 250_000, 600_000, 1_500_000))),
            owner=f"ae{index % 40}@acme.example",
            csm=f"csm{index % 60}@acme.example",
            region=rng.choice(REGIONS),
            health=rng.choice(("green", "green", "green", "at-risk", "red")),
        )
        for index in range(count)
    ]


def write_state(path: Path, tickets: int, accounts: int, seed: int) -> None:
    """The history a quarter of runs would leave, straight into the tables."""
    rng = random.Random(seed)
    store = StateStore(path)
    people = _accounts(rng, accounts)
    history, clocks, events = [], [], []
    span = 90 * 86400
    for index in range(tickets):
        created = NOW - timedelta(seconds=rng.uniform(600, span))
        account = rng.choice(people) if rng.random() < 0.93 else None
        level = rng.choices(LEVELS, LEVEL_WEIGHTS)[0]
        is_open = rng.random() < 0.15 or created > NOW - timedelta(days=2)
        lifetime = timedelta(seconds=rng.expovariate(1 / (3 * 86400)))
        resolved = None if is_open else min(created + lifetime, NOW)
        owner = rng.choice(OWNERS)
        ref = f"zendesk:{index + 1}"
        since = created + timedelta(seconds=rng.uniform(0, 3600))
        history.append(
            (
                ref,
                "zendesk",
                None,
                f"Ticket {index + 1}: something is wrong",
                None,
                account.id if account else None,
                None if account else "account_id: the ticket has none",
                account.tier if account else "unknown",
                account.region if account else None,
                rng.choice(("outage", "defect", "question", "contract")),
                rng.randint(1, 4),
                iso(created),
                int(is_open),
                iso(resolved) if resolved else None,
                level if is_open else "none",
                iso(since),
                level,
                owner if is_open else None,
                rng.choice(OWNERS) if is_open else None,
                "technical" if is_open else None,
                iso(NOW),
            )
        )
        ack = created + timedelta(seconds=rng.expovariate(1 / 7200))
        for metric, start, met in (
            ("acknowledge", created, ack if ack < NOW else None),
            ("resolve", created, resolved),
        ):
            target = TARGETS[metric]
            due = start + timedelta(seconds=target * 1.4)
            taken = (met - start).total_seconds() / 1.4 if met else None
            breached = (met or NOW) > due
            clocks.append(
                (
                    ref,
                    metric,
                    iso(start),
                    iso(due),
                    iso(met) if met else None,
                    target,
                    taken,
                    int(breached),
                    level,
                )
            )
        start = ack
        # About eight updates per ticket, however long it lives (at least every 6 hours).
        end = resolved or NOW
        mean_gap = max(6 * 3600, (end - ack).total_seconds() / 8)
        while start < end and start < NOW:
            gap = timedelta(seconds=rng.expovariate(1 / mean_gap))
            met = start + gap
            running = met >= (resolved or NOW)
            due = start + timedelta(seconds=TARGETS["next_update"] * 1.4)
            clocks.append(
                (
                    ref,
                    "next_update",
                    iso(start),
                    iso(due),
                    None if running else iso(met),
                    TARGETS["next_update"],
                    None if running else gap.total_seconds() / 1.4,
                    int((NOW if running else met) > due),
                    level,
                )
            )
            start = met
        if level != "none":
            events.append((ref, iso(since), 1, "escalated", "none", level, owner))
            if rng.random() < 0.2:
                events.append(
                    (
                        ref,
                        iso(since + timedelta(hours=2)),
                        1,
                        "owner_changed",
                        level,
                        level,
                        rng.choice(OWNERS),
                    )
                )
            if rng.random() < 0.05:
                events.append(
                    (ref, iso(since + timedelta(hours=5)), 1, "de_escalated", level, "none", owner)
                )
        if resolved:
            events.append((ref, iso(resolved), 1, "resolved", None, None, None))
            if rng.random() < 0.03:
                events.append(
                    (ref, iso(resolved + timedelta(hours=1)), 1, "reopened", "none", level, owner)
                )
    with store.transaction():
        store.upsert_accounts(people)
        store.db.executemany(
            "INSERT INTO ticket_history VALUES (" + ", ".join("?" * 21) + ")", history
        )
        store.db.executemany(
            "INSERT OR REPLACE INTO sla_outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", clocks
        )
        store.db.executemany(
            "INSERT INTO ticket_events (ref, at, run_id, kind, old_level, new_level, owner) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )
    print(
        f"state: {accounts:,} accounts, {tickets:,} tickets "
        f"({sum(1 for h in history if h[12]):,} open), {len(clocks):,} SLA clocks, "
        f"{len(events):,} events; {path.stat().st_size / 2**20:.0f} MiB"
    )
    store.close()


def write_config(folder: Path, state: Path) -> Path:
    example = ROOT / "config" / "example"
    config = folder / "escalation-sync.yaml"
    config.write_text(
        f"include: [{example}/connections.yaml, {example}/mapping.yaml, {example}/matrix.yaml]\n"
        f"state: {{path: {state}}}\n",
        encoding="utf-8",
    )
    return config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="folder to keep the state and the report in")
    parser.add_argument("--state-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    state = folder / "state.sqlite"
    if args.state_only:
        for leftover in folder.glob("state.sqlite*"):
            leftover.unlink()
        write_state(state, args.tickets, args.accounts, args.seed)
        return 0
    started = time.perf_counter()
    # The state is written by a child process: a forked child's peak memory starts from its
    # parent's, so this process stays small and the report's own peak is measured.
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--state-only",
            "--keep",
            str(folder),
            "--tickets",
            str(args.tickets),
            "--accounts",
            str(args.accounts),
            "--seed",
            str(args.seed),
        ],
        check=True,
    )
    print(f"state written in {time.perf_counter() - started:.1f} s")
    config = write_config(folder, state)
    command = [
        sys.executable,
        str(ROOT / "run_sync.py"),
        "report",
        "--config",
        str(config),
        "--now",
        NOW.isoformat(),
        "--since",
        "90d",
        "--out",
        str(folder / "report"),
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        return 1
    peak_kib = usage.ru_maxrss
    html = folder / "report" / "report.html"
    print(
        f"report: {wall:.2f} s wall, peak RSS {peak_kib / 1024:.0f} MiB, "
        f"report.html {html.stat().st_size / 2**10:.0f} KiB, "
        f"{sum(1 for _ in (folder / 'report').glob('*.csv'))} CSV files"
    )
    print(f"(files in {folder})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
