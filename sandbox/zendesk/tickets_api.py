"""Ticket endpoints: incremental export, show, show_many, update, update_many, jobs, comments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.http import Request, Response
from sandbox.zendesk import exports
from sandbox.zendesk.jobs import JobFaults, bulk_faults
from sandbox.zendesk.responses import body_of, error, id_list, includes, int_arg, not_found, ok

if TYPE_CHECKING:
    from sandbox.zendesk.app import ZendeskApp

MAX_BULK = 100
TOO_RECENT = "Too recent start_time. Use a start_time older than 1 minute"


class TicketsApi:
    def __init__(self, app: ZendeskApp):
        self.app = app
        self.store = app.store

    # GET /api/v2/incremental/tickets/cursor.json
    def incremental(self, request: Request) -> Response:
        per_page = int_arg(request, "per_page")
        if per_page is None and request.arg("per_page"):
            return error(400, "InvalidValue", "per_page must be a number")
        size = min(per_page or exports.MAX_EXPORT_PAGE, exports.MAX_EXPORT_PAGE)
        cutoff = self.app.export_cutoff()
        cursor = request.arg("cursor")
        if cursor:
            try:
                position, backward = exports.decode_cursor(cursor)
            except exports.BadCursor:
                return error(400, "InvalidPaginationParameter", "cursor is invalid")
        else:
            start_time = int_arg(request, "start_time")
            if start_time is None:
                return error(400, "InvalidValue", "start_time or cursor is required")
            if start_time >= cutoff:
                return error(422, "InvalidValue", TOO_RECENT)
            position, backward = (start_time, -1), False
        page = exports.ticket_page(self.store, position, backward, size, cutoff)
        return ok(
            exports.ticket_export_body(
                self.store, request.base_url, page, per_page, includes(request)
            )
        )

    # GET /api/v2/tickets/{id}.json
    def show(self, request: Request) -> Response:
        ticket = self.store.live_ticket(int(request.params["id"]))
        if ticket is None:
            return not_found()
        return ok(
            {"ticket": exports.ticket_json(self.store, ticket, request.base_url, includes(request))}
        )

    # GET /api/v2/tickets/show_many.json?ids=
    def show_many(self, request: Request) -> Response:
        ids = id_list(request)
        if ids is None:
            return error(400, "InvalidValue", "ids must be a comma-separated list of numbers")
        if len(ids) > MAX_BULK:
            return _too_many()
        include = includes(request)
        found = [
            exports.ticket_json(self.store, self.store.tickets[i], request.base_url, include)
            for i in ids
            if self.store.live_ticket(i) is not None
        ]
        return ok({"tickets": found, "next_page": None, "previous_page": None, "count": len(found)})

    # PUT /api/v2/tickets/{id}.json
    def update(self, request: Request) -> Response:
        body = body_of(request)
        if isinstance(body, Response):
            return body
        ticket_id = int(request.params["id"])
        changes = body.get("ticket")
        if not isinstance(changes, dict):
            return error(400, "InvalidValue", "ticket is required")
        if self.app.faults.take_vendor("ticket_update", "conflict") is not None:
            self.app.agent_edit(ticket_id)
        refused = self.store.update_ticket(ticket_id, changes, self.app.author_id)
        if refused is not None:
            if refused.error == "RecordInvalid":
                return ok(
                    {
                        "error": "RecordInvalid",
                        "description": "Record validation errors",
                        "details": {"base": [{"description": refused.details}]},
                    },
                    422,
                )
            return error(refused.status, refused.error, refused.details)
        ticket = self.store.tickets[ticket_id]
        audit = {
            "id": self.store.comments_of(ticket_id)[-1]["audit_id"]
            if self.store.comments.get(ticket_id)
            else ticket_id,
            "ticket_id": ticket_id,
            "created_at": ticket["updated_at"],
            "author_id": self.app.author_id,
            "events": [],
            "via": {"channel": "api"},
        }
        return ok({"ticket": exports.with_url(ticket, request.base_url, "tickets"), "audit": audit})

    # DELETE /api/v2/tickets/{id}.json (204; the ticket moves to the deleted status)
    def destroy(self, request: Request) -> Response:
        if not self.store.delete_ticket(int(request.params["id"])):
            return not_found()
        return Response(204)

    # PUT /api/v2/tickets/update_many.json
    def update_many(self, request: Request) -> Response:
        body = body_of(request)
        if isinstance(body, Response):
            return body
        updates = self._bulk_updates(request, body)
        if isinstance(updates, Response):
            return updates
        job = self.app.jobs.submit(updates, self.app.author_id, self._job_faults(updates))
        return ok({"job_status": job.as_json(request.base_url)})

    def _bulk_updates(
        self, request: Request, body: dict[str, Any]
    ) -> list[dict[str, Any]] | Response:
        if isinstance(body.get("tickets"), list):
            updates = body["tickets"]
            if not all(isinstance(t, dict) and str(t.get("id", "")).isdigit() for t in updates):
                return error(400, "InvalidValue", "every ticket needs an id")
        elif isinstance(body.get("ticket"), dict) and request.arg("ids"):
            ids = id_list(request)
            if ids is None:
                return error(400, "InvalidValue", "ids must be a comma-separated list of numbers")
            updates = [{**body["ticket"], "id": i} for i in ids]
        else:
            return error(400, "InvalidValue", "tickets, or ticket with ids, is required")
        if len(updates) > MAX_BULK:
            return _too_many()
        return updates

    def _job_faults(self, updates: list[dict[str, Any]]) -> JobFaults:
        ids = [int(u["id"]) for u in updates]
        faults = bulk_faults(self.app.faults, "update_many", ids)
        conflict = self.app.faults.take_vendor("update_many", "conflict")
        if conflict is not None:
            faults.agent_edits = frozenset(int(i) for i in (conflict.detail.get("ids") or ids))
        return faults

    # GET /api/v2/job_statuses/{id}.json
    def job_status(self, request: Request) -> Response:
        job = self.app.jobs.jobs.get(request.params["id"])
        if job is None:
            return not_found()
        if job.status == "queued":
            job.status = "working"  # seen by a poll before it ran
        return ok({"job_status": job.as_json(request.base_url)})

    # GET /api/v2/tickets/{id}/comments.json
    def comments(self, request: Request) -> Response:
        ticket_id = int(request.params["id"])
        if ticket_id not in self.store.tickets:
            return not_found()
        found = self.store.comments_of(ticket_id)
        return ok(
            {"comments": found, "next_page": None, "previous_page": None, "count": len(found)}
        )


def _too_many() -> Response:
    return ok(
        {
            "error": "TooManyValues",
            "description": "Parameter  cannot specify more than 100 values",
            "max_count": 100,
        },
        400,
    )
