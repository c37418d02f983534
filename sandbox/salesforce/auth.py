"""OAuth 2.0 token endpoint and sessions: client-credentials and username-password flows.

`POST /services/oauth2/token` answers like Salesforce: 200 with access_token, signature, scope,
instance_url (the sandbox's own https URL), id, token_type and issued_at; 400 with
{"error", "error_description"} for a wrong client id, secret, user or password.

`scope` is the space-separated list of OAuth scopes the connected app grants
(`OAuthServer.scopes`, "api" by default). A session without `api` (or `full`) is refused by
the REST API with 401 INVALID_SESSION_ID "This session is not valid for use with the REST
API", as Salesforce answers when the connected app lacks "Manage user data via APIs (api)"
(Salesforce Help, knowledge article 005226515).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from sandbox import catalogue
from sandbox.http import Request, Response

ORG_ID = "00DSb0000000001AAA"
INTEGRATION_USER_ID = "005Sb0000000001AAA"
DEFAULT_SESSION_SECONDS = 2 * 3600.0  # Salesforce's default session timeout
REST_SCOPES = frozenset({"api", "full"})  # either lets a token call the REST API


@dataclass
class Session:
    user_id: str
    expires_at: float
    scopes: tuple[str, ...] = ("api",)

    @property
    def allows_rest(self) -> bool:
        return bool(REST_SCOPES & set(self.scopes))


def _oauth_error(error: str, description: str) -> Response:
    return Response(400, {"error": error, "error_description": description})


class OAuthServer:
    """Issues and checks access tokens. All methods are thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.client_id = catalogue.SALESFORCE_CLIENT_ID
        self.client_secret = catalogue.SALESFORCE_CLIENT_SECRET
        self.username = catalogue.SALESFORCE_USERNAME
        self.password = catalogue.SALESFORCE_PASSWORD
        self.security_token = catalogue.SALESFORCE_SECURITY_TOKEN
        self.session_seconds = DEFAULT_SESSION_SECONDS
        self.require_security_token = True  # False: the caller is in a trusted IP range
        self.scopes: tuple[str, ...] = ("api",)  # what the connected app grants its tokens
        self.tokens_issued = 0
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def token(self, request: Request) -> Response:
        form = {
            key: values[0]
            for key, values in parse_qs(request.body.decode("utf-8", "replace")).items()
        }
        grant_type = form.get("grant_type") or request.arg("grant_type")
        if grant_type not in ("client_credentials", "password"):
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if form.get("client_id") != self.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if not hmac.compare_digest(
            form.get("client_secret", "").encode(), self.client_secret.encode()
        ):
            return _oauth_error("invalid_client", "invalid client credentials")
        if grant_type == "password":
            if form.get("username") != self.username or not self._password_ok(
                form.get("password", "")
            ):
                return _oauth_error("invalid_grant", "authentication failure")
        return Response(200, self._issue(request.base_url))

    def _password_ok(self, given: str) -> bool:
        # The password grant takes the password with the user's security token appended;
        # from a trusted IP range the password alone is accepted.
        accepted = [self.password + self.security_token]
        if not self.require_security_token:
            accepted.append(self.password)
        return any(hmac.compare_digest(given.encode(), value.encode()) for value in accepted)

    def _issue(self, base_url: str) -> dict[str, str]:
        access_token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(48)}"
        issued_at = str(int(time.time() * 1000))
        identity = f"{base_url}/id/{ORG_ID}/{INTEGRATION_USER_ID}"
        digest = hmac.new(
            self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        )
        with self._lock:
            self._sessions[access_token] = Session(
                INTEGRATION_USER_ID, self._clock() + self.session_seconds, tuple(self.scopes)
            )
            self.tokens_issued += 1
        return {
            "access_token": access_token,
            "scope": " ".join(self.scopes),
            "instance_url": base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest.digest()).decode(),
        }

    def session_for(self, request: Request) -> Session | None:
        """The live session of the request's bearer token, or None."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token:
            return None
        with self._lock:
            session = self._sessions.get(token.strip())
            if session is None:
                return None
            if session.expires_at <= self._clock():
                del self._sessions[token.strip()]
                return None
            return session

    def expire(self, request: Request) -> None:
        """End the session the request presents (an expired-session fault)."""
        token = request.headers.get("authorization", "").partition(" ")[2].strip()
        with self._lock:
            self._sessions.pop(token, None)

    def expire_all(self) -> None:
        with self._lock:
            self._sessions.clear()

    def active_sessions(self) -> int:
        with self._lock:
            return len(self._sessions)
