"""bench/bench_accounts.py still drives the account step (it broke silently once, when the
step changed under it): a small world, its three runs, what each must show. Not a timing
test: the figures are read by people, from `bench/README.md`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _runs(output: str) -> dict[str, str]:
    """Run name -> the lines printed for it."""
    runs: dict[str, str] = {}
    name = None
    for line in output.splitlines():
        found = re.match(r"^(first run|next run, nothing changed|a week later[^:]*): ", line)
        if found:
            name = found.group(1)
            runs[name] = line + "\n"
        elif name is not None and line.startswith("  "):
            runs[name] += line + "\n"
    return runs


def _written(text: str) -> dict[str, int]:
    line = re.search(r"records to write: (.*)", text)
    assert line is not None, text
    if line.group(1) == "none":
        return {}
    return {k: int(v.replace(",", "")) for k, v in re.findall(r"([\w.]+) ([\d,]+)", line.group(1))}


def test_the_account_bench_runs_its_three_runs_at_a_small_size() -> None:
    done = subprocess.run(
        [sys.executable, "bench/bench_accounts.py", "--accounts", "300", "--tickets", "1500"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    runs = _runs(done.stdout)
    assert list(runs) == [
        "first run",
        "next run, nothing changed",
        "a week later, 5% of accounts changed",
    ]
    first, again, week = (_written(text) for text in runs.values())
    # The first run makes a task and writes the fields for every account above the lowest
    # level; with nothing changed nothing is written; a week later, some of them again.
    assert first["salesforce.task"] > 0
    assert first["salesforce.account"] >= first["salesforce.task"]
    assert again == {}
    assert 0 < sum(week.values()) < sum(first.values())
    for text in runs.values():
        assert re.search(r"of which sending the writes .*: [\d.]+ s; the rest .*: [\d.]+ s", text)
    assert "peak memory" in done.stdout
