"""A PostgreSQL state store's errors as one line a person can act on, with its exit code.

The SQLite faults (sync/state_faults.py) are about a file: damaged, a full disk, a read-only
folder. A database server fails differently: it cannot be reached, it refuses the role or its
password, the database or schema is missing, the role may not write, the server's disk is
full. Each gets its own line naming the state by its URL (never its password) and an exit
code from errors.py. Nothing is ever moved aside or deleted: the server owns the data, and
a transaction that failed was rolled back, so the next run resumes from the last committed
step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from errors import ExitCode
from sync.migrations import SchemaTooNew
from sync.state_faults import StateFault

# libpq's words for a refused login: it reports them before there is a session (no SQLSTATE).
_REFUSED_WORDS = (
    "password authentication failed",
    "authentication failed",
    "no pg_hba.conf entry",
    "no password supplied",
    'role "',  # role "x" does not exist
)
_MISSING_WORDS = ("does not exist",)


class StateUnreachable(StateFault):
    exit_code = ExitCode.UNREACHABLE


class StateCredentialsRefused(StateFault):
    exit_code = ExitCode.CREDENTIALS_REFUSED


class StateDatabaseFull(StateFault):
    exit_code = ExitCode.STATE_FULL


class StateDatabaseDamaged(StateFault):
    exit_code = ExitCode.STATE_DAMAGED


class StateDatabaseNotWritable(StateFault):
    exit_code = ExitCode.STATE_NOT_WRITABLE


class StatePasswordMissing(StateFault):
    exit_code = ExitCode.CONFIG_ERROR


def _words(error: BaseException) -> str:
    """The error's text on one line, without psycopg's "connection failed:" preamble."""
    text = re.sub(r"\s+", " ", str(error)).strip()
    return text.removeprefix("connection failed: ") or type(error).__name__


def classify_pg(error: BaseException, where: str) -> StateFault | None:
    """The StateFault behind a psycopg error, or None when `error` is not one."""
    try:
        import psycopg
    except ImportError:  # no PostgreSQL support installed: nothing can have come from it
        return None
    if not isinstance(error, psycopg.Error):
        return None
    words = _words(error)
    state = getattr(error, "sqlstate", None) or ""
    if state.startswith("28") or (not state and any(w in words for w in _REFUSED_WORDS)):
        return StateCredentialsRefused(
            f"the state database {where} refused our credentials ({words}); check the role in "
            "state.url and the password in the variable state.password_env names"
        )
    if state in ("3D000", "3F000") or (not state and any(w in words for w in _MISSING_WORDS)):
        return StateDatabaseNotWritable(
            f"the state database {where} is missing ({words}); create it (createdb, or CREATE "
            "SCHEMA for a search_path) and run again: the first run starts the state"
        )
    if state == "53100":
        return StateDatabaseFull(
            f"the state database {where} has no space left ({words}); free space on the "
            "server and run again: the database holds the last completed step"
        )
    if state in ("XX001", "XX002"):
        return StateDatabaseDamaged(
            f"the state database {where} reports damaged data ({words}); restore it from a "
            "backup, or point state.url at an empty database for a first run"
        )
    if state in ("42501", "25006"):
        return StateDatabaseNotWritable(
            f"the state database {where} cannot be written ({words}); grant the role in "
            "state.url the right to create and write its tables, and run again"
        )
    if (
        not state
        or state.startswith("08")
        or state in ("57P01", "57P02", "57P03", "53300")
        or isinstance(error, psycopg.InterfaceError)
    ):
        return StateUnreachable(
            f"the state database {where} could not be reached ({words}); nothing more was "
            "written; the next run resumes from the last completed step"
        )
    return StateDatabaseNotWritable(
        f"the state database {where} failed ({words}); the transaction was rolled back and "
        "the next run resumes from the last completed step"
    )


@contextmanager
def pg_faults(where: str) -> Iterator[None]:
    """Turn psycopg's errors about the state database into a StateFault."""
    try:
        yield
    except StateFault:
        raise
    except SchemaTooNew as too_new:
        raise StateDatabaseNotWritable(str(too_new)) from None
    except Exception as error:
        fault = classify_pg(error, where)
        if fault is None:
            raise
        raise fault from error
