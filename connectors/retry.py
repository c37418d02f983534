"""What to do after one HTTP attempt, and how long to wait before the next: pure rules.

`classify(method, response or error)` decides; it sends nothing and waits for nothing, so every
rule is one row of a table test. `RetryWait` is the tenacity wait strategy: the server's own
wait (Retry-After, or the rate-limit reset when the budget is spent) before our backoff, always
within the run's `WaitBudget`. `connectors/transport.py` builds one `Retrying` from them.

The rules, as urllib3's Retry and requests' adapters have them:
- 429 and 503: the server did not act; wait as it says (or back off) and send again.
- Connection errors, timeouts and other 5xx: reads (GET/HEAD/OPTIONS) are sent again. A write's
  outcome is unknown and it is NOT resent (a second private note would be a duplicate), unless
  the connection was never made (refused, the connect timed out, the name did not resolve):
  then nothing was sent, and a write (a login's POST too) is sent again like a read.
- A certificate the configured CA does not trust, or an unreadable CA bundle: waiting does not
  help; the run stops for that system with a plain message.
"""

from __future__ import annotations

import email.utils
import logging
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import requests
from tenacity import RetryCallState
from tenacity.wait import wait_base
from urllib3.exceptions import ConnectTimeoutError

from connectors.errors import RateLimited

log = logging.getLogger("escalation_sync.transport")

RETRY_ALWAYS = frozenset({429, 503})  # the server says it did not process the request
RETRY_READS = frozenset({500, 502, 504})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Rate-limit headers in every spelling the vendors have sent. Zendesk: `X-Rate-Limit`,
# `X-Rate-Limit-Remaining`, and over time both `ratelimit-limit/-remaining/-reset` and
# `rate-limit/-remaining/-reset`; Jira: `X-RateLimit-Limit/-Remaining/-Reset` (requests'
# headers are case-insensitive).
LIMIT_HEADERS = ("ratelimit-limit", "rate-limit", "X-Rate-Limit", "X-RateLimit-Limit")
REMAINING_HEADERS = (
    "ratelimit-remaining",
    "rate-limit-remaining",
    "X-Rate-Limit-Remaining",
    "X-RateLimit-Remaining",
)
RESET_HEADERS = ("ratelimit-reset", "rate-limit-reset", "X-RateLimit-Reset")
SPENT_WITHOUT_RESET_SECONDS = 1.0  # a spent budget whose reset is not given in seconds


class Action(StrEnum):
    ANSWER = "answer"  # hand the response (or the error, as raised) to the client
    RETRY = "retry"  # send the same request again after a wait
    OUTCOME_UNKNOWN = "outcome_unknown"  # a write got no usable answer: re-read, do not resend
    UNTRUSTED = "untrusted"  # the server's TLS certificate is not trusted by the configured CA
    BAD_CA_BUNDLE = "bad_ca_bundle"  # the CA file itself cannot be read


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""  # for the log and the error message, e.g. "HTTP 503", "ConnectionError"
    wait_seconds: float | None = None  # the server's own wait; None: our backoff


def classify(method: str, outcome: requests.Response | BaseException) -> Decision:
    """What to do with one attempt's answer (or the error raised instead of one)."""
    if isinstance(outcome, BaseException):
        return _classify_error(method.upper(), outcome)
    status = outcome.status_code
    if status in RETRY_ALWAYS:
        return Decision(Action.RETRY, f"HTTP {status}", server_wait_seconds(outcome))
    if status in RETRY_READS:
        if method.upper() in READ_METHODS:
            return Decision(Action.RETRY, f"HTTP {status}")
        return Decision(Action.OUTCOME_UNKNOWN, f"answered HTTP {status}")
    return Decision(Action.ANSWER)


def _classify_error(method: str, error: BaseException) -> Decision:
    if isinstance(error, requests.ConnectionError | requests.Timeout):
        untrusted = certificate_problem(error)
        if untrusted is not None:
            return Decision(Action.UNTRUSTED, untrusted)
        if method in READ_METHODS:
            return Decision(Action.RETRY, type(error).__name__)
        if never_connected(error):
            return Decision(Action.RETRY, f"{type(error).__name__}: no connection made")
        return Decision(Action.OUTCOME_UNKNOWN, f"got no answer ({type(error).__name__})")
    if isinstance(error, OSError) and not isinstance(error, requests.RequestException):
        # requests' own check of the CA bundle path (ca_bundle, REQUESTS_CA_BUNDLE or
        # CURL_CA_BUNDLE): a bad path is a setup problem, not a reason to crash.
        return Decision(Action.BAD_CA_BUNDLE, str(error))
    return Decision(Action.ANSWER)


def never_connected(error: BaseException) -> bool:
    """The request never left: the connection was refused, its connect timed out or the host
    name did not resolve (urllib3's NewConnectionError and NameResolutionError are
    ConnectTimeoutErrors; requests wraps them in a ConnectionError or ConnectTimeout)."""
    return isinstance(error, requests.ConnectTimeout) or any(
        isinstance(cause, ConnectTimeoutError) for cause in _causes(error)
    )


def certificate_problem(error: BaseException) -> str | None:
    """What the TLS library said about the server's certificate; None if it was not that."""
    for cause in _causes(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause.verify_message or "certificate verify failed"
    return None


def _causes(error: BaseException) -> Iterator[BaseException]:
    """`error` and every exception behind it: requests and urllib3 wrap the one that says what
    happened in their own (in args, `reason`, the cause or the context), each once."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [*current.args, getattr(current, "reason", None)]
        pending += [current.__cause__, current.__context__]


# -- what the server says about waiting ---------------------------------------------------------
def header(response: requests.Response, names: tuple[str, ...]) -> str | None:
    """The first of `names` the response carries with a value."""
    return next((response.headers[name] for name in names if response.headers.get(name)), None)


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    when = email.utils.parsedate_to_datetime(value)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def reset_seconds(response: requests.Response) -> float | None:
    """Seconds until the rate-limit window resets, when a header gives them as a number
    (Jira's X-RateLimit-Reset is a timestamp: None)."""
    seconds = _number(header(response, RESET_HEADERS))
    return max(0.0, seconds) if seconds is not None else None


def budget_wait_seconds(response: requests.Response) -> float:
    """How long to wait before the next request, from the vendor's remaining-budget headers."""
    remaining = _number(header(response, REMAINING_HEADERS))
    if remaining is None or int(remaining) > 0:
        return 0.0
    reset = reset_seconds(response)
    return reset if reset is not None else SPENT_WITHOUT_RESET_SECONDS


def opens_window(response: requests.Response) -> bool:
    """Whether this answer is the first of a rate-limit window (remaining is limit - 1)."""
    limit = _number(header(response, LIMIT_HEADERS))
    remaining = _number(header(response, REMAINING_HEADERS))
    return limit is not None and remaining is not None and int(remaining) == int(limit) - 1


def server_wait_seconds(response: requests.Response) -> float | None:
    """The wait a 429/503 asks for: Retry-After, else a spent budget's reset; None: not said."""
    after = retry_after_seconds(response)
    if after is not None:
        return after
    remaining = _number(header(response, REMAINING_HEADERS))
    return reset_seconds(response) if remaining is not None and int(remaining) <= 0 else None


# -- waiting --------------------------------------------------------------------------------------
class WaitBudget:
    """The run's waiting allowance for one system: every wait of its adapter counts."""

    def __init__(
        self, system: str, max_total_seconds: float, sleep: Callable[[float], None]
    ) -> None:
        self.system = system
        self.max_total_seconds = max_total_seconds
        self.waited_seconds = 0.0
        # Why the budget ran out, once it has: the run is quota-bound for this system from then
        # on, whatever the connector made of the RateLimited (a write it reports as RETRY).
        self.spent: str | None = None
        self._sleep = sleep

    def check(self, seconds: float, why: str) -> None:
        """Raise RateLimited when waiting `seconds` more would exceed the budget."""
        if self.waited_seconds + seconds > self.max_total_seconds:
            self.spent = self.spent or why
            raise RateLimited(
                f"{self.system}: asked to wait {seconds:.0f}s ({why}); the run's waiting budget "
                f"of {self.max_total_seconds:.0f}s is spent, resuming next run",
                retry_after_seconds=seconds,
            )

    def wait(self, seconds: float, why: str, level: int = logging.INFO) -> None:
        """Sleep `seconds` within the budget (nothing for a non-positive wait). Pacing waits log
        at debug: under a binding quota one precedes almost every request."""
        if seconds <= 0:
            return
        self.check(seconds, why)
        log.log(level, "%s: waiting %.1fs (%s)", self.system, seconds, why)
        self.waited_seconds += seconds
        self._sleep(seconds)


class RetryAttempt(Exception):
    """Raised by an attempt that should be sent again; carries the decision and any answer."""

    def __init__(self, decision: Decision, response: requests.Response | None = None):
        super().__init__(decision.reason)
        self.decision = decision
        self.response = response


class RetryWait(wait_base):
    """tenacity wait: the server's own wait when it gave one, else `backoff`; within `budget`."""

    def __init__(self, backoff: wait_base, budget: WaitBudget) -> None:
        self.backoff = backoff
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        asked = error.decision.wait_seconds if isinstance(error, RetryAttempt) else None
        seconds = asked if asked is not None else self.backoff(retry_state)
        why = f"{error}" if error is not None else "backing off"
        self.budget.check(seconds, why)
        return seconds
