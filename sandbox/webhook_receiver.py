"""A webhook receiver that checks signatures and records deliveries, as a bridge would.

`POST /hooks/{name}` with the headers connectors/webhook.py sends. The receiver:

- recomputes HMAC-SHA256 over "<X-Escalation-Timestamp>.<raw body>" with `secrets[name]` and
  compares in constant time: a missing or wrong signature is 401;
- refuses a timestamp more than `tolerance_seconds` (300) from its clock: 401 (a replay);
- needs an `Idempotency-Key` (400 without) and keeps a delivery once per key: a second delivery
  of a key it has seen is answered 200 `{"duplicate": true}` and not recorded again;
- answers 202 `{"id": ...}` with `X-Request-Id`.

Tests read `deliveries` (accepted, once per key), `refused` (what was turned away and why) and
`duplicates`; they script transport faults on the route `webhook` (status, reset, delay) and
`Fault("webhook", "lost_answer")`: recorded, then the connection is cut before the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.http import Request, Response, Route
from sandbox.lossy_server import DROP_HEADER
from sandbox.vendor import VendorApp

SECRET = "sandbox-webhook-secret"
HOOK_NAME = "escalations"
TOLERANCE_SECONDS = 300.0


@dataclass(frozen=True)
class Delivery:
    hook: str
    key: str
    timestamp: int
    body: Any  # the parsed JSON
    raw: bytes
    headers: dict[str, str]
    received_at: float


@dataclass(frozen=True)
class Refusal:
    hook: str
    status: int
    reason: str
    headers: dict[str, str]


class WebhookReceiverApp(VendorApp):
    name = "webhook"

    def __init__(self, time_factor: float = 1.0, clock: Callable[[], float] = time.time):
        super().__init__([], time_factor)
        self.secrets: dict[str, str] = {HOOK_NAME: SECRET}
        self.tolerance_seconds = TOLERANCE_SECONDS
        self.deliveries: list[Delivery] = []
        self.refused: list[Refusal] = []
        self.duplicates = 0
        self.clock = clock  # tests move it to replay an old request
        self._default_clock = clock
        self._seen: dict[tuple[str, str], str] = {}  # (hook, key) -> delivery id

    def reset(self) -> None:
        """No deliveries, the default secret and tolerance, no faults."""
        with self.state_lock:
            self.secrets = {HOOK_NAME: SECRET}
            self.tolerance_seconds = TOLERANCE_SECONDS
            self.clock = self._default_clock
            self.deliveries.clear()
            self.refused.clear()
            self.duplicates = 0
            self._seen.clear()
            self.faults.clear()
            self.traffic.reset()

    def url(self, hook: str = HOOK_NAME) -> str:
        return f"{self.base_url}/hooks/{hook}"

    def routes(self) -> list[Route]:
        return [Route("POST", r"/hooks/(?P<hook>[A-Za-z0-9_-]+)", "webhook", self._receive, True)]

    def error_body(self, status: int, route: Route) -> Any:
        return {"error": f"HTTP {status}"}

    def _refuse(self, request: Request, hook: str, status: int, reason: str) -> Response:
        self.refused.append(Refusal(hook, status, reason, dict(request.headers)))
        return Response(status, {"error": reason})

    def _receive(self, request: Request) -> Response:
        hook = request.params["hook"]
        secret = self.secrets.get(hook)
        if secret is None:
            return self._refuse(request, hook, 404, "unknown hook")
        timestamp = request.headers.get("x-escalation-timestamp", "")
        given = request.headers.get("x-escalation-signature", "")
        expected = (
            "sha256="
            + hmac.new(
                secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
            ).hexdigest()
        )
        if not given or not hmac.compare_digest(given, expected):
            return self._refuse(request, hook, 401, "bad signature")
        try:
            sent_at = int(timestamp)
        except ValueError:
            return self._refuse(request, hook, 401, "bad timestamp")
        if abs(self.clock() - sent_at) > self.tolerance_seconds:
            return self._refuse(request, hook, 401, "stale timestamp (a replay?)")
        key = request.headers.get("idempotency-key", "")
        if not key:
            return self._refuse(request, hook, 400, "missing Idempotency-Key")
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return self._refuse(request, hook, 400, "body is not JSON")
        seen = self._seen.get((hook, key))
        if seen is not None:
            self.duplicates += 1
            return Response(200, {"id": seen, "duplicate": True}, {"X-Request-Id": seen})
        delivery_id = f"dlv-{len(self.deliveries) + 1}"
        self._seen[(hook, key)] = delivery_id
        self.deliveries.append(
            Delivery(hook, key, sent_at, body, request.body, dict(request.headers), time.time())
        )
        response = Response(202, {"id": delivery_id}, {"X-Request-Id": delivery_id})
        if self.faults.take_vendor("webhook", "lost_answer") is not None:
            response.headers[DROP_HEADER] = "1"
        return response
