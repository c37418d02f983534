"""The emulated Zendesk account's records and the rules of a ticket update.

Plain dicts in the shapes the API returns. Tickets are kept in an index sorted by
(generated_timestamp, id), the order the cursor-based incremental export walks.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.clock import Clock

# Ticket attributes an update may set directly (besides custom fields, tags and comments).
SETTABLE = frozenset(
    {
        "subject",
        "status",
        "priority",
        "type",
        "assignee_id",
        "group_id",
        "organization_id",
        "requester_id",
        "due_at",
        "external_id",
        "problem_id",
        "ticket_form_id",
        "brand_id",
    }
)
CLOSED_STATUS = "closed"
# Unsolved tickets: what Zendesk calls working tickets.
WORKING = frozenset({"new", "open", "pending", "hold"})
# DELETE /api/v2/tickets/{id}: the ticket is soft-deleted. It stays in the incremental export
# with this status (exclude_deleted defaults to false); show, show_many and updates no longer
# find it.
DELETED_STATUS = "deleted"
# POST /api/v2/tickets/{id}/merge: each source ticket is closed with this tag and a private
# comment naming the target; the target gets a comment and carries on.
MERGED_TAG = "closed_by_merge"
UPDATE_CONFLICT = (
    "Safe Update prevented the update due to outdated ticket data. "
    "Please fetch the latest ticket data and try again."
)


def zendesk_time(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class UpdateFailure:
    """Why a ticket update was refused, in Zendesk's words."""

    error: str  # "RecordNotFound" | "UpdateConflict" | "RecordInvalid" | ...
    details: str
    status: int  # the HTTP status a single-ticket PUT answers with


class ZendeskStore:
    def __init__(self, clock: Clock):
        self.clock = clock
        self.tickets: dict[int, dict[str, Any]] = {}
        self._order: list[tuple[int, int]] = []  # sorted (generated_timestamp, id)
        self.comments: dict[int, list[dict[str, Any]]] = {}
        # Ticket id -> its metric set (GET /api/v2/ticket_metrics shape), nested into tickets
        # for include=metric_sets. Tickets without one get none.
        self.metric_sets: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.organizations: dict[int, dict[str, Any]] = {}
        self.ticket_fields: dict[int, dict[str, Any]] = {}
        self.organization_fields: dict[int, dict[str, Any]] = {}
        self.views: dict[int, dict[str, Any]] = {}
        # GET /api/v2/account/settings: only `user.tagging` ("tags on users and organizations",
        # Admin Center > People > Configuration > End users) changes what the API does here.
        self.account_settings: dict[str, Any] = {"user": {"tagging": True}}
        self._next_comment_id = 1_000_000_000
        # Audits with their status/tag changes, oldest first (GET incremental/ticket_events).
        self.ticket_events: list[dict[str, Any]] = []

    # -- tickets ------------------------------------------------------------------------
    def put_ticket(self, ticket: dict[str, Any]) -> None:
        """Insert or replace a ticket as is (loading data, tests)."""
        ticket_id = int(ticket["id"])
        if "generated_timestamp" not in ticket:
            stamp = parse_time(ticket.get("updated_at"))
            ticket["generated_timestamp"] = int(
                stamp if stamp is not None else self.clock.timestamp()
            )
        self._unindex(ticket_id)
        self.tickets[ticket_id] = ticket
        bisect.insort(self._order, (int(ticket["generated_timestamp"]), ticket_id))

    def load_tickets(self, tickets: list[dict[str, Any]]) -> None:
        """Bulk load (a data set of 100k tickets): one sort instead of one insort each."""
        for ticket in tickets:
            if "generated_timestamp" not in ticket:
                stamp = parse_time(ticket.get("updated_at"))
                ticket["generated_timestamp"] = int(
                    stamp if stamp is not None else self.clock.timestamp()
                )
            self.tickets[int(ticket["id"])] = ticket
        self._order = sorted((int(t["generated_timestamp"]), i) for i, t in self.tickets.items())

    def load_metric_sets(self, metric_sets: list[dict[str, Any]]) -> None:
        self.metric_sets = {int(m["ticket_id"]): m for m in metric_sets}

    def load_comments(self, comments: dict[int, list[dict[str, Any]]]) -> None:
        self.comments = comments
        ids = [c.get("id", 0) for found in comments.values() for c in found]
        self._next_comment_id = max([self._next_comment_id, *ids]) + 1

    def _unindex(self, ticket_id: int) -> None:
        old = self.tickets.get(ticket_id)
        if old is None:
            return
        key = (int(old["generated_timestamp"]), ticket_id)
        at = bisect.bisect_left(self._order, key)
        if at < len(self._order) and self._order[at] == key:
            self._order.pop(at)

    def _touch(self, ticket: dict[str, Any]) -> None:
        # Every update is a ticket event: both updated_at and generated_timestamp move.
        now = self.clock.timestamp()
        self._unindex(int(ticket["id"]))
        ticket["updated_at"] = zendesk_time(now)
        ticket["generated_timestamp"] = int(now)
        bisect.insort(self._order, (int(now), int(ticket["id"])))

    def ordered_after(self, position: tuple[int, int]) -> int:
        """Index in the export order of the first ticket strictly after `position`."""
        return bisect.bisect_right(self._order, position)

    def ordered_before(self, position: tuple[int, int]) -> int:
        return bisect.bisect_left(self._order, position)

    def order_at(self, index: int) -> tuple[int, int]:
        return self._order[index]

    @property
    def order_length(self) -> int:
        return len(self._order)

    def update_ticket(
        self, ticket_id: int, changes: dict[str, Any], author_id: int
    ) -> UpdateFailure | None:
        """Apply one ticket update as Zendesk does; None on success."""
        ticket = self.live_ticket(ticket_id)
        if ticket is None:
            return UpdateFailure("RecordNotFound", "Not found", 404)
        if changes.get("safe_update") and _stale(
            changes.get("updated_stamp"), ticket.get("updated_at")
        ):
            return UpdateFailure("UpdateConflict", UPDATE_CONFLICT, 409)
        if ticket.get("status") == CLOSED_STATUS:
            return UpdateFailure("RecordInvalid", "Status: closed prevents ticket update", 422)
        custom = changes.get("custom_fields", changes.get("fields")) or []
        invalid = self._invalid_option(custom)
        if invalid:
            return UpdateFailure("RecordInvalid", invalid, 422)
        metric_set = self.metric_sets.get(ticket_id)
        if metric_set is not None and changes.get("status", ticket.get("status")) != ticket.get(
            "status"
        ):
            metric_set["status_updated_at"] = zendesk_time(self.clock.timestamp())
        before = {"status": ticket.get("status"), "tags": list(ticket.get("tags") or [])}
        if _new_requester(ticket, changes) and "organization_id" not in changes:
            # The ticket's organisation is its requester's: a new requester brings their
            # default organisation (none when they have none).
            requester = self.users.get(_int(changes["requester_id"])) or {}
            ticket["organization_id"] = requester.get("organization_id")
        for name in SETTABLE & changes.keys():
            ticket[name] = changes[name]
        if "subject" in changes:
            ticket["raw_subject"] = changes["subject"]
        tags = list(changes["tags"]) if "tags" in changes else list(ticket.get("tags") or [])
        tags = self._write_custom_fields(ticket, custom, tags)
        tags = [t for t in tags if t not in set(changes.get("remove_tags") or [])]
        tags += list(changes.get("additional_tags") or [])
        ticket["tags"] = sorted(set(tags))
        comment = changes.get("comment")
        if isinstance(comment, dict) and (comment.get("body") or comment.get("html_body")):
            self.add_comment(ticket_id, comment, author_id)
        self._touch(ticket)
        self._audit(ticket, before, author_id)
        return None

    def _audit(self, ticket: dict[str, Any], before: dict[str, Any], author_id: int) -> None:
        """Record the update as Zendesk's ticket event: an Audit whose Change children say what
        moved (status and tags here: what the history export is read for)."""
        children = []
        for name in ("status", "tags"):
            if ticket.get(name) != before[name]:
                children.append(
                    {
                        "id": len(self.ticket_events) * 10 + len(children) + 1,
                        "event_type": "Change",
                        "field_name": name,
                        "value": ticket.get(name),
                        "previous_value": before[name],
                    }
                )
        if not children:
            return
        now = self.clock.timestamp()
        self.ticket_events.append(
            {
                "id": len(self.ticket_events) + 1,
                "ticket_id": int(ticket["id"]),
                "timestamp": int(now),
                "created_at": zendesk_time(now),
                "updater_id": author_id,
                "event_type": "Audit",
                "child_events": children,
            }
        )

    def ticket_events_since(self, start_time: int, cutoff: float) -> list[dict[str, Any]]:
        """Ticket events at or after start_time and before the export's cutoff, oldest first."""
        return [e for e in self.ticket_events if start_time <= e["timestamp"] < cutoff]

    def live_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        """The ticket, unless it does not exist or was deleted."""
        ticket = self.tickets.get(ticket_id)
        return None if ticket is None or ticket.get("status") == DELETED_STATUS else ticket

    def delete_ticket(self, ticket_id: int) -> bool:
        """Soft-delete a ticket as Zendesk does; False when there is none to delete."""
        ticket = self.live_ticket(ticket_id)
        if ticket is None:
            return False
        ticket["status"] = DELETED_STATUS
        self._touch(ticket)
        return True

    def merge_tickets(self, target_id: int, source_ids: list[int], author_id: int) -> bool:
        """Merge sources into the target as Zendesk does; False when one is not there."""
        target = self.live_ticket(target_id)
        sources = [self.live_ticket(i) for i in source_ids]
        if target is None or any(s is None for s in sources) or target_id in source_ids:
            return False
        for source in sources:
            assert source is not None  # checked above
            source["status"] = CLOSED_STATUS
            source["tags"] = sorted({*source.get("tags", []), MERGED_TAG})
            note = {"body": f"This request was closed and merged into request #{target_id}."}
            self.add_comment(int(source["id"]), {**note, "public": False}, author_id)
            self._touch(source)
        listed = ", ".join(f"#{i}" for i in source_ids)
        comment = {"body": f"Requests {listed} were closed and merged into this request."}
        self.add_comment(target_id, {**comment, "public": False}, author_id)
        self._touch(target)
        return True

    def mark_as_spam(self, ticket_id: int) -> bool:
        """PUT /api/v2/tickets/{id}/mark_as_spam: the ticket is deleted and its requester
        suspended; False when there is no such ticket."""
        ticket = self.live_ticket(ticket_id)
        if ticket is None:
            return False
        requester = self.users.get(int(ticket.get("requester_id") or 0))
        if requester is not None:
            requester["suspended"] = True
        return self.delete_ticket(ticket_id)

    def _invalid_option(self, custom: list[dict[str, Any]]) -> str | None:
        for entry in custom:
            field = self.ticket_fields.get(_int(entry.get("id")))
            value = entry.get("value")
            if field and field.get("type") == "tagger" and value not in (None, ""):
                allowed = {o.get("value") for o in field.get("custom_field_options") or []}
                if value not in allowed:
                    return f"{field.get('title')}: {value} is not a valid option"
        return None

    def _write_custom_fields(
        self, ticket: dict[str, Any], custom: list[dict[str, Any]], tags: list[str]
    ) -> list[str]:
        # A tagger field's value is its option's tag: changing it swaps the tag in `tags`.
        values = {_int(e.get("id")): e.get("value") for e in ticket.get("custom_fields") or []}
        for entry in custom:
            field_id = _int(entry.get("id"))
            value = entry.get("value")
            field = self.ticket_fields.get(field_id)
            if field and field.get("type") == "tagger":
                old = values.get(field_id)
                tags = [t for t in tags if t != old]
                if value not in (None, ""):
                    tags.append(value)
            values[field_id] = value
        if custom:
            ticket["custom_fields"] = [{"id": fid, "value": v} for fid, v in values.items()]
            ticket["fields"] = [dict(e) for e in ticket["custom_fields"]]
        return tags

    # -- comments -----------------------------------------------------------------------
    def add_comment(
        self, ticket_id: int, comment: dict[str, Any], author_id: int
    ) -> dict[str, Any]:
        self._next_comment_id += 1
        body = comment.get("body") or comment.get("html_body") or ""
        record = {
            "id": self._next_comment_id,
            "type": "Comment",
            "author_id": int(comment.get("author_id") or author_id),
            "body": body,
            "html_body": f'<div class="zd-comment"><p>{body}</p></div>',
            "plain_body": body,
            "public": bool(comment.get("public", True)),
            "attachments": [],
            "audit_id": self._next_comment_id + 1,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": zendesk_time(self.clock.timestamp()),
            "metadata": {"system": {}, "custom": {}},
        }
        self.comments_of(ticket_id).append(record)
        metric_set = self.metric_sets.get(ticket_id)
        if metric_set is not None:
            # Any comment moves latest_comment_added_at; only public agent replies count as
            # replies, and ours are private notes.
            metric_set["latest_comment_added_at"] = metric_set["updated_at"] = record["created_at"]
        return record

    def comments_of(self, ticket_id: int) -> list[dict[str, Any]]:
        """The ticket's comments; the first is its description, as Zendesk creates it."""
        if ticket_id not in self.comments:
            ticket = self.tickets[ticket_id]
            self.comments[ticket_id] = []
            if ticket.get("description"):
                self._next_comment_id += 1
                first = {
                    "id": self._next_comment_id,
                    "type": "Comment",
                    "author_id": ticket.get("requester_id"),
                    "body": ticket["description"],
                    "html_body": f'<div class="zd-comment"><p>{ticket["description"]}</p></div>',
                    "plain_body": ticket["description"],
                    "public": True,
                    "attachments": [],
                    "audit_id": self._next_comment_id + 1,
                    "via": ticket.get("via") or {"channel": "web"},
                    "created_at": ticket.get("created_at"),
                    "metadata": {"system": {}, "custom": {}},
                }
                self.comments[ticket_id].append(first)
        return self.comments[ticket_id]

    # -- organisations --------------------------------------------------------------------
    def put_organization(self, organization: dict[str, Any], touch: bool = False) -> None:
        if touch:
            organization["updated_at"] = zendesk_time(self.clock.timestamp())
        self.organizations[int(organization["id"])] = organization

    def delete_organization(self, org_id: int, author_id: int) -> bool:
        """DELETE /api/v2/organizations/{id}: the organisation is gone (show, show_many, the
        export and the sideloads no longer have it) and so are its memberships. As when one
        membership is removed, the working tickets of the organisation get `organization_id`
        null (an update: they move in the export); closed tickets cannot be updated and keep
        the id of an organisation that no longer exists. False when there is none."""
        if self.organizations.pop(org_id, None) is None:
            return False
        for user in self.users.values():
            if user.get("organization_id") == org_id:
                user["organization_id"] = None
        for ticket_id, ticket in list(self.tickets.items()):
            if ticket.get("organization_id") == org_id and ticket.get("status") in WORKING:
                self.update_ticket(ticket_id, {"organization_id": None}, author_id)
        return True

    def organizations_since(self, start_time: int, cutoff: float) -> list[tuple[int, int]]:
        """(updated timestamp, id) of organisations changed at or after start_time, oldest first."""
        found = []
        for org_id, org in self.organizations.items():
            stamp = parse_time(org.get("updated_at")) or 0.0
            if start_time <= stamp < cutoff:
                found.append((int(stamp), org_id))
        found.sort()
        return found


def _new_requester(ticket: dict[str, Any], changes: dict[str, Any]) -> bool:
    return "requester_id" in changes and _int(changes["requester_id"]) != _int(
        ticket.get("requester_id")
    )


def _stale(updated_stamp: Any, updated_at: Any) -> bool:
    sent = parse_time(updated_stamp) if isinstance(updated_stamp, str) else None
    current = parse_time(updated_at) if isinstance(updated_at, str) else None
    if sent is None or current is None:
        return updated_stamp != updated_at
    return int(sent) != int(current)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
