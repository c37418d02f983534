"""The webhook channel: the exact signed request (`responses`), what each answer means, and real
requests over TLS to the sandbox's receiver, which checks signatures and dedupes by key."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import requests
import responses

from connectors.channels import SETUP, SendStatus
from connectors.webhook import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
)
from sandbox.faults import Fault
from sandbox.webhook_receiver import SECRET
from tests.channel_helpers import message

URL = "https://bridge.acme.example/hooks/escalation"
NOW = 1_795_000_000.0


def channel(url: str = URL, secret: str = "s3cret", ca_bundle: str | None = None) -> WebhookChannel:
    return WebhookChannel("pager-webhook", url, secret, ca_bundle=ca_bundle, clock=lambda: NOW)


# -- the request, pinned ----------------------------------------------------------------------
@responses.activate
def test_posts_the_payload_signed_over_timestamp_and_raw_body_with_the_key():
    responses.post(URL, status=202, headers={"X-Request-Id": "abc"})
    payload = {"event": "level_raised", "ticket": 101, "level": "action needed"}

    result = channel().send(message("", channel="pager-webhook", payload=payload))

    sent = responses.calls[0].request
    assert json.loads(sent.body) == payload
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers[TIMESTAMP_HEADER] == str(int(NOW))
    expected = hmac.new(b"s3cret", f"{int(NOW)}.".encode() + sent.body, hashlib.sha256)
    assert sent.headers[SIGNATURE_HEADER] == "sha256=" + expected.hexdigest()
    assert sent.headers[IDEMPOTENCY_HEADER] == result.key
    assert result.status is SendStatus.SENT and result.remote_id == "abc"


@responses.activate
def test_without_a_payload_the_body_holds_the_messages_fields():
    responses.post(URL, status=200)
    msg = message("", channel="pager-webhook")

    channel().send(msg)

    body = json.loads(responses.calls[0].request.body)
    assert body == {
        "key": msg.key,
        "channel": "pager-webhook",
        "to": "",
        "subject": msg.subject,
        "text": msg.text,
    }


# -- what each answer means -------------------------------------------------------------------
@pytest.mark.parametrize(
    "status,expected",
    [
        (200, SendStatus.SENT),
        (204, SendStatus.SENT),
        (400, SendStatus.REJECTED),
        (404, SendStatus.REJECTED),
        (410, SendStatus.REJECTED),
        (422, SendStatus.REJECTED),
        (408, SendStatus.RETRY),
        (429, SendStatus.RETRY),
        (500, SendStatus.RETRY),
        (502, SendStatus.RETRY),
        (503, SendStatus.RETRY),
    ],
)
@responses.activate
def test_each_answer_maps_to_one_status(status, expected):
    responses.post(URL, status=status)

    result = channel().send(message("", channel="pager-webhook"))

    assert result.status is expected
    assert f"HTTP {status}" in result.detail


@responses.activate
def test_429_is_retried_after_the_receivers_wait():
    responses.post(URL, status=429, headers={"Retry-After": "17"})

    result = channel().send(message("", channel="pager-webhook"))

    assert result.status is SendStatus.RETRY and result.retry_after == 17.0


@responses.activate
def test_a_refused_signature_is_the_channels_setup():
    responses.post(URL, status=401)

    result = channel().send(message("", channel="pager-webhook"))

    assert result.status is SendStatus.RETRY and result.detail.startswith(SETUP)


@responses.activate
def test_a_redirect_is_not_followed():
    responses.post(URL, status=307, headers={"Location": "https://elsewhere.example/hook"})

    result = channel().send(message("", channel="pager-webhook"))

    assert result.status is SendStatus.REJECTED and "elsewhere.example" in result.detail
    assert len(responses.calls) == 1


@responses.activate
def test_no_connection_is_retried_not_raised():
    responses.post(URL, body=requests.ConnectionError("Connection refused"))

    result = channel().send(message("", channel="pager-webhook"))

    assert result.status is SendStatus.RETRY
    assert "Idempotency-Key" in result.detail


# -- the real client against the sandbox's receiver ------------------------------------------
def sandbox_channel(channels, secret: str = SECRET, ca: bool = True) -> WebhookChannel:
    ca_bundle = str(channels.ca_path) if ca else None
    return WebhookChannel("pager-webhook", channels.webhook.url(), secret, ca_bundle, timeout=10)


@pytest.mark.integration
def test_the_receiver_accepts_our_signature_over_tls(channels):
    result = sandbox_channel(channels).send(message("", payload={"ticket": 101}))

    assert result.status is SendStatus.SENT
    (delivery,) = channels.webhook.deliveries
    assert delivery.body == {"ticket": 101} and delivery.key == result.key


@pytest.mark.integration
def test_the_receiver_rejects_a_wrong_signature_and_we_call_it_setup(channels):
    result = sandbox_channel(channels, secret="not-the-secret").send(message(""))

    assert result.status is SendStatus.RETRY and result.detail.startswith(SETUP)
    assert channels.webhook.deliveries == []
    assert [r.reason for r in channels.webhook.refused] == ["bad signature"]


@pytest.mark.integration
def test_the_receiver_refuses_a_replay_of_a_captured_request(channels):
    sandbox_channel(channels).send(message(""))
    (captured,) = channels.webhook.deliveries
    session = requests.Session()
    headers = {
        k: v for k, v in captured.headers.items() if k.startswith(("x-", "idem", "content-t"))
    }

    channels.webhook.clock = lambda: captured.timestamp + 3600  # an hour later, as is
    replayed = session.post(
        channels.webhook.url(), data=captured.raw, headers=headers, verify=str(channels.ca_path)
    )
    headers["x-escalation-timestamp"] = str(captured.timestamp + 3600)  # or with a new time
    refreshed = session.post(
        channels.webhook.url(), data=captured.raw, headers=headers, verify=str(channels.ca_path)
    )

    assert (replayed.status_code, refreshed.status_code) == (401, 401)
    assert [r.reason for r in channels.webhook.refused] == [
        "stale timestamp (a replay?)",
        "bad signature",
    ]
    assert len(channels.webhook.deliveries) == 1


@pytest.mark.integration
def test_a_lost_answer_is_retried_and_the_receiver_keeps_one_delivery(channels):
    channels.webhook.faults.add(Fault("webhook", "lost_answer"))
    hook = sandbox_channel(channels)
    msg = message("")

    first = hook.send(msg)
    second = hook.send(msg)

    assert first.status is SendStatus.RETRY
    assert second.status is SendStatus.SENT
    assert len(channels.webhook.deliveries) == 1
    assert channels.webhook.duplicates == 1


@pytest.mark.integration
def test_a_failing_receiver_is_retried_with_its_wait(channels):
    channels.webhook.faults.add(Fault("webhook", "status", status=503, retry_after=7))

    result = sandbox_channel(channels).send(message(""))

    assert result.status is SendStatus.RETRY and result.retry_after == 7.0
    assert channels.webhook.deliveries == []


@pytest.mark.integration
def test_tls_verification_is_on_an_unknown_ca_is_refused(channels):
    result = sandbox_channel(channels, ca=False).send(message(""))

    assert result.status is SendStatus.RETRY
    assert result.detail.startswith(SETUP) and "not trusted" in result.detail
    assert channels.webhook.traffic.requests == {}
