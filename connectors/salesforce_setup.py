"""Salesforce setup operations for doctor and provision, one method per endpoint.

Through the Salesforce connector's client (simple-salesforce on the shared session; an expired
session logs in again): describe, limits, SOQL on setup objects, the Tooling API's
CustomField / CustomObject, and sObject creates (permission sets, field permissions); and the
OAuth token answer's `scope`, what the connected app grants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from connectors.errors import AuthError, SystemUnavailable
from connectors.setup_errors import SetupRefused
from connectors.transport import WriteOutcomeUnknown

if TYPE_CHECKING:
    from connectors.salesforce import SalesforceConnector

SYSTEM = "salesforce"
T = TypeVar("T")


class SalesforceSetup:
    def __init__(self, connector: SalesforceConnector):
        self.connector = connector

    # -- reads ------------------------------------------------------------------------------
    def describe(self, object_name: str) -> dict[str, Any] | None:
        """GET sobjects/{object}/describe; None when the org has no such object."""
        try:
            return self._call(f"describe {object_name}", lambda sf: sf.restful(f"sobjects/{object_name}/describe"))  # fmt: skip
        except SetupRefused as refused:
            if refused.status == 404:
                return None
            raise

    def granted_scopes(self) -> tuple[str, ...] | None:
        """The OAuth scopes the connected app grants (the token answer's space-separated
        `scope`), asked with a login of our own as the connector logs in; None when the answer
        names none. Read before any REST call: a token without `api` has every one refused."""
        connector = self.connector
        url = f"{connector.login_url}/services/oauth2/token"
        try:
            response = connector.session.post(
                url, data=connector.credentials.form(), timeout=connector.timeout
            )
        except (WriteOutcomeUnknown, requests.RequestException) as error:
            raise SystemUnavailable(
                f"salesforce: no answer from {connector.login_url} ({type(error).__name__})"
            ) from None
        if response.status_code >= 500:
            raise SystemUnavailable(f"salesforce: login answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code != 200:
            words = f"{body.get('error', 'HTTP ' + str(response.status_code))}: {body.get('error_description', '')}"  # fmt: skip
            raise AuthError(f"salesforce: login refused ({words.strip(': ')})")
        scope = body.get("scope")
        return tuple(str(scope).split()) if scope else None

    def limits(self) -> dict[str, Any]:
        """GET limits: DailyApiRequests {Max, Remaining} and the rest."""
        limits = self._call("limits", lambda sf: sf.restful("limits"))
        # restful() gives None only for an empty answer (204); GET limits always has a body.
        assert limits is not None, "GET limits answered without a body"
        return limits

    def user_id(self) -> str:
        """The integration user's id, the last part of the login's identity URL."""
        self._call("login", lambda sf: None)
        return self.connector.identity_url.rstrip("/").rsplit("/", 1)[-1]

    def query(self, soql: str) -> list[dict[str, Any]]:
        """GET query?q= (every batch): a setup query's records."""
        return self._call("query", lambda sf: sf.query_all(soql))["records"]

    def count(self, soql: str) -> int:
        """GET query?q=SELECT COUNT() ...: the answer's totalSize."""
        return int(self._call("count", lambda sf: sf.query(soql))["totalSize"])

    def tooling_query(self, soql: str) -> list[dict[str, Any]]:
        """GET tooling/query?q=: CustomField / CustomObject rows."""
        from urllib.parse import quote

        return self._call("tooling query", lambda sf: sf.toolingexecute(f"query/?q={quote(soql)}"))["records"]  # fmt: skip

    # -- creations --------------------------------------------------------------------------
    def create_custom_field(self, full_name: str, metadata: dict[str, Any]) -> str:
        """POST tooling/sobjects/CustomField/ {"FullName": "Object.Field__c", "Metadata"}."""
        body = {"FullName": full_name, "Metadata": metadata}
        return self._call(f"create field {full_name}", lambda sf: sf.toolingexecute("sobjects/CustomField/", "POST", body))["id"]  # fmt: skip

    def update_custom_field(self, field_id: str, metadata: dict[str, Any]) -> None:
        """PATCH tooling/sobjects/CustomField/{id} {"Metadata"} (a picklist's new values)."""
        self._call("update field", lambda sf: sf.toolingexecute(f"sobjects/CustomField/{field_id}", "PATCH", {"Metadata": metadata}))  # fmt: skip

    def create_custom_object(self, full_name: str, metadata: dict[str, Any]) -> str:
        """POST tooling/sobjects/CustomObject/ {"FullName": "Escalation__c", "Metadata"}."""
        body = {"FullName": full_name, "Metadata": metadata}
        return self._call(f"create object {full_name}", lambda sf: sf.toolingexecute("sobjects/CustomObject/", "POST", body))["id"]  # fmt: skip

    def create_record(self, object_name: str, values: dict[str, Any]) -> str:
        """POST sobjects/{object}/ (PermissionSet, PermissionSetAssignment, FieldPermissions...)."""
        created = self._call(f"create {object_name}", lambda sf: sf.restful(f"sobjects/{object_name}/", method="POST", json=values))  # fmt: skip
        # restful() gives None only for an empty answer; a creation answers 201 with the new id.
        assert created is not None, f"POST sobjects/{object_name}/ answered without a body"
        return created["id"]

    # -- transport ----------------------------------------------------------------------------
    def _call(self, what: str, operation: Callable[[Salesforce], T]) -> T:
        try:
            return self.connector._call(what, operation)
        except (SalesforceMalformedRequest, SalesforceResourceNotFound) as error:
            # simple-salesforce declares content as bytes; it holds the parsed JSON error list.
            content: list[Any] = error.content if isinstance(error.content, list) else []
            words = "; ".join(f"{e.get('errorCode')}: {e.get('message')}" for e in content if isinstance(e, dict))  # fmt: skip
            raise SetupRefused(
                SYSTEM, what, error.status, words or str(error.content)[:200]
            ) from None
