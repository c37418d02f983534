"""The retry rules as tables: what each (method, answer or error) leads to, and how long to wait."""

from __future__ import annotations

import ssl

import pytest
import requests
import responses
from tenacity import RetryCallState, wait_fixed
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from connectors.errors import RateLimited
from connectors.retry import (
    Action,
    Decision,
    RetryAttempt,
    RetryWait,
    WaitBudget,
    budget_wait_seconds,
    classify,
    server_wait_seconds,
)
from connectors.transport import RetryPolicy, make_session

URL = "https://acme.zendesk.com/api/v2/tickets/1.json"


def answer(status: int, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    return response


def refused() -> requests.ConnectionError:
    """What requests raises when nothing listens on the port: the request never left."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111]")
    return requests.ConnectionError(MaxRetryError(None, "/x", reason=reason))


def aborted() -> requests.ConnectionError:
    """The connection dropped after the request went: its outcome is unknown."""
    return requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))


def untrusted_certificate() -> requests.ConnectionError:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "self-signed certificate"
    error = requests.ConnectionError("TLS handshake failed")
    error.__cause__ = cause
    return error


ROWS = [
    ("GET", answer(200), Decision(Action.ANSWER)),
    ("PUT", answer(200), Decision(Action.ANSWER)),
    ("PUT", answer(404), Decision(Action.ANSWER)),  # the client raises its own error
    ("PUT", answer(422), Decision(Action.ANSWER)),
    ("GET", answer(429, **{"Retry-After": "7"}), Decision(Action.RETRY, "HTTP 429", 7.0)),
    ("PUT", answer(429), Decision(Action.RETRY, "HTTP 429")),  # the server did not act
    ("PUT", answer(503, **{"Retry-After": "2"}), Decision(Action.RETRY, "HTTP 503", 2.0)),
    ("GET", answer(500), Decision(Action.RETRY, "HTTP 500")),
    ("HEAD", answer(502), Decision(Action.RETRY, "HTTP 502")),
    ("GET", answer(504), Decision(Action.RETRY, "HTTP 504")),
    ("PUT", answer(500), Decision(Action.OUTCOME_UNKNOWN, "answered HTTP 500")),
    ("POST", answer(502), Decision(Action.OUTCOME_UNKNOWN, "answered HTTP 502")),
    ("PATCH", answer(504), Decision(Action.OUTCOME_UNKNOWN, "answered HTTP 504")),
    ("GET", requests.ConnectionError("reset"), Decision(Action.RETRY, "ConnectionError")),
    ("GET", requests.ReadTimeout("slow"), Decision(Action.RETRY, "ReadTimeout")),
    (
        "PUT",
        requests.ConnectionError("reset"),
        Decision(Action.OUTCOME_UNKNOWN, "got no answer (ConnectionError)"),
    ),
    (
        "POST",
        requests.ReadTimeout("slow"),
        Decision(Action.OUTCOME_UNKNOWN, "got no answer (ReadTimeout)"),
    ),
    # Never connected: nothing was sent, so a write is sent again too.
    ("POST", refused(), Decision(Action.RETRY, "ConnectionError: no connection made")),
    (
        "PUT",
        requests.ConnectTimeout("connect"),
        Decision(Action.RETRY, "ConnectTimeout: no connection made"),
    ),
    ("POST", aborted(), Decision(Action.OUTCOME_UNKNOWN, "got no answer (ConnectionError)")),
    ("GET", refused(), Decision(Action.RETRY, "ConnectionError")),
    ("GET", untrusted_certificate(), Decision(Action.UNTRUSTED, "self-signed certificate")),
    ("PUT", untrusted_certificate(), Decision(Action.UNTRUSTED, "self-signed certificate")),
    (
        "GET",
        OSError("Could not find a suitable TLS CA certificate bundle, invalid path: /x.pem"),
        Decision(
            Action.BAD_CA_BUNDLE,
            "Could not find a suitable TLS CA certificate bundle, invalid path: /x.pem",
        ),
    ),
    ("GET", requests.exceptions.InvalidURL("bad"), Decision(Action.ANSWER)),  # raised as is
]


@pytest.mark.parametrize(
    ("method", "outcome", "expected"),
    ROWS,
    ids=[
        f"{m}-{o.status_code if isinstance(o, requests.Response) else type(o).__name__}-{i}"
        for i, (m, o, _) in enumerate(ROWS)
    ],
)
def test_classify_decides_from_method_and_answer(method, outcome, expected):
    assert classify(method, outcome) == expected


@pytest.mark.parametrize(
    "headers",
    [
        # Zendesk's spellings over time, each beside X-Rate-Limit(-Remaining)
        {"X-Rate-Limit-Remaining": "0", "ratelimit-remaining": "0", "ratelimit-reset": "58"},
        {"X-Rate-Limit-Remaining": "0", "rate-limit-remaining": "0", "rate-limit-reset": "58"},
        {"rate-limit": "700", "rate-limit-remaining": "0", "rate-limit-reset": "58"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "58"},
    ],
    ids=["ratelimit", "rate-limit", "rate-limit-only", "x-ratelimit"],
)
def test_a_spent_budget_waits_for_the_reset_in_every_header_spelling(headers):
    assert budget_wait_seconds(answer(200, **headers)) == 58.0


def test_a_spent_budget_without_a_reset_in_seconds_waits_a_second():
    jira = answer(200, **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-11-20T10:00Z"})
    assert budget_wait_seconds(jira) == 1.0


def test_a_budget_left_means_no_wait():
    assert budget_wait_seconds(answer(200, **{"rate-limit-remaining": "3"})) == 0.0
    assert budget_wait_seconds(answer(200)) == 0.0


def test_a_429_without_retry_after_waits_for_the_rate_limit_reset():
    throttled = answer(429, **{"rate-limit-remaining": "0", "rate-limit-reset": "58"})
    assert server_wait_seconds(throttled) == 58.0
    assert server_wait_seconds(answer(429, **{"Retry-After": "3", "ratelimit-reset": "58"})) == 3


def retry_state(error: BaseException | None, attempt: int = 1) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    if error is not None:
        state.set_exception((type(error), error, None))
    return state


def test_the_wait_is_the_servers_when_it_gave_one():
    budget = WaitBudget("zendesk", 600, lambda s: None)
    wait = RetryWait(wait_fixed(0.5), budget)
    asked = RetryAttempt(Decision(Action.RETRY, "HTTP 429", 7.0))
    assert wait(retry_state(asked)) == 7.0


def test_the_wait_is_the_backoff_when_the_server_gave_none():
    budget = WaitBudget("zendesk", 600, lambda s: None)
    wait = RetryWait(wait_fixed(0.5), budget)
    assert wait(retry_state(RetryAttempt(Decision(Action.RETRY, "HTTP 500")))) == 0.5


def test_a_wait_beyond_the_runs_budget_stops_the_run_politely():
    budget = WaitBudget("zendesk", 60, lambda s: None)
    budget.wait(50, "earlier waits")
    wait = RetryWait(wait_fixed(0.5), budget)
    with pytest.raises(RateLimited, match="budget of 60s is spent") as caught:
        wait(retry_state(RetryAttempt(Decision(Action.RETRY, "HTTP 429", 11.0))))
    assert caught.value.retry_after_seconds == 11.0


def test_the_budget_counts_every_wait():
    sleeps: list[float] = []
    budget = WaitBudget("jira", 10, sleeps.append)
    budget.wait(4, "pacing")
    budget.wait(0, "nothing")
    budget.wait(6, "retrying")
    assert sleeps == [4, 6] and budget.waited_seconds == 10
    with pytest.raises(RateLimited):
        budget.wait(0.1, "one more")


@responses.activate
@pytest.mark.parametrize("spelling", ["ratelimit", "rate-limit"])
def test_the_client_waits_the_real_reset_whichever_zendesk_spelling(spelling):
    # The older spelling's reset was not read: the client waited 1 s instead of the real 58.
    prefix = "ratelimit-" if spelling == "ratelimit" else "rate-limit-"
    spent = {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "0"}
    spent |= {f"{prefix}remaining": "0", f"{prefix}reset": "58"}
    responses.get(URL, status=200, json={}, headers=spent)
    responses.get(URL, status=200, json={})
    sleeps: list[float] = []
    session, _ = make_session("zendesk", None, RetryPolicy(sleep=sleeps.append))
    session.get(URL)
    session.get(URL)
    assert len(sleeps) == 1 and 57.0 < sleeps[0] <= 58.0
