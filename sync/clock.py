"""The clock must not go backwards between runs.

Decisions depend on `now` (SLA states, timed escalation): a run at a moment before the last
run's writes the values of that earlier moment over newer ones, and the next run on the right
clock writes them back (a `--now` two weeks early rewrote 29 records twice). So a run whose
`now` is earlier than the last run's is refused unless the caller says so; a few minutes of
skew (NTP stepping the clock, two hosts taking turns) only warns.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from errors import EscalationSyncError, ExitCode
from sync.state import StateStore

log = logging.getLogger("escalation_sync.clock")

TOLERATED_SKEW = timedelta(minutes=5)


class ClockWentBackwards(EscalationSyncError):
    """`now` is earlier than the last run's by more than TOLERATED_SKEW."""

    exit_code = ExitCode.CLOCK_BACKWARDS


def last_run_at(store: StateStore) -> datetime | None:
    """The `now` of the latest run that could write (dry runs write nothing to any system)."""
    row = store.db.execute(
        "SELECT started_at FROM runs WHERE dry_run = 0 ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    return datetime.fromisoformat(row[0]) if row else None


def check_clock(store: StateStore, now: datetime, allow_backwards: bool = False) -> None:
    """Raise ClockWentBackwards when `now` is too far before the last run's; warn on skew."""
    last = last_run_at(store)
    if last is None or now >= last:
        return
    behind = last - now
    said = f"the clock says {_moment(now)}, {_span(behind)} before the last run ({_moment(last)})"
    if behind <= TOLERATED_SKEW:
        log.warning("%s; going on: up to %s of skew is tolerated", said, _span(TOLERATED_SKEW))
        return
    if allow_backwards:
        log.warning("%s; going on as --allow-backwards-clock asks", said)
        return
    raise ClockWentBackwards(
        f"{said}: a run now would write older values over newer ones; nothing was read or "
        "written. Fix the clock (or --now), or add --allow-backwards-clock to run anyway"
    )


def _moment(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
