"""Time the sandbox data generator at scale: 100k tickets, 20k accounts, 20k Jira issues.

Run: .venv/bin/python bench/bench_generate.py [--tickets N --accounts N --jira-issues N]
Prints generation and write times and the file sizes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.generate import generate_dataset, write_dataset  # noqa: E402

ANCHOR = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--jira-issues", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    dataset = generate_dataset(
        args.accounts, args.tickets, args.jira_issues, args.seed, anchor=ANCHOR
    )
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as folder:
        paths = write_dataset(dataset, Path(folder))
        written = time.perf_counter()
        sizes = ", ".join(
            f"{path.name} {path.stat().st_size / 1e6:.1f} MB" for path in paths.values()
        )
    print(
        f"{args.accounts} accounts, {args.tickets} tickets, {args.jira_issues} jira issues: "
        f"generate {generated - started:.2f} s, write {written - generated:.2f} s, "
        f"total {written - started:.2f} s ({sizes})"
    )


if __name__ == "__main__":
    main()
