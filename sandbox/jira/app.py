"""The Jira emulation: Cloud REST v3/v2 and Data Center v2, with routes, auth, quotas, faults.

`deployment` is "cloud" (default: enhanced search /search/jql, bulk edit, classic /search is
410 Gone) or "datacenter" (classic /rest/api/2/search with startAt; no v3, no search/jql).
Authentication: Basic email:API-token or Bearer personal access token. Quotas are per-endpoint
burst limits (RateLimit-Reason: jira-burst-based) and a per-issue write limit
(jira-per-issue-on-write); Atlassian does not publish the numbers, the defaults are guesses.
"""

from __future__ import annotations

import base64
import binascii
import copy
import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import catalogue
from sandbox.clock import Clock
from sandbox.faults import Fault
from sandbox.http import Request, Response, Route
from sandbox.jira.api import JiraApi
from sandbox.jira.bulk import BulkEdits
from sandbox.jira.edits import apply_edit
from sandbox.jira.setup_api import SetupApi
from sandbox.jira.store import JiraStore, format_jira_time
from sandbox.quotas import QuotaRule, QuotaVerdict
from sandbox.vendor import VendorApp

_V = r"/rest/api/(?P<v>[23])"
_KEY = r"(?P<key>[^/]+)"
BURST_REASON = "jira-burst-based"
PER_ISSUE_REASON = "jira-per-issue-on-write"
# Requests per second per endpoint (unpublished by Atlassian; the sandbox's assumption).
BURST_LIMITS = {
    "search_jql": 10,
    "search": 10,
    "issue_get": 20,
    "issue_edit": 10,
    "bulk_edit": 2,
    "bulk_queue": 10,
}
OTHER_BURST_LIMIT = 10
PER_ISSUE_WRITES = (20, 2.0)  # writes per issue per window seconds (assumption)
UNAUTHENTICATED = "Client must be authenticated to access this resource."
RATE_LIMITED = "The request has been rate-limited. Please try again later."
EDIT_FAULT = "edit_rejected"
STATUS_OF_CATEGORY = {  # status category key -> (a status in it, category id, category name)
    "new": ("To Do", 2, "To Do"),
    "indeterminate": ("In Progress", 4, "In Progress"),
    "done": ("Done", 3, "Done"),
}


class JiraApp(VendorApp):
    name = "jira"

    def __init__(self, quota_rules: list[QuotaRule] | None = None, time_factor: float = 1.0):
        super().__init__(quota_rules, time_factor)
        self.clock = Clock()
        self.store = JiraStore(self.clock)
        self.bulk = BulkEdits(self.store, self.scripted_rejection)
        self.deployment = "cloud"
        self.account_id = "5b10ac8d82e05b22cc7d4ef5"
        self.credentials = {(catalogue.JIRA_EMAIL, catalogue.JIRA_API_TOKEN)}
        self.personal_access_tokens = {catalogue.JIRA_PAT}
        self.edit_log: list[
            tuple[str, bool]
        ] = []  # (issue key, notifyUsers) of every accepted edit
        self._issue_writes: dict[str, tuple[float, int]] = {}
        self._api = JiraApi(self)
        self._setup = SetupApi(self)
        # (project key or "*", permission key) the API user lacks (mypermissions, editmeta)
        self.denied_permissions: set[tuple[str, str]] = set()
        self.screens: dict[str, list[str]] = {}  # project key -> field ids on its one screen
        self.load_state(_default_state())

    @property
    def is_cloud(self) -> bool:
        return self.deployment == "cloud"

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        api, setup = self._api, self._setup
        field = r"(?P<field>[^/]+)"
        screen, tab = r"(?P<screen>\d+)", r"(?P<tab>\d+)"
        return [
            Route("GET", f"{_V}/search/jql", "search_jql", api.search_jql),
            Route("POST", f"{_V}/search/jql", "search_jql", api.search_jql),
            Route("GET", f"{_V}/search", "search", api.search_classic),
            Route(
                "POST",
                r"/rest/api/3/search/approximate-count",
                "approximate_count",
                setup.approximate_count,
            ),  # fmt: skip
            Route("POST", f"{_V}/search", "search", api.search_classic),
            Route("GET", f"{_V}/issue/{_KEY}", "issue_get", api.issue_get),
            Route("GET", f"{_V}/issue/{_KEY}/changelog", "changelog", api.issue_changelog),
            Route(
                "PUT",
                f"{_V}/issue/{_KEY}",
                "issue_edit",
                self._per_issue(api.issue_edit),
                writes=True,
            ),
            Route("GET", f"{_V}/field", "fields", api.fields),
            Route("POST", f"{_V}/field", "field_create", api.field_create, writes=True),
            Route("GET", f"{_V}/field/{field}/context", "field_contexts", api.field_contexts),
            Route(
                "POST",
                f"{_V}/field/{field}/context",
                "field_context_create",
                setup.create_context,
                writes=True,
            ),  # fmt: skip
            Route(
                "GET",
                f"{_V}/field/{field}/context/projectmapping",
                "field_context_projects",
                setup.project_mapping,
            ),  # fmt: skip
            Route(
                "DELETE",
                f"{_V}/field/{field}/context/(?P<context>\\d+)",
                "field_context_delete",
                setup.delete_context,
                writes=True,
            ),  # fmt: skip
            Route(
                "GET",
                f"{_V}/field/{field}/context/(?P<context>[^/]+)/option",
                "field_options",
                api.field_options,
            ),
            Route(
                "POST",
                f"{_V}/field/{field}/context/(?P<context>[^/]+)/option",
                "field_options_create",
                api.field_options_create,
                writes=True,
            ),
            Route("GET", f"{_V}/issue/{_KEY}/editmeta", "editmeta", setup.edit_meta),
            Route("GET", f"{_V}/project/(?P<project>[^/]+)", "project_get", setup.project),
            Route("GET", f"{_V}/mypermissions", "mypermissions", setup.my_permissions),
            Route(
                "GET",
                f"{_V}/issuetypescreenscheme/project",
                "issuetype_screen_schemes",
                setup.scheme_of_project,
            ),
            Route(
                "GET",
                f"{_V}/issuetypescreenscheme/mapping",
                "issuetype_screen_scheme_mapping",
                setup.scheme_mapping,
            ),
            Route("GET", f"{_V}/screenscheme", "screen_schemes", setup.screen_schemes),
            Route("GET", f"{_V}/screens/{screen}/tabs", "screen_tabs", setup.tabs),
            Route(
                "GET", f"{_V}/screens/{screen}/tabs/{tab}/fields", "tab_fields", setup.tab_fields
            ),
            Route(
                "POST",
                f"{_V}/screens/{screen}/tabs/{tab}/fields",
                "tab_field_add",
                setup.add_tab_field,
                writes=True,
            ),
            Route("GET", f"{_V}/serverInfo", "server_info", api.server_info),
            Route("GET", f"{_V}/myself", "myself", api.myself),
            Route(
                "POST", r"/rest/api/3/bulk/issues/fields", "bulk_edit", api.bulk_edit, writes=True
            ),
            Route("GET", r"/rest/api/3/bulk/queue/(?P<task>[^/]+)", "bulk_queue", api.bulk_queue),
        ]

    # -- authentication -------------------------------------------------------------------
    def authenticate(self, request: Request, route: Route) -> Response | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value.strip() in self.personal_access_tokens:
            return None
        if scheme.lower() == "basic":
            try:
                email, _, token = base64.b64decode(value.strip()).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                email, token = "", ""
            if (email, token) in self.credentials:
                return None
        return self._unauthenticated(request)

    def _unauthenticated(self, request: Request) -> Response:
        # Jira answers in the representation asked for; the python client asks for anything.
        headers = {
            "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
            "WWW-Authenticate": f'OAuth realm="{request.base_url.replace(":", "%3A").replace("/", "%2F")}"',
        }
        accept = request.headers.get("accept", "")
        if "application/json" in accept:
            return Response(401, {"message": UNAUTHENTICATED, "status-code": 401}, headers)
        if "xml" in accept:
            xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><status><status-code>401</status-code><message>{UNAUTHENTICATED}</message></status>'
            return Response(401, xml, {**headers, "Content-Type": "application/xml;charset=UTF-8"})
        return Response(
            401, UNAUTHENTICATED, {**headers, "Content-Type": "text/plain;charset=UTF-8"}
        )

    # -- quotas ---------------------------------------------------------------------------
    def default_quota_rules(self) -> list[QuotaRule]:
        names = ("search_jql", "search", "issue_get", "issue_edit", "fields", "field_create", "field_contexts",
                 "field_options", "field_options_create", "server_info", "myself", "bulk_edit", "bulk_queue",
                 "changelog")  # fmt: skip
        return [
            QuotaRule(f"burst:{n}", BURST_LIMITS.get(n, OTHER_BURST_LIMIT), 1.0, (n,))
            for n in names
        ]

    def _limit_headers(self, limit: int, remaining: int) -> dict[str, str]:
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}
        if remaining < 0.2 * limit:
            headers["X-RateLimit-NearLimit"] = "true"
        return headers

    def _too_many(self, limit: int, retry_after: int, reason: str) -> Response:
        reset = datetime.now(UTC) + timedelta(seconds=retry_after)
        headers = {
            "Retry-After": str(retry_after),
            **self._limit_headers(limit, 0),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
            "RateLimit-Reason": reason,
        }
        return Response(
            429, {"errorMessages": [RATE_LIMITED], "errors": {}, "status": 429}, headers
        )

    def rate_limited(self, verdict: QuotaVerdict, route: Route) -> Response:
        limit = verdict.rule.limit if verdict.rule is not None else 0
        return self._too_many(limit, verdict.retry_after_seconds, BURST_REASON)

    def rate_limit_headers(self, verdict: QuotaVerdict, route: Route) -> dict[str, str]:
        if verdict.rule is None:
            return {}
        return self._limit_headers(verdict.rule.limit, verdict.remaining)

    def _per_issue(self, handler: Any) -> Any:
        """Wrap an issue write with the per-issue write limit."""

        def limited(request: Request) -> Response:
            if self.quotas.enabled:
                limit, window = PER_ISSUE_WRITES[0], PER_ISSUE_WRITES[1] * self.quotas.time_factor
                key, now = request.params["key"].upper(), self.clock.now_ms() / 1000
                start, count = self._issue_writes.get(key, (now, 0))
                if now - start >= window:
                    start, count = now, 0
                if count >= limit:
                    return self._too_many(
                        limit, max(1, math.ceil(start + window - now)), PER_ISSUE_REASON
                    )
                self._issue_writes[key] = (start, count + 1)
            return handler(request)

        return limited

    def error_body(self, status: int, route: Route) -> Any:
        if status == 429:
            return {"errorMessages": [RATE_LIMITED], "errors": {}, "status": 429}
        if status == 503:
            return {"errorMessages": ["Service Unavailable"], "errors": {}}
        return {"errorMessages": [f"Internal server error (HTTP {status})"], "errors": {}}

    def not_found(self, request: Request) -> Response:
        return Response(
            404, {"message": f"null for uri: {request.base_url}{request.path}", "status-code": 404}
        )

    # -- faults ---------------------------------------------------------------------------
    def reject_edit(
        self,
        key: str,
        errors: dict[str, str] | None = None,
        messages: list[str] | None = None,
        times: int = -1,
    ) -> Fault:
        """Script a 400 for edits of one issue (PUT and bulk), with Jira's ErrorCollection."""
        detail = {
            "errors": errors
            if errors is not None
            else {"customfield_10200": "Option value 'x' is not valid"}
        }
        detail["messages"] = messages or []
        return self.faults.add(
            Fault(f"issue_edit:{key.upper()}", EDIT_FAULT, times=times, detail=detail)
        )

    def scripted_rejection(self, key: str) -> dict[str, Any] | None:
        fault = self.faults.take_vendor(f"issue_edit:{key.upper()}", EDIT_FAULT)
        if fault is None:
            return None
        return {
            "errorMessages": list(fault.detail.get("messages", [])),
            "errors": dict(fault.detail.get("errors", {})),
        }

    # -- state and admin API --------------------------------------------------------------
    def dump_state(self) -> dict[str, Any]:
        return {**self.store.dump(), "screens": copy.deepcopy(self.screens)}

    def load_state(self, state: dict[str, Any]) -> None:
        with self.state_lock:
            self.store.load(state)
            # Without saved screens, every field of the site is on every project's screen.
            every = ["summary", "description", "labels"] + [
                f["id"] for f in self.store.fields if f.get("custom")
            ]
            saved = state.get("screens") or {}
            self.screens = {p["key"]: list(saved.get(p["key"], every)) for p in self.store.projects}

    def screen_fields(self, project_key: str) -> list[str]:
        """The field ids on the project's screen (the live list: adding to it adds to the screen)."""
        return self.screens.setdefault(project_key, ["summary", "description", "labels"])

    def remove_from_screen(self, project_key: str, field_id: str) -> None:
        """An admin takes a field off the project's screen: edits of it are refused."""
        with self.state_lock:
            self.screen_fields(project_key).remove(field_id)

    def deny_permission(self, project_key: str, permission: str) -> None:
        """The API user loses a project permission ("*": in every project)."""
        with self.state_lock:
            self.denied_permissions.add((project_key, permission))

    def now_text(self) -> str:
        return format_jira_time(self.clock.now_ms(), ZoneInfo(self.store.time_zone))

    def set_time_zone(self, zone: str) -> None:
        """The sandbox user's time zone (GET /myself timeZone; JQL dates are read in it)."""
        ZoneInfo(zone)  # raises for an unknown zone
        with self.state_lock:
            self.store.time_zone = zone
            self.store.version += 1

    def advance_clock(self, seconds: float) -> None:
        with self.state_lock:
            self.clock.advance(seconds)

    def get_issue(self, key: str) -> dict[str, Any] | None:
        with self.state_lock:
            issue = self.store.find(key)
            return copy.deepcopy(issue) if issue is not None else None

    def put_issue(self, issue: dict[str, Any]) -> None:
        with self.state_lock:
            self.store.put_issue(issue)

    def create_issue(
        self,
        project_key: str,
        summary: str = "Sandbox issue",
        *,
        status_category: str = "new",
        updated: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> str:
        """A person creates an issue; returns its key. `updated` is a Jira timestamp (default now)."""
        with self.state_lock:
            project = next(p for p in self.store.projects if p["key"] == project_key)
            numbers = [
                row.number for row in self.store.rows.values() if row.project_key == project_key
            ]
            key = f"{project_key}-{max(numbers, default=0) + 1}"
            ids = [int(i) for i in self.store.keys_by_id if i.isdigit()]
            when = updated or format_jira_time(self.clock.now_ms(), ZoneInfo("UTC"))
            status_name, category_id, category_name = STATUS_OF_CATEGORY[status_category]
            status = {"name": status_name, "id": str(category_id),
                      "statusCategory": {"id": category_id, "key": status_category, "name": category_name}}  # fmt: skip
            issue_fields = {"summary": summary, "project": dict(project), "status": status, "labels": [],
                            "created": when, "updated": when, **(fields or {})}  # fmt: skip
            self.store.put_issue(
                {"id": str(max(ids, default=10000) + 1), "key": key, "fields": issue_fields}
            )
            return key

    def human_edit(
        self, key: str, fields: dict[str, Any] | None = None, update: dict[str, Any] | None = None
    ) -> None:
        """A person edits the issue in Jira's UI: validated like PUT, `updated` moves."""
        with self.state_lock:
            issue = self.store.find(key)
            if issue is None:
                raise KeyError(key)
            priority = issue["fields"].get("priority")
            if not apply_edit(
                self.store, issue, {"fields": fields or {}, "update": update or {}}, "3"
            ):
                self.store.record_change(
                    issue["key"], "priority", priority, issue["fields"].get("priority")
                )
                self.store.touch(issue["key"])

    def transition(self, key: str, status_category: str) -> None:
        """A person moves the issue to a status of another category (e.g. "done")."""
        with self.state_lock:
            issue = self.store.find(key)
            if issue is None:
                raise KeyError(key)
            name, category_id, category_name = STATUS_OF_CATEGORY[status_category]
            self.store.record_change(
                issue["key"], "status", issue["fields"].get("status"), {"name": name}
            )
            issue["fields"]["status"] = {"name": name, "id": str(category_id),
                                         "statusCategory": {"id": category_id, "key": status_category, "name": category_name}}  # fmt: skip
            self.store.rows[issue["key"]].category_key = status_category
            self.store.touch(issue["key"])

    def move_issue(self, key: str, project_key: str) -> str:
        """A person moves the issue to another project; returns its new key. The id stays, the
        key is the project's next number, the old key still finds the issue (GET and JQL), the
        changelog records the key and the project, and `updated` moves."""
        with self.state_lock:
            issue = self.store.find(key)
            if issue is None:
                raise KeyError(key)
            project = next(p for p in self.store.projects if p["key"] == project_key)
            numbers = [r.number for r in self.store.rows.values() if r.project_key == project_key]
            moved = sorted(k for k in self.store.moved_keys if k.startswith(f"{project_key}-"))
            numbers += [int(k.rpartition("-")[2]) for k in moved]  # Jira never reuses a key
            new_key = f"{project_key}-{max(numbers, default=0) + 1}"
            self.store.move(issue["key"], project, new_key)
            self.store.touch(new_key)
            return new_key

    def delete_issue(self, key: str) -> None:
        """A person deletes the issue (DELETE /rest/api/3/issue/{key}): GET answers 404 and
        searches leave it out; Jira keeps no trace to read."""
        with self.state_lock:
            issue = self.store.find(key)
            if issue is None:
                raise KeyError(key)
            self.store.delete(issue["key"])

    def remove_link(self, key: str, ticket_id: int) -> None:
        """A person removes a Zendesk ticket from the issue's linked tickets field (an edit:
        `updated` moves)."""
        field_id = catalogue.JIRA_FIELD_ZENDESK_TICKET
        with self.state_lock:
            issue = self.store.find(key)
            if issue is None:
                raise KeyError(key)
            linked = [t.strip() for t in str(issue["fields"].get(field_id) or "").split(",")]
            if str(ticket_id) not in linked:
                raise KeyError(f"{key} is not linked to ticket {ticket_id}")
            kept = ",".join(t for t in linked if t and t != str(ticket_id))
            issue["fields"][field_id] = kept or None
            self.store.touch(issue["key"])

    def run_bulk_tasks(self) -> None:
        with self.state_lock:
            self.bulk.run_all()


def _default_state() -> dict[str, Any]:
    """Fields, options and projects of the catalogue, with no issues (an empty site)."""
    projects = [{"id": pid, "key": key, "name": name} for pid, key, name in catalogue.JIRA_PROJECTS]
    try:  # the generator's field list is the catalogue's, in GET /field shape
        from sandbox.generate_jira import field_options, jira_fields
    except ImportError:  # pragma: no cover - the generator ships with the sandbox
        return {"projects": projects}
    return {"fields": jira_fields(), "field_options": field_options(), "projects": projects}
