"""The configured state store, its run lock and its faults: SQLite or PostgreSQL.

The commands ask here instead of looking at `state.path`: with `state.url` the state is a
PostgreSQL database (sync/store_postgres.py), locked with an advisory lock (sync/pg_lock.py),
its errors explained by sync/state_faults_pg.py; without, the SQLite file, flock and
sync/state_faults.py, exactly as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from config.policy import StateConfig
from config.state_url import display_url
from sync.lock import RunLock
from sync.pg_lock import AdvisoryLock
from sync.state import StateStore
from sync.state_faults import open_state, state_faults
from sync.state_faults_pg import StatePasswordMissing, pg_faults


def describe_state(state: StateConfig) -> str:
    """The state's name in messages: the file's path, or the URL without secrets."""
    return display_url(state.url) if state.url else str(state.path)


def state_password(state: StateConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The PostgreSQL password from the variable `state.password_env` names (None: libpq's
    own sources apply). Read when connecting, never kept in the config or logged."""
    if state.password_env is None:
        return None
    value = (os.environ if environ is None else environ).get(state.password_env)
    if not value:
        raise StatePasswordMissing(
            f"environment variable {state.password_env} (state.password_env) is not set (or "
            "empty); expected it to hold the password of the state database "
            f"{describe_state(state)}"
        )
    return value


def open_store(state: StateConfig) -> StateStore:
    """The state store, its schema brought up to date (sync/migrations.py)."""
    if state.url is None:
        return open_state(state.path)
    from sync.store_postgres import PostgresBackend

    return StateStore(backend=PostgresBackend(state.url, state_password(state)))


def run_lock(state: StateConfig) -> RunLock | AdvisoryLock:
    """One run at a time: flock beside the file, or an advisory lock in the database."""
    if state.url is None:
        return RunLock(state.lock_file)
    return AdvisoryLock(state.url, state_password(state))


def state_exists(state: StateConfig) -> bool:
    """Whether there is a state to read (a database always is: empty, it has no runs)."""
    return state.url is not None or state.path.exists()


@contextmanager
def store_faults(state: StateConfig, move_damaged: bool) -> Iterator[None]:
    """Errors about the state as a StateFault (sync/state_faults.py, state_faults_pg.py).

    `move_damaged` (SQLite only, under the run lock): a damaged file is moved aside. A
    database is never moved or emptied.
    """
    if state.url is None:
        with state_faults(state.path, state.lock_file, move_damaged):
            yield
    else:
        with pg_faults(describe_state(state)):
            yield
