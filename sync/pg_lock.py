"""One run at a time on a PostgreSQL state: a session advisory lock, on any machine.

`pg_try_advisory_lock` on a key derived from the state's identity (its database and schema,
sync/store_postgres.py): runs on two machines that share the state never overlap, and the
second leaves at once (exit 4) as with flock. The lock belongs to a connection of its own:
when the run ends, or dies, its session ends and the server releases the lock, so a killed
run leaves nothing behind for the next one. Needs a direct connection or a pooler in session
mode (a transaction-mode pooler hands the session to others).
"""

from __future__ import annotations

import logging
from types import TracebackType

from config.state_url import display_url
from sync.lock import LockHeld
from sync.store_postgres import PostgresBackend, identity_key

log = logging.getLogger("escalation_sync.lock")

_HOLDER = (
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = ? "
    "AND l.objid::bigint = ? AND l.objsubid = 1"
)


class AdvisoryLock:
    """The run lock of a PostgreSQL state; a context manager like sync.lock.RunLock."""

    def __init__(self, url: str, password: str | None):
        self.url = url
        self._password = password
        self._backend: PostgresBackend | None = None
        self._key = 0

    def acquire(self) -> AdvisoryLock:
        backend = PostgresBackend(self.url, self._password)
        try:
            key = identity_key(backend, "run")
            taken = backend.db.execute("SELECT pg_try_advisory_lock(?)", (key,)).fetchone()[0]
            if not taken:
                holder = self._holder(backend, key)
                raise LockHeld(
                    f"another run holds the lock on the state {display_url(self.url)} "
                    f"({holder}); exiting"
                )
        except BaseException:
            backend.close()
            raise
        self._backend, self._key = backend, key
        return self

    @staticmethod
    def _holder(backend: PostgresBackend, key: int) -> str:
        """The holder's application name ("escalation-sync pid N on HOST"), if visible."""
        unsigned = key & 0xFFFFFFFFFFFFFFFF
        row = backend.db.execute(_HOLDER, (unsigned >> 32, unsigned & 0xFFFFFFFF)).fetchone()
        return row[0] if row and row[0] else "held by a session of another program"

    def release(self) -> None:
        if self._backend is not None:
            backend, self._backend = self._backend, None
            try:
                backend.db.execute("SELECT pg_advisory_unlock(?)", (self._key,))
            except Exception as error:  # the session is gone: so is its lock
                log.debug("could not unlock the state's advisory lock: %s", error)
            finally:
                backend.close()  # ending the session releases it in any case

    def __enter__(self) -> AdvisoryLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
