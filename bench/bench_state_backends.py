"""The default 100k sync with the state in PostgreSQL against SQLite, as a ratio, in one run.

The same three runs as bench_sync.py (first run, no-change run, run after N changes) on the
same generated data, once with the state in a SQLite file (the default) and once in a
PostgreSQL database, one after the other in this process. The PostgreSQL server is a
throwaway cluster of Debian's `postgresql` (as the tests start it, tests/postgres_server.py)
with its durable defaults (fsync on), reached over TCP on 127.0.0.1 with a password, as a
deployment would; SQLite runs as shipped (WAL, synchronous=NORMAL).

Prints each run's wall time and process CPU per backend and the ratio PostgreSQL / SQLite.
The sandbox serves from threads of this process (as in bench_sync.py): the wall times include
the servers' work, which is the same for both backends; the PostgreSQL server's own CPU is in
other processes and not in "process CPU". On a shared machine the wall times follow the load
(printed at the start and end): the CPU ratio is the steadier figure.

Run: .venv/bin/python bench/bench_state_backends.py [--tickets 2000 --accounts 400 --jira-issues 400]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _world import BenchWorld, RunMeasure, add_size_flags, max_rss_mb  # noqa: E402
from bench_sync import make_changes  # noqa: E402

from tests.postgres_server import (  # noqa: E402
    PASSWORD,
    PASSWORD_ENV,
    PostgresServer,
    missing_postgres,
)

LABELS = ("first run (backfill)", "no-change run", "run after changes")


def three_runs(args: argparse.Namespace, state_url: str | None) -> list[RunMeasure]:
    """bench_sync.py's three runs with the state at `state_url` (None: the SQLite file)."""
    world = BenchWorld(
        args.accounts, args.tickets, args.jira_issues, args.seed, state_url=state_url
    )
    with world:
        first = world.run(LABELS[0])
        world.settle()
        second = world.run(LABELS[1], now=world.now + timedelta(seconds=30))
        make_changes(world, args.changes, args.seed)
        world.settle()
        third = world.run(LABELS[2], now=world.now + timedelta(seconds=30))
    backend = "SQLite" if state_url is None else "PostgreSQL"
    for measure in (first, second, third):
        assert measure.result.exit_code == 0, measure.result.summary()
        print(f"  {backend}: {measure.label}: {measure.seconds:.1f} s wall, "
              f"{measure.cpu_seconds:.1f} s process CPU", flush=True)  # fmt: skip
    return [first, second, third]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_flags(parser)
    parser.add_argument("--changes", type=int, default=1000, help="edits before the third run")
    args = parser.parse_args()
    reason = missing_postgres()
    if reason:
        print(f"bench_state_backends: {reason}", file=sys.stderr)
        return 2
    print(f"data set: {args.accounts} accounts, {args.tickets} tickets, "
          f"{args.jira_issues} Jira issues (seed {args.seed}); {args.changes} changes "
          "before the third run")  # fmt: skip
    started = time.perf_counter()
    print("load average (1, 5, 15 min) at the start: "
          + ", ".join(f"{n:.1f}" for n in os.getloadavg()), flush=True)  # fmt: skip
    sqlite = three_runs(args, None)
    server = PostgresServer(durable=True).start()
    try:
        os.environ[PASSWORD_ENV] = PASSWORD
        postgres = three_runs(args, server.url())
    finally:
        server.stop()
    print("\n| run | SQLite wall / CPU | PostgreSQL wall / CPU | wall ratio PG / SQLite |")
    print("| --- | --- | --- | --- |")
    for label, lite, pg in zip(LABELS, sqlite, postgres, strict=True):
        print(f"| {label} | {lite.seconds:.1f} s / {lite.cpu_seconds:.1f} s | "
              f"{pg.seconds:.1f} s / {pg.cpu_seconds:.1f} s | "
              f"{pg.seconds / lite.seconds:.2f} |")  # fmt: skip
    total_lite = sum(m.seconds for m in sqlite)
    total_pg = sum(m.seconds for m in postgres)
    print(f"| all three | {total_lite:.1f} s | {total_pg:.1f} s | {total_pg / total_lite:.2f} |")
    print(f"\ntotal {time.perf_counter() - started:.1f} s, peak RSS {max_rss_mb():.0f} MB; "
          "load average (1, 5, 15 min) at the end: "
          + ", ".join(f"{n:.1f}" for n in os.getloadavg()))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
