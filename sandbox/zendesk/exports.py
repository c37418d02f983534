"""Paging: the cursor-based ticket export, the time-based organisation export, list cursors.

Zendesk's cursors are opaque; ours encode the position the way Zendesk's appear to
(standard base64, "+" "/" and "=" padding included, of "<generated_timestamp>.0||<id>|"), so
`after_url` carries them percent-encoded (%3D); a trailing "b" marks a backward cursor. Real
pages of the cursor export answer `before_cursor` and `before_url` null, and so do ours.
Items changed within `lag_seconds` of now are left out, as Zendesk does since 2024-10.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sandbox.zendesk.store import ZendeskStore

MAX_EXPORT_PAGE = 1000
MAX_LIST_PAGE = 100


class BadCursor(ValueError):
    pass


def encode_cursor(position: tuple[int, int], backward: bool = False) -> str:
    raw = f"{position[0]}.0||{position[1]}|{'b' if backward else ''}"
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[tuple[int, int], bool]:
    try:
        raw = base64.b64decode(cursor, validate=True).decode()
        stamp, _, rest = raw.partition("||")
        ident, _, direction = rest.partition("|")
        return (int(float(stamp)), int(ident)), direction == "b"
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor(cursor) from error


@dataclass(frozen=True)
class TicketPage:
    tickets: list[dict[str, Any]]
    after: tuple[int, int]
    before: tuple[int, int]
    end_of_stream: bool


def ticket_page(
    store: ZendeskStore, position: tuple[int, int], backward: bool, per_page: int, cutoff: float
) -> TicketPage:
    """Tickets after (or before) `position` in (generated_timestamp, id) order, up to `cutoff`."""
    if backward:
        stop = store.ordered_before(position)
        start = max(0, stop - per_page)
        keys = [store.order_at(i) for i in range(start, stop)]
        more = start > 0
    else:
        start = store.ordered_after(position)
        keys = []
        index = start
        while index < store.order_length and len(keys) < per_page:
            key = store.order_at(index)
            if key[0] >= cutoff:
                break
            keys.append(key)
            index += 1
        more = index < store.order_length and store.order_at(index)[0] < cutoff
    tickets = [store.tickets[ticket_id] for _, ticket_id in keys]
    after = keys[-1] if keys else position
    before = keys[0] if keys else position
    return TicketPage(tickets, after, before, end_of_stream=not more if not backward else True)


def ticket_export_body(
    store: ZendeskStore,
    base_url: str,
    page: TicketPage,
    per_page: int | None,
    include: list[str],
) -> dict[str, Any]:
    path = f"{base_url}/api/v2/incremental/tickets/cursor.json"
    extra = {k: v for k, v in (("per_page", per_page), ("include", ",".join(include) or None)) if v}
    after = encode_cursor(page.after)
    body: dict[str, Any] = {
        "tickets": [ticket_json(store, t, base_url, include) for t in page.tickets],
        "after_url": f"{path}?{urlencode({'cursor': after, **extra})}",
        "after_cursor": after,
        "before_url": None,
        "before_cursor": None,
        "end_of_stream": page.end_of_stream,
    }
    body.update(sideloads(store, base_url, page.tickets, include))
    return body


def ticket_json(
    store: ZendeskStore, ticket: dict[str, Any], base_url: str, include: list[str]
) -> dict[str, Any]:
    """A ticket as the API shows it; `include=metric_sets` nests its metric set, if it has one."""
    shown = with_url(ticket, base_url, "tickets")
    if "metric_sets" in include:
        metric_set = store.metric_sets.get(int(ticket["id"]))
        if metric_set is not None:
            shown["metric_set"] = metric_set
    return shown


def sideloads(
    store: ZendeskStore, base_url: str, tickets: list[dict[str, Any]], include: list[str]
) -> dict[str, Any]:
    """The `include=users,organizations` sideloads of a ticket page (lists beside the tickets)."""
    loaded: dict[str, Any] = {}
    if "users" in include:
        ids = {t.get(k) for t in tickets for k in ("requester_id", "submitter_id", "assignee_id")}
        loaded["users"] = [
            with_url(store.users[i], base_url, "users")
            for i in sorted(x for x in ids if x in store.users)
        ]
    if "organizations" in include:
        ids = {t.get("organization_id") for t in tickets}
        loaded["organizations"] = [
            with_url(store.organizations[i], base_url, "organizations")
            for i in sorted(x for x in ids if x in store.organizations)
        ]
    return loaded


def organization_export_body(
    store: ZendeskStore, base_url: str, start_time: int, per_page: int, cutoff: float
) -> dict[str, Any]:
    """Time-based export: up to per_page organisations; ones sharing the last second come too."""
    found = store.organizations_since(start_time, cutoff)
    page = found[:per_page]
    index = len(page)
    while page and index < len(found) and found[index][0] == page[-1][0]:
        page.append(found[index])
        index += 1
    end_time = page[-1][0] if page else start_time
    if page and page[0][0] == end_time and len(page) >= per_page:
        end_time += 1  # the whole page is one second: move on, or the next call repeats it
    end_of_stream = index >= len(found)
    query = urlencode({"start_time": end_time, "per_page": per_page})
    return {
        "organizations": [
            with_url(store.organizations[i], base_url, "organizations") for _, i in page
        ],
        "next_page": f"{base_url}/api/v2/incremental/organizations.json?{query}",
        "count": len(page),
        "end_of_stream": end_of_stream,
        "end_time": end_time,
    }


def ticket_event_export_body(
    store: ZendeskStore, base_url: str, start_time: int, per_page: int, cutoff: float
) -> dict[str, Any]:
    """Time-based export of ticket events, paged like the organisations' (same-second rule)."""
    found = store.ticket_events_since(start_time, cutoff)
    page = found[:per_page]
    index = len(page)
    while page and index < len(found) and found[index]["timestamp"] == page[-1]["timestamp"]:
        page.append(found[index])
        index += 1
    end_time = page[-1]["timestamp"] if page else start_time
    if page and page[0]["timestamp"] == end_time and len(page) >= per_page:
        end_time += 1
    query = urlencode({"start_time": end_time, "per_page": per_page})
    return {
        "ticket_events": page,
        "next_page": f"{base_url}/api/v2/incremental/ticket_events.json?{query}",
        "count": len(page),
        "end_of_stream": index >= len(found),
        "end_time": end_time,
    }


def cursor_list_body(
    items: list[dict[str, Any]], key: str, base_url: str, path: str, size: int, after: str | None
) -> dict[str, Any]:
    """Cursor pagination of a list ordered by id: page[size], page[after]; meta and links."""
    start = 0
    if after:
        (_, last_id), _ = decode_cursor(after)
        start = next((n for n, item in enumerate(items) if int(item["id"]) > last_id), len(items))
    page = items[start : start + size]
    has_more = start + size < len(items)
    after_cursor = encode_cursor((0, int(page[-1]["id"]))) if page else None
    before_cursor = encode_cursor((0, int(page[0]["id"])), backward=True) if page else None
    next_link = (
        f"{base_url}{path}?{urlencode({'page[size]': size, 'page[after]': after_cursor})}"
        if has_more
        else None
    )
    return {
        key: [with_url(item, base_url, key) for item in page],
        "meta": {
            "has_more": has_more,
            "after_cursor": after_cursor,
            "before_cursor": before_cursor,
        },
        "links": {"next": next_link, "prev": None},
    }


def offset_list_body(
    items: list[dict[str, Any]], key: str, base_url: str, path: str, page: int, per_page: int
) -> dict[str, Any]:
    """Offset pagination (page, per_page): next_page, previous_page, count."""
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]

    def link(number: int) -> str:
        return f"{base_url}{path}?{urlencode({'page': number, 'per_page': per_page})}"

    return {
        key: [with_url(item, base_url, key) for item in chunk],
        "next_page": link(page + 1) if start + per_page < len(items) else None,
        "previous_page": link(page - 1) if page > 1 else None,
        "count": len(items),
    }


def with_url(record: dict[str, Any], base_url: str, collection: str) -> dict[str, Any]:
    """A shallow copy whose `url` points at this server (generated data names another host)."""
    return {**record, "url": f"{base_url}/api/v2/{collection}/{record['id']}.json"}
