"""Jira setup operations for doctor and provision, one method per endpoint.

Through the jira client's session (with the shared retry policy mounted on it), on raw JSON:
fields, field contexts (which projects a field applies to) and their options, permissions,
edit metadata, and the chain from a project to its screens (issue type screen scheme -> screen
scheme -> screens -> tabs -> fields).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import requests
from jira.exceptions import JIRAError

from connectors.errors import AuthError, SystemUnavailable
from connectors.jira import jql_string
from connectors.paginators import PageBean, PageRequest, pages
from connectors.setup_errors import SetupRefused

if TYPE_CHECKING:
    from connectors.jira import JiraConnector

SYSTEM = "jira"
CUSTOM_TYPE = "com.atlassian.jira.plugin.system.customfieldtypes:"


class JiraSetup:
    def __init__(self, connector: JiraConnector):
        self.client = connector.client
        self.search_path = "search/jql" if connector.search == "enhanced" else "search"
        self.last_headers: dict[str, str] = {}

    # -- reads ------------------------------------------------------------------------------
    def fields(self) -> list[dict[str, Any]]:
        """GET /rest/api/{v}/field: every system and custom field with its schema."""
        return self._send("GET", "field", "fields")

    def field_contexts(self, field_id: str) -> list[dict[str, Any]]:
        """GET /rest/api/{v}/field/{id}/context, every page."""
        return list(self._pages(f"field/{field_id}/context", "field contexts"))

    def context_projects(self, field_id: str) -> list[dict[str, Any]]:
        """GET /rest/api/{v}/field/{id}/context/projectmapping, every page: {contextId,
        projectId} per project a context is limited to, {contextId, isGlobalContext} for a
        global one."""
        return list(self._pages(f"field/{field_id}/context/projectmapping", "context projects"))

    def field_options(self, field_id: str, context_id: str) -> list[dict[str, Any]]:
        """GET /rest/api/{v}/field/{id}/context/{context}/option, every page."""
        return list(self._pages(f"field/{field_id}/context/{context_id}/option", "options"))

    def my_permissions(self, project_key: str, keys: list[str]) -> dict[str, bool]:
        """GET /rest/api/{v}/mypermissions: permission key -> whether we have it there."""
        params = {"projectKey": project_key, "permissions": ",".join(keys)}
        answer = self._send("GET", "mypermissions", "mypermissions", params=params)
        return {k: bool(v.get("havePermission")) for k, v in answer["permissions"].items()}

    def project(self, key: str) -> dict[str, Any]:
        """GET /rest/api/{v}/project/{key}: its id and issue types."""
        return self._send("GET", f"project/{key}", f"project {key}")

    def issues_by_type(self, project_key: str, sample: int = 100) -> dict[str, str]:
        """Issue type name -> one issue key, among the project's recently updated issues."""
        jql = f"project = {jql_string(project_key)} ORDER BY updated DESC"
        found = self._send("GET", self.search_path, "search", params={"jql": jql, "fields": "issuetype", "maxResults": sample})  # fmt: skip
        by_type: dict[str, str] = {}
        for issue in found.get("issues") or []:
            kind = ((issue.get("fields") or {}).get("issuetype") or {}).get("name") or "(none)"
            by_type.setdefault(kind, issue["key"])
        return by_type

    def approximate_count(self, jql: str) -> int:
        """POST /rest/api/3/search/approximate-count {"jql"}: Jira Cloud's estimate of the
        issues a bounded JQL finds (`{"count": N}`); Data Center has no such endpoint."""
        url = self.client._get_url("search/approximate-count").replace(
            "/rest/api/2/", "/rest/api/3/"
        )
        return int(
            self._send("POST", url, "approximate count", json={"jql": jql}).get("count") or 0
        )

    def edit_meta(self, issue_key: str) -> dict[str, Any]:
        """GET /rest/api/{v}/issue/{key}/editmeta: field id -> what may be set on this issue."""
        return self._send("GET", f"issue/{issue_key}/editmeta", "editmeta")["fields"]

    def screen_tabs(self, project_id: str) -> list[tuple[int, int]]:
        """(screen id, first tab id) of every screen the project's issue types use."""
        schemes = self._send("GET", "issuetypescreenscheme/project", "issue type screen schemes", params={"projectId": project_id})  # fmt: skip
        found: list[tuple[int, int]] = []
        for item in schemes.get("values") or []:
            scheme_id = item["issueTypeScreenScheme"]["id"]
            mapping = self._send("GET", "issuetypescreenscheme/mapping", "screen scheme mapping", params={"issueTypeScreenSchemeId": scheme_id})  # fmt: skip
            for screen_scheme_id in {m["screenSchemeId"] for m in mapping.get("values") or []}:
                schemes_page = self._send("GET", "screenscheme", "screen schemes", params={"id": screen_scheme_id})  # fmt: skip
                for scheme in schemes_page.get("values") or []:
                    for screen_id in sorted(set((scheme.get("screens") or {}).values())):
                        tabs = self._send("GET", f"screens/{screen_id}/tabs", "screen tabs")
                        if tabs and (screen_id, tabs[0]["id"]) not in found:
                            found.append((screen_id, tabs[0]["id"]))
        return found

    def tab_fields(self, screen_id: int, tab_id: int) -> list[str]:
        """GET /rest/api/{v}/screens/{screen}/tabs/{tab}/fields: the field ids on the tab."""
        return [f["id"] for f in self._send("GET", f"screens/{screen_id}/tabs/{tab_id}/fields", "tab fields")]  # fmt: skip

    # -- creations --------------------------------------------------------------------------
    def create_field(self, name: str, kind: str, description: str = "") -> dict[str, Any]:
        """POST /rest/api/{v}/field: a custom field of a built-in type (`select`, `float`...)."""
        body = {"name": name, "type": CUSTOM_TYPE + kind, "description": description}
        return self._send("POST", "field", "create field", json=body)

    def create_context(
        self, field_id: str, name: str, description: str, project_ids: list[str]
    ) -> dict[str, Any]:
        """POST /rest/api/{v}/field/{id}/context: a context for these projects and every issue
        type (issueTypeIds empty: all issue types; projectIds empty would make it global)."""
        body = {"name": name, "description": description, "projectIds": project_ids, "issueTypeIds": []}  # fmt: skip
        return self._send("POST", f"field/{field_id}/context", "create field context", json=body)

    def delete_context(self, field_id: str, context_id: str) -> None:
        """DELETE /rest/api/{v}/field/{id}/context/{context} (only the global context Jira gave
        a field we made in the same step)."""
        self._send("DELETE", f"field/{field_id}/context/{context_id}", "delete field context")

    def add_options(
        self, field_id: str, context_id: str, values: list[str]
    ) -> list[dict[str, Any]]:
        """POST /rest/api/{v}/field/{id}/context/{context}/option."""
        body = {"options": [{"value": v, "disabled": False} for v in values]}
        path = f"field/{field_id}/context/{context_id}/option"
        return self._send("POST", path, "add options", json=body)["options"]

    def add_to_tab(self, screen_id: int, tab_id: int, field_id: str) -> None:
        """POST /rest/api/{v}/screens/{screen}/tabs/{tab}/fields {"fieldId"}."""
        self._send("POST", f"screens/{screen_id}/tabs/{tab_id}/fields", "add field to screen", json={"fieldId": field_id})  # fmt: skip

    # -- transport ----------------------------------------------------------------------------
    def _pages(self, path: str, what: str) -> Iterator[dict[str, Any]]:
        """The `values` of every page of one of Jira's PageBean lists."""

        def fetch(request: PageRequest) -> Any:
            return self._send("GET", path, what, params=dict(request.params))

        for body, _last in pages(PageBean(PageRequest.of(startAt=0, maxResults=100)), fetch):
            yield from body.get("values") or []

    def _send(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        url = path if path.startswith("https://") else self.client._get_url(path)
        try:
            response = self.client._session.request(method, url, **kwargs)
        except JIRAError as error:
            status = error.status_code or 0
            if status == 401:
                raise AuthError(f"jira: {what} refused our credentials (HTTP 401)") from None
            if status >= 500 or status == 0:
                raise SystemUnavailable(f"jira: {what} failed (HTTP {status})") from None
            raise SetupRefused(SYSTEM, what, status, _words(error)) from None
        except requests.RequestException as error:
            raise SystemUnavailable(
                f"jira: {what} got no answer ({type(error).__name__})"
            ) from None
        self.last_headers = dict(response.headers)
        return response.json() if response.content else {}


def _words(error: JIRAError) -> str:
    try:
        body = error.response.json() if error.response is not None else {}
    except ValueError:
        body = {}
    messages = list(body.get("errorMessages") or []) + [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]  # fmt: skip
    return "; ".join(messages) or str(error.text or "")[:200]
