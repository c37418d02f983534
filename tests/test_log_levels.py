"""Which of our waits reach the default (info) log: the vendor telling us to wait does, our
own pacing (one wait per request when a quota binds) does not; it is debug, seen with -v."""

from __future__ import annotations

import logging

import pytest
import responses

from connectors.transport import Pacer, RetryPolicy, make_session

INCREMENTAL = "https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json"


@responses.activate
def test_pacing_to_a_known_quota_logs_at_debug_only(caplog: pytest.LogCaptureFixture) -> None:
    responses.get(INCREMENTAL, status=200, json={})
    pacer = Pacer(r"/incremental/", limit=1, window_seconds=60)
    session, _ = make_session("zendesk", None, RetryPolicy(sleep=lambda s: None), [pacer])
    with caplog.at_level(logging.DEBUG, logger="escalation_sync"):
        for _ in range(3):
            session.get(INCREMENTAL)
    waits = [r for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waits) == 2 and {r.levelno for r in waits} == {logging.DEBUG}


@responses.activate
def test_a_retry_after_wait_logs_at_info(caplog: pytest.LogCaptureFixture) -> None:
    responses.get(INCREMENTAL, status=429, headers={"Retry-After": "7"}, json={})
    responses.get(INCREMENTAL, status=200, json={})
    session, _ = make_session("zendesk", None, RetryPolicy(sleep=lambda s: None))
    with caplog.at_level(logging.DEBUG, logger="escalation_sync"):
        session.get(INCREMENTAL)
    waits = [r for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waits) == 1 and waits[0].levelno == logging.INFO
