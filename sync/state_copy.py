"""`escalation-sync state copy --config F --to postgresql://user@host/db`: move a SQLite state.

Moving to PostgreSQL keeps everything a run remembers: cursors (no second backfill), the
mirror, the values written (recognised, not written again), overrides, failures, notes (not
sent twice), runs, the audit log and the report's history. Every table the migrations create
is copied column by column in one transaction, ids included, in the order SQLite inserted the
rows; then the target's counters continue after the copied ids and every table's count is
compared with the source's before the transaction commits. A target that already holds a state
is refused unless `--force` (which empties it first, in the same transaction).

Both stores are locked meanwhile (the file's flock, the database's advisory lock), so no sync
writes to either during the copy. The source is only read.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from pydantic import ValidationError

from config.errors import ConfigError
from config.loader import load_config
from config.policy import StateConfig
from config.state_url import display_url, url_problem
from errors import ExitCode
from sync.lock import LockHeld
from sync.migrations import table_names
from sync.state import StateStore
from sync.state_faults import StateFault
from sync.state_faults_pg import StatePasswordMissing
from sync.state_open import open_store, run_lock, store_faults

VERSION_TABLE = "schema_version"  # made by each store's own migrations, not copied


class CopyRefused(Exception):
    """The target holds a state already, or the counts differ: nothing was committed."""


def copy_state(source: StateStore, target: StateStore, force: bool = False) -> dict[str, int]:
    """Copy every table of `source` into `target` in one transaction; rows per table."""
    tables = [name for name in table_names() if name != VERSION_TABLE]
    held = {name: _count(target, name) for name in tables}
    if any(held.values()) and not force:
        raise CopyRefused(
            f"the target {target.backend.describe()} already holds a state ({held['runs']} "
            f"runs, {held['tickets']} tickets); nothing was copied. Add --force to replace it"
        )
    with target.transaction():
        for name in tables:
            target.db.execute(f"DELETE FROM {name}")
            columns = _columns(source, name) & _columns(target, name)
            ordered = [c for c in _column_order(source, name) if c in columns]
            rows = source.db.execute(
                f"SELECT {', '.join(ordered)} FROM {name} ORDER BY {source.dialect.insertion_order}"
            )
            target.backend.bulk_insert(name, ordered, rows)
        target.backend.reset_ids()
        counts = {name: (_count(source, name), _count(target, name)) for name in tables}
        differing = {name: pair for name, pair in counts.items() if pair[0] != pair[1]}
        if differing:  # raised inside the transaction: it rolls back
            raise CopyRefused(
                "the counts differ after the copy (table: source, target): "
                + ", ".join(f"{name}: {a}, {b}" for name, (a, b) in differing.items())
                + "; nothing was committed"
            )
    return {name: in_target for name, (_, in_target) in counts.items()}


def _count(store: StateStore, table: str) -> int:
    return int(store.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _column_order(store: StateStore, table: str) -> list[str]:
    cursor = store.db.execute(f"SELECT * FROM {table} LIMIT 0")
    return [column[0] for column in cursor.description]


def _columns(store: StateStore, table: str) -> set[str]:
    return set(_column_order(store, table))


# -- the command -----------------------------------------------------------------------------


def state_copy(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """`state copy`: the config's SQLite state into the database at --to."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"escalation-sync: the configuration has {len(error.problems)} problem(s):", file=err)
        for config_problem in error.problems:
            print(f"  {config_problem}", file=err)
        return ExitCode.CONFIG_ERROR
    state = config.state
    problem = url_problem(args.to)
    if problem is None and state.url is not None:
        problem = (
            f"the config's state is already the database {display_url(state.url)}; state copy "
            "moves a SQLite state (state.path) into one"
        )
    if problem:
        print(f"escalation-sync: --to: {problem}", file=err)
        return ExitCode.CONFIG_ERROR
    if not state.path.exists():
        print(f"escalation-sync: no state at {state.path}; nothing to copy", file=err)
        return 1
    target_name = display_url(args.to)
    try:
        _password(args.password_env)  # checked first, to name --password-env if it is unset
        target_state = StateConfig(url=args.to, password_env=args.password_env)
    except ValidationError:
        print(
            f"escalation-sync: --password-env {args.password_env!r} is not a variable name",
            file=err,
        )
        return ExitCode.CONFIG_ERROR
    except StateFault as fault:
        print(f"escalation-sync: {fault}", file=err)
        return fault.exit_code
    try:
        # Both stores opened, locked and guarded as every command does (sync/state_open.py).
        with (
            store_faults(state, move_damaged=False),
            store_faults(target_state, move_damaged=False),
            run_lock(state),
            run_lock(target_state),
        ):
            source = open_store(state)
            try:
                target = open_store(target_state)
                try:
                    counts = copy_state(source, target, force=args.force)
                finally:
                    target.close()
            finally:
                source.close()
    except (LockHeld, StateFault) as error:
        print(f"escalation-sync: {error}", file=err)
        return ExitCode.LOCKED if isinstance(error, LockHeld) else error.exit_code
    except CopyRefused as refused:
        print(f"escalation-sync: {refused}", file=err)
        return 1
    for name, count in counts.items():
        print(f"  {name:<15} {count:>10}", file=out)
    print(
        f"escalation-sync: copied the state {state.path} to {target_name}: "
        f"{sum(counts.values())} rows in {len(counts)} tables, the counts match the source. "
        f"Point the config at it: state.url: {target_name}"
        + (f", state.password_env: {args.password_env}" if args.password_env else ""),
        file=out,
    )
    return ExitCode.OK


def _password(env_name: str | None) -> str | None:
    if env_name is None:
        return None
    value = os.environ.get(env_name)
    if not value:
        raise StatePasswordMissing(
            f"environment variable {env_name} (--password-env) is not set (or empty); expected "
            "it to hold the password of the target database"
        )
    return value
