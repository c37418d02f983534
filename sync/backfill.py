"""`backfill`: the first sync of a large org to the end in one go, showing how far it got.

A cron `sync` waits at most `sync.max_wait` for the vendors' quotas, so the first run of a large
org ends quota-bound and the next runs carry on. `backfill` is the same run with no waiting
budget (or `--max-time`): it reads every system to the end, paced exactly at the vendors'
quotas, then decides and writes, with progress per system (sync/progress_display.py).

The order: Salesforce accounts first (every ticket's tier, ARR and renewal come from its
account, so the join needs them), then the Zendesk organisations and tickets (the incremental
export: 10 pages of 1,000 a minute, the longest read), then Jira. Reads run one after the
other and are bound by quotas that do not share anything, so no order finishes the reads sooner
than their sum; accounts first lets every ticket be joined as it is read.

Ctrl-C or SIGTERM stops it at once: every page stored so far is stored with its cursor (a page
and its cursor are one transaction), a write in flight is re-read before it is sent again, and
the next `backfill` or `sync` resumes from there (exit 130).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import datetime
from typing import TextIO

from config.policy import wall_seconds
from config.schema import Config
from connectors.errors import RateLimited
from errors import ExitCode, UsageError
from sync.commands import load_for_run, parse_now
from sync.connections import build_connectors
from sync.logs import setup_logging
from sync.pacing import run_policy
from sync.progress import StreamProgress, WriteProgress
from sync.progress_display import LoggedProgress, Remembered, TerminalProgress, reading_text
from sync.report import print_rejections, summary_line
from sync.report_json import summary_json
from sync.run import RunResult, run_once
from sync.state_open import open_store, run_lock, store_faults
from sync.stopping import Interrupted, stopped_by_signals


class Deadline:
    """--max-time: once past it, reading stops after the page being stored, as when a quota is
    spent (what was read is written; the next run resumes)."""

    def __init__(self, listener: Remembered, seconds: float):
        self.listener = listener
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def reading(self, progress: StreamProgress) -> None:
        self.listener.reading(progress)
        if not progress.done and time.monotonic() > self.ends:
            raise RateLimited(
                f"{progress.stream.partition('.')[0]}: backfill --max-time of "
                f"{self.seconds:.0f}s reached; resuming next run"
            )

    def writing(self, progress: WriteProgress) -> None:
        self.listener.writing(progress)


def backfill(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """The first sync to the end (or to --max-time), with progress; resumable when interrupted.
    Errors that end it carry their exit code (errors.py); run_sync.main prints and maps them."""
    out = out or sys.stdout
    config = load_for_run(args)
    setup_logging(
        args.log_format, args.verbose, [config.secret(name) for _, name in config.secret_refs()]
    )
    now = parse_now(args.now)
    max_time = _max_time(args.max_time)
    shown = TerminalProgress(out) if out.isatty() else LoggedProgress()
    remembered = Remembered(shown)
    listener = remembered if max_time is None else Deadline(remembered, max_time)
    state = config.state
    try:
        with (
            stopped_by_signals(at_once=True),
            store_faults(state, move_damaged=False),
            run_lock(state),
            store_faults(state, move_damaged=True),
        ):
            result = _run(config, args, now, max_time, listener)
    except Interrupted as stop:
        print(_interrupted_line(stop, remembered), file=out)
        return ExitCode.INTERRUPTED
    if args.log_format == "json":
        print(summary_json(result), file=out)
        return result.exit_code
    print_rejections(result, out)
    print(summary_line(result), file=out)
    return result.exit_code


def _max_time(text: str | None) -> float | None:
    """--max-time as seconds (a duration: '90s', '30m', '2h'); None: no limit."""
    if text is None:
        return None
    try:
        seconds = wall_seconds(text)
    except ValueError as error:
        raise UsageError(f"--max-time: {error}") from None
    assert isinstance(seconds, float)
    return seconds


def _run(
    config: Config,
    args: argparse.Namespace,
    now: datetime,
    max_time: float | None,
    listener: Remembered | Deadline,
) -> RunResult:
    store = open_store(config.state)
    try:
        connectors = build_connectors(config, run_policy(config, max_time or math.inf))
        try:
            return run_once(
                config,
                connectors,
                store,
                now,
                allow_backwards_clock=getattr(args, "allow_backwards_clock", False),
                listener=listener,
            )
        finally:
            for connector in connectors.values():
                connector.close()
    finally:
        store.close()


def _interrupted_line(stop: Interrupted, remembered: Remembered) -> str:
    """What an interrupted backfill got to: every page counted here is stored with its cursor."""
    streams = "; ".join(reading_text(p) for p in remembered.streams.values())
    return (
        f"escalation-sync: {ExitCode.INTERRUPTED.meaning} ({stop}); "
        + (f"{streams}; " if streams else "")
        + "the next backfill or sync resumes from the stored cursors"
    )
