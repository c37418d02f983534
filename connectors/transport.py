"""One retry and quota policy for all three clients, plugged in as a requests transport adapter.

zenpy, jira and simple-salesforce all speak through a `requests.Session`; mounting
`PolicyAdapter` on that session gives every call the same behaviour, so a fix for 429 handling
is made once. What to do after an attempt and how long to wait are pure rules in
connectors/retry.py; this module sends, paces and counts:

- One tenacity `Retrying`, built with the adapter: `classify` decides per attempt, `RetryWait`
  waits (the server's Retry-After or rate-limit reset first, else backoff), `WaitBudget` bounds
  all waits of the run. A write whose outcome is unknown raises `WriteOutcomeUnknown`: the sync
  re-reads and re-plans that record next run.
- Rate-limit headers (every spelling, see `connectors.retry.REMAINING_HEADERS`) are read on every
  answer; when the budget is spent the adapter waits for the reset instead of provoking a 429.
- `Pacer`s hold known per-endpoint limits (e.g. Zendesk incremental export, 10/minute) so the
  client never exceeds a quota on purpose.
Waiting is bounded by `RetryPolicy.max_total_wait_seconds` per run; past it `RateLimited`
tells the sync to stop politely and resume next run.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from connectors.base import ConnectorStats
from connectors.errors import ConnectorError, RateLimited, SystemUnavailable
from connectors.retry import (
    RESET_HEADERS,
    Action,
    Decision,
    RetryAttempt,
    RetryWait,
    WaitBudget,
    budget_wait_seconds,
    classify,
    header,
    opens_window,
)

log = logging.getLogger("escalation_sync.transport")

UNKNOWN_WINDOW_SECONDS = 1.0  # a spent budget without a reset time: Jira's bursts are per second


class WriteOutcomeUnknown(ConnectorError):
    """A write was sent but no answer came back (reset, timeout, 5xx): re-read before resending."""


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    max_total_wait_seconds: float = 600.0  # per run, all waits of this adapter together
    default_timeout_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep


@dataclass
class Pacer:
    """Spaces requests matching `path_pattern` to at most `limit` per `window_seconds`.

    A limit shared with other clients (Zendesk's plan limit is the account's) takes `share` of
    it; with `limit_header` the limit follows what the vendor announces on its answers
    (X-Rate-Limit), so a plan other than the configured one is still shared as configured.
    """

    path_pattern: str
    limit: int
    window_seconds: float
    share: float = 1.0
    limit_header: str | None = None
    _sent: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.limit = self.shared(self.limit)

    def shared(self, announced: float) -> int:
        """Our part of a limit of `announced` requests a window: at least one request."""
        return max(1, int(announced * self.share))

    def follow(self, response: requests.Response) -> None:
        """Take the limit the vendor announces on this answer, if it is ours to follow."""
        if self.limit_header is None:
            return
        announced = response.headers.get(self.limit_header)
        try:
            self.limit = self.shared(float(announced)) if announced else self.limit
        except ValueError:
            log.debug("ignoring %s: %r is not a number", self.limit_header, announced)

    def matches(self, path: str) -> bool:
        return re.search(self.path_pattern, path) is not None

    def wait_needed(self, now: float) -> float:
        horizon = now - self.window_seconds
        self._sent = [t for t in self._sent if t > horizon]
        if len(self._sent) < self.limit:
            return 0.0
        return self._sent[0] + self.window_seconds - now

    def record_sent(self, now: float) -> None:
        self._sent.append(now)

    def record_answered(self, sent: float, answered: float) -> None:
        """The server counted the request somewhere between `sent` and its answer: pace from
        the answer, or a slow first request (a new TLS connection) puts the window's start
        after the one we pace from, and the request after the window is refused with a 429."""
        if sent in self._sent:
            self._sent.remove(sent)
        self._sent.append(answered)
        self._sent.sort()


@dataclass
class TrafficStats:
    """Requests this adapter sent, by method and path shape; 429s and retries."""

    requests: Counter = field(default_factory=Counter)
    throttled: int = 0
    retries: int = 0
    waited_seconds: float = 0.0

    def totals(
        self, logins: int | None = None, wait_budget_spent: str | None = None
    ) -> ConnectorStats:
        """These counts as a connector reports them (`Connector.stats`)."""
        return ConnectorStats(
            sum(self.requests.values()),
            self.retries,
            self.throttled,
            self.waited_seconds,
            logins,
            wait_budget_spent,
        )


def _path_shape(path: str) -> str:
    # Ids become {id} so counts group by endpoint, not by record.
    path = path.split("?", 1)[0]
    path = re.sub(r"/v\d+(\.\d+)?/", "/vXX/", path)
    return re.sub(r"/(\d+|[A-Z][A-Z0-9]+-\d+|[a-zA-Z0-9]{15,18})(?=/|\.json|$)", "/{id}", path)


def _host(request: requests.PreparedRequest) -> str:
    parts = urlsplit(request.url or "")
    return f"{parts.scheme}://{parts.netloc}"


class PolicyAdapter(HTTPAdapter):
    """A transport adapter that applies `RetryPolicy`, pacers and the vendors' budget headers."""

    def __init__(
        self, system: str, policy: RetryPolicy | None = None, pacers: list[Pacer] | None = None
    ):
        super().__init__(max_retries=0, pool_connections=4, pool_maxsize=8)
        self.system = system
        self.policy = policy or RetryPolicy()
        self.pacers = pacers or []
        self.stats = TrafficStats()
        self._lock = threading.Lock()
        self._not_before = 0.0  # monotonic time before which no request may go out
        self._window_opened: dict[str, float] = {}  # endpoint -> first answer of its budget window
        # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override session.verify for calls
        # made without verify=; a configured CA bundle must win, so the adapter pins it.
        self.ca_bundle: str | None = None
        self.budget = WaitBudget(system, self.policy.max_total_wait_seconds, self.policy.sleep)
        backoff = wait_exponential_jitter(
            multiplier=self.policy.backoff_initial_seconds,
            max=self.policy.backoff_max_seconds,
            jitter=self.policy.backoff_initial_seconds,
        )
        self._retrying = Retrying(
            stop=stop_after_attempt(self.policy.max_attempts),
            wait=RetryWait(backoff, self.budget),
            retry=retry_if_exception_type(RetryAttempt),
            before_sleep=self._count_retry,
            sleep=lambda seconds: self._wait(seconds, "retrying"),
            retry_error_callback=self._attempts_spent,
        )

    def _wait(self, seconds: float, why: str, level: int = logging.INFO) -> None:
        self.budget.wait(seconds, why, level)
        self.stats.waited_seconds = self.budget.waited_seconds

    def _pace(self, path: str) -> float:
        """Wait as the pacers and budget headers say; returns the moment the request goes out."""
        with self._lock:
            now = time.monotonic()
            wait = max(self._not_before - now, 0.0)
            for pacer in self.pacers:
                if pacer.matches(path):
                    wait = max(wait, pacer.wait_needed(now + wait))
        # Debug: when a quota binds, that is a wait before nearly every request.
        self._wait(wait, "pacing to the known quota", logging.DEBUG)
        with self._lock:
            now = time.monotonic()
            for pacer in self.pacers:
                if pacer.matches(path):
                    pacer.record_sent(now)
        return now

    def _read_budget(self, key: str, response: requests.Response) -> None:
        """Hold the next request back when the vendor says the budget is spent.

        With a reset time (Zendesk) the wait is until then. Without one (Jira's per-endpoint
        bursts give only limit and remaining) the budget is taken to come back a second after
        the window's first answer: waiting a second after the last one idled most of a window
        away whenever the requests themselves took a good part of it.
        """
        now = time.monotonic()
        with self._lock:
            if opens_window(response):
                self._window_opened[key] = now
            wait = budget_wait_seconds(response)
            if not wait:
                return
            until = now + wait
            opened = self._window_opened.get(key)
            reset = header(response, RESET_HEADERS)
            if reset is None and opened is not None and now < opened + UNKNOWN_WINDOW_SECONDS:
                until = opened + UNKNOWN_WINDOW_SECONDS
            self._not_before = max(self._not_before, until)

    def _answered(self, path: str, sent: float) -> None:
        with self._lock:
            now = time.monotonic()
            for pacer in self.pacers:
                if pacer.matches(path):
                    pacer.record_answered(sent, now)

    def _follow_limits(self, path: str, response: requests.Response) -> None:
        with self._lock:
            for pacer in self.pacers:
                if pacer.matches(path):
                    pacer.follow(response)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send with the policy: pace, attempt, classify, wait, attempt again (one `Retrying`)."""
        timeout = timeout if timeout is not None else self.policy.default_timeout_seconds
        if self.ca_bundle:
            verify = self.ca_bundle
        return self._retrying(
            self._attempt,
            request,
            stream=stream,
            timeout=timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )

    def _attempt(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """One attempt: the response to hand on, or an exception saying what happened."""
        method = (request.method or "GET").upper()
        path = request.path_url
        shape = f"{method} {_path_shape(path)}"
        sent = self._pace(path)
        self.stats.requests[shape] += 1
        try:
            response = super().send(request, **kwargs)
        except OSError as error:  # requests' errors are OSErrors too
            self._answered(path, sent)
            decision = classify(method, error)
            if decision.action is Action.ANSWER:
                raise
            raise self._exception_for(decision, request, shape) from error
        self._answered(path, sent)
        self._follow_limits(path, response)
        decision = classify(method, response)
        if response.status_code == 429:
            self.stats.throttled += 1
        if decision.action is Action.RETRY:
            raise RetryAttempt(decision, response)
        if decision.action is not Action.ANSWER:
            raise self._exception_for(decision, request, shape)
        self._read_budget(shape, response)
        return response

    def _exception_for(
        self, decision: Decision, request: requests.PreparedRequest, shape: str
    ) -> Exception:
        """The exception that tells the connector what happened, in one line, without secrets."""
        if decision.action is Action.RETRY:
            return RetryAttempt(decision)
        if decision.action is Action.OUTCOME_UNKNOWN:
            return WriteOutcomeUnknown(
                f"{self.system}: {shape} {decision.reason}; "
                "the record is re-read and re-planned next run"
            )
        if decision.action is Action.UNTRUSTED:
            # Not transient: waiting does not make the configured CA trust the server.
            return SystemUnavailable(
                f"{self.system}: the TLS certificate of {_host(request)} is not trusted "
                f"({decision.reason}); set ca_bundle to the CA that signed it"
            )
        return SystemUnavailable(
            f"{self.system}: {decision.reason}; expected a readable PEM file of CA certificates "
            "(ca_bundle, or REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE)"
        )

    def _count_retry(self, retry_state: RetryCallState) -> None:
        self.stats.retries += 1

    def _attempts_spent(self, retry_state: RetryCallState) -> requests.Response:
        """Every attempt asked for another: say so, or hand the last answer to the client."""
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if not isinstance(error, RetryAttempt):  # tenacity only retries RetryAttempt
            raise error or SystemUnavailable(f"{self.system}: no attempt was made")
        attempts = self.policy.max_attempts
        if error.response is not None and error.response.status_code == 429:
            raise RateLimited(
                f"{self.system}: still rate limited after {attempts} attempts",
                retry_after_seconds=error.decision.wait_seconds,
            )
        if error.response is not None:
            # The client raises its own error for the final answer.
            return error.response
        raise SystemUnavailable(f"{self.system}: no answer after {attempts} attempts ({error})")


def make_session(
    system: str,
    ca_bundle: str | None,
    policy: RetryPolicy | None = None,
    pacers: list[Pacer] | None = None,
    session: requests.Session | None = None,
) -> tuple[requests.Session, PolicyAdapter]:
    """A session (new, or a client's own) with the policy mounted; TLS verification always on.

    `ca_bundle` names a CA file for private CAs (and the sandbox); None uses the system store.
    """
    session = session or requests.Session()
    adapter = PolicyAdapter(system, policy, pacers)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = ca_bundle if ca_bundle else True
    adapter.ca_bundle = ca_bundle
    return session, adapter


def batched(items: list, size: int) -> list[list]:
    """Split `items` into lists of at most `size` (the vendors' batch limits)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [items[i : i + size] for i in range(0, len(items), size)]
