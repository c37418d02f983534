"""The Jira connector against the sandbox: the real client over HTTPS, paging, writes, faults."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.base import FieldWrite, WriteStatus
from connectors.jira import IssueCursor, JiraConnector
from connectors.transport import RetryPolicy
from sandbox import catalogue
from sandbox.faults import Fault

pytestmark = pytest.mark.integration
LEVEL = catalogue.JIRA_FIELD_LEVEL
RENEWAL = catalogue.JIRA_FIELD_RENEWAL


def connect(sandbox, **settings) -> JiraConnector:
    defaults = {
        "email": catalogue.JIRA_EMAIL,
        "api_token": catalogue.JIRA_API_TOKEN,
        "projects": ["ENG", "OPS"],
        "ca_bundle": str(sandbox.ca_path),
        "page_size": 2,
        "policy": RetryPolicy(sleep=lambda seconds: None, backoff_initial_seconds=0.01),
    }
    return JiraConnector(sandbox.urls["jira"], **{**defaults, **settings})


def add(sandbox, count: int, start_minute: int = 0) -> list[str]:
    return [
        sandbox.jira.create_issue(
            "ENG", f"Issue {n}", updated=f"2026-11-20T09:{start_minute + n:02d}:30.000+0000"
        )
        for n in range(count)
    ]


def read_all(connector: JiraConnector, cursor: str | None) -> tuple[list[str], str | None]:
    keys = []
    for page in connector.read_issue_changes(cursor):
        keys += [record.data["key"] for record in page.records]
        cursor = page.cursor
    return keys, cursor


def test_backfill_pages_to_the_end_and_the_next_read_brings_only_changes(sandbox):
    keys = add(sandbox, 5)
    sandbox.jira.transition(keys[0], "done")
    sandbox.jira.advance_clock(60)
    connector = connect(sandbox)
    first, cursor = read_all(connector, None)
    assert first == keys[1:]  # the backfill reads open issues only
    closed, cursor = read_all(connector, cursor)
    assert closed == [keys[0]]  # later reads see every change, closing included
    assert read_all(connector, cursor)[0] == []
    sandbox.jira.advance_clock(30)
    sandbox.jira.human_edit(keys[2], {"summary": "changed by a person"})
    changed, _ = read_all(connector, cursor)
    assert changed == [keys[2]]


def test_same_minute_updates_in_the_users_zone_are_neither_skipped_nor_repeated(sandbox):
    sandbox.jira.set_time_zone("Asia/Kathmandu")  # UTC+05:45: minutes are not hours
    connector = connect(sandbox)
    (first,) = add(sandbox, 1)
    _, cursor = read_all(connector, None)
    sandbox.jira.advance_clock(1)  # the next edits land in the same minute as reads before them
    for _ in range(3):
        key = sandbox.jira.create_issue("ENG", "same minute")
        keys, cursor = read_all(connector, cursor)
        assert keys == [key]
    assert read_all(connector, cursor)[0] == []


def test_written_values_are_read_back(sandbox):
    keys = add(sandbox, 2)
    connector = connect(sandbox)
    _, cursor = read_all(connector, None)
    writes = [
        FieldWrite(
            "jira",
            "issue",
            key,
            {LEVEL: {"value": "advisory"}, RENEWAL: "2027-03-01"},
            tags_add=("customer-escalation",),
        )
        for key in keys
    ]
    assert [r.status for r in connector.apply(writes)] == [WriteStatus.OK, WriteStatus.OK]
    records = [r for page in connector.read_issue_changes(cursor) for r in page.records]
    assert {r.data["key"] for r in records} == set(keys)
    fields = records[0].data["fields"]
    assert fields[LEVEL]["value"] == "advisory" and fields[RENEWAL] == "2027-03-01"
    assert fields["labels"] == ["customer-escalation"]
    assert sandbox.jira.edit_log == [(keys[0], False), (keys[1], False)]


def test_a_rejected_issue_gets_jiras_reason_and_the_others_are_written(sandbox):
    keys = add(sandbox, 3)
    sandbox.jira.reject_edit(keys[1], errors={LEVEL: "Option value 'advisory' is not valid"})
    results = connect(sandbox).apply(
        [FieldWrite("jira", "issue", key, {LEVEL: {"value": "advisory"}}) for key in keys]
    )
    assert [r.status for r in results] == [WriteStatus.OK, WriteStatus.REJECTED, WriteStatus.OK]
    assert results[1].reason == f"{LEVEL}: Option value 'advisory' is not valid"


def test_search_faults_are_recovered_by_the_shared_policy(sandbox):
    keys = add(sandbox, 3)
    sandbox.jira.faults.add(Fault("search_jql", "status", status=503, retry_after=1))
    sandbox.jira.faults.add(Fault("search_jql", "reset"))
    assert read_all(connect(sandbox), None)[0] == keys


def test_a_reset_write_is_retry_and_lands_on_the_next_apply(sandbox):
    (key,) = add(sandbox, 1)
    connector = connect(sandbox)
    sandbox.jira.faults.add(Fault("issue_edit", "reset"))
    write = FieldWrite("jira", "issue", key, {LEVEL: {"value": "advisory"}})
    assert connector.apply([write])[0].status == WriteStatus.RETRY
    assert connector.apply([write])[0].status == WriteStatus.OK
    assert sandbox.jira.get_issue(key)["fields"][LEVEL]["value"] == "advisory"


def test_bulk_edit_on_cloud_writes_identical_changes_in_one_task(sandbox):
    keys = add(sandbox, 4)
    sandbox.jira.reject_edit(keys[3], errors={RENEWAL: "Error parsing date string: x"})
    connector = connect(sandbox, use_bulk_edit=True)
    same = {LEVEL: {"value": "executive-review"}, RENEWAL: "2027-03-01"}
    results = connector.apply(
        [FieldWrite("jira", "issue", key, same) for key in keys]
        + [FieldWrite("jira", "issue", "ENG-404", same)]
    )
    assert [r.status for r in results] == [WriteStatus.OK] * 3 + [WriteStatus.REJECTED] * 2
    assert results[3].reason == "Error parsing date string: x"
    assert (
        sandbox.jira.traffic.requests["bulk_edit"] == 1
        and sandbox.jira.traffic.requests["issue_edit"] == 0
    )
    assert sandbox.jira.get_issue(keys[0])["fields"][RENEWAL] == "2027-03-01"


def test_data_center_reads_with_start_at_and_writes_over_v2(sandbox):
    sandbox.jira.deployment = "datacenter"
    keys = add(sandbox, 3)
    connector = connect(
        sandbox,
        deployment="data_center",
        email=None,
        api_token=None,
        personal_access_token=catalogue.JIRA_PAT,
    )
    assert read_all(connector, None)[0] == keys
    assert sandbox.jira.traffic.requests["search"] == 2
    assert (
        connector.apply([FieldWrite("jira", "issue", keys[0], {LEVEL: {"value": "advisory"}})])[
            0
        ].status
        == WriteStatus.OK
    )


def test_overlap_rereads_are_dropped_within_a_long_overlap(sandbox):
    keys = add(sandbox, 4)
    connector = connect(sandbox, overlap=timedelta(hours=1))
    first, cursor = read_all(connector, None)
    assert first == keys
    assert read_all(connector, cursor)[0] == []


def test_pages_of_issues_already_read_keep_the_cursor_without_encoding_it_again(
    sandbox, monkeypatch
):
    # Encoding is linear in the overlap map: once per page of a window read before made a
    # read after thousands of edits quadratic.
    add(sandbox, 4)
    connector = connect(sandbox, overlap=timedelta(hours=1))
    _, cursor = read_all(connector, None)
    encodings = []
    original = IssueCursor.encode
    monkeypatch.setattr(IssueCursor, "encode", lambda self: encodings.append(1) or original(self))
    pages = list(connector.read_issue_changes(cursor))
    assert len(pages) == 2 and [page.cursor for page in pages] == [cursor, cursor]
    assert encodings == []


def changelog_ids(records) -> list[str]:
    (record,) = records
    return [h["id"] for h in record.data["changelog"]["histories"]]


def test_a_changelog_longer_than_the_search_nests_is_read_whole_from_the_issue(sandbox):
    (key,) = add(sandbox, 1)
    for n in range(230):  # Jira nests the latest 100 in a search's expand=changelog
        sandbox.jira.transition(key, "indeterminate" if n % 2 == 0 else "new")
    connector = connect(sandbox)
    records = [r for page in connector.read_issue_changes(None) for r in page.records]
    every = [h["id"] for h in sandbox.jira.get_issue(key)["_histories"]]
    assert len(every) == 230 and changelog_ids(records) == every
    assert sandbox.jira.traffic.requests["changelog"] == 2  # 130 older: two pages, backwards


def test_a_later_read_fetches_only_the_histories_made_since_the_previous_read(sandbox):
    (key,) = add(sandbox, 1)
    for n in range(120):  # read by the first run (two pages of the issue's changelog)
        sandbox.jira.transition(key, "indeterminate" if n % 2 == 0 else "new")
    sandbox.jira.advance_clock(600)  # a later edit: the first read's cursor is past them
    sandbox.jira.human_edit(key, {"summary": "edited later"})
    connector = connect(sandbox)
    _, cursor = read_all(connector, None)
    sandbox.jira.advance_clock(600)
    for n in range(150):  # more changes between two runs than a search nests
        sandbox.jira.transition(key, "new" if n % 2 == 0 else "indeterminate")
    sandbox.jira.advance_clock(60)
    before = sandbox.jira.traffic.requests["changelog"]
    records = [r for page in connector.read_issue_changes(cursor) for r in page.records]
    every = [h["id"] for h in sandbox.jira.get_issue(key)["_histories"]]
    read = changelog_ids(records)
    assert set(every[120:]) <= set(read)  # every change since the first read
    assert len(read) < len(every)  # and it stopped at the page reaching back before it
    assert sandbox.jira.traffic.requests["changelog"] - before == 1
