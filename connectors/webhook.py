"""A generic HTTPS webhook: signed JSON for bridges to Teams, PagerDuty, Opsgenie.

One POST per message, through requests with TLS verification always on (the system store, or
the configured `ca_bundle`, pinned per request so REQUESTS_CA_BUNDLE cannot override it):

    Content-Type: application/json
    X-Escalation-Timestamp: <unix seconds>
    X-Escalation-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">
    Idempotency-Key: <the outbox key>

The timestamp is inside the signed content, so a captured request cannot be replayed later with
a fresh timestamp; the receiver checks that it is recent (the sandbox receiver allows 5 minutes)
and compares signatures in constant time. The Idempotency-Key is what keeps "never twice" here:
a receiver must drop a second delivery of a key it has seen, which makes a resend after a lost
answer safe, so a lost answer is RETRY, not UNKNOWN.

Answers: 2xx SENT; 408 and 429 RETRY (after Retry-After); other 4xx REJECTED (a 401/403 says
our signature or secret is wrong: RETRY as channel setup); 5xx RETRY; redirects are not followed
(a POST must not be replayed elsewhere) and are REJECTED with the new location in the detail.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import requests
from requests.adapters import HTTPAdapter

from connectors.channels import SETUP, Message, SendResult, SendStatus, default_payload
from connectors.retry import certificate_problem, retry_after_seconds

if TYPE_CHECKING:
    from config.notifications_schema import WebhookChannelSettings

SIGNATURE_HEADER = "X-Escalation-Signature"
TIMESTAMP_HEADER = "X-Escalation-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "escalation-sync webhook"


def encode_body(message: Message) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys sorted so a resend is identical."""
    payload = message.payload if message.payload is not None else default_payload(message)
    return json.dumps(dict(payload), separators=(",", ":"), sort_keys=True).encode("utf-8")


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp` (what a receiver recomputes)."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def classify_status(status: int, response: requests.Response) -> tuple[SendStatus, str]:
    """A receiver's HTTP status -> what it means for the message."""
    said = f"webhook answered HTTP {status}"
    if 200 <= status < 300:
        return SendStatus.SENT, said
    if status in (408, 429) or status >= 500:
        return SendStatus.RETRY, said
    if status in (401, 403):
        return SendStatus.RETRY, SETUP + said + " (the receiver refused our signature or secret)"
    if 300 <= status < 400:
        where = response.headers.get("Location", "")
        return SendStatus.REJECTED, f"{said}, redirect to {where}; configure the final URL"
    return SendStatus.REJECTED, said


class WebhookChannel:
    """One receiver URL and its shared secret."""

    def __init__(
        self,
        name: str,
        url: str,
        secret: str,
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ):
        self.name = name
        self.url = url
        self._secret = secret.encode("utf-8")
        self._verify: str | bool = ca_bundle or True
        self._timeout = timeout
        self._clock = clock
        self.session = requests.Session()
        # No retries inside requests: the outbox retries, after backoff, with the same key.
        self.session.mount("https://", HTTPAdapter(max_retries=0))

    def send(self, message: Message) -> SendResult:
        """POST the signed body once; one SendResult, never an exception."""
        body = encode_body(message)
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
            IDEMPOTENCY_HEADER: message.key,
        }
        try:
            response = self.session.post(
                self.url,
                data=body,
                headers=headers,
                timeout=self._timeout,
                verify=self._verify,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            return SendResult(message.key, SendStatus.RETRY, self._failure(error))
        except OSError as error:  # requests' own check of the CA bundle path
            return SendResult(message.key, SendStatus.RETRY, f"{SETUP}ca_bundle: {error}")
        status, detail = classify_status(response.status_code, response)
        retry_after = retry_after_seconds(response) if status is SendStatus.RETRY else None
        remote_id = response.headers.get("X-Request-Id") if status is SendStatus.SENT else None
        return SendResult(message.key, status, detail, remote_id, retry_after)

    def _failure(self, error: requests.RequestException) -> str:
        untrusted = certificate_problem(error)
        if untrusted is not None:
            return (
                f"{SETUP}the webhook's TLS certificate is not trusted ({untrusted}); "
                "set ca_bundle to the CA that signed it"
            )
        if isinstance(error, requests.ConnectTimeout):
            return "webhook not reached (ConnectTimeout)"
        # The request may have arrived: the resend carries the same Idempotency-Key.
        return f"webhook: no answer ({type(error).__name__}); resent with the same Idempotency-Key"

    def close(self) -> None:
        self.session.close()


def from_settings(
    name: str, settings: WebhookChannelSettings, secret: Callable[[str], str]
) -> WebhookChannel:
    """The channel for validated settings; `secret(env_name)` reads the shared secret."""
    ca_bundle = str(settings.ca_bundle) if settings.ca_bundle else None
    return WebhookChannel(
        name,
        settings.url,
        secret(settings.secret_env),
        ca_bundle=ca_bundle,
        timeout=settings.timeout_seconds,
    )
