"""What setting up a site reads and changes: projects, screens, permissions and edit metadata.

Each project has one issue type screen scheme mapping every issue type ("default") to one
screen scheme, whose default screen has one tab ("Field Tab"). A field is editable on an issue
(`GET /issue/{key}/editmeta`) when it is on that screen; a field made with `POST /field` is on
no screen until `POST /screens/{id}/tabs/{tab}/fields` adds it, as in Jira Cloud.
`GET /mypermissions?projectKey=&permissions=` answers `havePermission` per key; tests take a
permission away with `JiraApp.deny_permission(project_key, key)`.

Custom field contexts (`sandbox/jira/contexts.py`): `POST /field/{id}/context` {name,
description, projectIds, issueTypeIds} makes one (201, CreateCustomFieldContext; empty
projectIds: global, empty issueTypeIds: every issue type), `DELETE /field/{id}/context/{ctx}`
removes one with its options (204), `GET /field/{id}/context/projectmapping` lists
{contextId, projectId} or {contextId, isGlobalContext: true}. A custom field that no context
covers for a project is left out of that project's editmeta.

`POST /rest/api/3/search/approximate-count` {"jql"} answers {"count"} for a bounded JQL (400
otherwise), Cloud only; Atlassian's count is an estimate, the sandbox's is exact.

Sandbox simplifications: one screen per project for every operation and issue type; ids are
derived from the project id; system fields other than summary, description and labels are
not listed in editmeta; a select field's allowed values in editmeta are those of every context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.http import Request, Response
from sandbox.jira.jql import JqlError
from sandbox.jira.search import search

if TYPE_CHECKING:
    from sandbox.jira.app import JiraApp

ISSUE_TYPES = ({"id": "10001", "name": "Bug", "subtask": False},
               {"id": "10002", "name": "Incident", "subtask": False})  # fmt: skip
PERMISSIONS = {  # key -> (id, name)
    "BROWSE_PROJECTS": ("10", "Browse Projects"),
    "EDIT_ISSUES": ("12", "Edit Issues"),
    "ADD_COMMENTS": ("15", "Add Comments"),
    "CREATE_ISSUES": ("11", "Create Issues"),
}
SYSTEM_ON_SCREEN = ("summary", "description", "labels")
TAB_NAME = "Field Tab"


def _error(status: int, *messages: str) -> Response:
    return Response(status, {"errorMessages": list(messages), "errors": {}})


def _page(values: list[Any]) -> dict[str, Any]:
    return {"maxResults": 50, "startAt": 0, "total": len(values), "isLast": True, "values": values}


class SetupApi:
    def __init__(self, app: JiraApp):
        self.app = app

    @property
    def store(self):  # noqa: ANN201 - JiraStore
        return self.app.store

    def _project(self, id_or_key: str | None) -> dict[str, Any] | None:
        return next((p for p in self.store.projects if id_or_key in (p["id"], p["key"])), None)

    def _project_of_screen(self, screen_id: str) -> dict[str, Any] | None:
        return next((p for p in self.store.projects if f"1{p['id']}" == screen_id), None)

    # GET /rest/api/{2,3}/project/{projectIdOrKey}
    def project(self, request: Request) -> Response:
        project = self._project(request.params["project"])
        if project is None:
            return _error(404, f"No project could be found with key '{request.params['project']}'.")
        base = f"{request.base_url}/rest/api/{request.params['v']}"
        return Response(200, {"self": f"{base}/project/{project['id']}", **project,
                              "issueTypes": [dict(t) for t in ISSUE_TYPES]})  # fmt: skip

    # GET /rest/api/3/mypermissions?projectKey=&permissions=
    def my_permissions(self, request: Request) -> Response:
        wanted = [k for k in (request.arg("permissions") or "").split(",") if k]
        if not wanted:
            return _error(400, "The permissions parameter is required.")
        unknown = [k for k in wanted if k not in PERMISSIONS]
        if unknown:
            return _error(400, f"Unrecognized permission keys: {', '.join(unknown)}")
        project_key = request.arg("projectKey") or request.arg("projectId")
        project = self._project(project_key) if project_key else None
        if project_key and project is None:
            return _error(404, f"No project could be found with key '{project_key}'.")
        denied = self.app.denied_permissions
        answer = {
            key: {
                "id": PERMISSIONS[key][0],
                "key": key,
                "name": PERMISSIONS[key][1],
                "type": "PROJECT",
                "description": PERMISSIONS[key][1],
                "havePermission": (project["key"] if project else "*", key) not in denied
                and ("*", key) not in denied,
            }
            for key in wanted
        }
        return Response(200, {"permissions": answer})

    # GET /rest/api/{2,3}/issue/{key}/editmeta
    def edit_meta(self, request: Request) -> Response:
        issue = self.store.find(request.params["key"])
        if issue is None:
            return _error(404, "Issue does not exist or you do not have permission to see it.")
        project_key = (issue["fields"].get("project") or {}).get("key")
        if (project_key, "EDIT_ISSUES") in self.app.denied_permissions:
            return Response(200, {"fields": {}})
        fields: dict[str, Any] = {}
        project_id = (issue["fields"].get("project") or {}).get("id")
        for field_id in self.app.screen_fields(project_key):
            field = self.store.field(field_id)
            if field is None:
                continue
            if (
                field.get("custom")
                and self.store.contexts.covering(field_id, str(project_id)) is None
            ):
                continue  # no context applies the field to this project
            meta: dict[str, Any] = {
                "required": field_id == "summary",
                "schema": field.get("schema") or {"type": "string", "system": field_id},
                "name": field["name"],
                "key": field.get("key", field_id),
                "operations": ["set"] if field_id != "labels" else ["add", "set", "remove"],
            }
            if field_id in self.store.options:
                meta["allowedValues"] = [
                    {
                        "self": f"{request.base_url}/rest/api/3/customFieldOption/{o['id']}",
                        "value": o["value"],
                        "id": o["id"],
                    }  # fmt: skip
                    for o in self.store.options[field_id]
                    if not o.get("disabled")
                ]
            fields[field_id] = meta
        return Response(200, {"fields": fields})

    # GET /rest/api/3/issuetypescreenscheme/project?projectId=
    def scheme_of_project(self, request: Request) -> Response:
        values = []
        for project_id in request.query.get("projectId", []):
            project = self._project(project_id)
            if project is not None:
                scheme = {"id": f"2{project['id']}", "name": f"{project['key']}: Issue Type Screen Scheme",
                          "description": ""}  # fmt: skip
                values.append({"issueTypeScreenScheme": scheme, "projectIds": [project["id"]]})
        return Response(200, _page(values))

    # GET /rest/api/3/issuetypescreenscheme/mapping?issueTypeScreenSchemeId=
    def scheme_mapping(self, request: Request) -> Response:
        values = [
            {
                "issueTypeScreenSchemeId": scheme_id,
                "issueTypeId": "default",
                "screenSchemeId": f"3{scheme_id[1:]}",
            }  # fmt: skip
            for scheme_id in request.query.get("issueTypeScreenSchemeId", [])
            if self._project(scheme_id[1:]) is not None
        ]
        return Response(200, _page(values))

    # GET /rest/api/3/screenscheme?id=
    def screen_schemes(self, request: Request) -> Response:
        values = []
        for scheme_id in request.query.get("id", []):
            project = self._project(scheme_id[1:])
            if project is not None:
                values.append({"id": int(scheme_id), "name": f"{project['key']}: Screen Scheme",
                               "description": "", "screens": {"default": int(f"1{project['id']}")}})  # fmt: skip
        return Response(200, _page(values))

    # GET /rest/api/3/screens/{screenId}/tabs
    def tabs(self, request: Request) -> Response:
        project = self._project_of_screen(request.params["screen"])
        if project is None:
            return _error(404, "The screen was not found.")
        return Response(200, [{"id": int(f"4{project['id']}"), "name": TAB_NAME}])

    def _tab_project(self, request: Request) -> dict[str, Any] | None:
        project = self._project_of_screen(request.params["screen"])
        if project is None or request.params["tab"] != f"4{project['id']}":
            return None
        return project

    # GET /rest/api/3/screens/{screenId}/tabs/{tabId}/fields
    def tab_fields(self, request: Request) -> Response:
        project = self._tab_project(request)
        if project is None:
            return _error(404, "The screen tab was not found.")
        fields = [self.store.field(f) for f in self.app.screen_fields(project["key"])]
        return Response(200, [{"id": f["id"], "name": f["name"]} for f in fields if f])

    # POST /rest/api/3/screens/{screenId}/tabs/{tabId}/fields {"fieldId"}
    def add_tab_field(self, request: Request) -> Response:
        project = self._tab_project(request)
        if project is None:
            return _error(404, "The screen tab was not found.")
        try:
            body = request.json()
        except ValueError:
            body = None
        field_id = body.get("fieldId") if isinstance(body, dict) else None
        field = self.store.field(str(field_id)) if field_id else None
        if field is None:
            return _error(400, f"The field {field_id} does not exist.")
        on_screen = self.app.screen_fields(project["key"])
        if field["id"] in on_screen:
            return _error(400, f"The field {field['id']} is already present on the screen.")
        on_screen.append(field["id"])
        return Response(200, {"id": field["id"], "name": field["name"]})

    # -- custom field contexts -----------------------------------------------------------------
    def _custom_field(self, request: Request) -> dict[str, Any] | None:
        field = self.store.field(request.params["field"])
        return field if field is not None and field.get("custom") else None

    # POST /rest/api/3/field/{fieldId}/context
    def create_context(self, request: Request) -> Response:
        field = self._custom_field(request)
        if field is None:
            return _error(404, "The custom field was not found.")
        try:
            body = request.json()
        except ValueError:
            body = None
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("name"), str)
            or not body["name"].strip()
        ):
            return _error(400, "The name of the context is required.")
        project_ids = [str(p) for p in body.get("projectIds") or []]
        issue_type_ids = [str(i) for i in body.get("issueTypeIds") or []]
        unknown = [p for p in project_ids if self._project(p) is None]
        if unknown:
            return _error(404, f"The projects were not found: {', '.join(unknown)}")
        known_types = {t["id"] for t in ISSUE_TYPES}
        if any(i not in known_types for i in issue_type_ids):
            return _error(404, "The issue type was not found.")
        contexts = self.store.contexts.of(field["id"])
        taken = [p for p in project_ids if any(p in c["projectIds"] for c in contexts)]
        if taken:
            return _error(400, f"These projects are already associated with a context of this custom field: {', '.join(taken)}")  # fmt: skip
        if not project_ids and any(not c["projectIds"] for c in contexts):
            return _error(400, "The custom field already has a global context.")
        context = self.store.contexts.add(field["id"], body["name"].strip(), str(body.get("description") or ""),
                                          project_ids, issue_type_ids)  # fmt: skip
        self.store.version += 1
        return Response(201, dict(context))

    # DELETE /rest/api/3/field/{fieldId}/context/{contextId}
    def delete_context(self, request: Request) -> Response:
        field = self._custom_field(request)
        if field is None:
            return _error(404, "The custom field was not found.")
        context_id = request.params["context"]
        if self.store.contexts.find(field["id"], context_id) is None:
            return _error(404, "The context was not found.")
        gone = {o["id"] for o in self.store.context_options(field["id"], context_id)}
        if field["id"] in self.store.options:
            self.store.options[field["id"]] = [
                o for o in self.store.options[field["id"]] if o["id"] not in gone
            ]
        self.store.contexts.remove(field["id"], context_id)
        self.store.version += 1
        return Response(204)

    # GET /rest/api/3/field/{fieldId}/context/projectmapping
    def project_mapping(self, request: Request) -> Response:
        field = self._custom_field(request)
        if field is None:
            return _error(404, "The custom field was not found.")
        wanted = set(request.query.get("contextId", []))
        values: list[dict[str, Any]] = []
        for context in self.store.contexts.of(field["id"]):
            if wanted and context["id"] not in wanted:
                continue
            if not context["projectIds"]:
                values.append({"contextId": context["id"], "isGlobalContext": True})
            values += [{"contextId": context["id"], "projectId": p} for p in context["projectIds"]]
        return Response(200, _page(values))

    # POST /rest/api/3/search/approximate-count {"jql"}
    def approximate_count(self, request: Request) -> Response:
        if not self.app.is_cloud:
            return self.app.not_found(request)
        try:
            body = request.json()
        except ValueError:
            body = None
        jql = body.get("jql") if isinstance(body, dict) else None
        if not isinstance(jql, str):
            return _error(400, "The jql parameter is required.")
        try:
            found = search(self.store, jql, self.app.clock.now_ms(), require_bounded=True)
        except JqlError as problem:
            return _error(400, *problem.messages)
        except ValueError as problem:
            return _error(400, str(problem))
        return Response(200, {"count": len(found.rows)})
