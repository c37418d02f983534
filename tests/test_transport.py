"""The shared retry/quota policy, pinned with `responses` (which patches the adapter's send)."""

import pytest
import requests
import responses

from connectors.errors import RateLimited
from connectors.transport import Pacer, RetryPolicy, WriteOutcomeUnknown, batched, make_session

URL = "https://acme.zendesk.com/api/v2/tickets/1.json"


def session_with(sleeps, **policy):
    policy.setdefault("backoff_initial_seconds", 0.01)
    session, adapter = make_session("zendesk", None, RetryPolicy(sleep=sleeps.append, **policy))
    return session, adapter


@responses.activate
def test_429_waits_retry_after_then_succeeds():
    responses.get(
        URL, status=429, headers={"Retry-After": "7"}, json={"error": "APIRateLimitExceeded"}
    )
    responses.get(URL, status=200, json={"ticket": {"id": 1}})
    sleeps = []
    session, adapter = session_with(sleeps)
    assert session.get(URL).json() == {"ticket": {"id": 1}}
    assert sleeps == [7.0]
    assert adapter.stats.throttled == 1


@responses.activate
def test_503_on_a_write_is_resent_because_the_server_did_not_act():
    responses.put(URL, status=503)
    responses.put(URL, status=200, json={"ticket": {"id": 1}})
    session, _ = session_with([])
    assert session.put(URL, json={"ticket": {}}).status_code == 200
    assert len(responses.calls) == 2


@responses.activate
def test_500_on_a_read_is_retried_with_backoff():
    responses.get(URL, status=500)
    responses.get(URL, status=200, json={})
    sleeps = []
    session, _ = session_with(sleeps)
    assert session.get(URL).status_code == 200
    assert len(sleeps) == 1 and sleeps[0] > 0


@responses.activate
def test_500_on_a_write_is_not_resent_blindly():
    responses.put(URL, status=500)
    session, _ = session_with([])
    with pytest.raises(WriteOutcomeUnknown, match="re-read"):
        session.put(URL, json={"ticket": {"comment": {"body": "note"}}})
    assert len(responses.calls) == 1


@responses.activate
def test_connection_reset_on_a_write_reports_unknown_outcome():
    responses.put(URL, body=requests.ConnectionError("reset by peer"))
    session, _ = session_with([])
    with pytest.raises(WriteOutcomeUnknown):
        session.put(URL, json={})


@responses.activate
def test_persistent_429_raises_rate_limited_after_max_attempts():
    responses.get(URL, status=429, headers={"Retry-After": "1"})
    session, _ = session_with([], max_attempts=3)
    with pytest.raises(RateLimited):
        session.get(URL)
    assert len(responses.calls) == 3


@responses.activate
def test_waiting_beyond_the_run_budget_stops_politely():
    responses.get(URL, status=429, headers={"Retry-After": "3600"})
    session, _ = session_with([], max_total_wait_seconds=60)
    with pytest.raises(RateLimited, match="resuming next run") as caught:
        session.get(URL)
    assert caught.value.retry_after_seconds == 3600


@responses.activate
def test_exhausted_budget_header_delays_the_next_request():
    responses.get(
        URL, status=200, json={}, headers={"ratelimit-remaining": "0", "ratelimit-reset": "5"}
    )
    responses.get(URL, status=200, json={})
    sleeps = []
    session, _ = session_with(sleeps)
    session.get(URL)
    session.get(URL)
    assert len(sleeps) == 1 and 4.0 < sleeps[0] <= 5.0


@responses.activate
def test_spent_budget_without_reset_time_waits_until_a_second_after_the_window_opened():
    # Jira's burst headers give limit and remaining only: the budget comes back one second
    # after the window's first answer, not one second after the answer that spent it.
    issue = "https://acme.atlassian.net/rest/api/3/issue/ENG-1"
    for remaining in ("1", "0"):
        responses.put(
            issue,
            status=204,
            headers={"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": remaining},
        )
    responses.put(issue, status=204)
    sleeps = []
    session, _ = session_with(sleeps)
    for _ in range(3):
        session.put(issue, json={})
    assert len(sleeps) == 1 and 0.5 < sleeps[0] < 1.0


@responses.activate
def test_pacer_spaces_requests_to_the_known_limit():
    incremental = "https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json"
    responses.get(incremental, status=200, json={})
    sleeps = []
    session, adapter = make_session(
        "zendesk",
        None,
        RetryPolicy(sleep=sleeps.append),
        [Pacer(r"/incremental/", limit=2, window_seconds=60)],
    )
    for _ in range(3):
        session.get(incremental)
    assert len(sleeps) == 1 and 55 < sleeps[0] <= 60


def test_pacer_counts_the_window_from_the_answer_not_from_the_send():
    # The server starts its window when the first request arrives, which may be well after
    # it was sent (a new TLS connection); pacing from the send would run one window early.
    pacer = Pacer(r"/incremental/", limit=1, window_seconds=60)
    pacer.record_sent(100.0)
    pacer.record_answered(100.0, 102.5)
    assert pacer.wait_needed(160.0) == pytest.approx(2.5)
    assert pacer.wait_needed(162.5) == 0.0


def test_tls_verification_is_on_and_takes_a_ca_bundle():
    session, _ = make_session("jira", None)
    assert session.verify is True
    session, _ = make_session("jira", "/etc/ssl/private-ca.pem")
    assert session.verify == "/etc/ssl/private-ca.pem"


def test_batched_respects_vendor_limits():
    assert [len(b) for b in batched(list(range(250)), 100)] == [100, 100, 50]
    with pytest.raises(ValueError):
        batched([1], 0)
