"""Zendesk setup operations for doctor and provision, one method per endpoint.

Through the Zendesk connector's session (zenpy's, with the shared retry policy), on raw JSON:
the API user and its role, ticket and organisation fields, drop-down options, views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests

from connectors.errors import AuthError, SystemUnavailable
from connectors.setup_errors import SetupRefused
from connectors.transport import WriteOutcomeUnknown

if TYPE_CHECKING:
    from connectors.zendesk import ZendeskConnector

SYSTEM = "zendesk"


class ZendeskSetup:
    def __init__(self, connector: ZendeskConnector):
        self.session = connector.session
        self.base_url = connector.base_url
        self.timeout = connector.timeout
        self.last_headers: dict[str, str] = {}  # of the last answer: the plan's rate limit

    # -- reads ------------------------------------------------------------------------------
    def me(self) -> dict[str, Any]:
        """GET /api/v2/users/me.json: the integration user, with `role` and `custom_role_id`."""
        return self._send("GET", "/users/me.json", "users/me")["user"]

    def custom_role(self, role_id: int) -> dict[str, Any]:
        """GET /api/v2/custom_roles/{id}.json: `configuration` holds what the role may do."""
        return self._send("GET", f"/custom_roles/{role_id}.json", "custom_roles")["custom_role"]

    def account_settings(self) -> dict[str, Any]:
        """GET /api/v2/account/settings.json: `user.tagging` says whether users and
        organisations take tags (off: the tags an organisation update sends are dropped)."""
        return self._send("GET", "/account/settings.json", "account/settings").get("settings") or {}

    def enable_organization_tags(self) -> None:
        """PUT /api/v2/account/settings.json: tags on users and organisations on (admins)."""
        body = {"settings": {"user": {"tagging": True}}}
        self._send("PUT", "/account/settings.json", "update account settings", body)

    def ticket_fields(self) -> list[dict[str, Any]]:
        """GET /api/v2/ticket_fields.json, every page."""
        return self._every("/ticket_fields.json", "ticket_fields")

    def organization_fields(self) -> list[dict[str, Any]]:
        """GET /api/v2/organization_fields.json, every page."""
        return self._every("/organization_fields.json", "organization_fields")

    def ticket_count(self) -> int:
        """GET /api/v2/tickets/count.json: Zendesk's approximate count of every ticket in the
        account (over 100,000 it is refreshed once a day)."""
        return int(((self._send("GET", "/tickets/count.json", "tickets/count").get("count")) or {}).get("value") or 0)  # fmt: skip

    def ticket_events_page(self, start_time: int) -> tuple[int, int, int, bool]:
        """GET /api/v2/incremental/ticket_events.json?start_time=: the first page of the ticket
        events export a first run reads, as (events on it, the first one's timestamp, the
        page's end_time, end_of_stream). One request of the incremental exports' quota."""
        path = f"/incremental/ticket_events.json?start_time={int(start_time)}&per_page=1000"
        page = self._send("GET", path, "incremental/ticket_events")
        events = page.get("ticket_events") or []
        first = int(events[0].get("timestamp") or start_time) if events else start_time
        end_time = int(page.get("end_time") or start_time)
        return len(events), first, end_time, bool(page.get("end_of_stream"))

    def views(self) -> list[dict[str, Any]]:
        """GET /api/v2/views.json, every page."""
        return self._every("/views.json", "views")

    # -- creations --------------------------------------------------------------------------
    def create_ticket_field(self, spec: dict[str, Any]) -> dict[str, Any]:
        """POST /api/v2/ticket_fields.json {"ticket_field": spec}."""
        body = {"ticket_field": spec}
        return self._send("POST", "/ticket_fields.json", "create ticket field", body)[
            "ticket_field"
        ]

    def add_ticket_field_option(self, field_id: int, name: str, value: str) -> dict[str, Any]:
        """POST /api/v2/ticket_fields/{id}/options.json: adds (or renames) the option `value`."""
        body = {"custom_field_option": {"name": name, "value": value}}
        path = f"/ticket_fields/{field_id}/options.json"
        return self._send("POST", path, "add ticket field option", body)["custom_field_option"]

    def create_organization_field(self, spec: dict[str, Any]) -> dict[str, Any]:
        """POST /api/v2/organization_fields.json {"organization_field": spec}."""
        body = {"organization_field": spec}
        path = "/organization_fields.json"
        return self._send("POST", path, "create organization field", body)["organization_field"]

    def create_view(self, spec: dict[str, Any]) -> dict[str, Any]:
        """POST /api/v2/views.json {"view": spec}."""
        return self._send("POST", "/views.json", "create view", {"view": spec})["view"]

    # -- transport ----------------------------------------------------------------------------
    def _every(self, path: str, key: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        url: str | None = self.base_url + path
        while url:
            page = self._send("GET", url, key)
            found.extend(page.get(key) or [])
            url = page.get("next_page")
        return found

    def _send(
        self, method: str, path: str, what: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        url = path if path.startswith("https://") else self.base_url + path
        try:
            response = self.session.request(method, url, json=body, timeout=self.timeout)
        except (WriteOutcomeUnknown, requests.RequestException) as error:
            raise SystemUnavailable(
                f"zendesk: {what} got no answer ({type(error).__name__})"
            ) from None
        self.last_headers = dict(response.headers)
        if response.status_code == 401:
            raise AuthError(f"zendesk: {what} refused our credentials (HTTP 401)")
        if response.status_code >= 500:
            raise SystemUnavailable(f"zendesk: {what} answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code >= 400:
            words = ": ".join(str(answer.get(k)) for k in ("error", "description", "details") if isinstance(answer, dict) and answer.get(k))  # fmt: skip
            raise SetupRefused(SYSTEM, what, response.status_code, words or response.text[:200])
        return answer if isinstance(answer, dict) else {}
