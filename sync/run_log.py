"""The run's own log lines: one per step at info (what cron appends to its log on every run).
The line per decision that changed is sync.logs.log_decision_change, written with the audit.

Only counts, record refs, level names, trigger names and owners are logged: never a ticket's
subject, description or any other customer text, so an info-level log is safe to ship.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

from sync.apply import ApplyReport
from sync.evaluate import Evaluation
from sync.plan import PlannedWrite

log = logging.getLogger("escalation_sync.run")


def log_evaluated(evaluation: Evaluation) -> None:
    """Info: how many tickets were evaluated, by level."""
    levels = Counter(d.level for d in evaluation.decisions)
    log.info(
        "evaluated %d ticket(s): %s; %d without an account",
        len(evaluation.decisions),
        _counts(levels) or "none open",
        len(evaluation.unmatched),
    )


def log_planned(planned: Iterable[PlannedWrite], dry_run: bool) -> None:
    """Info: the records to write, per system."""
    by_system = Counter(item.target.system for item in planned if item.write is not None)
    log.info(
        "planned %d record(s) to write: %s%s",
        sum(by_system.values()),
        _counts(by_system) or "nothing",
        " (dry run: nothing is written)" if dry_run else "",
    )


def log_applied(report: ApplyReport) -> None:
    """Info: what the systems answered, per system and outcome."""
    outcomes = Counter({f"{system} {status}": n for (system, status), n in report.results.items()})
    line = _counts(outcomes) or "nothing"
    if report.unreachable:
        line += "; unreachable: " + ", ".join(sorted(report.unreachable))
    log.info("wrote %s", line)


def _counts(counts: Counter) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counts.items()))
