"""The command's exit codes and the one error root, in one place: what cron and monitoring see.

Each code names one kind of outcome that calls for its own action, so an alert can say what to
do without reading the log. `meaning` is the phrase the summary line starts with and the README's
exit-code table repeats (a test holds the two together). When a run meets several outcomes the
exit code is the first of: a machine fault (6-9, the run stops), credentials refused (5), a system
unreachable (3), records failed (1), quota-bound (10), notifications failed (12).

Every error that ends a command derives from `EscalationSyncError` and carries its exit code;
the CLI (run_sync.main) turns one into its line on stderr and its code, in one place. The
subclasses live with what raises them: ConfigError (config/errors.py), ConnectorError and its
kin (connectors/errors.py), LockHeld (sync/lock.py), StateFault (sync/state_faults.py),
ClockWentBackwards (sync/clock.py). This module imports none of the project's packages, so
every package may import it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    meaning: str

    def __new__(cls, value: int, meaning: str) -> ExitCode:
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    # Every record landed (a bad source record skipped is reported, not a failure).
    OK = 0, "ok"
    # A vendor rejected a record (this run, or an earlier one and the same values are still
    # held back), a write is to be retried, or a person edited a record while we wrote it.
    # Repeats on every run while one remains, so monitoring keeps seeing it.
    RECORDS_FAILED = 1, "some records failed"
    # The configuration is wrong: file, key, line and expectation printed; a missing secret too.
    CONFIG_ERROR = 2, "configuration error"
    # A system did not answer (network, outage, rate limit beyond the run's patience); the
    # others were synced and its writes wait for the next run. Also a PostgreSQL state
    # database that cannot be reached (sync/state_faults_pg.py).
    UNREACHABLE = 3, "a system could not be reached"
    # Another run holds the lock: this one left at once (not a fault when runs overlap).
    LOCKED = 4, "another run holds the lock"
    # A system answered and refused our credentials: it will not pass by itself; a person must
    # fix the secret or the integration user. The other systems were synced. Also the
    # PostgreSQL state database refusing its role or password.
    CREDENTIALS_REFUSED = 5, "a system refused our credentials"
    # The state file is damaged (malformed, not a database): it was moved aside for inspection
    # and the next run starts afresh as a first run.
    STATE_DAMAGED = 6, "the state file is damaged"
    # The state file's file system is full: the file holds the last completed step.
    STATE_FULL = 7, "no space left for the state file"
    # The state file or its lock cannot be created or written (read-only file system,
    # permissions, a directory in its place).
    STATE_NOT_WRITABLE = 8, "the state file cannot be written"
    # The clock (or --now) is earlier than the last run's beyond the tolerated skew: refused
    # unless --allow-backwards-clock is given.
    CLOCK_BACKWARDS = 9, "the clock is earlier than the last run's"
    # A vendor's quota (or the run's waiting budget, `sync.max_wait`) ran out before everything
    # was read or written: every system answered, what was read is stored with its cursor and
    # written, and the next run goes on from there. Expected while a large org's first sync
    # works through its backlog; a code of its own so monitoring can tell it from an outage
    # (3), and notice when it never ends (the quota is too small for the org's rate of change).
    QUOTA_BOUND = 10, "quota-bound, resuming next run"
    # `sync` or `backfill` stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it, for
    # both signals): the pages read and the writes answered are stored with their cursors and
    # the next backfill or sync resumes from them (sync/stopping.py).
    INTERRUPTED = 130, "interrupted, resuming next run"
    # `doctor` found a problem in a system's setup (a field missing or of the wrong type, an
    # option or permission missing): each is printed with its fix, most often "run provision".
    SETUP_PROBLEMS = 11, "doctor found a problem"
    # Every record landed, but a notification did not go: a channel refused it, failed (it is
    # retried on later runs), lost its answer (not resent) or was given up. The field writes
    # are never held up by a channel; this code comes after all the others.
    NOTIFICATIONS_FAILED = 12, "some notifications failed"


class EscalationSyncError(Exception):
    """The root of every error that ends a command; the message is the line a person reads
    (never a secret, never a traceback)."""

    exit_code: ClassVar[ExitCode]

    def report(self) -> str:
        """What the CLI prints after "escalation-sync: "."""
        return str(self)


class UsageError(EscalationSyncError):
    """A command-line value that cannot be used (e.g. a --now without an offset)."""

    exit_code = ExitCode.CONFIG_ERROR
