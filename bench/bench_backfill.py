"""`escalation-sync backfill` of a large org with the sandbox in a process of its own: the sync's
own wall time and peak memory, and per system the time taken vs the quota-bound minimum.

Three processes, as a user would have them: `run_sync.py sandbox generate` writes the data set,
`run_sync.py sandbox serve --time-factor F` serves it with the vendors' quotas running 1/F times
faster (sandbox/quotas.py scale_quotas: Zendesk's 10 exports a minute become 10 per 6 s at 0.1;
Jira's 10 edits a second become 100 per second), and `run_sync.py backfill` runs against the
config `serve` writes (`sync.quota_time_factor: F`, so its pacers match). The sync's peak RSS is
its own (`os.wait4`), not the sandbox's.

Printed: wall time and peak RSS of the backfill process; requests per endpoint (the sandbox's
count, 429s apart); per quota that binds, the requests, the time the quota forces for them and
the time the phase took (from the backfill's log lines); the quota-bound minimum of the whole
run (the phases in sequence) against the wall time; the same minimum at the vendors' real rates.

Run: .venv/bin/python bench/bench_backfill.py [--tickets 2000 --accounts 400 --jira-issues 400]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sandbox.jira.app import JiraApp  # noqa: E402
from sandbox.quotas import QuotaRule, scaled_rule  # noqa: E402
from sandbox.sandbox_config import ENVIRONMENT  # noqa: E402
from sandbox.zendesk.app import ZendeskApp  # noqa: E402

RUN_SYNC = [sys.executable, str(REPO / "run_sync.py")]
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (\w+) ([\w.]+): (.*)$")


def generate(folder: Path, args: argparse.Namespace) -> float:
    started = time.perf_counter()
    subprocess.run(
        [*RUN_SYNC, "sandbox", "generate", "--out", str(folder), "--accounts", str(args.accounts),
         "--tickets", str(args.tickets), "--jira-issues", str(args.jira_issues), "--seed", str(args.seed)],
        check=True, cwd=REPO, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def serve(folder: Path, time_factor: float) -> tuple[subprocess.Popen, dict[str, str]]:
    """The sandbox in its own process; its printed URLs, CA file and config path."""
    process = subprocess.Popen(
        [*RUN_SYNC, "sandbox", "serve", "--data", str(folder), "--time-factor", str(time_factor)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    printed: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("serving"):
            return process, printed
        name, _, value = line.strip().partition(" ")
        printed[name if name != "CA" else "ca"] = value.strip().removeprefix("file").strip()
    raise SystemExit(f"sandbox serve ended early (exit {process.wait()})")


def traffic(url: str, ca: str) -> dict:
    context = ssl.create_default_context(cafile=ca)
    with urllib.request.urlopen(f"{url}/__sandbox/traffic", context=context) as answer:
        return json.load(answer)


def backfill(config: str) -> tuple[float, float, int, list[tuple[datetime, str]]]:
    """Wall seconds, peak RSS (MB) and exit code of `backfill`, and its log lines."""
    environment = {**os.environ, **ENVIRONMENT}
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*RUN_SYNC, "backfill", "--config", config], cwd=REPO, env=environment,
            stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        lines = []
        for text in log:
            match = LOG_LINE.match(text.rstrip("\n"))
            if match:
                moment = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
                lines.append((moment, match.group(4)))
            else:
                print("   log:", text.rstrip())
    return seconds, usage.ru_maxrss / 1024, process.returncode, lines


def moment_of(lines: list[tuple[datetime, str]], pattern: str) -> datetime:
    return next(moment for moment, text in lines if re.search(pattern, text))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--jira-issues", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-factor", type=float, default=0.1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="escalation-backfill-") as tmp:
        data = Path(tmp) / "data"
        generated = generate(data, args)
        print(f"data set: {args.accounts} accounts, {args.tickets} tickets, {args.jira_issues} Jira "
              f"issues (seed {args.seed}), generated in {generated:.0f} s; sandbox in its own "
              f"process, quotas on, time factor {args.time_factor}")  # fmt: skip
        sandbox, printed = serve(data, args.time_factor)
        try:
            seconds, peak_mb, code, lines = backfill(printed["config"])
            counts = {
                s: traffic(printed[s], printed["ca"]) for s in ("zendesk", "jira", "salesforce")
            }
        finally:
            sandbox.kill()  # its state is not needed: skip saving 100k records back
            sandbox.wait()
    report(args, seconds, peak_mb, code, lines, counts)
    return 0


def forced_seconds(requests: int, rule: QuotaRule) -> float:
    """The least time a fixed-window rule allows for `requests` (all sent at once per window)."""
    return (max(requests, 1) - 1) // rule.limit * rule.window_seconds


def report(
    args: argparse.Namespace,
    seconds: float,
    peak_mb: float,
    code: int,
    lines: list[tuple[datetime, str]],
    counts: dict[str, dict],
) -> None:
    print(
        f"\n== backfill: exit {code}, wall {seconds:.1f} s, peak RSS of the sync process {peak_mb:.0f} MB"
    )
    for _, text in lines:
        if (
            text.startswith("backfill ")
            and text.endswith("done")
            or text.startswith(("evaluated", "planned", "wrote"))
        ):
            print(f"   {text}")
    print(f"\n   {'system':<11}{'endpoint':<27}{'requests':>9}{'429s':>6}")
    served: dict[str, Counter] = {}
    for system, answer in counts.items():
        ok = Counter()
        refused = Counter()
        for key, n in answer["statuses"].items():
            endpoint, _, status = key.rpartition(" ")
            (refused if status == "429" else ok)[endpoint] += n
        served[system] = ok
        for endpoint in sorted(ok | refused):
            print(f"   {system:<11}{endpoint:<27}{ok[endpoint]:>9}{refused[endpoint]:>6}")

    factor = args.time_factor
    zendesk_rules = {r.name: scaled_rule(r, factor) for r in ZendeskApp().default_quota_rules()}
    jira_rules = {r.name: scaled_rule(r, factor) for r in JiraApp().default_quota_rules()}
    export_rule = next(r for r in zendesk_rules.values() if r.endpoints)
    exports = sum(served["zendesk"][e] for e in export_rule.endpoints)
    edit_rule = jira_rules["burst:issue_edit"]
    search_rule = jira_rules["burst:search_jql"]
    edits, searches = served["jira"]["issue_edit"], served["jira"]["search_jql"]
    zendesk_read = (
        moment_of(lines, r"^pulled zendesk.tickets")
        - moment_of(lines, r"^pulled salesforce.accounts")
    ).total_seconds()
    jira_read = (
        moment_of(lines, r"^pulled jira.issues") - moment_of(lines, r"^pulled zendesk.tickets")
    ).total_seconds()
    jira_write = (moment_of(lines, r"backfill jira writes: .* done") - moment_of(lines, r"backfill zendesk writes: .* done")).total_seconds()  # fmt: skip
    phases = [
        ("zendesk", "incremental exports", export_rule, exports, zendesk_read),
        ("jira", "search", search_rule, searches, jira_read),
        ("jira", "issue edits", edit_rule, edits, jira_write),
    ]
    print(f"\n   quota-bound phases (scaled by {factor}):")
    print(f"   {'system':<11}{'phase':<21}{'rule (scaled)':>16}{'requests':>9}{'forced s':>9}{'taken s':>9}{'taken/forced':>13}")  # fmt: skip
    minimum = 0.0
    for system, phase, rule, requests, taken in phases:
        forced = forced_seconds(requests, rule)
        minimum += forced
        ratio = f"{taken / forced:.2f}" if forced else "-"
        print(f"   {system:<11}{phase:<21}{rule.limit:>9}/{rule.window_seconds:<6g}{requests:>9}{forced:>9.1f}{taken:>9.1f}{ratio:>13}")  # fmt: skip
    print(f"\n   wall {seconds:.1f} s vs quota-bound minimum {minimum:.1f} s (the phases in sequence): "
          f"{seconds / minimum if minimum else float('inf'):.2f}x")  # fmt: skip
    real = minimum / factor
    print(
        f"   at the vendors' real rates the quota-bound minimum is {real / 60:.1f} min "
        f"(+ the sync's own work, about {max(seconds - minimum, 0):.0f} s here)"
    )


if __name__ == "__main__":
    sys.exit(main())
