"""The org's API request allowance: a rolling 24-hour count, as Salesforce enforces it.

Every authenticated REST request counts; past the limit Salesforce answers 403
REQUEST_LIMIT_EXCEEDED ("TotalRequests Limit exceeded.") and reports usage in the
`Sforce-Limit-Info: api-usage=N/M` header of every answer, and in
`GET /services/data/vXX.X/limits` (`DailyApiRequests: {Max, Remaining}`). The allowance is the
org's, shared with every other integration: `used_by_others` stands for their requests, so a
test can start a run near a reserve.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from sandbox.quotas import QuotaRule

DEFAULT_DAILY_LIMIT = 100_000  # Enterprise Edition base allowance before per-licence additions
DAY_SECONDS = 24 * 3600.0
ALL_ENDPOINTS_RULE = "salesforce-per-minute"


class ApiAllowance:
    """Rolling-window request counter. `enforced` False only counts (quotas switched off)."""

    def __init__(
        self,
        limit: int = DEFAULT_DAILY_LIMIT,
        window_seconds: float = DAY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.limit = limit
        self.window_seconds = window_seconds
        self.forced = False  # set by tests that want the limit even with quotas off
        self.used_by_others = 0  # requests of the org's other integrations in the window
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def configure(
        self,
        limit: int,
        window_seconds: float | None = None,
        force: bool = True,
        used_by_others: int = 0,
    ) -> None:
        with self._lock:
            self.limit = limit
            if window_seconds is not None:
                self.window_seconds = window_seconds
            self.forced = force
            self.used_by_others = used_by_others
            self._sent.clear()

    def _expire(self, now: float) -> None:
        horizon = now - self.window_seconds
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()

    def take(self, enforced: bool) -> bool:
        """Count one request; False (and not counted) when the allowance is spent."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            if (enforced or self.forced) and self._used() >= self.limit:
                return False
            self._sent.append(now)
            return True

    def _used(self) -> int:
        return self.used_by_others + len(self._sent)

    def usage(self) -> tuple[int, int]:
        """(requests used in the window, the limit), as the header and /limits report them."""
        with self._lock:
            self._expire(self._clock())
            return self._used(), self.limit

    def header(self) -> str:
        used, limit = self.usage()
        return f"api-usage={used}/{limit}"


def per_minute_rule(limit: int, endpoints: tuple[str, ...]) -> QuotaRule:
    """A sandbox-only per-minute ceiling for the benchmarks (Salesforce itself has none).

    It covers the API `endpoints` (not the OAuth token endpoint, which is not an API call) and
    is answered with 429 and Retry-After, so the shared transport policy paces against it.
    """
    return QuotaRule(ALL_ENDPOINTS_RULE, limit, 60.0, endpoints)
