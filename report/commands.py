"""`escalation-sync report --config F [--since 90d] [--renewal-days 90] --out DIR`.

Reads the state store only (no secrets needed, no vendor called), so it can run anywhere the
state file is readable, also while a sync runs.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TextIO

from config.errors import ConfigError
from config.loader import load_config
from report.build import build_report, write_report
from sync.commands import parse_now
from sync.state_faults import StateFault
from sync.state_open import describe_state, open_store, state_exists, store_faults

EXIT_OK, EXIT_NO_STATE, EXIT_CONFIG_ERROR = 0, 1, 2
_PERIOD = re.compile(r"^\s*(\d+)\s*([dw])\s*$")


def parse_period(text: str) -> int:
    """--since: "90d" or "13w" -> days."""
    match = _PERIOD.match(text or "")
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"--since {text!r}: expected days or weeks, e.g. 90d or 13w")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def report(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"escalation-sync: the configuration has {len(error.problems)} problem(s):", file=err)
        for problem in error.problems:
            print(f"  {problem}", file=err)
        return EXIT_CONFIG_ERROR
    try:
        now = parse_now(args.now)
        since_days = parse_period(args.since)
        if args.renewal_days < 1:
            raise ValueError(
                f"--renewal-days {args.renewal_days}: expected a number of days, 1 or more"
            )
    except ValueError as error:
        print(f"escalation-sync: {error}", file=err)
        return EXIT_CONFIG_ERROR
    if not state_exists(config.state):
        print(
            f"escalation-sync: no state at {describe_state(config.state)}; run sync first", file=err
        )
        return EXIT_NO_STATE
    try:
        with store_faults(config.state, move_damaged=False):
            store = open_store(config.state)
            try:
                accounts = config.matrix.accounts
                account_levels = tuple(accounts.levels) if accounts is not None else ()
                built = build_report(
                    store, config.matrix.levels, now, since_days, args.renewal_days, account_levels
                )
            finally:
                store.close()
    except StateFault as fault:
        print(f"escalation-sync: {fault}", file=err)
        return fault.exit_code
    try:
        path = write_report(built, args.out)
    except OSError as error:
        print(f"escalation-sync: cannot write the report to {args.out}: {error}", file=err)
        return EXIT_NO_STATE
    print(f"report: {path}", file=out)
    return EXIT_OK
