"""Handlers of the emulated REST resources: search, issues, fields, server info, bulk edit.

Every handler receives the `Request` with `params["v"]` (REST API version, "2" or "3") and
answers in Jira's shapes; errors are Jira's ErrorCollection {"errorMessages", "errors"}.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sandbox import catalogue
from sandbox.http import Request, Response
from sandbox.jira.bulk import BulkRejected
from sandbox.jira.contexts import rendered
from sandbox.jira.edits import EditRejected, apply_edit
from sandbox.jira.jql import JqlError
from sandbox.jira.search import Found, page_token, search, start_after
from sandbox.jira.store import Row, changelog_of, changelog_page, render_issue

if TYPE_CHECKING:
    from sandbox.jira.app import JiraApp

SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
NO_ISSUE = "Issue does not exist or you do not have permission to see it."
DEFAULT_PAGE = 50
MAX_PAGE_IDS = 5000  # search/jql: most per page when only id or key is asked for
MAX_PAGE_FIELDS = 100  # sandbox choice for pages with fields ("may return fewer items")
MAX_PAGE_CLASSIC = 1000  # Data Center's jira.search.views.default.max
CUSTOM_TYPES = {
    # custom field type key -> (schema type, items)
    "select": ("option", None),
    "multiselect": ("array", "option"),
    "radiobuttons": ("option", None),
    "textfield": ("string", None),
    "textarea": ("string", None),
    "url": ("string", None),
    "float": ("number", None),
    "datepicker": ("date", None),
    "datetime": ("datetime", None),
    "labels": ("array", "string"),
}
CUSTOM_TYPE_PREFIX = "com.atlassian.jira.plugin.system.customfieldtypes:"


def error(status: int, *messages: str, errors: dict[str, str] | None = None) -> Response:
    return Response(status, {"errorMessages": list(messages), "errors": errors or {}})


def _json_body(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        return ...


def _fields_wanted(values: list[str] | None) -> set[str] | None | bool:
    """The field ids a `fields` parameter asks for: a set, None for all, False for none given."""
    if values is None:
        return False
    names = [name.strip() for value in values for name in str(value).split(",") if name.strip()]
    if not names:
        return False
    everything = any(name in ("*all", "*navigable") for name in names)
    excluded = {name[1:] for name in names if name.startswith("-")}
    if everything:
        return {"-exclude", *excluded} if excluded else None
    return {name for name in names if not name.startswith("-") and name not in excluded}


class JiraApi:
    def __init__(self, app: JiraApp):
        self.app = app
        self._cache: tuple[tuple[str, int, int], Found] | None = None

    @property
    def store(self):  # noqa: ANN201 - JiraStore, via the app
        return self.app.store

    # -- search ----------------------------------------------------------------------------
    def _found(self, jql: str, require_bounded: bool) -> Found:
        # Paging reads the same result again and again: keep the last one while nothing changed
        # (and, for relative dates such as -5m, within the same minute).
        now_ms = self.app.clock.now_ms()
        key = (jql, self.store.version, now_ms // 60_000)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        found = search(self.store, jql, now_ms, require_bounded)
        self._cache = (key, found)
        return found

    def _render(self, request: Request, row: Row, wanted: set[str] | None | bool) -> dict[str, Any]:
        issue = self.store.issues[row.key]
        if wanted is False:
            return {"id": row.id}
        if isinstance(wanted, set) and "-exclude" in wanted:
            wanted = set(issue["fields"]) - wanted
        shown = render_issue(self.store, issue, request.base_url, request.params["v"], wanted)
        if "changelog" in str(request.arg("expand") or self._body_expand(request)).split(","):
            shown["changelog"] = changelog_of(issue)
        return shown

    @staticmethod
    def _body_expand(request: Request) -> str:
        body = _json_body(request) if request.method == "POST" else None
        expand = body.get("expand") if isinstance(body, dict) else None
        return ",".join(expand) if isinstance(expand, list) else str(expand or "")

    def search_jql(self, request: Request) -> Response:
        """GET/POST /rest/api/{2,3}/search/jql: nextPageToken paging, bounded JQL only."""
        if not self.app.is_cloud:
            return self.app.not_found(request)
        if request.method == "POST":
            body = _json_body(request)
            if not isinstance(body, dict):
                return error(400, "The request body must be a JSON object.")
            fields = body.get("fields")
            params = {k: body.get(k) for k in ("jql", "nextPageToken", "maxResults")}
        else:
            fields = request.query.get("fields")
            params = {k: request.arg(k) for k in ("jql", "nextPageToken", "maxResults")}
        wanted = _fields_wanted(fields if fields is None or isinstance(fields, list) else [fields])
        limit = (
            MAX_PAGE_IDS
            if wanted is False or (isinstance(wanted, set) and wanted <= {"id", "key"})
            else MAX_PAGE_FIELDS
        )
        try:
            page_size = min(int(params["maxResults"] or DEFAULT_PAGE), limit)
        except (TypeError, ValueError):
            return error(400, "The maxResults parameter must be an integer.")
        jql = params["jql"] or ""
        try:
            found = self._found(jql, require_bounded=True)
            token = params["nextPageToken"]
            start = start_after(found, token, jql) if token else 0
        except JqlError as problem:
            return error(400, *problem.messages)
        except ValueError as problem:
            return error(400, str(problem))
        page = found.rows[start : start + max(page_size, 0)]
        is_last = start + len(page) >= len(found.rows)
        answer: dict[str, Any] = {
            "issues": [self._render(request, row, wanted) for row in page],
            "isLast": is_last,
        }
        if not is_last and page:
            answer["nextPageToken"] = page_token(found.keys[start + len(page) - 1], jql)
        return Response(200, answer)

    def search_classic(self, request: Request) -> Response:
        """GET/POST /rest/api/2/search (Data Center): startAt/maxResults/total. Gone on Cloud."""
        if self.app.is_cloud:
            return error(410, SEARCH_REMOVED)
        if request.params["v"] != "2":
            return self.app.not_found(request)
        if request.method == "POST":
            body = _json_body(request)
            if not isinstance(body, dict):
                return error(400, "The request body must be a JSON object.")
            jql, start_at, max_results, fields = (
                body.get(k) for k in ("jql", "startAt", "maxResults", "fields")
            )
        else:
            jql, start_at, max_results = (request.arg(k) for k in ("jql", "startAt", "maxResults"))
            fields = request.query.get("fields")
        wanted = _fields_wanted(fields if fields is None or isinstance(fields, list) else [fields])
        try:
            start = max(int(start_at or 0), 0)
            size = min(
                max(int(max_results if max_results is not None else DEFAULT_PAGE), 0),
                MAX_PAGE_CLASSIC,
            )
        except (TypeError, ValueError):
            return error(400, "startAt and maxResults must be integers.")
        try:
            rows = self._found(jql or "", require_bounded=False).rows
        except JqlError as problem:
            return error(400, *problem.messages)
        wanted = None if wanted is False else wanted  # Data Center defaults to navigable fields
        issues = [self._render(request, row, wanted) for row in rows[start : start + size]]
        body = {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(rows),
            "issues": issues,
        }
        return Response(200, body)

    # -- issues ----------------------------------------------------------------------------
    def _dc_v3(self, request: Request) -> bool:
        return not self.app.is_cloud and request.params["v"] == "3"

    def issue_get(self, request: Request) -> Response:
        if self._dc_v3(request):
            return self.app.not_found(request)
        issue = self.store.find(request.params["key"])
        if issue is None:
            return error(404, NO_ISSUE)
        wanted = _fields_wanted(request.query.get("fields"))
        row = self.store.rows[issue["key"]]
        return Response(200, self._render(request, row, None if wanted is False else wanted))

    def issue_changelog(self, request: Request) -> Response:
        """GET /rest/api/{2,3}/issue/{key}/changelog: every history, a page at a time (startAt,
        maxResults default and most 100), oldest first."""
        if self._dc_v3(request):
            return self.app.not_found(request)
        issue = self.store.find(request.params["key"])
        if issue is None:
            return error(404, NO_ISSUE)
        try:
            start = max(int(request.arg("startAt", "0")), 0)
            limit = min(max(int(request.arg("maxResults", "100")), 1), 100)
        except ValueError:
            return error(400, "startAt and maxResults must be integers.")
        return Response(200, changelog_page(issue, start, limit))

    def issue_edit(self, request: Request) -> Response:
        """PUT /rest/api/{2,3}/issue/{key}: fields and update, 204; 400 naming bad fields."""
        if self._dc_v3(request):
            return self.app.not_found(request)
        issue = self.store.find(request.params["key"])
        if issue is None:
            return error(404, NO_ISSUE)
        body = _json_body(request)
        if body is ...:
            return error(400, "Unexpected character in the request body: it is not JSON.")
        scripted = self.app.scripted_rejection(issue["key"])
        if scripted is not None:
            return Response(400, scripted)
        try:
            apply_edit(self.store, issue, body, request.params["v"])
        except EditRejected as rejected:
            return Response(400, rejected.body())
        self.app.edit_log.append((issue["key"], request.arg("notifyUsers", "true") != "false"))
        if request.arg("returnIssue") == "true":
            return Response(200, self._render(request, self.store.rows[issue["key"]], None))
        return Response(204)

    # -- fields ----------------------------------------------------------------------------
    def fields(self, request: Request) -> Response:
        return Response(200, json.loads(json.dumps(self.store.fields)))

    def field_create(self, request: Request) -> Response:
        """POST /rest/api/{2,3}/field: a custom field of a built-in type, with one context."""
        body = _json_body(request)
        if not isinstance(body, dict):
            return error(400, "The request body must be a JSON object.")
        name, custom_type = body.get("name"), str(body.get("type") or "")
        errors = {}
        if not isinstance(name, str) or not name.strip():
            errors["name"] = "The custom field name is required."
        short = custom_type.removeprefix(CUSTOM_TYPE_PREFIX)
        if short not in CUSTOM_TYPES or not custom_type.startswith(CUSTOM_TYPE_PREFIX):
            errors["type"] = f"The custom field type '{custom_type}' is not valid."
        if errors:
            return error(400, errors=errors)
        schema_type, items = CUSTOM_TYPES[short]
        field = self.store.create_field(
            name.strip(), str(body.get("description") or ""), custom_type, schema_type, items
        )
        return Response(201, json.loads(json.dumps(field)))

    def _custom_field(self, field_id: str) -> dict[str, Any] | None:
        field = self.store.field(field_id)
        return field if field is not None and field.get("custom") else None

    def field_contexts(self, request: Request) -> Response:
        field = self._custom_field(request.params["field"])
        if field is None:
            return error(404, "The custom field was not found.")
        values = [rendered(c) for c in self.store.contexts.of(field["id"])]
        return Response(
            200,
            {
                "maxResults": 50,
                "startAt": 0,
                "total": len(values),
                "isLast": True,
                "values": values,
            },
        )

    def _options_target(self, request: Request) -> tuple[str | None, Response | None]:
        field = self._custom_field(request.params["field"])
        if field is None:
            return None, error(404, "The custom field was not found.")
        if self.store.contexts.find(field["id"], request.params["context"]) is None:
            return None, error(404, "The context was not found.")
        if field["id"] not in self.store.options:
            return None, error(400, "The custom field doesn't support options.")
        return field["id"], None

    def field_options(self, request: Request) -> Response:
        field_id, problem = self._options_target(request)
        if problem is not None:
            return problem
        try:
            start = max(int(request.arg("startAt", "0")), 0)
            size = min(max(int(request.arg("maxResults", "100")), 1), 100)
        except ValueError:
            return error(400, "startAt and maxResults must be integers.")
        options = self.store.context_options(field_id, request.params["context"])
        values = [dict(option) for option in options[start : start + size]]
        is_last = start + len(values) >= len(options)
        return Response(
            200,
            {
                "maxResults": size,
                "startAt": start,
                "total": len(options),
                "isLast": is_last,
                "values": values,
            },
        )

    def field_options_create(self, request: Request) -> Response:
        field_id, problem = self._options_target(request)
        if problem is not None:
            return problem
        body = _json_body(request)
        options = body.get("options") if isinstance(body, dict) else None
        if not isinstance(options, list) or not all(
            isinstance(o, dict) and isinstance(o.get("value"), str) for o in options
        ):
            return error(400, "options must list objects with a value.")
        context_id = request.params["context"]
        existing = {o["value"] for o in self.store.context_options(field_id, context_id)}
        duplicates = [o["value"] for o in options if o["value"] in existing]
        if duplicates:
            return error(400, *(f"The option '{value}' already exists." for value in duplicates))
        added = self.store.add_options(
            field_id, [(o["value"], bool(o.get("disabled"))) for o in options], context_id
        )
        return Response(200, {"options": added})

    # -- server and user -------------------------------------------------------------------
    def server_info(self, request: Request) -> Response:
        cloud = self.app.is_cloud
        version = [1001, 0, 0] if cloud else [9, 12, 8]
        info = {
            "baseUrl": request.base_url,
            "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.8",
            "versionNumbers": version,
            "deploymentType": "Cloud" if cloud else "Server",
            "buildNumber": 100282 if cloud else 9120008,
            "buildDate": "2026-01-05T00:00:00.000+0000",
            "serverTime": self.app.now_text(),
            "scmInfo": "sandbox",
            "serverTitle": "Jira (escalation-sync sandbox)",
        }
        return Response(200, info)

    def myself(self, request: Request) -> Response:
        user = {
            "self": f"{request.base_url}/rest/api/{request.params['v']}/user?accountId={self.app.account_id}",
            "accountId": self.app.account_id,
            "accountType": "atlassian",
            "emailAddress": catalogue.JIRA_EMAIL,
            "displayName": "Escalation Sync",
            "active": True,
            "timeZone": self.store.time_zone,
            "locale": "en_US",
        }
        return Response(200, user)

    # -- bulk edit (Cloud) -----------------------------------------------------------------
    def bulk_edit(self, request: Request) -> Response:
        if not self.app.is_cloud:
            return self.app.not_found(request)
        try:
            task = self.app.bulk.submit(_json_body(request), self.app.account_id)
        except BulkRejected as problem:
            return error(400, str(problem))
        return Response(201, {"taskId": task.task_id})

    def bulk_queue(self, request: Request) -> Response:
        if not self.app.is_cloud:
            return self.app.not_found(request)
        task = self.app.bulk.poll(request.params["task"])
        if task is None:
            return error(404, f"The task with ID {request.params['task']} was not found.")
        return Response(200, task.progress())
