"""Faults a test scripts per endpoint: error statuses, resets, slow answers, vendor-specific ones.

Transport faults (status, reset, delay) are applied by the server before the vendor handler
runs. Vendor faults (a Zendesk job failing for chosen tickets, a Salesforce per-record error, a
409 conflict, an expired session) are looked up by the vendor emulation with `take_vendor`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TRANSPORT_KINDS = ("status", "reset", "delay")


@dataclass
class Fault:
    endpoint: str  # route name, or "*" for every endpoint of the vendor
    kind: str  # "status" | "reset" | "delay" | a vendor kind such as "job_failure"
    times: int = 1  # how many requests it hits; -1 for until cleared
    status: int = 500
    retry_after: int | None = None
    delay_seconds: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)  # vendor kinds: ids, error codes...
    hits: int = 0


class FaultPlan:
    """Thread-safe list of scripted faults for one vendor."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take(
        self, endpoint: str, kinds: tuple[str, ...], where: Callable[[Fault], bool] | None = None
    ) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if (
                    fault.kind in kinds
                    and fault.endpoint in ("*", endpoint)
                    and (where is None or where(fault))
                ):
                    fault.hits += 1
                    if fault.times > 0 and fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    def take_transport(self, endpoint: str) -> Fault | None:
        return self._take(endpoint, TRANSPORT_KINDS)

    def take_vendor(
        self, endpoint: str, kind: str, where: Callable[[Fault], bool] | None = None
    ) -> Fault | None:
        """The first pending fault of `kind` for `endpoint` (and `where`, when given); counts a hit."""
        return self._take(endpoint, (kind,), where)

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)
