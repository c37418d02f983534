"""`sync`, `plan` and `explain`: load the config, take the lock, build connectors, run, report.

An error that ends the command (errors.EscalationSyncError) is left to run_sync.main, which
prints it and exits with its code.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import TextIO

from config.errors import ConfigError
from config.loader import load_config
from config.schema import Config
from errors import ExitCode, UsageError
from sync.checks import run_problems
from sync.connections import build_connectors
from sync.explain import print_explain
from sync.logs import setup_logging
from sync.metrics import export_run_metrics
from sync.pacing import run_policy
from sync.report import print_plan, print_rejections, summary_line
from sync.report_json import summary_json
from sync.run import RunResult, run_once
from sync.state_open import describe_state, open_store, run_lock, state_exists, store_faults
from sync.stopping import Interrupted, StopBetweenBatches, StopRequest, stopped_by_signals

log = logging.getLogger("escalation_sync")


def parse_now(text: str | None) -> datetime:
    """--now: an ISO 8601 moment with an offset (or Z); the real clock when absent."""
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--now {text!r} is not an ISO 8601 moment; expected e.g. 2026-11-23T09:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise UsageError(f"--now {text!r} has no offset; expected e.g. 2026-11-23T09:00:00+00:00")
    return moment.astimezone(UTC)


def load_for_run(args: argparse.Namespace, need_secrets: bool = True) -> Config:
    """The config; ConfigError when it cannot run (a matrix that cannot run; with
    `need_secrets`, an unset secret: explain reads only the mirror and needs none)."""
    config = load_config(args.config)
    problems = run_problems(config, secrets=need_secrets)
    if problems:
        raise ConfigError(problems)
    return config


def run_sync(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    config = load_for_run(args)
    setup_logging(
        args.log_format, args.verbose, [config.secret(name) for _, name in config.secret_refs()]
    )
    now = parse_now(args.now)
    state = config.state
    # The outer guard explains a lock file that cannot be made; the inner one, the state
    # file, and moves a damaged one aside while the lock is still held. SIGTERM or Ctrl-C
    # ends the run after the batch in progress (sync/stopping.py).
    try:
        with (
            stopped_by_signals(at_once=False) as stop,
            store_faults(state, move_damaged=False),
            run_lock(state),
            store_faults(state, move_damaged=True),
        ):
            result = _run_locked(config, args, now, stop)
    except Interrupted as stopped:
        print(_interrupted(stopped, args.log_format), file=out)
        return ExitCode.INTERRUPTED
    if args.log_format == "json":  # one JSON object on stdout, plan and rejections included
        print(summary_json(result), file=out)
        return result.exit_code
    if args.dry_run:
        print_plan(result, out)
    print_rejections(result, out)
    print(summary_line(result), file=out)
    return result.exit_code


def _interrupted(stopped: Interrupted, log_format: str) -> str:
    """The summary of a stopped sync: what was stored stays, the next run goes on from it."""
    message = (
        f"escalation-sync: {ExitCode.INTERRUPTED.meaning} ({stopped}); every page and batch "
        "of writes finished is stored, the next sync resumes from the stored cursors"
    )
    if log_format == "json":
        status = {"status": ExitCode.INTERRUPTED.meaning, "exit_code": int(ExitCode.INTERRUPTED)}
        return json.dumps({**status, "message": message})
    return message


def _run_locked(
    config: Config, args: argparse.Namespace, now: datetime, stop: StopRequest
) -> RunResult:
    """One run, under the run lock: open the state, build the connectors, run; `stop` ends it
    between batches and cuts a wait short."""
    store = open_store(config.state)
    try:
        connectors = build_connectors(config, replace(run_policy(config), sleep=stop.sleep))
        for connector in connectors.values():
            stop.see_writes_through(connector)
        started = time.monotonic()
        try:
            result = run_once(
                config,
                connectors,
                store,
                now,
                dry_run=args.dry_run,
                allow_backwards_clock=getattr(args, "allow_backwards_clock", False),
                listener=StopBetweenBatches(stop),
            )
            if getattr(args, "metrics_file", None) and not args.dry_run:
                elapsed = time.monotonic() - started
                levels = config.matrix.levels
                milestones = [m.name for m in config.matrix.sla.milestones]
                export_run_metrics(
                    args.metrics_file, store, result, now, elapsed, levels, milestones
                )
            return result
        finally:
            for connector in connectors.values():
                connector.close()
    finally:
        store.close()


def explain(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Why a ticket has its level, from the mirror of the last run (no system is called)."""
    out, err = out or sys.stdout, err or sys.stderr
    config = load_for_run(args, need_secrets=False)
    now = parse_now(args.now)
    if not state_exists(config.state):
        print(
            f"escalation-sync: no state at {describe_state(config.state)}; run sync first", file=err
        )
        return 1
    # No run lock here: a damaged file is reported, and left for the next sync to move.
    with store_faults(config.state, move_damaged=False):
        store = open_store(config.state)
        try:
            found = print_explain(config, store, args.ticket, now, out)
        finally:
            store.close()
    if not found:
        print(
            f"escalation-sync: {args.ticket} is not in the mirror (expected SYSTEM:ID, e.g. zendesk:123)",
            file=err,
        )
        return 1
    return 0
