"""Vendor-like request quotas: fixed windows per rule, answered with 429 and Retry-After."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class QuotaRule:
    """At most `limit` requests per `window_seconds` for the endpoints the rule selects.

    `endpoints` names routes; an empty tuple means every endpoint of the vendor (the
    account-wide limit). A request counts against every rule that selects it.
    """

    name: str
    limit: int
    window_seconds: float
    endpoints: tuple[str, ...] = ()

    def selects(self, endpoint: str) -> bool:
        return not self.endpoints or endpoint in self.endpoints


@dataclass(frozen=True)
class QuotaVerdict:
    allowed: bool
    rule: QuotaRule | None  # the tightest rule (fewest remaining), for headers
    remaining: int
    reset_seconds: int  # whole seconds until the window of `rule` resets
    retry_after_seconds: int  # for a 429


class Quotas:
    """Fixed-window counters, as Zendesk documents its per-minute limits.

    `time_factor` scales every window (0.1 turns a minute into 6 s) so tests and benchmarks
    can meet real limits without waiting real minutes.
    """

    def __init__(
        self,
        rules: list[QuotaRule],
        time_factor: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rules = list(rules)
        self.time_factor = time_factor
        self.enabled = True
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # rule name -> (window start, count)

    def set_rules(self, rules: list[QuotaRule], time_factor: float | None = None) -> None:
        with self._lock:
            self.rules = list(rules)
            if time_factor is not None:
                self.time_factor = time_factor
            self._windows.clear()

    def check(self, endpoint: str) -> QuotaVerdict:
        """Count one request to `endpoint` and say whether it may be served."""
        with self._lock:
            now = self._clock()
            tightest: QuotaVerdict | None = None
            for rule in self.rules:
                if not self.enabled or not rule.selects(endpoint):
                    continue
                window = rule.window_seconds * self.time_factor
                start, count = self._windows.get(rule.name, (now, 0))
                if now - start >= window:
                    start, count = now, 0
                left = start + window - now
                reset = max(1, math.ceil(left))
                if count >= rule.limit:
                    return QuotaVerdict(False, rule, 0, reset, reset)
                self._windows[rule.name] = (start, count + 1)
                remaining = rule.limit - count - 1
                if tightest is None or remaining < tightest.remaining:
                    tightest = QuotaVerdict(True, rule, remaining, reset, 0)
            return tightest or QuotaVerdict(True, None, 0, 0, 0)

    def peek(self, rule_name: str) -> tuple[int, int] | None:
        """(remaining, whole seconds to reset) of one rule's window, without counting a request."""
        with self._lock:
            rule = next((r for r in self.rules if r.name == rule_name), None)
            if rule is None or not self.enabled:
                return None
            now = self._clock()
            window = rule.window_seconds * self.time_factor
            start, count = self._windows.get(rule.name, (now, 0))
            if now - start >= window:
                start, count = now, 0
            return max(rule.limit - count, 0), max(1, math.ceil(start + window - now))


# A scaled window shorter than this gets a proportionally higher limit instead (scaled_rule):
# vendors answer Retry-After and reset times in whole seconds.
MIN_SCALED_WINDOW = 5.0


def scaled_rule(rule: QuotaRule, time_factor: float) -> QuotaRule:
    """The rule with time running `1/time_factor` times faster: same allowed rate, shorter wait.

    A window that would shrink below MIN_SCALED_WINDOW (Jira's 1-second bursts) keeps a longer
    window and a proportionally higher limit instead: Retry-After and reset headers count whole
    seconds, so a 0.1 s window could never be waited for precisely.
    """
    window = rule.window_seconds * time_factor
    if window >= MIN_SCALED_WINDOW or window >= rule.window_seconds:
        return QuotaRule(rule.name, rule.limit, window, rule.endpoints)
    longer = min(rule.window_seconds, MIN_SCALED_WINDOW)
    return QuotaRule(rule.name, round(rule.limit * longer / window), longer, rule.endpoints)


def scale_quotas(quotas: Quotas, time_factor: float) -> None:
    """Run `quotas`' windows `1/time_factor` times faster at the same allowed rates (each rule
    through scaled_rule, so every wait stays expressible in whole seconds); fresh windows."""
    quotas.set_rules([scaled_rule(rule, time_factor) for rule in quotas.rules], time_factor=1.0)
