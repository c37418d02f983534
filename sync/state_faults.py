"""Faults of the machine around the state file: one plain line and an exit code each.

SQLite and the OS report them as exceptions from deep inside a run (a truncated or garbled file,
a full disk, a read-only file system); cron needs one line that names the file and says what to
do, and an exit code of its own (errors.py), not a traceback and "some records failed".

A damaged state file is never deleted or written over: it is renamed aside, with its -wal and
-shm, to `<name>.damaged-<UTC time>` for inspection, and the run stops. The next run finds no
state file and is a first run: it reads every system again and recognises the values already in
place. Someone who has a backup puts it in place before then and keeps the history.

A full disk or a read-only folder leaves the file as SQLite last committed it (a write that
fails rolls back), so the next run after the fix resumes from it, as after a crash.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from errors import EscalationSyncError, ExitCode
from sync.migrations import SchemaTooNew
from sync.state import StateStore

SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's companions of a database file

# SQLite's primary result codes (the low byte of an extended code).
_DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_FULL = {sqlite3.SQLITE_FULL}
_NOT_WRITABLE = {
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_IOERR,
}
# SQLite reports some writes that failed for want of space as I/O errors (extending its -shm
# file, say): on a file system with next to nothing left, that is what they are.
_MAYBE_FULL = {sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
_LOW_SPACE = 1 << 20
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_CANNOT_WRITE = {
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EISDIR,
    errno.ENOTDIR,
    errno.ENOENT,
}


class StateFault(EscalationSyncError):
    """The state file cannot be used; the message is the whole line a person reads."""

    exit_code = ExitCode.STATE_NOT_WRITABLE


class StateDamaged(StateFault):
    exit_code = ExitCode.STATE_DAMAGED

    def __init__(self, path: Path, words: str, message: str | None = None):
        self.path = path
        self.words = words
        super().__init__(
            message
            or f"the state file {path} is damaged ({words}); the next sync moves it aside and "
            "starts afresh as a first run"
        )


class StateFull(StateFault):
    exit_code = ExitCode.STATE_FULL


class StateNotWritable(StateFault):
    exit_code = ExitCode.STATE_NOT_WRITABLE


def open_state(path: Path) -> StateStore:
    """The state store, checked: SQLite finds some damage only when it reads the page, so a
    run could write into a damaged file for a while; `quick_check` reads every page first
    (about 0.1 s for a 140 MB file)."""
    store = StateStore(path)
    try:
        found = [row[0] for row in store.db.execute("PRAGMA quick_check(3)")]
    except BaseException:
        store.close()
        raise
    if found != ["ok"]:
        store.close()
        lines = [line for row in found for line in row.splitlines() if not line.startswith("***")]
        raise StateDamaged(path, "SQLite's check: " + "; ".join(lines[:2]))
    return store


def classify(error: BaseException, path: Path, lock_file: Path) -> StateFault | None:
    """The StateFault behind an error from SQLite or the OS, or None when it is not about the
    state file, its folder or its lock file (then it is not ours to explain)."""
    if isinstance(error, sqlite3.Error):
        code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
        words = str(error)
        if code in _DAMAGED:
            return StateDamaged(path, words)
        if code in _FULL or (code in _MAYBE_FULL and _space_left(path.parent) < _LOW_SPACE):
            return _full(path, words)
        if code in _NOT_WRITABLE:
            return _not_writable(path, words)
        return None
    if isinstance(error, OSError) and error.filename is not None:
        named = Path(os.fsdecode(error.filename))
        if not _concerns(named, path) and not _concerns(named, lock_file):
            return None
        words = f"[Errno {error.errno}] {error.strerror}"
        if error.errno in _NO_SPACE:
            return _full(named, words)
        if error.errno in _CANNOT_WRITE:
            return _not_writable(named, words)
    return None


def _space_left(folder: Path) -> int:
    """Bytes this process may still write in `folder`'s file system (root may use the
    blocks reserved for it); a large number when it cannot be told."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return 1 << 62
    blocks = stats.f_bfree if os.geteuid() == 0 else stats.f_bavail
    return blocks * stats.f_frsize


def _full(path: Path, words: str) -> StateFull:
    return StateFull(
        f"no space left for the state file {path} ({words}); free space on its file system and "
        "run again: the file holds the last completed step and the next run resumes from it"
    )


def _not_writable(path: Path, words: str) -> StateNotWritable:
    return StateNotWritable(
        f"cannot write {path} ({words}); make {path.parent} writable, or point state.path "
        "(and state.lock_path) at a writable folder, and run again"
    )


def _concerns(named: Path, path: Path) -> bool:
    """Whether an OS error names the file, one of its side files, or a folder above it."""
    if named in path.parents:
        return True
    return named.parent == path.parent and named.name.startswith(path.name)


def move_aside(path: Path, at: datetime | None = None) -> Path:
    """Rename a damaged state file and its side files to `<name>.damaged-<UTC time>`; returns
    the new name. Side files go first: a -wal left behind would be replayed into the new file."""
    stamp = (at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while any(aside.with_name(aside.name + s).exists() for s in ("", *SIDE_FILES)):
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.rename(side, aside.with_name(aside.name + suffix))
    os.rename(path, aside)
    return aside


@contextmanager
def state_faults(path: Path, lock_file: Path, move_damaged: bool) -> Iterator[None]:
    """Turn SQLite's and the OS's errors about the state file into a StateFault.

    With `move_damaged` (only while holding the run lock, and after the store is closed: no
    other run has the file open) a damaged file is moved aside and the message says where.
    """
    try:
        yield
    except StateDamaged as damaged:
        raise _moved(damaged, move_damaged) from None
    except SchemaTooNew as too_new:
        raise StateNotWritable(str(too_new)) from None
    except (sqlite3.Error, OSError) as error:
        fault = classify(error, path, lock_file)
        if fault is None:
            raise
        if isinstance(fault, StateDamaged):
            fault = _moved(fault, move_damaged)
        raise fault from error


def _moved(damaged: StateDamaged, move: bool) -> StateFault:
    if not move or not damaged.path.exists():
        return damaged
    try:
        aside = move_aside(damaged.path)
    except OSError as error:
        return StateDamaged(
            damaged.path,
            damaged.words,
            f"the state file {damaged.path} is damaged ({damaged.words}) and could not be moved "
            f"aside ([Errno {error.errno}] {error.strerror}); move it away yourself (keep it for "
            "inspection) and run again: the next run is a first run",
        )
    return StateDamaged(
        damaged.path,
        damaged.words,
        f"the state file {damaged.path} is damaged ({damaged.words}); kept it for inspection "
        f"as {aside}; the next run starts afresh as a first run (to keep the history, put a "
        f"backup at {damaged.path} before then)",
    )
