"""`sync --metrics-file PATH`: the run's health in Prometheus text format, for node_exporter's
textfile collector.

The file is written whole to a temporary file in the same folder and renamed over the old
one, so the collector never reads half a file. Every value describes the last run (gauges),
so a restart of anything loses nothing; `escalation_sync_last_success_timestamp_seconds`
comes from the state store, so it survives failed runs. Names and labels: README, Monitoring.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from connectors.base import WriteStatus
from mapping.records import UNKNOWN_TIER
from sync.run import RunResult
from sync.state import StateStore

log = logging.getLogger("escalation_sync.metrics")

PREFIX = "escalation_sync_"
SYSTEMS = ("zendesk", "jira", "salesforce")
SLA_METRICS = ("acknowledge", "next_update", "resolve")


def _escape(value: str) -> str:
    # The exposition format's label value escapes: backslash, double quote, newline.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    # Full precision: %g would round a Unix time to the nearest 10,000 seconds.
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(
        self, name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]
    ) -> None:
        self.lines.append(f"# HELP {PREFIX}{name} {help_text}")
        self.lines.append(f"# TYPE {PREFIX}{name} gauge")
        for labels, value in samples:
            label_text = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
            self.lines.append(
                f"{PREFIX}{name}{'{' + label_text + '}' if label_text else ''} {_number(value)}"
            )


def last_success(store: StateStore) -> datetime | None:
    """When the last real run that ended with exit code 0 finished."""
    row = store.db.execute(
        "SELECT finished_at FROM runs WHERE dry_run = 0 AND exit_code = 0 "
        "ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def render_metrics(
    result: RunResult,
    now: datetime,
    duration_seconds: float,
    succeeded_at: datetime | None,
    levels: Iterable[str],
    milestones: Iterable[str] = (),
) -> str:
    """The exposition text for one run; `milestones`: the names of sla.milestones, counted
    in breached_tickets beside the built-in metrics."""
    out = _Lines()
    out.metric("run_duration_seconds", "Wall time of the last run.", [({}, duration_seconds)])
    out.metric("last_run_timestamp_seconds", "When the last run ran.", [({}, now.timestamp())])
    out.metric(
        "last_run_exit_code", "Exit code of the last run (0 ok, 1, 3).", [({}, result.exit_code)]
    )
    out.metric(
        "last_success_timestamp_seconds",
        "When the last run with exit code 0 finished (0: never).",
        [({}, succeeded_at.timestamp() if succeeded_at else 0)],
    )
    traffic = {system: result.transport.get(system, {}) for system in SYSTEMS}
    for name, key, help_text in (
        ("requests", "requests", "HTTP requests sent in the last run."),
        ("throttled_responses", "throttled", "429 (rate limited) answers in the last run."),
        ("retries", "retries", "Requests retried in the last run."),
    ):
        out.metric(name, help_text, [({"system": s}, traffic[s].get(key, 0)) for s in SYSTEMS])
    results = result.apply.results
    out.metric(
        "writes",
        "Record writes in the last run by outcome (ok, rejected, retry, conflict).",
        [
            ({"system": s, "result": status.value}, results.get((s, status.value), 0))
            for s in SYSTEMS
            for status in WriteStatus
        ],
    )
    _ticket_metrics(out, result, list(levels), (*SLA_METRICS, *milestones))
    return "\n".join(out.lines) + "\n"


def _ticket_metrics(
    out: _Lines, result: RunResult, levels: list[str], metrics: tuple[str, ...]
) -> None:
    evaluation = result.evaluation
    per_level_tier: Counter[tuple[str, str]] = Counter()
    breached: Counter[str] = Counter()
    unmatched = 0
    if evaluation is not None:
        tickets = {t.ref: t for t in evaluation.tickets}
        for decision in evaluation.decisions:
            ticket = tickets.get(decision.ticket_ref)
            if ticket is None or not ticket.status.is_open:
                continue
            account = evaluation.accounts.get(ticket.account_id or "")
            tier = account.tier if account is not None else UNKNOWN_TIER
            per_level_tier[(decision.level, tier)] += 1
            breached.update(decision.breached)
        unmatched = len(evaluation.unmatched)
    order = {level: i for i, level in enumerate(levels)}
    out.metric(
        "open_tickets",
        "Open tickets by escalation level and customer tier, as of the last run.",
        [
            ({"level": level, "tier": tier}, count)
            for (level, tier), count in sorted(
                per_level_tier.items(), key=lambda item: (order.get(item[0][0], 99), item[0][1])
            )
        ],
    )
    out.metric(
        "breached_tickets",
        "Open tickets in breach of an SLA metric, as of the last run.",
        [({"metric": metric}, breached.get(metric, 0)) for metric in metrics],
    )
    out.metric(
        "unmatched_tickets",
        "Open tickets that matched no account (they get the unknown tier's SLA).",
        [({}, unmatched)],
    )


def write_metrics_file(path: Path, text: str) -> None:
    """Write `text` to `path` atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(partial, 0o644)  # the collector runs as another user; no secrets in here
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def export_run_metrics(
    path: str | Path,
    store: StateStore,
    result: RunResult,
    now: datetime,
    duration_seconds: float,
    levels: Iterable[str],
    milestones: Iterable[str] = (),
) -> None:
    """Render and write the metrics of a finished run; a failure to write is logged, not fatal
    (monitoring must not stop the sync)."""
    succeeded = last_success(store)
    text = render_metrics(result, now, duration_seconds, succeeded, levels, milestones)
    try:
        write_metrics_file(Path(path), text)
    except OSError as error:
        log.error("cannot write the metrics file %s: %s", path, error)
