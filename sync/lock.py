"""One run at a time: an exclusive, non-blocking lock on a file next to the state store."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from errors import EscalationSyncError, ExitCode


class LockHeld(EscalationSyncError):
    """Another run holds the lock."""

    exit_code = ExitCode.LOCKED


class RunLock:
    """flock-based: the kernel releases it when the process dies, so a killed run leaves no
    stale lock behind for the next cron invocation."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockHeld(
                f"another run holds the lock {self.path} (pid {holder}); exiting"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
