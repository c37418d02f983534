"""One retry and quota policy for all three clients, plugged in as a requests transport adapter.

zenpy, jira and simple-salesforce all speak through a `requests.Session`; mounting
`PolicyAdapter` on that session gives every call the same behaviour, so a fix for 429 handling
is made once:

- 429 and 503: the server did not act; wait `Retry-After` (or back off) and send again.
- Connection errors, timeouts and other 5xx: reads (GET/HEAD) are retried with backoff. A write
  whose outcome is unknown is NOT resent blindly (a second private note would be a duplicate):
  `WriteOutcomeUnknown` is raised and the sync re-reads and re-plans that record next run.
- Rate-limit headers (Zendesk `ratelimit-remaining`/`ratelimit-reset`, Jira
  `X-RateLimit-Remaining`, Salesforce `Sforce-Limit-Info`) are read on every answer; when the
  budget is spent the adapter waits for the reset instead of provoking a 429.
- `Pacer`s hold known per-endpoint limits (e.g. Zendesk incremental export, 10/minute) so the
  client never exceeds a quota on purpose.
Waiting is bounded by `RetryPolicy.max_total_wait_seconds` per run; past it `RateLimited`
tells the sync to stop politely and resume next run.
"""

from __future__ import annotations

import email.utils
import logging
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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

from connectors.errors import ConnectorError, RateLimited, SystemUnavailable

log = logging.getLogger("escalation_sync.transport")

RETRY_ALWAYS = frozenset({429, 503})  # the server says it did not process the request
RETRY_READS = frozenset({500, 502, 504})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNKNOWN_WINDOW_SECONDS = 1.0  # a spent budget without a reset time: Jira's bursts are per second


class WriteOutcomeUnknown(ConnectorError):
    """A write was sent but no answer came back (reset, timeout, 5xx): re-read before resending."""


class _Retry(Exception):
    def __init__(self, wait_seconds: float | None, reason: str):
        super().__init__(reason)
        self.wait_seconds = wait_seconds


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
    """Spaces requests matching `path_pattern` to at most `limit` per `window_seconds`."""

    path_pattern: str
    limit: int
    window_seconds: float
    _sent: list[float] = field(default_factory=list)

    def matches(self, path: str) -> bool:
        return re.search(self.path_pattern, path) is not None

    def wait_needed(self, now: float) -> float:
        horizon = now - self.window_seconds
        self._sent = [t for t in self._sent if t > horizon]
        if len(self._sent) < self.limit:
            return 0.0
        return self._sent[0] + self.window_seconds - now

    def note_sent(self, now: float) -> None:
        self._sent.append(now)

    def note_answered(self, sent: float, answered: float) -> None:
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


def _path_shape(path: str) -> str:
    # Ids become {id} so counts group by endpoint, not by record.
    path = path.split("?", 1)[0]
    path = re.sub(r"/v\d+(\.\d+)?/", "/vXX/", path)
    return re.sub(r"/(\d+|[A-Z][A-Z0-9]+-\d+|[a-zA-Z0-9]{15,18})(?=/|\.json|$)", "/{id}", path)


def _certificate_problem(error: BaseException) -> str | None:
    """What the TLS library said about the server's certificate; None if it was not that."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current.verify_message or "certificate verify failed"
        pending += [*current.args, getattr(current, "reason", None)]
        pending += [current.__cause__, current.__context__]
    return None


def _host(request: requests.PreparedRequest) -> str:
    parts = urlsplit(request.url or "")
    return f"{parts.scheme}://{parts.netloc}"


def retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


def budget_wait_seconds(response: requests.Response) -> float:
    """How long to wait before the next request, from the vendor's remaining-budget headers."""
    headers = response.headers
    remaining = headers.get("ratelimit-remaining") or headers.get("X-Rate-Limit-Remaining")
    remaining = remaining or headers.get("X-RateLimit-Remaining")
    if remaining is None:
        return 0.0
    try:
        if int(float(remaining)) > 0:
            return 0.0
        reset = headers.get("ratelimit-reset") or headers.get("X-RateLimit-Reset")
        return float(reset) if reset and reset.replace(".", "", 1).isdigit() else 1.0
    except ValueError:
        return 0.0


def _header(response: requests.Response, *names: str) -> str | None:
    return next((response.headers[name] for name in names if response.headers.get(name)), None)


def opens_window(response: requests.Response) -> bool:
    """Whether this answer is the first of a rate-limit window (remaining is limit - 1)."""
    limit = _header(response, "ratelimit-limit", "X-Rate-Limit", "X-RateLimit-Limit")
    remaining = _header(
        response, "ratelimit-remaining", "X-Rate-Limit-Remaining", "X-RateLimit-Remaining"
    )
    try:
        return (
            limit is not None
            and remaining is not None
            and int(float(remaining)) == int(float(limit)) - 1
        )
    except ValueError:
        return False


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

    def _wait(self, seconds: float, why: str, level: int = logging.INFO) -> None:
        if seconds <= 0:
            return
        if self.stats.waited_seconds + seconds > self.policy.max_total_wait_seconds:
            raise RateLimited(
                f"{self.system}: asked to wait {seconds:.0f}s ({why}); the run's waiting budget "
                f"of {self.policy.max_total_wait_seconds:.0f}s is spent, resuming next run",
                retry_after_seconds=seconds,
            )
        log.log(level, "%s: waiting %.1fs (%s)", self.system, seconds, why)
        self.stats.waited_seconds += seconds
        self.policy.sleep(seconds)

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
                    pacer.note_sent(now)
        return now

    def _note_budget(self, key: str, response: requests.Response) -> None:
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
            reset = _header(response, "ratelimit-reset", "X-RateLimit-Reset")
            if reset is None and opened is not None and now < opened + UNKNOWN_WINDOW_SECONDS:
                until = opened + UNKNOWN_WINDOW_SECONDS
            self._not_before = max(self._not_before, until)

    def _answered(self, path: str, sent: float) -> None:
        with self._lock:
            now = time.monotonic()
            for pacer in self.pacers:
                if pacer.matches(path):
                    pacer.note_answered(sent, now)

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout=None, **kwargs):  # type: ignore[override]
        timeout = timeout if timeout is not None else self.policy.default_timeout_seconds
        if self.ca_bundle:
            kwargs["verify"] = self.ca_bundle
        method = (request.method or "GET").upper()
        path = request.path_url
        shape = f"{method} {_path_shape(path)}"

        def before_sleep(state: RetryCallState) -> None:
            self.stats.retries += 1
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, _Retry) and error.wait_seconds is not None:
                self._wait(error.wait_seconds, str(error))

        def wait_strategy(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, _Retry) and error.wait_seconds is not None:
                return 0.0  # already waited in before_sleep, within the run's budget
            return backoff(state)

        backoff = wait_exponential_jitter(
            multiplier=self.policy.backoff_initial_seconds,
            max=self.policy.backoff_max_seconds,
            jitter=self.policy.backoff_initial_seconds,
        )
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.max_attempts),
            wait=wait_strategy,
            retry=retry_if_exception_type(_Retry),
            before_sleep=before_sleep,
            sleep=lambda s: self._wait(s, "backing off") if s > 0 else None,
            reraise=True,
        )
        last_response: list[requests.Response] = []

        def attempt() -> requests.Response:
            sent = self._pace(path)
            self.stats.requests[shape] += 1
            try:
                response = super(PolicyAdapter, self).send(
                    request, stream=stream, timeout=timeout, **kwargs
                )
                self._answered(path, sent)
            except (requests.ConnectionError, requests.Timeout) as error:
                self._answered(path, sent)
                untrusted = _certificate_problem(error)
                if untrusted is not None:
                    # Not transient: waiting does not make the configured CA trust the server.
                    raise SystemUnavailable(
                        f"{self.system}: the TLS certificate of {_host(request)} is not trusted "
                        f"({untrusted}); set ca_bundle to the CA that signed it"
                    ) from None
                if method in READ_METHODS:
                    raise _Retry(None, f"{type(error).__name__}") from error
                raise WriteOutcomeUnknown(
                    f"{self.system}: {method} {_path_shape(path)} got no answer ({type(error).__name__}); "
                    "the record is re-read and re-planned next run"
                ) from error
            except OSError as error:
                if isinstance(error, requests.RequestException):
                    raise
                # requests' own check of the CA bundle path (ca_bundle, REQUESTS_CA_BUNDLE or
                # CURL_CA_BUNDLE): a bad path is a setup problem, not a reason to crash.
                raise SystemUnavailable(
                    f"{self.system}: {error}; expected a readable PEM file of CA certificates "
                    "(ca_bundle, or REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE)"
                ) from None
            last_response[:] = [response]
            status = response.status_code
            if status in RETRY_ALWAYS:
                if status == 429:
                    self.stats.throttled += 1
                raise _Retry(retry_after_seconds(response), f"HTTP {status}")
            if status in RETRY_READS:
                if method in READ_METHODS:
                    raise _Retry(None, f"HTTP {status}")
                raise WriteOutcomeUnknown(
                    f"{self.system}: {method} {_path_shape(path)} answered HTTP {status}; "
                    "the record is re-read and re-planned next run"
                )
            self._note_budget(shape, response)
            return response

        try:
            return retrying(attempt)
        except _Retry as error:
            if last_response and last_response[0].status_code == 429:
                raise RateLimited(
                    f"{self.system}: still rate limited after {self.policy.max_attempts} attempts",
                    retry_after_seconds=error.wait_seconds,
                ) from None
            if last_response:
                # Hand the final answer to the client, which raises its own error for it.
                return last_response[0]
            raise SystemUnavailable(
                f"{self.system}: no answer after {self.policy.max_attempts} attempts ({error})"
            ) from None


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
