"""What every vendor emulation provides to the server: routes, auth, quotas and error bodies."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.faults import FaultPlan
from sandbox.http import Request, Response, Route
from sandbox.quotas import QuotaRule, Quotas, QuotaVerdict


@dataclass
class WriteLogEntry:
    at: float
    endpoint: str
    method: str
    path: str
    body: Any


@dataclass
class Traffic:
    """Per-endpoint request counts and a log of writes, for tests and benchmarks."""

    requests: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)  # (endpoint, status) -> count
    writes: list[WriteLogEntry] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0  # requests received and not yet answered (the admin view's excepted)
    _idle: threading.Condition = field(default_factory=threading.Condition)

    def record(self, endpoint: str, status: int) -> None:
        with self.lock:
            self.requests[endpoint] += 1
            self.statuses[(endpoint, status)] += 1

    def started(self) -> None:
        with self._idle:
            self.in_flight += 1

    def finished(self) -> None:
        with self._idle:
            self.in_flight -= 1
            self._idle.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until no request is in flight (e.g. one a "delay" fault holds, whose client
        gave up on it); False if one still is after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self.in_flight == 0, timeout)

    def record_write(self, request: Request, endpoint: str) -> None:
        try:
            body = request.json()
        except ValueError:
            body = request.body.decode("utf-8", "replace")
        with self.lock:
            self.writes.append(
                WriteLogEntry(time.time(), endpoint, request.method, request.path, body)
            )

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.statuses.clear()
            self.writes.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": dict(self.requests),
                "statuses": {f"{e} {s}": n for (e, s), n in self.statuses.items()},
                "writes": len(self.writes),
            }


class VendorApp:
    """Base class of the three emulations. Subclasses fill in routes and vendor bodies.

    `state_lock` serialises handlers: the emulations keep their data in plain dicts.
    """

    name = "vendor"

    def __init__(self, quota_rules: list[QuotaRule] | None = None, time_factor: float = 1.0):
        self.faults = FaultPlan()
        self.quotas = Quotas(
            quota_rules if quota_rules is not None else self.default_quota_rules(), time_factor
        )
        self.traffic = Traffic()
        self.state_lock = threading.RLock()
        self.base_url = ""  # set by the server once it listens

    # -- to override -------------------------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def default_quota_rules(self) -> list[QuotaRule]:
        return []

    def authenticate(self, request: Request, route: Route) -> Response | None:
        """None when the request may proceed, else the vendor's 401/403 response."""
        return None

    def rate_limited(self, verdict: QuotaVerdict, route: Route) -> Response:
        return Response(
            429, {"error": "rate limited"}, {"Retry-After": str(verdict.retry_after_seconds)}
        )

    def rate_limit_headers(self, verdict: QuotaVerdict, route: Route) -> dict[str, str]:
        return {}

    def error_body(self, status: int, route: Route) -> Any:
        return {"error": f"HTTP {status}"}

    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": "InvalidEndpoint", "description": "Not found"})

    # -- state persistence (demo re-runs) ------------------------------------------------
    def dump_state(self) -> dict[str, Any]:
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        pass
