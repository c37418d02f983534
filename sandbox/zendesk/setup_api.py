"""What setting up an account reads and changes: the API user, its role, field options, views.

- `GET /api/v2/users/me.json`: the authenticated user with `role` ("admin", "agent",
  "end-user") and `custom_role_id` (`ZendeskApp.api_user_role`, `api_custom_role`).
- `GET /api/v2/custom_roles/{id}.json`: `{"custom_role": {id, name, role_type, configuration:
  {ticket_editing, comment_access}}}` (comment_access "public": public and private comments,
  "private": private only, "none": a sandbox stand-in for a role without comments).
- `POST /api/v2/ticket_fields/{id}/options.json` `{"custom_field_option": {name, value}}`: adds
  an option (201), or updates the option with that value (200), as Zendesk documents.
- `GET /api/v2/tickets/count.json`: `{"count": {"value", "refreshed_at"}}`, every ticket in the
  account. Zendesk's is approximate (over 100,000 refreshed once a day): `ZendeskApp.
  cached_ticket_count` stands for such a cached value; unset, the count is exact.
- `GET`/`POST /api/v2/views.json`: views with `title`, `all`/`any` conditions and `output`
  (`sort_by`, `sort_order`); answered with `conditions` and `execution` as Zendesk does.
  Creating views needs an admin (403 otherwise). A custom field is a column (and a sort key)
  by its id, as Zendesk's views reference says ("For custom fields, specify the id of the
  custom field"; the preview endpoint: sort_by is "a title or a custom field id"); the sandbox
  keeps `output` as sent and does not execute views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox import catalogue
from sandbox.http import Request, Response
from sandbox.zendesk import exports
from sandbox.zendesk.responses import body_of, error, invalid, not_found, ok
from sandbox.zendesk.store import zendesk_time

if TYPE_CHECKING:
    from sandbox.zendesk.app import ZendeskApp

API_USER_ID = 1
CUSTOM_ROLE_ID = 360000000900
FORBIDDEN = ("Forbidden", "You do not have access to this page. Please contact the account owner of this help desk for further help.")  # fmt: skip


class SetupApi:
    def __init__(self, app: ZendeskApp):
        self.app = app

    @property
    def store(self):  # noqa: ANN201 - ZendeskStore
        return self.app.store

    # GET /api/v2/users/me.json
    def me(self, request: Request) -> Response:
        user = {
            "id": self.app.author_id,
            "email": catalogue.ZENDESK_EMAIL,
            "name": "Escalation Sync",
            "role": self.app.api_user_role,
            "custom_role_id": CUSTOM_ROLE_ID if self.app.api_custom_role else None,
            "active": True,
        }
        return ok({"user": exports.with_url(user, request.base_url, "users")})

    # GET /api/v2/custom_roles/{id}.json
    def custom_role(self, request: Request) -> Response:
        role = self.app.api_custom_role
        if role is None or int(request.params["id"]) != CUSTOM_ROLE_ID:
            return not_found()
        return ok({"custom_role": {"id": CUSTOM_ROLE_ID, "name": "Integration", "role_type": 0,
                                   "configuration": dict(role)}})  # fmt: skip

    def _admin_only(self) -> Response | None:
        return None if self.app.api_user_role == "admin" else error(403, *FORBIDDEN)

    # POST /api/v2/ticket_fields/{id}/options.json
    def add_option(self, request: Request) -> Response:
        refused = self._admin_only()
        if refused is not None:
            return refused
        field = self.store.ticket_fields.get(int(request.params["id"]))
        if field is None:
            return not_found()
        body = body_of(request)
        if isinstance(body, Response):
            return body
        spec = body.get("custom_field_option")
        if not isinstance(spec, dict) or not spec.get("name") or not spec.get("value"):
            return invalid({"custom_field_option": "Name and value: cannot be blank"})
        options = field.setdefault("custom_field_options", [])
        existing = next((o for o in options if o.get("value") == spec["value"]), None)
        if existing is not None:
            existing.update(name=spec["name"], raw_name=spec["name"])
            return ok({"custom_field_option": existing})
        option = {"id": int(field["id"]) * 1000 + len(options) + 1, "name": spec["name"],
                  "raw_name": spec["name"], "value": spec["value"], "default": False}  # fmt: skip
        options.append(option)
        return ok({"custom_field_option": option}, 201)

    # GET /api/v2/account/settings.json
    def account_settings(self, request: Request) -> Response:
        return ok({"settings": self.store.account_settings})

    # PUT /api/v2/account/settings.json {"settings": {"user": {"tagging": true}}}: admins only;
    # the sections given are merged key by key.
    def update_account_settings(self, request: Request) -> Response:
        refused = self._admin_only()
        if refused is not None:
            return refused
        body = body_of(request)
        if isinstance(body, Response):
            return body
        changes = body.get("settings")
        if not isinstance(changes, dict) or not all(isinstance(v, dict) for v in changes.values()):
            return invalid({"settings": "settings must be an object of sections"})
        for section, values in changes.items():
            self.store.account_settings.setdefault(section, {}).update(values)
        return ok({"settings": self.store.account_settings})

    # GET /api/v2/tickets/count.json
    def ticket_count(self, request: Request) -> Response:
        stamp = zendesk_time(self.store.clock.timestamp())
        cached = self.app.cached_ticket_count
        value = len(self.store.tickets) if cached is None else cached
        return ok({"count": {"value": value, "refreshed_at": stamp}})

    # GET /api/v2/views.json
    def views(self, request: Request) -> Response:
        views = [
            exports.with_url(v, request.base_url, "views")
            for _, v in sorted(self.store.views.items())
        ]
        return ok({"views": views, "next_page": None, "previous_page": None, "count": len(views)})

    # POST /api/v2/views.json
    def create_view(self, request: Request) -> Response:
        refused = self._admin_only()
        if refused is not None:
            return refused
        body = body_of(request)
        if isinstance(body, Response):
            return body
        spec = body.get("view")
        if not isinstance(spec, dict) or not spec.get("title"):
            return invalid({"title": "Title: cannot be blank"})
        if not spec.get("all") and not spec.get("any"):
            return invalid({"conditions": "View must test for at least one of the following ticket properties in the ALL conditions section: Status, Type, Group, Assignee, Requester."})  # fmt: skip
        view_id = max(self.store.views, default=360_000_700_000) + 1
        output = spec.get("output") or {}
        stamp = zendesk_time(self.store.clock.timestamp())
        view = {
            "id": view_id,
            "title": spec["title"],
            "active": bool(spec.get("active", True)),
            "position": len(self.store.views),
            "conditions": {"all": list(spec.get("all") or []), "any": list(spec.get("any") or [])},
            "execution": {
                "sort_by": output.get("sort_by", "created_at"),
                "sort_order": output.get("sort_order", "desc"),
                "group_by": output.get("group_by"),
                "columns": [{"id": c} for c in output.get("columns") or ["subject", "status"]],
            },
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.store.views[view_id] = view
        return ok({"view": exports.with_url(view, request.base_url, "views")}, 201)
