"""The benchmarks still run (two had broken silently when the code under them changed): each
at a small size, as a separate process, with what its output must show. Not timing tests: the
figures are read by people, from bench/README.md. bench_accounts.py has its own test; those
that pace themselves against vendor quotas (bench_quota, bench_backfill, bench_notify) or
start PostgreSQL (bench_state_backends) take minutes and are run by hand."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bench(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_engine_bench_evaluates_every_ticket_it_generated() -> None:
    out = _bench("bench/bench_engine.py", "--tickets", "2000", "--repeat", "1")
    assert re.search(r"evaluated 2,000 tickets in [\d.]+ s", out), out
    levels = re.search(r"levels: (.*)", out)
    assert levels is not None, out
    counts = re.findall(r"[\w-]+ ([\d,]+)", levels.group(1))
    assert sum(_number(n) for n in counts) == 2000


def test_the_generator_bench_writes_the_three_data_sets() -> None:
    out = _bench(
        "bench/bench_generate.py", "--accounts", "200", "--tickets", "1000", "--jira-issues", "200"
    )
    found = re.search(r"200 accounts, 1000 tickets, 200 jira issues: .*\((.*)\)", out)
    assert found is not None, out
    assert all(f"{name}.json" in found.group(1) for name in ("zendesk", "jira", "salesforce"))


def test_the_replay_bench_replays_both_matrices_and_compares_them() -> None:
    out = _bench("bench/bench_replay.py", "--tickets", "300", "--accounts", "60", "--days", "5")
    assert re.search(r"replay current: .* (\d+) evaluations", out), out
    assert re.search(r"replay draft: .* (\d+) evaluations", out), out
    assert re.search(r"compare and render JSON: .*\(\d+ differences", out), out


def test_the_report_bench_writes_the_report_and_its_csv_files(tmp_path: Path) -> None:
    out = _bench(
        "bench/bench_report.py", "--tickets", "2000", "--accounts", "400", "--keep", str(tmp_path)
    )
    assert re.search(r"report: [\d.]+ s wall, .* 10 CSV files", out), out
    html = next(tmp_path.rglob("report.html"))
    assert "<html" in html.read_text(encoding="utf-8").lower()
    assert len(list(html.parent.glob("*.csv"))) == 10


def test_the_sync_bench_runs_its_three_syncs_against_the_sandbox() -> None:
    out = _bench(
        "bench/bench_sync.py", "--tickets", "2000", "--accounts", "400", "--jira-issues", "400"
    )
    runs = re.findall(
        r"^== (first run|no-change run|run after \d+ changes).*exit (\d+)$", out, re.M
    )
    assert [name.split(" changes")[0].rstrip("0123456789 ") for name, _ in runs] == [
        "first run",
        "no-change run",
        "run after",
    ], out
    assert all(code == "0" for _, code in runs)
    writes = re.findall(r"writes: zendesk (\d+), jira (\d+), salesforce (\d+); failed (\d+)", out)
    first, again, after = ([int(n) for n in w] for w in writes)
    # The first run writes to all three systems; nothing changed, nothing written; none failed.
    assert min(first[:3]) > 0 and again == [0, 0, 0, 0] and sum(after[:3]) > 0
    assert first[3] == after[3] == 0
