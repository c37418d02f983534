"""Shared by the benchmarks: a generated data set in an in-process sandbox, real sync runs
against it, and the request counts each run caused next to the floor.

The sandbox serves from threads of this process, so the sync and the three emulated APIs
share one interpreter (and its GIL): wall times include the servers' work.
"""

from __future__ import annotations

import math
import os
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.loader import load_config  # noqa: E402
from connectors.base import Page  # noqa: E402
from connectors.transport import RetryPolicy  # noqa: E402
from sandbox.generate import generate_dataset  # noqa: E402
from sandbox.quotas import scaled_rule  # noqa: E402
from sandbox.runner import Sandbox  # noqa: E402
from sandbox.sandbox_config import ENVIRONMENT, write_sandbox_config  # noqa: E402
from sync.connections import build_connectors  # noqa: E402
from sync.run import RunResult, run_once  # noqa: E402
from sync.state import StateStore  # noqa: E402
from sync.state_open import open_store  # noqa: E402

SYSTEMS = ("zendesk", "jira", "salesforce")
# The vendors' page and batch sizes the floor is computed with.
ZENDESK_EXPORT_PAGE = 1000
ZENDESK_JOB_SIZE = 100
SALESFORCE_QUERY_BATCH = 2000
SALESFORCE_COLLECTION = 200


def add_size_flags(
    parser: Any, accounts: int = 20_000, tickets: int = 100_000, jira_issues: int = 20_000
) -> None:
    parser.add_argument(
        "--accounts", type=int, default=accounts, help=f"Salesforce accounts (default {accounts})"
    )
    parser.add_argument(
        "--tickets", type=int, default=tickets, help=f"Zendesk tickets (default {tickets})"
    )
    parser.add_argument(
        "--jira-issues", type=int, default=jira_issues, help=f"Jira issues (default {jira_issues})"
    )
    parser.add_argument("--seed", type=int, default=1, help="data set seed (default 1)")


def max_rss_mb() -> float:
    """The process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _version(record: Any) -> Any:
    """What changes when the vendor's record changes (its modification stamp)."""
    data = record.data
    if record.system == "jira":
        return (data.get("fields") or {}).get("updated")
    if record.system == "salesforce":
        return data.get("SystemModstamp")
    return (data.get("updated_at"), data.get("generated_timestamp"))


@dataclass
class RecordsRead:
    """Records the connectors handed to the sync, per stream.

    `counts["<stream>.<kind>"]` counts every record handed over; `"<stream>.<kind>.new"` only
    those changed since an earlier run read them (`versions` is shared between runs): the
    records a read has to return, which the floor is computed from.
    """

    versions: dict[tuple[str, str], Any] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)  # stream -> time spent inside the reads

    def wrap(
        self, stream: str, read: Callable[..., Iterator[Page]]
    ) -> Callable[..., Iterator[Page]]:
        def counted(*args: Any, **kwargs: Any) -> Iterator[Page]:
            pages = read(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    page = next(pages)
                except StopIteration:
                    self.seconds[stream] += time.perf_counter() - started
                    return
                self.seconds[stream] += time.perf_counter() - started
                for record in page.records:
                    self.counts[f"{stream}.{record.kind}"] += 1
                    key, version = (record.kind, record.id), _version(record)
                    if self.versions.get(key) != version:
                        self.versions[key] = version
                        self.counts[f"{stream}.{record.kind}.new"] += 1
                self.counts[f"{stream}.pages"] += 1
                yield page

        return counted


class RequestLog:
    """Every request the sandbox's quota check saw: (monotonic time, endpoint, refusing rule).

    The refusing rule is None for a request the quotas let through."""

    def __init__(self, sandbox: Sandbox):
        self.entries: dict[str, list[tuple[float, str, str | None]]] = {s: [] for s in SYSTEMS}
        self._lock = threading.Lock()
        for system in SYSTEMS:
            quotas = sandbox.apps[system].quotas
            quotas.check = self._recording(system, quotas.check)

    def _recording(self, system: str, check: Callable[[str], Any]) -> Callable[[str], Any]:
        def recorded(endpoint: str) -> Any:
            verdict = check(endpoint)
            with self._lock:
                refused_by = (
                    None if verdict.allowed else (verdict.rule.name if verdict.rule else "?")
                )
                self.entries[system].append((time.monotonic(), endpoint, refused_by))
            return verdict

        return recorded

    def clear(self) -> None:
        with self._lock:
            for entries in self.entries.values():
                entries.clear()


@dataclass
class RunMeasure:
    label: str
    result: RunResult
    seconds: float
    cpu_seconds: float  # the whole process: the sync and the sandbox's server threads
    main_cpu_seconds: float  # the sync's own thread
    max_rss_mb: float
    rss_mb: float
    traffic: dict[str, Counter]  # system -> endpoint -> requests (the sandbox's count)
    statuses: dict[str, Counter]  # system -> (endpoint, status) -> requests
    client: dict[str, Counter]  # system -> "METHOD /path/shape" -> requests (the adapters' count)
    throttled: dict[str, int]  # system -> 429s the adapters received
    waited: dict[str, float]  # system -> seconds the adapters waited (pacing, Retry-After, budget)
    read: RecordsRead
    apply_seconds: dict[str, float]  # system -> time inside the connector's apply

    def writes(self, system: str, kind: str | None = None) -> int:
        return sum(
            1
            for p in self.result.writes
            if p.target.system == system and (kind is None or p.write.kind == kind)
        )

    def failed_writes(self) -> int:
        return (
            len(self.result.apply.rejected)
            + len(self.result.apply.retry)
            + len(self.result.apply.conflicts)
        )

    def status_count(self, system: str, status: int) -> int:
        return sum(n for (_, st), n in self.statuses[system].items() if st == status)


class BenchWorld:
    """A generated data set served by an in-process sandbox, and a sync config pointing at it."""

    def __init__(
        self,
        accounts: int,
        tickets: int,
        jira_issues: int,
        seed: int = 1,
        quotas: bool = False,
        time_factor: float = 1.0,
        folder: Path | None = None,
        policy: RetryPolicy | None = None,
        state_url: str | None = None,
    ):
        """`state_url`: the state in PostgreSQL (password in its config's password_env)
        instead of the SQLite file."""
        self.sizes = (accounts, tickets, jira_issues, seed)
        self.state_url = state_url
        self.anchor = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
        self._tmp = None
        if folder is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="escalation-bench-")
            folder = Path(self._tmp.name)
        self.folder = folder
        self.time_factor = time_factor
        self.sandbox = Sandbox(work_dir=folder / "tls", quotas=quotas)
        if quotas:
            for app in self.sandbox.apps.values():
                app.quotas.set_rules(
                    [scaled_rule(r, time_factor) for r in app.quotas.rules], time_factor=1.0
                )
        self.generate_seconds, self.load_seconds = self.reload()
        self.policy = policy or RetryPolicy(max_total_wait_seconds=3600)
        self.now = self.anchor + timedelta(minutes=5)
        self.config = None
        self.versions: dict[tuple[str, str], Any] = {}  # record -> the version last read

    def reload(self) -> tuple[float, float]:
        """Fresh generated data in the sandbox (same sizes, seed and anchor: the same data)."""
        started = time.perf_counter()
        dataset = generate_dataset(*self.sizes, anchor=self.anchor)
        generated = time.perf_counter()
        for name in SYSTEMS:
            self.sandbox.apps[name].load_state(dataset.pop(name))
            quotas = self.sandbox.apps[name].quotas
            quotas.set_rules(quotas.rules)  # fresh windows
        return generated - started, time.perf_counter() - generated

    def __enter__(self) -> BenchWorld:
        self.sandbox.start()
        for name, value in ENVIRONMENT.items():
            os.environ[name] = value
        path = write_sandbox_config(self.folder / "config", self.sandbox.urls, self.sandbox.ca_path)
        if self.state_url is not None:
            from tests.sync_world import use_state_url

            use_state_url(path, self.state_url)
        self.config = load_config(path)
        return self

    def __exit__(self, *exc: object) -> None:
        self.sandbox.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def settle(self) -> None:
        """Let the last writes become readable (Zendesk's export leaves out the last minute)."""
        self.sandbox.zendesk.advance_clock(61)

    def connectors(self) -> dict[str, Any]:
        """The connectors the CLI would build, pacing to the sandbox's limits.

        The clients pace to the vendors' known limits (Zendesk: 10 incremental exports a
        minute); the sandbox has none with quotas off, and windows scaled by the time factor
        with quotas on.
        """
        connectors = build_connectors(self.config, self.policy)
        for system in SYSTEMS:
            adapter = _adapter(connectors[system])
            if not self.sandbox.apps[system].quotas.enabled:
                adapter.pacers = []
            for pacer in adapter.pacers:
                pacer.window_seconds *= self.time_factor
        return connectors

    def run(self, label: str, now: datetime | None = None) -> RunMeasure:
        """One real sync run through the real clients, measured."""
        self.now = now or self.now
        before = {s: Counter(self.sandbox.apps[s].traffic.requests) for s in SYSTEMS}
        statuses_before = {s: Counter(self.sandbox.apps[s].traffic.statuses) for s in SYSTEMS}
        read = RecordsRead(self.versions)
        connectors = self.connectors()
        zendesk, jira, salesforce = (
            connectors["zendesk"],
            connectors["jira"],
            connectors["salesforce"],
        )
        zendesk.read_ticket_changes = read.wrap("zendesk.tickets", zendesk.read_ticket_changes)
        zendesk.read_organization_changes = read.wrap(
            "zendesk.organizations", zendesk.read_organization_changes
        )
        jira.read_issue_changes = read.wrap("jira.issues", jira.read_issue_changes)
        salesforce.read_account_changes = read.wrap(
            "salesforce.accounts", salesforce.read_account_changes
        )
        apply_seconds: Counter = Counter()
        for system in SYSTEMS:
            connectors[system].apply = _timed(connectors[system].apply, apply_seconds, system)
        store = (
            StateStore(self.config.state.path)
            if self.state_url is None
            else open_store(self.config.state)
        )
        cpu_before, main_before = _process_cpu(), time.thread_time()
        started = time.perf_counter()
        try:
            result = run_once(self.config, connectors, store, self.now)
        finally:
            seconds = time.perf_counter() - started
            cpu, main_cpu = _process_cpu() - cpu_before, time.thread_time() - main_before
            store.close()
            for connector in connectors.values():
                connector.close()
        adapters = {s: _adapter(connectors[s]) for s in SYSTEMS}
        return RunMeasure(
            label=label,
            result=result,
            seconds=seconds,
            cpu_seconds=cpu,
            main_cpu_seconds=main_cpu,
            max_rss_mb=max_rss_mb(),
            rss_mb=current_rss_mb(),
            traffic={
                s: Counter(self.sandbox.apps[s].traffic.requests) - before[s] for s in SYSTEMS
            },
            statuses={
                s: Counter(self.sandbox.apps[s].traffic.statuses) - statuses_before[s]
                for s in SYSTEMS
            },
            client={s: Counter(adapters[s].stats.requests) for s in SYSTEMS},
            throttled={s: adapters[s].stats.throttled for s in SYSTEMS},
            waited={s: adapters[s].stats.waited_seconds for s in SYSTEMS},
            read=read,
            apply_seconds=dict(apply_seconds),
        )


def _timed(call: Callable[..., Any], seconds: Counter, key: str) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            seconds[key] += time.perf_counter() - started

    return timed


def _adapter(connector: Any) -> Any:
    return connector.adapter


# -- the floor ------------------------------------------------------------------------------------
def pages(records: int, size: int) -> int:
    """Requests needed to read `records` at `size` a page: at least one (to learn there is none)."""
    return max(1, math.ceil(records / size))


def batches(records: int, size: int) -> int:
    return math.ceil(records / size)


def floors(measure: RunMeasure, jira_page_size: int) -> dict[str, dict[str, int]]:
    """system -> endpoint -> the fewest requests the run's reads and writes could take.

    Reads: ceil(records changed since the last read / the vendor's largest page), at least
    one request per stream (a record read again unchanged, e.g. in an overlap, is not counted).
    Writes: ceil(records written / the vendor's largest batch); Zendesk jobs need one status
    poll each at least; Jira edits are one request per issue (bulk edit is off in this config).
    """
    read = measure.read.counts
    zendesk_writes = measure.writes("zendesk")
    return {
        "zendesk": {
            "incremental_tickets": pages(read["zendesk.tickets.ticket.new"], ZENDESK_EXPORT_PAGE),
            "incremental_organizations": pages(
                read["zendesk.organizations.organization.new"], ZENDESK_EXPORT_PAGE
            ),
            "update_many": batches(zendesk_writes, ZENDESK_JOB_SIZE),
            "job_status": batches(zendesk_writes, ZENDESK_JOB_SIZE),
        },
        "jira": {
            "search_jql": pages(read["jira.issues.issue.new"], jira_page_size),
            "issue_edit": measure.writes("jira"),
        },
        "salesforce": {
            "oauth_token": 1,
            "query_all": 1,  # accounts are read with queryAll (deletions and merges show)
            "query_all_more": pages(read["salesforce.accounts.account.new"], SALESFORCE_QUERY_BATCH)
            - 1,
            "composite_update": batches(
                measure.writes("salesforce", "account"), SALESFORCE_COLLECTION
            ),
            "composite_upsert": batches(
                measure.writes("salesforce", "escalation_record"), SALESFORCE_COLLECTION
            ),
        },
    }


def request_table(
    measure: RunMeasure, floor: dict[str, dict[str, int]], indent: str = "   "
) -> list[str]:
    """Requests per system and endpoint next to the floor, as text lines."""
    lines = [f"{indent}{'system':<11}{'endpoint':<27}{'requests':>9}{'floor':>8}{'ratio':>8}"]
    for system in SYSTEMS:
        for endpoint in sorted(set(measure.traffic[system]) | set(floor[system])):
            made = measure.traffic[system].get(endpoint, 0)
            least = floor[system].get(endpoint)
            if made == 0 and not least:
                continue
            ratio = f"{made / least:.2f}" if least else "-"
            lines.append(
                f"{indent}{system:<11}{endpoint:<27}{made:>9}{'-' if least is None else least:>8}{ratio:>8}"
            )
        total, total_floor = sum(measure.traffic[system].values()), sum(floor[system].values())
        ratio = f"{total / total_floor:.2f}" if total_floor else "-"
        lines.append(f"{indent}{system:<11}{'(all)':<27}{total:>9}{total_floor:>8}{ratio:>8}")
    return lines
