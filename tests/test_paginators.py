"""Each paginator pages to the end as its vendor documents, and none requests a page twice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import responses

from connectors.errors import ConnectorError
from connectors.paginators import (
    IdBatches,
    NextPageToken,
    NextPageUrl,
    NextRecordsUrl,
    PageBean,
    PageRequest,
    PaginationLoop,
    StartAt,
    ZendeskCursorExport,
    ZendeskTimeExport,
    pages,
)
from connectors.transport import RetryPolicy
from connectors.zendesk import ZendeskConnector


class Vendor:
    """Answers requests from a script, in order, and remembers what it was asked."""

    def __init__(self, *answers: Mapping[str, Any]):
        self.answers = list(answers)
        self.asked: list[PageRequest] = []

    def __call__(self, request: PageRequest) -> Mapping[str, Any]:
        self.asked.append(request)
        return self.answers[len(self.asked) - 1]


def test_the_loop_hands_out_each_page_with_whether_it_is_the_last():
    vendor = Vendor({"next_page": "u2", "n": 1}, {"next_page": "u3", "n": 2}, {"n": 3})
    read = list(pages(NextPageUrl(PageRequest.of()), vendor))
    assert [(body["n"], last) for body, last in read] == [(1, False), (2, False), (3, True)]
    assert [r.url for r in vendor.asked] == [None, "u2", "u3"]


def test_a_page_is_handed_out_before_a_loop_is_detected():
    vendor = Vendor({"next_page": "u2", "n": 1}, {"next_page": "u2", "n": 2})
    handed: list[int] = []
    with pytest.raises(PaginationLoop, match="requested again"):
        for body, _ in pages(NextPageUrl(PageRequest.of()), vendor):
            handed.append(body["n"])
    assert handed == [1, 2] and len(vendor.asked) == 2


def test_a_pagination_loop_is_a_connector_error():
    assert issubclass(PaginationLoop, ConnectorError)


# -- Zendesk cursor export ------------------------------------------------------------------------
def test_cursor_export_starts_at_a_time_then_follows_after_cursor_only():
    vendor = Vendor(
        {"after_cursor": "MTA=", "end_of_stream": False},
        {"after_cursor": "MjA=", "end_of_stream": False},
        {"after_cursor": "MzA=", "end_of_stream": True},
    )
    first = PageRequest.of(start_time=100, per_page=2)
    assert len(list(pages(ZendeskCursorExport(first), vendor))) == 3
    assert [dict(r.params) for r in vendor.asked] == [
        {"start_time": 100, "per_page": 2},
        {"cursor": "MTA=", "per_page": 2},
        {"cursor": "MjA=", "per_page": 2},
    ]


def test_cursor_export_without_a_new_cursor_is_a_loop_not_a_hang():
    vendor = Vendor(
        {"after_cursor": "MTA=", "end_of_stream": False},
        {"after_cursor": None, "end_of_stream": False},
    )
    with pytest.raises(PaginationLoop, match="ticket export did not move past cursor=MTA="):
        list(pages(ZendeskCursorExport(PageRequest.of(start_time=100)), vendor))


# -- Zendesk time-based export --------------------------------------------------------------------
def test_time_export_starts_each_page_at_the_last_end_time():
    vendor = Vendor(
        {"end_time": 200, "end_of_stream": False},
        {"end_time": 300, "end_of_stream": True},
    )
    list(pages(ZendeskTimeExport(PageRequest.of(start_time=100)), vendor))
    assert [r.param("start_time") for r in vendor.asked] == [100, 200]


@pytest.mark.parametrize("end_time", [100, 90, None])
def test_time_export_whose_end_time_does_not_move_forward_is_a_loop(end_time):
    vendor = Vendor({"end_time": end_time, "end_of_stream": False})
    with pytest.raises(PaginationLoop, match="did not move past 100"):
        list(pages(ZendeskTimeExport(PageRequest.of(start_time=100)), vendor))


# -- next-page URL, show_many ---------------------------------------------------------------------
def test_next_page_url_repeating_an_earlier_page_is_a_loop():
    vendor = Vendor({"next_page": "u2"}, {"next_page": "u3"}, {"next_page": "u2"})
    with pytest.raises(PaginationLoop):
        list(pages(NextPageUrl(PageRequest.of()), vendor))
    assert len(vendor.asked) == 3


def test_id_batches_ask_for_each_id_once_at_most_size_a_request():
    vendor = Vendor({}, {}, {})
    ids = [str(n) for n in range(1, 6)]
    list(pages(IdBatches(PageRequest.of(include="metric_sets"), ids, 2), vendor))
    assert [dict(r.params) for r in vendor.asked] == [
        {"ids": "1,2", "include": "metric_sets"},
        {"ids": "3,4", "include": "metric_sets"},
        {"ids": "5", "include": "metric_sets"},
    ]


# -- Jira -----------------------------------------------------------------------------------------
def test_next_page_token_follows_the_token_until_is_last():
    vendor = Vendor(
        {"issues": [1], "nextPageToken": "t1"},
        {"issues": [2], "nextPageToken": "t2", "isLast": True},
    )
    read = list(pages(NextPageToken(PageRequest.of(maxResults=1)), vendor))
    assert [last for _, last in read] == [False, True]
    assert [r.param("nextPageToken") for r in vendor.asked] == [None, "t1"]


def test_next_page_token_ends_without_a_token():
    vendor = Vendor({"issues": [1], "nextPageToken": None})
    assert [last for _, last in pages(NextPageToken(PageRequest.of()), vendor)] == [True]


def test_next_page_token_repeating_is_a_loop():
    vendor = Vendor(
        {"issues": [1], "nextPageToken": "t1", "isLast": False},
        {"issues": [2], "nextPageToken": "t1", "isLast": False},
    )
    with pytest.raises(PaginationLoop, match="jira: search"):
        list(pages(NextPageToken(PageRequest.of()), vendor))


def test_start_at_moves_by_the_issues_received_until_the_total():
    vendor = Vendor(
        {"issues": [1, 2], "total": 5},
        {"issues": [3, 4], "total": 5},
        {"issues": [5], "total": 5},
    )
    read = list(pages(StartAt(PageRequest.of(startAt=0, maxResults=2)), vendor))
    assert [r.param("startAt") for r in vendor.asked] == [0, 2, 4]
    assert [last for _, last in read] == [False, False, True]


def test_start_at_stops_at_an_empty_page():
    vendor = Vendor({"issues": [], "total": 10})
    assert [last for _, last in pages(StartAt(PageRequest.of(startAt=0)), vendor)] == [True]


def test_page_bean_moves_by_the_values_received_until_is_last():
    vendor = Vendor(
        {"values": ["a", "b"], "isLast": False},
        {"values": ["c"], "isLast": True},
    )
    read = list(pages(PageBean(PageRequest.of(startAt=0)), vendor))
    assert [r.param("startAt") for r in vendor.asked] == [0, 2]
    assert [last for _, last in read] == [False, True]


def test_page_bean_stops_at_an_empty_page_even_if_not_last():
    vendor = Vendor({"values": [], "isLast": False})
    assert [last for _, last in pages(PageBean(PageRequest.of(startAt=0)), vendor)] == [True]


# -- Salesforce -----------------------------------------------------------------------------------
def test_next_records_url_follows_the_locator_until_done():
    vendor = Vendor(
        {"done": False, "nextRecordsUrl": "/services/data/v62.0/query/01g-2000"},
        {"done": True},
    )
    list(pages(NextRecordsUrl(PageRequest.of(q="SELECT Id FROM Account")), vendor))
    assert [r.url for r in vendor.asked] == [None, "/services/data/v62.0/query/01g-2000"]


def test_next_records_url_repeating_is_a_loop():
    locator = {"done": False, "nextRecordsUrl": "/services/data/v62.0/query/01g-2000"}
    vendor = Vendor(locator, locator)
    with pytest.raises(PaginationLoop, match="salesforce: query"):
        list(pages(NextRecordsUrl(PageRequest.of(q="SELECT Id FROM Account")), vendor))


# -- a connector driven by the loop ---------------------------------------------------------------
@responses.activate
def test_a_zendesk_export_repeating_its_cursor_stops_with_a_clear_error():
    url = "https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json"
    responses.get(url, json={"tickets": [], "after_cursor": "MTA=", "end_of_stream": False})
    zd = ZendeskConnector(
        "https://acme.zendesk.com",
        email="a@b.c",
        api_token="t",
        policy=RetryPolicy(sleep=lambda s: None),
    )
    read = zd.read_ticket_changes(cursor="MTA=")
    with pytest.raises(ConnectorError, match="did not move past"):
        list(read)
    assert len(responses.calls) == 1
