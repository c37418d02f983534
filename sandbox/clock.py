"""The record clock of the emulated vendors: wall time plus an offset tests move.

Zendesk stamps tickets in epoch seconds, Jira in epoch milliseconds and Salesforce in
datetimes; all three read the same kind of clock, so a test moves time in any of them the
same way (`advance`, `set`) instead of learning three interfaces.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    """Wall time plus an offset. Thread-safe: the sandbox serves requests from many threads."""

    def __init__(self, source: Callable[[], float] = time.time):
        self._source = source
        self._offset = 0.0
        self._lock = threading.Lock()

    def timestamp(self) -> float:
        """Now, in epoch seconds."""
        with self._lock:
            return self._source() + self._offset

    def now_ms(self) -> int:
        """Now, in epoch milliseconds (Jira's precision)."""
        return int(self.timestamp() * 1000)

    def now(self) -> datetime:
        """Now, as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def advance(self, seconds: float) -> None:
        """Move the clock `seconds` forward (backward when negative)."""
        with self._lock:
            self._offset += seconds

    def set(self, moment: datetime) -> None:
        """Make it `moment` now; the clock runs on from there."""
        with self._lock:
            self._offset = moment.timestamp() - self._source()

    @property
    def offset(self) -> float:
        """Seconds ahead of wall time: what a saved sandbox state keeps of the clock."""
        with self._lock:
            return self._offset

    @offset.setter
    def offset(self, seconds: float) -> None:
        with self._lock:
            self._offset = float(seconds)
