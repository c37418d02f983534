"""The Zendesk Support API v2 emulation: routes, authentication, quotas and an admin API."""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

from sandbox import catalogue
from sandbox.clock import Clock
from sandbox.faults import Fault
from sandbox.http import Request, Response, Route
from sandbox.quotas import QuotaRule, QuotaVerdict
from sandbox.vendor import VendorApp
from sandbox.zendesk.directory_api import DirectoryApi
from sandbox.zendesk.jobs import JobQueue
from sandbox.zendesk.responses import ok
from sandbox.zendesk.setup_api import SetupApi
from sandbox.zendesk.store import ZendeskStore
from sandbox.zendesk.tickets_api import TicketsApi

ACCOUNT_RULE = "account"
INCREMENTAL_RULE = "incremental_exports"
# Zendesk: "up to 10 requests per minute to these endpoints", every incremental export
# (tickets, organisations, ticket events; developer.zendesk.com, Incremental Exports).
INCREMENTAL_ENDPOINTS = (
    "incremental_tickets",
    "incremental_organizations",
    "incremental_ticket_events",
)
ENTERPRISE_LIMIT_PER_MINUTE = 700
INCREMENTAL_LIMIT_PER_MINUTE = 10
# Zendesk's High Volume API add-on: the plan's limit becomes 2500 a minute and the incremental
# exports 30 a minute (developer.zendesk.com, "Rate limits").
HIGH_VOLUME_LIMIT_PER_MINUTE = 2500
HIGH_VOLUME_INCREMENTAL_LIMIT_PER_MINUTE = 30
EXPORT_LAG_SECONDS = 60.0  # Zendesk leaves out changes of the last minute (2024-10)
# Zendesk has sent its rate-limit headers in two spellings over time, each beside
# X-Rate-Limit and X-Rate-Limit-Remaining: "ratelimit-limit/-remaining/-reset" and
# "rate-limit, rate-limit-remaining, rate-limit-reset".
RATE_LIMIT_SPELLINGS = ("ratelimit", "rate-limit")
BOT_USER_ID = 1  # author of our comments when the data set has no user with the API email
_ID = r"(?P<id>\d+)"
_JSON = r"(?:\.json)?"


def quota_rules(account_per_minute: int, exports_per_minute: int) -> list[QuotaRule]:
    """The account-wide limit and the one the incremental exports share, a minute each."""
    return [
        QuotaRule(ACCOUNT_RULE, account_per_minute, 60.0),
        QuotaRule(INCREMENTAL_RULE, exports_per_minute, 60.0, INCREMENTAL_ENDPOINTS),
    ]


class ZendeskApp(VendorApp):
    name = "zendesk"

    def __init__(
        self,
        quota_rules: list[QuotaRule] | None = None,
        time_factor: float = 1.0,
        rate_limit_spelling: str = RATE_LIMIT_SPELLINGS[0],
    ):
        super().__init__(quota_rules, time_factor)
        if rate_limit_spelling not in RATE_LIMIT_SPELLINGS:
            raise ValueError(f"rate_limit_spelling must be one of {RATE_LIMIT_SPELLINGS}")
        self.rate_limit_spelling = rate_limit_spelling  # which headers answers carry
        self.clock = Clock()
        self.store = ZendeskStore(self.clock)
        self.jobs = JobQueue(self.store, self.agent_edit)
        self.export_lag_seconds = EXPORT_LAG_SECONDS
        self.credentials = {(catalogue.ZENDESK_EMAIL, catalogue.ZENDESK_API_TOKEN)}
        self.oauth_tokens = {catalogue.ZENDESK_OAUTH_TOKEN}
        self._tickets = TicketsApi(self)
        self._directory = DirectoryApi(self)
        self._setup = SetupApi(self)
        self.api_user_role = "admin"  # users/me role: "admin", "agent" or "end-user"
        # users/me custom role's configuration ({ticket_editing, comment_access}), or None
        self.api_custom_role: dict[str, object] | None = None
        self.cached_ticket_count: int | None = None  # tickets/count's cached value; None: exact

    # -- routes -------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        t, d, s = self._tickets, self._directory, self._setup

        def r(method: str, path: str, name: str, handler: Any, writes: bool = False) -> Route:
            return Route(method, f"/api/v2/{path}", name, self._settled(handler), writes)

        return [
            r("GET", f"incremental/tickets/cursor{_JSON}", "incremental_tickets", t.incremental),
            r(
                "GET",
                f"incremental/organizations{_JSON}",
                "incremental_organizations",
                d.incremental_organizations,
            ),
            r(
                "GET",
                f"incremental/ticket_events{_JSON}",
                "incremental_ticket_events",
                d.incremental_ticket_events,
            ),
            r("GET", f"tickets/show_many{_JSON}", "tickets_show_many", t.show_many),
            r("GET", f"tickets/count{_JSON}", "tickets_count", s.ticket_count),
            r("PUT", f"tickets/update_many{_JSON}", "update_many", t.update_many, writes=True),
            r("GET", f"tickets/{_ID}/comments{_JSON}", "ticket_comments", t.comments),
            r("GET", f"tickets/{_ID}{_JSON}", "ticket_show", t.show),
            r("PUT", f"tickets/{_ID}{_JSON}", "ticket_update", t.update, writes=True),
            r("DELETE", f"tickets/{_ID}{_JSON}", "ticket_delete", t.destroy, writes=True),
            r("GET", f"job_statuses/(?P<id>[A-Za-z0-9]+){_JSON}", "job_status", t.job_status),
            r("GET", f"ticket_fields{_JSON}", "ticket_fields_list", d.ticket_fields),
            r(
                "POST",
                f"ticket_fields{_JSON}",
                "ticket_fields_create",
                d.create_ticket_field,
                writes=True,
            ),
            r("GET", f"ticket_fields/{_ID}{_JSON}", "ticket_field_show", d.ticket_field),
            r(
                "POST",
                f"ticket_fields/{_ID}/options{_JSON}",
                "ticket_field_option_create",
                s.add_option,
                writes=True,
            ),
            r("GET", f"users/me{_JSON}", "users_me", s.me),
            r("GET", f"custom_roles/{_ID}{_JSON}", "custom_role_show", s.custom_role),
            r("GET", f"account/settings{_JSON}", "account_settings_show", s.account_settings),
            r(
                "PUT",
                f"account/settings{_JSON}",
                "account_settings_update",
                s.update_account_settings,
                writes=True,
            ),
            r("GET", f"views{_JSON}", "views_list", s.views),
            r("POST", f"views{_JSON}", "views_create", s.create_view, writes=True),
            r(
                "GET",
                f"organization_fields{_JSON}",
                "organization_fields_list",
                d.organization_fields,
            ),
            r(
                "POST",
                f"organization_fields{_JSON}",
                "organization_fields_create",
                d.create_organization_field,
                writes=True,
            ),
            r("GET", f"organizations{_JSON}", "organizations_list", d.organizations),
            r(
                "GET",
                f"organizations/show_many{_JSON}",
                "organizations_show_many",
                d.organizations_show_many,
            ),
            r("GET", f"organizations/{_ID}{_JSON}", "organization_show", d.organization),
            r(
                "PUT",
                f"organizations/update_many{_JSON}",
                "organizations_update_many",
                d.update_many_organizations,
                writes=True,
            ),
            r(
                "PUT",
                f"organizations/{_ID}{_JSON}",
                "organization_update",
                d.update_organization,
                writes=True,
            ),
            r(
                "DELETE",
                f"organizations/{_ID}{_JSON}",
                "organization_delete",
                d.delete_organization,
                writes=True,
            ),
            r("GET", f"users/show_many{_JSON}", "users_show_many", d.users_show_many),
            r("GET", f"users/{_ID}{_JSON}", "user_show", d.user),
        ]

    def _settled(self, handler: Any) -> Any:
        # Jobs whose time has come run before any request is answered, so reads see them.
        def run(request: Request) -> Response:
            self.jobs.run_due()
            return handler(request)

        return run

    # -- authentication -----------------------------------------------------------------
    def authenticate(self, request: Request, route: Route) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip() in self.oauth_tokens:
            return None
        if scheme.lower() == "basic":
            try:
                user, _, secret = base64.b64decode(value.strip()).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, secret = "", ""
            email, _, kind = user.rpartition("/")
            if kind == "token" and (email, secret) in self.credentials:
                return None
        return Response(
            401,
            {"error": "Couldn't authenticate you"},
            {"WWW-Authenticate": 'Basic realm="Web Password"'},
        )

    @property
    def author_id(self) -> int:
        for user_id, user in self.store.users.items():
            if user.get("email") == catalogue.ZENDESK_EMAIL:
                return user_id
        return BOT_USER_ID

    # -- quotas and error bodies ----------------------------------------------------------
    def default_quota_rules(self) -> list[QuotaRule]:
        return quota_rules(ENTERPRISE_LIMIT_PER_MINUTE, INCREMENTAL_LIMIT_PER_MINUTE)

    def add_high_volume_api(self) -> None:
        """An account with the High Volume API add-on: 2500 requests a minute, 30 exports."""
        self.quotas.set_rules(
            quota_rules(HIGH_VOLUME_LIMIT_PER_MINUTE, HIGH_VOLUME_INCREMENTAL_LIMIT_PER_MINUTE)
        )

    def rate_limited(self, verdict: QuotaVerdict, route: Route) -> Response:
        if verdict.rule is not None and verdict.rule.endpoints:
            description = "Number of allowed incremental export API requests per minute exceeded"
        else:
            description = "Number of allowed API requests per minute exceeded"
        headers = {
            "Retry-After": str(verdict.retry_after_seconds),
            **self.rate_limit_headers(verdict, route),
        }
        return Response(429, {"error": "APIRateLimitExceeded", "description": description}, headers)

    def rate_limit_headers(self, verdict: QuotaVerdict, route: Route) -> dict[str, str]:
        # The headers describe the account-wide limit, whatever rule was tightest.
        account = next((rule for rule in self.quotas.rules if not rule.endpoints), None)
        status = self.quotas.peek(account.name) if account is not None else None
        if account is None or status is None:
            return {}
        remaining, reset = status
        headers = {"X-Rate-Limit": str(account.limit), "X-Rate-Limit-Remaining": str(remaining)}
        if self.rate_limit_spelling == "rate-limit":
            return headers | {
                "rate-limit": str(account.limit),
                "rate-limit-remaining": str(remaining),
                "rate-limit-reset": str(reset),
            }
        return headers | {
            "ratelimit-limit": str(account.limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(reset),
        }

    def error_body(self, status: int, route: Route) -> Any:
        if status == 503:
            return {
                "error": "ServiceUnavailable",
                "description": "Service temporarily unavailable, please retry",
            }
        if status >= 500:
            return {"error": "InternalError", "description": "Something went wrong, please retry"}
        return {"error": f"HTTP{status}", "description": f"HTTP {status}"}

    def not_found(self, request: Request) -> Response:
        return ok({"error": "InvalidEndpoint", "description": "Not found"}, 404)

    # -- admin API for tests and the demo ---------------------------------------------------
    def export_cutoff(self) -> float:
        """Records whose generated_timestamp is at or after this are not exported yet."""
        return self.clock.timestamp() - self.export_lag_seconds

    def advance_clock(self, seconds: float) -> None:
        """Move the record clock forward: what was just written becomes exportable."""
        with self.state_lock:
            self.clock.advance(seconds)

    def run_jobs(self) -> None:
        """Run every queued job now."""
        with self.state_lock:
            self.jobs.run_due(force=True)

    def put_ticket(self, ticket: dict[str, Any]) -> None:
        with self.state_lock:
            self.store.put_ticket(copy.deepcopy(ticket))

    def delete_ticket(self, ticket_id: int) -> None:
        """A person deletes the ticket (admin API for tests: DELETE /api/v2/tickets/{id})."""
        with self.state_lock:
            if not self.store.delete_ticket(int(ticket_id)):
                raise KeyError(f"no ticket {ticket_id} to delete")

    def merge_tickets(self, target_id: int, source_ids: list[int]) -> None:
        """A person merges tickets (POST /api/v2/tickets/{id}/merge): sources closed, tagged."""
        with self.state_lock:
            if not self.store.merge_tickets(
                int(target_id), [int(i) for i in source_ids], BOT_USER_ID + 1
            ):
                raise KeyError(f"cannot merge {source_ids} into {target_id}")

    def mark_as_spam(self, ticket_id: int) -> None:
        """A person marks the ticket as spam: deleted, its requester suspended."""
        with self.state_lock:
            if not self.store.mark_as_spam(int(ticket_id)):
                raise KeyError(f"no ticket {ticket_id} to mark as spam")

    def delete_organization(self, org_id: int) -> None:
        """A person deletes an organisation (DELETE /api/v2/organizations/{id})."""
        with self.state_lock:
            if not self.store.delete_organization(int(org_id), BOT_USER_ID + 1):
                raise KeyError(f"no organization {org_id} to delete")

    def get_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        with self.state_lock:
            self.jobs.run_due()
            found = self.store.tickets.get(int(ticket_id))
            return copy.deepcopy(found) if found else None

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        with self.state_lock:
            return copy.deepcopy(self.store.comments_of(int(ticket_id)))

    def agent_edit(
        self, ticket_id: int, changes: dict[str, Any] | None = None, note: str | None = None
    ) -> None:
        """A person edits the ticket: it moves on (updated_at), so a safe update of ours conflicts."""
        with self.state_lock:
            edit = dict(changes or {})
            edit["comment"] = {
                "body": note or "Agent edit",
                "public": False,
                "author_id": BOT_USER_ID + 1,
            }
            self.store.update_ticket(int(ticket_id), edit, BOT_USER_ID + 1)

    def put_metric_set(self, metric_set: dict[str, Any]) -> None:
        """Set a ticket's metric set (keyed by its ticket_id)."""
        with self.state_lock:
            self.store.metric_sets[int(metric_set["ticket_id"])] = copy.deepcopy(metric_set)

    def put_organization(self, organization: dict[str, Any], touch: bool = False) -> None:
        with self.state_lock:
            self.store.put_organization(copy.deepcopy(organization), touch)

    def refuse_organization_updates(self, org_ids: list[int], details: str) -> Fault:
        """Every update of these organisations is refused with `details` until the faults are
        cleared (a rule of the account, an organisation locked by an app): a PUT answers 422
        RecordInvalid, an update_many job reports an OrganizationUpdateFailed result."""
        detail = {"ids": [str(i) for i in org_ids], "details": details}
        return self.faults.add(Fault("organization_update", "record_invalid", -1, detail=detail))

    def put_user(self, user: dict[str, Any]) -> None:
        with self.state_lock:
            self.store.users[int(user["id"])] = copy.deepcopy(user)

    def put_ticket_field(self, field: dict[str, Any]) -> None:
        with self.state_lock:
            self.store.ticket_fields[int(field["id"])] = copy.deepcopy(field)

    def put_organization_field(self, field: dict[str, Any]) -> None:
        with self.state_lock:
            self.store.organization_fields[int(field["id"])] = copy.deepcopy(field)

    # -- persistence (catalogue.py's data-file contract, plus comments) ----------------------
    def dump_state(self) -> dict[str, Any]:
        store = self.store
        return {
            "tickets": [store.tickets[i] for i in sorted(store.tickets)],
            "organizations": [store.organizations[i] for i in sorted(store.organizations)],
            "users": [store.users[i] for i in sorted(store.users)],
            "ticket_fields": [store.ticket_fields[i] for i in sorted(store.ticket_fields)],
            "organization_fields": [
                store.organization_fields[i] for i in sorted(store.organization_fields)
            ],
            "ticket_metrics": [store.metric_sets[i] for i in sorted(store.metric_sets)],
            "views": [store.views[i] for i in sorted(store.views)],
            "account_settings": store.account_settings,
            "comments": {str(i): c for i, c in store.comments.items()},
            "ticket_events": store.ticket_events,
            "clock_offset": self.clock.offset,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        with self.state_lock:
            store = self.store = ZendeskStore(self.clock)
            self.jobs = JobQueue(store, self.agent_edit)
            self._tickets.store = self._directory.store = store
            store.load_tickets(state.get("tickets", []))
            store.load_metric_sets(state.get("ticket_metrics", []))
            for org in state.get("organizations", []):
                store.put_organization(org)
            store.users = {int(u["id"]): u for u in state.get("users", [])}
            store.ticket_fields = {int(f["id"]): f for f in state.get("ticket_fields", [])}
            store.organization_fields = {
                int(f["id"]): f for f in state.get("organization_fields", [])
            }
            store.views = {int(v["id"]): v for v in state.get("views", [])}
            if state.get("account_settings"):
                store.account_settings = copy.deepcopy(state["account_settings"])
            store.load_comments({int(i): c for i, c in (state.get("comments") or {}).items()})
            store.ticket_events = list(state.get("ticket_events") or [])
            self.clock.offset = float(state.get("clock_offset", 0.0))
