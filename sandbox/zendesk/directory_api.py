"""Organisations, users, ticket fields and organisation fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.http import Request, Response
from sandbox.zendesk import exports
from sandbox.zendesk.jobs import bulk_faults, failed_item, updated_item, validation_failure
from sandbox.zendesk.responses import body_of, error, id_list, int_arg, invalid, not_found, ok
from sandbox.zendesk.setup_api import FORBIDDEN
from sandbox.zendesk.store import zendesk_time

if TYPE_CHECKING:
    from sandbox.zendesk.app import ZendeskApp

TICKET_FIELD_TYPES = frozenset(
    {
        "text",
        "textarea",
        "checkbox",
        "date",
        "integer",
        "decimal",
        "regexp",
        "partialcreditcard",
        "multiselect",
        "tagger",
        "lookup",
    }
)
ORG_FIELD_TYPES = frozenset(
    {"text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "dropdown", "lookup"}
)
SHOW_MANY_MAX = 100
BULK_MAX = 100  # update_many takes at most 100 organisations
# How a job reports an organisation's validation errors, named as for tickets
# ("<Resource>UpdateFailed"); Zendesk's documentation shows no organisation example.
ORG_VALIDATION_FAILURE = "OrganizationUpdateFailed"


class DirectoryApi:
    def __init__(self, app: ZendeskApp):
        self.app = app
        self.store = app.store

    # GET /api/v2/organizations.json (cursor: page[size], page[after]; or offset: page, per_page)
    def organizations(self, request: Request) -> Response:
        items = [self.store.organizations[i] for i in sorted(self.store.organizations)]
        path = "/api/v2/organizations.json"
        size = int_arg(request, "page[size]")
        if size is not None or request.arg("page[after]"):
            size = min(size or exports.MAX_LIST_PAGE, exports.MAX_LIST_PAGE)
            try:
                body = exports.cursor_list_body(
                    items, "organizations", request.base_url, path, size, request.arg("page[after]")
                )
            except exports.BadCursor:
                return error(400, "InvalidPaginationParameter", "page[after] is invalid")
            return ok(body)
        page = max(int_arg(request, "page", 1) or 1, 1)
        per_page = min(int_arg(request, "per_page", 100) or 100, exports.MAX_LIST_PAGE)
        return ok(
            exports.offset_list_body(items, "organizations", request.base_url, path, page, per_page)
        )

    # GET /api/v2/organizations/{id}.json
    def organization(self, request: Request) -> Response:
        org = self.store.organizations.get(int(request.params["id"]))
        return (
            ok({"organization": exports.with_url(org, request.base_url, "organizations")})
            if org
            else not_found()
        )

    # PUT /api/v2/organizations/{id}.json {"organization": {...}}: organization_fields are
    # merged key by key (a key left out keeps its value), tags are replaced as a whole.
    def update_organization(self, request: Request) -> Response:
        org_id = int(request.params["id"])
        if org_id not in self.store.organizations:
            return not_found()
        body = body_of(request)
        if isinstance(body, Response):
            return body
        changes = body.get("organization")
        if not isinstance(changes, dict):
            return error(400, "InvalidValue", "organization is required")
        refused = self.apply_organization_update(org_id, changes)
        if refused is not None:
            return invalid(refused)
        updated = self.store.organizations[org_id]
        return ok({"organization": exports.with_url(updated, request.base_url, "organizations")})

    # PUT /api/v2/organizations/update_many.json: the batch form, {"organizations": [{id, ...}]}
    # (up to 100, each its own changes); answers a job_status, the job applies each item as the
    # single PUT does and reports one result per organisation.
    def update_many_organizations(self, request: Request) -> Response:
        body = body_of(request)
        if isinstance(body, Response):
            return body
        updates = body.get("organizations")
        if not isinstance(updates, list):
            return error(400, "InvalidValue", "organizations is required")
        if not all(isinstance(u, dict) and str(u.get("id", "")).isdigit() for u in updates):
            return error(400, "InvalidValue", "every organization needs an id")
        if len(updates) > BULK_MAX:
            return error(
                400,
                "TooManyValues",
                "Parameter  cannot specify more than 100 values",
                max_count=BULK_MAX,
            )
        ids = [int(u["id"]) for u in updates]
        faults = bulk_faults(self.app.faults, "organizations_update_many", ids)
        job = self.app.jobs.submit(updates, self.app.author_id, faults, self._job_item)
        return ok({"job_status": job.as_json(request.base_url)})

    def _job_item(self, index: int, org_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """One organisation of an update_many job: its result entry."""
        if org_id not in self.store.organizations:
            return failed_item(index, org_id, "RecordNotFound", "Not found")
        refused = self.apply_organization_update(org_id, changes)
        if refused is not None:  # as the job reports a ticket's validation errors
            words = "; ".join(
                text if name == "base" else f"{name.capitalize()}: {text}"
                for name, text in refused.items()
            )
            return validation_failure(index, org_id, words, ORG_VALIDATION_FAILURE)
        return updated_item(index, org_id)

    def apply_organization_update(
        self, org_id: int, changes: dict[str, Any]
    ) -> dict[str, str] | None:
        """One organisation's changes applied as Zendesk applies them (a PUT, or an item of an
        update_many job): None once applied, else the validation errors (field -> words)."""
        org = self.store.organizations[org_id]
        refused = self.app.faults.take_vendor(
            "organization_update",
            "record_invalid",
            where=lambda f: str(org["id"]) in {str(i) for i in f.detail.get("ids", ())},
        )
        if refused is not None:  # a rule of the account refuses the update (422, its words)
            return {"base": str(refused.detail.get("details", "is invalid"))}
        fields = changes.get("organization_fields")
        tags = changes.get("tags")
        if fields is not None and not isinstance(fields, dict):
            return {"organization_fields": "organization_fields must be an object"}
        if tags is not None and not (
            isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)
        ):
            return {"tags": "tags must be a list of strings"}
        updated = dict(org)
        for key, value in changes.items():
            if key not in ("id", "url", "created_at", "updated_at", "organization_fields"):
                updated[key] = value
        if fields is not None:
            updated["organization_fields"] = {**(org.get("organization_fields") or {}), **fields}
        tagging = (self.store.account_settings.get("user") or {}).get("tagging", True)
        if tags is not None and tagging:
            # Zendesk keeps tags lowercase, without spaces, each once. With tags on users and
            # organisations turned off, the tags sent are left out.
            updated["tags"] = sorted({tag.strip().lower() for tag in tags if tag.strip()})
        self.store.put_organization(updated, touch=True)
        return None

    # DELETE /api/v2/organizations/{id}.json: 204; see ZendeskStore.delete_organization.
    def delete_organization(self, request: Request) -> Response:
        if not self.store.delete_organization(int(request.params["id"]), self.app.author_id()):
            return not_found()
        return Response(204)

    # GET /api/v2/organizations/show_many.json?ids= | ?external_ids=
    def organizations_show_many(self, request: Request) -> Response:
        if request.arg("external_ids"):
            wanted = {v for raw in request.query["external_ids"] for v in raw.split(",") if v}
            found = [
                o
                for _, o in sorted(self.store.organizations.items())
                if o.get("external_id") in wanted
            ]
        else:
            ids = id_list(request)
            if ids is None:
                return error(400, "InvalidValue", "ids must be a comma-separated list of numbers")
            found = [self.store.organizations[i] for i in ids if i in self.store.organizations]
        if len(found) > SHOW_MANY_MAX:
            return error(
                400,
                "TooManyValues",
                "Parameter  cannot specify more than 100 values",
                max_count=100,
            )
        return ok(
            {
                "organizations": [
                    exports.with_url(o, request.base_url, "organizations") for o in found
                ]
            }
        )

    # GET /api/v2/incremental/organizations.json?start_time=
    def incremental_organizations(self, request: Request) -> Response:
        return self._time_based_export(request, exports.organization_export_body)

    # GET /api/v2/incremental/ticket_events.json?start_time=
    def incremental_ticket_events(self, request: Request) -> Response:
        return self._time_based_export(request, exports.ticket_event_export_body)

    def _time_based_export(self, request: Request, body: Callable[..., Any]) -> Response:
        """A time-based incremental export: start_time required and older than the export's
        lag, per_page up to the maximum; `body` builds the page."""
        start_time = int_arg(request, "start_time")
        if start_time is None:
            return error(400, "InvalidValue", "start_time is required")
        cutoff = self.app.export_cutoff()
        if start_time >= cutoff:
            return error(
                422, "InvalidValue", "Too recent start_time. Use a start_time older than 1 minute"
            )
        per_page = min(
            int_arg(request, "per_page", exports.MAX_EXPORT_PAGE) or exports.MAX_EXPORT_PAGE,
            exports.MAX_EXPORT_PAGE,
        )
        return ok(body(self.store, request.base_url, start_time, per_page, cutoff))

    # GET /api/v2/users/{id}.json
    def user(self, request: Request) -> Response:
        user = self.store.users.get(int(request.params["id"]))
        return (
            ok({"user": exports.with_url(user, request.base_url, "users")}) if user else not_found()
        )

    # GET /api/v2/users/show_many.json?ids=
    def users_show_many(self, request: Request) -> Response:
        ids = id_list(request)
        if ids is None:
            return error(400, "InvalidValue", "ids must be a comma-separated list of numbers")
        if len(ids) > SHOW_MANY_MAX:
            return error(
                400,
                "TooManyValues",
                "Parameter  cannot specify more than 100 values",
                max_count=100,
            )
        found = [
            exports.with_url(self.store.users[i], request.base_url, "users")
            for i in ids
            if i in self.store.users
        ]
        return ok({"users": found, "next_page": None, "previous_page": None, "count": len(found)})

    # GET /api/v2/ticket_fields.json
    def ticket_fields(self, request: Request) -> Response:
        fields = [
            exports.with_url(f, request.base_url, "ticket_fields")
            for _, f in sorted(self.store.ticket_fields.items())
        ]
        return ok(
            {
                "ticket_fields": fields,
                "next_page": None,
                "previous_page": None,
                "count": len(fields),
            }
        )

    # GET /api/v2/ticket_fields/{id}.json
    def ticket_field(self, request: Request) -> Response:
        field = self.store.ticket_fields.get(int(request.params["id"]))
        return (
            ok({"ticket_field": exports.with_url(field, request.base_url, "ticket_fields")})
            if field
            else not_found()
        )

    # POST /api/v2/ticket_fields.json
    def create_ticket_field(self, request: Request) -> Response:
        if self.app.api_user_role != "admin":
            return error(403, *FORBIDDEN)
        body = body_of(request)
        if isinstance(body, Response):
            return body
        spec = body.get("ticket_field")
        if not isinstance(spec, dict):
            return error(400, "InvalidValue", "ticket_field is required")
        problems = _field_problems(spec, TICKET_FIELD_TYPES)
        options = spec.get("custom_field_options") or []
        if spec.get("type") == "tagger" and not options:
            problems["custom_field_options"] = "Field options: must have at least one option"
        if problems:
            return invalid(problems)
        field_id = max(self.store.ticket_fields, default=360_000_900_000) + 1
        field = self._new_field(field_id, spec)
        if options:
            field["custom_field_options"] = [
                {
                    "id": field_id * 1000 + n + 1,
                    "name": o.get("name"),
                    "raw_name": o.get("name"),
                    "value": o.get("value"),
                    "default": bool(o.get("default")),
                }
                for n, o in enumerate(options)
            ]
        self.store.ticket_fields[field_id] = field
        return ok({"ticket_field": exports.with_url(field, request.base_url, "ticket_fields")}, 201)

    # GET /api/v2/organization_fields.json
    def organization_fields(self, request: Request) -> Response:
        fields = [
            exports.with_url(f, request.base_url, "organization_fields")
            for _, f in sorted(self.store.organization_fields.items())
        ]
        return ok(
            {
                "organization_fields": fields,
                "next_page": None,
                "previous_page": None,
                "count": len(fields),
            }
        )

    # POST /api/v2/organization_fields.json
    def create_organization_field(self, request: Request) -> Response:
        if self.app.api_user_role != "admin":
            return error(403, *FORBIDDEN)
        body = body_of(request)
        if isinstance(body, Response):
            return body
        spec = body.get("organization_field")
        if not isinstance(spec, dict):
            return error(400, "InvalidValue", "organization_field is required")
        problems = _field_problems(spec, ORG_FIELD_TYPES)
        if not spec.get("key"):
            problems["key"] = "Key: cannot be blank"
        elif any(f.get("key") == spec["key"] for f in self.store.organization_fields.values()):
            problems["key"] = "Key: has already been taken"
        if problems:
            return invalid(problems)
        field_id = max(self.store.organization_fields, default=360_000_400_000) + 1
        field = {**self._new_field(field_id, spec), "key": spec["key"], "system": False}
        self.store.organization_fields[field_id] = field
        return ok(
            {
                "organization_field": exports.with_url(
                    field, request.base_url, "organization_fields"
                )
            },
            201,
        )

    def _new_field(self, field_id: int, spec: dict[str, Any]) -> dict[str, Any]:
        stamp = zendesk_time(self.store.clock.timestamp())
        return {
            "id": field_id,
            "type": spec["type"],
            "title": spec["title"],
            "raw_title": spec["title"],
            "description": spec.get("description", ""),
            "raw_description": spec.get("description", ""),
            "position": int(spec.get("position", 9999)),
            "active": bool(spec.get("active", True)),
            "required": bool(spec.get("required", False)),
            "regexp_for_validation": spec.get("regexp_for_validation"),
            "tag": spec.get("tag"),
            "removable": True,
            "created_at": stamp,
            "updated_at": stamp,
        }


def _field_problems(spec: dict[str, Any], types: frozenset[str]) -> dict[str, str]:
    problems = {}
    if not spec.get("title"):
        problems["title"] = "Title: cannot be blank"
    if spec.get("type") not in types:
        problems["type"] = f"Type: {spec.get('type')!r} is not a valid field type"
    return problems
