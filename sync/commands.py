"""`sync`, `plan` and `explain`: load the config, take the lock, build connectors, run, report."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from config.errors import ConfigError
from config.loader import load_config
from config.schema import Config
from connectors.errors import AuthError, ConnectorError, SystemUnavailable
from sync.connections import build_connectors
from sync.lock import LockHeld, RunLock
from sync.logs import setup_logging
from sync.metrics import export_run_metrics
from sync.report import print_explain, print_plan, print_rejections, summary_line
from sync.run import run_once
from sync.state import StateStore

log = logging.getLogger("escalation_sync")

EXIT_CONFIG_ERROR, EXIT_UNREACHABLE, EXIT_LOCKED = 2, 3, 4


def parse_now(text: str | None) -> datetime:
    """--now: an ISO 8601 moment with an offset (or Z); the real clock when absent."""
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--now {text!r} is not an ISO 8601 moment; expected e.g. 2026-11-23T09:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"--now {text!r} has no offset; expected e.g. 2026-11-23T09:00:00+00:00")
    return moment.astimezone(UTC)


def _load(args: argparse.Namespace, err: TextIO) -> Config | None:
    try:
        config = load_config(args.config)
        problems = config.check_environment()
        if problems:
            raise ConfigError(problems)
        return config
    except ConfigError as error:
        print(f"escalation-sync: the configuration has {len(error.problems)} problem(s):", file=err)
        for problem in error.problems:
            print(f"  {problem}", file=err)
        return None


def run_sync(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    config = _load(args, err)
    if config is None:
        return EXIT_CONFIG_ERROR
    setup_logging(
        args.log_format, args.verbose, [config.secret(name) for _, name in config.secret_refs()]
    )
    try:
        now = parse_now(args.now)
    except ValueError as error:
        print(f"escalation-sync: {error}", file=err)
        return EXIT_CONFIG_ERROR
    try:
        with RunLock(config.state.lock_file):
            store = StateStore(config.state.path)
            try:
                connectors = build_connectors(config)
            except (AuthError, SystemUnavailable) as error:
                print(f"escalation-sync: {error}", file=err)
                return EXIT_UNREACHABLE
            started = time.monotonic()
            try:
                result = run_once(config, connectors, store, now, dry_run=args.dry_run)
                if getattr(args, "metrics_file", None) and not args.dry_run:
                    export_run_metrics(
                        args.metrics_file,
                        store,
                        result,
                        now,
                        time.monotonic() - started,
                        config.matrix.levels,
                    )
            finally:
                for connector in connectors.values():
                    close = getattr(connector, "close", None)
                    if close is not None:
                        close()
                store.close()
    except LockHeld as error:
        print(f"escalation-sync: {error}", file=err)
        return EXIT_LOCKED
    except ConnectorError as error:
        print(f"escalation-sync: {error}", file=err)
        return EXIT_UNREACHABLE
    if args.dry_run:
        print_plan(result, out)
    print_rejections(result, out)
    print(summary_line(result), file=out)
    return result.exit_code


def explain(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Why a ticket has its level, from the mirror of the last run (no system is called)."""
    out, err = out or sys.stdout, err or sys.stderr
    config = _load(args, err)
    if config is None:
        return EXIT_CONFIG_ERROR
    try:
        now = parse_now(args.now)
    except ValueError as error:
        print(f"escalation-sync: {error}", file=err)
        return EXIT_CONFIG_ERROR
    if not config.state.path.exists():
        print(f"escalation-sync: no state at {config.state.path}; run sync first", file=err)
        return 1
    store = StateStore(config.state.path)
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
