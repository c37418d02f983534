"""Every way the three vendors page a read, as small objects driven by one loop (`pages`).

As singer-sdk's BaseAPIPaginator: a paginator holds the request for the current page;
`has_more(body)` says whether another page follows; `get_next(body)` names the next request;
`advance(body)` moves on and refuses a request it has already made, so a vendor that keeps
answering the same cursor stops the read with a clear error instead of looping for ever.

Requests are `PageRequest`s: a URL (for vendors that hand one out) and the query parameters.
The connector's `fetch` turns one into an HTTP call; the paginator never sends anything.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.errors import ConnectorError

Body = Mapping[str, Any]


class PaginationLoop(ConnectorError):
    """A paginator would request a page it has already requested (or go backwards)."""


@dataclass(frozen=True)
class PageRequest:
    """One page's request: `url` (None: the read's own endpoint) and its parameters."""

    url: str | None = None
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, url: str | None = None, **params: Any) -> PageRequest:
        return cls(url, tuple(sorted(params.items())))

    def param(self, name: str) -> Any:
        return dict(self.params).get(name)

    def with_params(self, **changes: Any) -> PageRequest:
        """The same request with `changes`; a None value drops that parameter."""
        params = {**dict(self.params), **changes}
        return PageRequest.of(self.url, **{k: v for k, v in params.items() if v is not None})


class Paginator(ABC):
    """The request of the current page, and how one page's answer leads to the next."""

    name = "paged read"

    def __init__(self, first: PageRequest):
        self.request = first
        self._requested = {first}

    @abstractmethod
    def has_more(self, body: Body) -> bool:
        """Whether another page follows the one whose answer is `body`."""

    @abstractmethod
    def get_next(self, body: Body) -> PageRequest:
        """The request for the page after the one whose answer is `body`."""

    def advance(self, body: Body) -> None:
        """Move to the next page; a request made before is a loop and raises PaginationLoop."""
        following = self.get_next(body)
        if following in self._requested:
            raise PaginationLoop(
                f"{self.name} did not move past {_shown(self.request)}: the next page would "
                f"be requested again ({_shown(following)}); stopping instead of looping"
            )
        self._requested.add(following)
        self.request = following


def pages(
    paginator: Paginator, fetch: Callable[[PageRequest], Body]
) -> Iterator[tuple[Body, bool]]:
    """The one paging loop: (answer, is it the last page) for every page, in order.

    A page is handed out before the paginator moves on, so what was read is kept even when
    the next step fails.
    """
    while True:
        body = fetch(paginator.request)
        last = not paginator.has_more(body)
        yield body, last
        if last:
            return
        paginator.advance(body)


def _shown(request: PageRequest) -> str:
    params = ", ".join(f"{k}={v}" for k, v in request.params if k not in ("q", "jql"))
    return " ".join(part for part in (request.url, params) if part) or "the first page"


# -- Zendesk ------------------------------------------------------------------------------------
class ZendeskCursorExport(Paginator):
    """GET /api/v2/incremental/tickets/cursor.json: `start_time` first, then `cursor` only
    (`after_cursor` of the last answer), until `end_of_stream`."""

    name = "zendesk: ticket export"

    def has_more(self, body: Body) -> bool:
        return not body.get("end_of_stream")

    def get_next(self, body: Body) -> PageRequest:
        cursor = body.get("after_cursor") or self.request.param("cursor")
        return self.request.with_params(start_time=None, cursor=cursor)


class ZendeskTimeExport(Paginator):
    """Time-based incremental export (e.g. /incremental/organizations.json): the next page
    starts at the answer's `end_time`, until `end_of_stream`. An `end_time` that does not
    move forward would page for ever."""

    name = "zendesk: organization export"

    def has_more(self, body: Body) -> bool:
        return not body.get("end_of_stream")

    def get_next(self, body: Body) -> PageRequest:
        start = int(self.request.param("start_time"))
        end_time = int(body.get("end_time") or start)
        if end_time <= start:
            raise PaginationLoop(f"{self.name} did not move past {start}")
        return self.request.with_params(start_time=end_time)


class NextPageUrl(Paginator):
    """Offset lists that hand out the next page's full URL (`next_page`; null at the end)."""

    name = "zendesk: list"

    def __init__(self, first: PageRequest, key: str = "next_page"):
        super().__init__(first)
        self.key = key

    def has_more(self, body: Body) -> bool:
        return bool(body.get(self.key))

    def get_next(self, body: Body) -> PageRequest:
        return PageRequest(str(body[self.key]))


class IdBatches(Paginator):
    """show_many-style reads: the ids, `size` a request, as `ids=1,2,3`; ids asked once each."""

    name = "show_many"

    def __init__(self, first: PageRequest, ids: Sequence[str], size: int):
        self.batches = [",".join(ids[i : i + size]) for i in range(0, len(ids), size)]
        self.position = 0
        super().__init__(first.with_params(ids=self.batches[0] if self.batches else ""))

    def has_more(self, body: Body) -> bool:
        return self.position + 1 < len(self.batches)

    def get_next(self, body: Body) -> PageRequest:
        self.position += 1
        return self.request.with_params(ids=self.batches[self.position])


# -- Jira ---------------------------------------------------------------------------------------
class NextPageToken(Paginator):
    """Jira Cloud GET /rest/api/3/search/jql: `nextPageToken` from the last answer; the last
    page says `isLast` or carries no token."""

    name = "jira: search"

    def has_more(self, body: Body) -> bool:
        token = body.get("nextPageToken")
        return bool(token) and not body.get("isLast", not token)

    def get_next(self, body: Body) -> PageRequest:
        return self.request.with_params(nextPageToken=body["nextPageToken"])


class StartAt(Paginator):
    """Jira Data Center GET /rest/api/2/search: `startAt` moves by the issues received,
    until `total` is reached or a page comes back empty."""

    name = "jira: search"

    def _next_start(self, body: Body) -> int:
        return int(self.request.param("startAt") or 0) + len(body.get("issues") or [])

    def has_more(self, body: Body) -> bool:
        return bool(body.get("issues")) and self._next_start(body) < int(body.get("total", 0))

    def get_next(self, body: Body) -> PageRequest:
        return self.request.with_params(startAt=self._next_start(body))


class PageBean(Paginator):
    """Jira Cloud's PageBean lists (field contexts, context options, ...): `startAt` moves by
    the values received until `isLast` (a missing `isLast` is read as last, as Jira only omits
    it on unpaged answers) or a page comes back empty."""

    name = "jira: paged list"

    def has_more(self, body: Body) -> bool:
        return bool(body.get("values")) and not body.get("isLast", True)

    def get_next(self, body: Body) -> PageRequest:
        start = int(self.request.param("startAt") or 0) + len(body.get("values") or [])
        return self.request.with_params(startAt=start)


# -- Salesforce ---------------------------------------------------------------------------------
class NextRecordsUrl(Paginator):
    """Salesforce GET /query?q=..., then GET `nextRecordsUrl` (/query/{locator}) until `done`."""

    name = "salesforce: query"

    def has_more(self, body: Body) -> bool:
        return not body.get("done", True)

    def get_next(self, body: Body) -> PageRequest:
        return PageRequest(str(body["nextRecordsUrl"]))
