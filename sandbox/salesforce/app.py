"""The Salesforce REST API emulation: routes, OAuth sessions, API allowance, admin API.

Endpoint names (what quotas, faults and request counts key on): oauth_token, versions,
resources, limits, query, query_more, query_all, query_all_more, global_describe, sobject_info,
describe, sobject_get, sobject_update, sobject_create, composite_update, composite_upsert.
Vendor fault kinds: "expired_session" (any endpoint: that request gets 401 INVALID_SESSION_ID
and its token stops working) and "record_error" (composite_update / composite_upsert: see
sandbox/salesforce/collections.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox import catalogue
from sandbox.clock import Clock
from sandbox.faults import Fault
from sandbox.http import Request, Response, Route
from sandbox.quotas import QuotaRule, QuotaVerdict
from sandbox.salesforce.auth import OAuthServer
from sandbox.salesforce.collections import Collections
from sandbox.salesforce.limits import ApiAllowance, per_minute_rule
from sandbox.salesforce.query_api import QueryApi
from sandbox.salesforce.records_api import RecordsApi
from sandbox.salesforce.responses import (
    LIMIT_EXCEEDED,
    NOT_FOR_REST,
    body_for_status,
    error_list,
    invalid_session,
    not_found,
    rest_error,
)
from sandbox.salesforce.store import RecordStore
from sandbox.salesforce.tooling_api import ToolingApi
from sandbox.vendor import VendorApp

_V = r"/services/data/v(?P<version>\d{2,3}\.\d)"
_OBJ = r"(?P<object>[A-Za-z][A-Za-z0-9_]*)"
_ID = r"(?P<id>[A-Za-z0-9]{15}|[A-Za-z0-9]{18})"
UNAUTHENTICATED = frozenset({"oauth_token", "versions"})


class SalesforceApp(VendorApp):
    name = "salesforce"

    def __init__(self, quota_rules: list[QuotaRule] | None = None, time_factor: float = 1.0):
        super().__init__(quota_rules, time_factor)
        self.version = catalogue.SALESFORCE_API_VERSION
        self.clock = Clock()
        self.store = RecordStore(clock=self.clock)
        self.oauth = OAuthServer()
        self.allowance = ApiAllowance()
        self.query_api = QueryApi(self)
        self.records_api = RecordsApi(self)
        self.collections = Collections(self)
        self.tooling = ToolingApi(self)

    def routes(self) -> list[Route]:
        records, query, collections = self.records_api, self.query_api, self.collections
        return [
            Route("POST", r"/services/oauth2/token", "oauth_token", self.oauth.token),
            Route("GET", r"/services/data/?", "versions", records.versions),
            Route("GET", _V + r"/?", "resources", records.resources),
            Route("GET", _V + r"/limits/?", "limits", records.limits),
            Route("GET", _V + r"/query/?", "query", query.query),
            Route("GET", _V + r"/query/(?P<locator>[^/]+)", "query_more", query.query_more),
            Route("GET", _V + r"/queryAll/?", "query_all", query.query_all),
            Route("GET", _V + r"/queryAll/(?P<locator>[^/]+)", "query_all_more", query.query_more),
            Route("GET", _V + r"/sobjects/?", "global_describe", records.global_describe),
            Route("GET", _V + rf"/sobjects/{_OBJ}/?", "sobject_info", records.sobject_info),
            Route("GET", _V + rf"/sobjects/{_OBJ}/describe/?", "describe", records.describe),
            Route(
                "POST", _V + rf"/sobjects/{_OBJ}/?", "sobject_create", records.create, writes=True
            ),
            Route("GET", _V + rf"/sobjects/{_OBJ}/{_ID}", "sobject_get", records.get),
            Route(
                "PATCH",
                _V + rf"/sobjects/{_OBJ}/{_ID}",
                "sobject_update",
                records.update,
                writes=True,
            ),
            Route(
                "DELETE",
                _V + rf"/sobjects/{_OBJ}/(?P<field>[A-Za-z][A-Za-z0-9_]*)/(?P<value>[^/]+)",
                "sobject_delete_by_external_id",
                records.delete_by_external_id,
                writes=True,
            ),
            Route(
                "PATCH",
                _V + r"/composite/sobjects/?",
                "composite_update",
                collections.update,
                writes=True,
            ),
            Route(
                "POST",
                _V + r"/composite/sobjects/?",
                "composite_create",
                collections.create,
                writes=True,
            ),
            Route(
                "PATCH",
                _V + rf"/composite/sobjects/{_OBJ}/(?P<field>[A-Za-z][A-Za-z0-9_]*)/?",
                "composite_upsert",
                collections.upsert,
                writes=True,
            ),
            Route(
                "POST",
                _V + rf"/tooling/sobjects/{_OBJ}/?",
                "tooling_create",
                self.tooling.create,
                writes=True,
            ),
            Route(
                "PATCH",
                _V + rf"/tooling/sobjects/{_OBJ}/{_ID}",
                "tooling_update",
                self.tooling.update,
                writes=True,
            ),
            Route("GET", _V + r"/tooling/query/?", "tooling_query", self.tooling.query),
        ]

    # -- the VendorApp hooks -------------------------------------------------------------------
    def authenticate(self, request: Request, route: Route) -> Response | None:
        if route.name in UNAUTHENTICATED:
            return None
        session = self.oauth.session_for(request)
        if session is None:
            return invalid_session()
        if not session.allows_rest:
            return rest_error(401, "INVALID_SESSION_ID", NOT_FOR_REST)
        if self.faults.take_vendor(route.name, "expired_session") is not None:
            self.oauth.expire(request)
            return invalid_session()
        if not self.allowance.take(enforced=self.quotas.enabled):
            return Response(
                403, error_list("REQUEST_LIMIT_EXCEEDED", LIMIT_EXCEEDED), self._limit_header(route)
            )
        return None

    def rate_limited(self, verdict: QuotaVerdict, route: Route) -> Response:
        message = f"Request rate limit of the sandbox exceeded ({verdict.rule.name if verdict.rule else 'quota'})"
        headers = {"Retry-After": str(verdict.retry_after_seconds), **self._limit_header(route)}
        return Response(429, error_list("REQUEST_LIMIT_EXCEEDED", message), headers)

    def rate_limit_headers(self, verdict: QuotaVerdict, route: Route) -> dict[str, str]:
        return self._limit_header(route)

    def error_body(self, status: int, route: Route) -> Any:
        return body_for_status(status)

    def not_found(self, request: Request) -> Response:
        return not_found()

    def _limit_header(self, route: Route) -> dict[str, str]:
        if route.name in UNAUTHENTICATED:
            return {}
        return {"Sforce-Limit-Info": self.allowance.header()}

    # -- persistence -----------------------------------------------------------------------------
    def dump_state(self) -> dict[str, Any]:
        return self.store.dump(self.version)

    def load_state(self, state: dict[str, Any]) -> None:
        with self.state_lock:
            self.store.load(state)
            self.tooling = ToolingApi(self)

    def set_field_editable(self, object_name: str, field_name: str, editable: bool) -> None:
        """Field-level security of the integration user (False: a missing edit permission)."""
        with self.state_lock:
            self.store.schema.set_field_editable(object_name, field_name, editable)

    def describe_field(self, object_name: str, field_name: str) -> dict[str, Any] | None:
        with self.state_lock:
            obj = self.store.schema.objects.get(object_name)
            info = obj.fields.get(field_name) if obj else None
            return info.describe() if info else None

    # -- admin API for tests and benchmarks ------------------------------------------------------
    def put_record(self, object_name: str, record: dict[str, Any]) -> str:
        """Store a record as given (its Id kept, or a new one); returns the Id."""
        with self.state_lock:
            return self.store.put_raw(object_name, record)

    def get_record(self, object_name: str, record_id: str) -> dict[str, Any] | None:
        with self.state_lock:
            record = self.store.get(object_name, record_id)
            return dict(record) if record is not None else None

    def records(self, object_name: str) -> list[dict[str, Any]]:
        with self.state_lock:
            return [dict(record) for record in self.store.all(object_name)]

    def delete_record(self, object_name: str, record_id: str) -> None:
        """A person deletes a record in the UI."""
        with self.state_lock:
            if not self.store.delete(object_name, record_id):
                raise KeyError(f"{object_name} {record_id} not found")

    def merge_accounts(self, master_id: str, loser_id: str) -> None:
        """A person merges two accounts: the loser's related records move to the master."""
        with self.state_lock:
            if (
                self.store.get("Account", master_id) is None
                or self.store.get("Account", loser_id) is None
            ):
                raise KeyError(f"cannot merge Account {loser_id} into {master_id}")
            self.store.merge("Account", master_id, loser_id)

    def edit_record(self, object_name: str, record_id: str, **changes: Any) -> None:
        """A person edits a record in the UI: fields change, SystemModstamp moves."""
        with self.state_lock:
            obj = self.store.schema.objects[object_name]
            record = self.store.get(object_name, record_id)
            if record is None:
                raise KeyError(f"{object_name} {record_id} not found")
            self.store.update(obj, record["Id"], changes)

    def now(self) -> datetime:
        return self.clock.now()

    def advance_clock(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def set_clock(self, moment: datetime) -> None:
        self.clock.set(moment)

    def expire_all_sessions(self) -> None:
        self.oauth.expire_all()

    def set_api_allowance(
        self, limit: int, window_seconds: float | None = None, used_by_others: int = 0
    ) -> None:
        """Set the rolling request allowance and enforce it even with quotas off;
        `used_by_others`: requests the org's other integrations have made in the window."""
        self.allowance.configure(limit, window_seconds, force=True, used_by_others=used_by_others)

    def api_usage(self) -> tuple[int, int]:
        return self.allowance.usage()

    def set_per_minute_limit(self, limit: int | None, time_factor: float | None = None) -> None:
        """A sandbox-only per-minute ceiling over all endpoints (None removes it)."""
        api = tuple(route.name for route in self.routes() if route.name not in UNAUTHENTICATED)
        self.quotas.set_rules([per_minute_rule(limit, api)] if limit else [], time_factor)
        self.quotas.enabled = True

    def fail_records(
        self,
        record_keys: list[str],
        status_code: str = "UNABLE_TO_LOCK_ROW",
        message: str | None = None,
        endpoint: str = "*",
        times: int = 1,
        fields: tuple[str, ...] = (),
    ) -> Fault:
        """Per-record errors in the next `times` collection requests that contain these ids
        (or external id values, for upserts; for creates, an id the new record refers to).
        `message` may use {key}."""
        detail: dict[str, Any] = {
            "ids": list(record_keys),
            "statusCode": status_code,
            "fields": list(fields),
        }
        if message is not None:
            detail["message"] = message
        return self.faults.add(Fault(endpoint, "record_error", times=times, detail=detail))

    def expire_session_on(self, endpoint: str = "*", times: int = 1) -> Fault:
        """The next `times` requests to `endpoint` find their session expired."""
        return self.faults.add(Fault(endpoint, "expired_session", times=times))
