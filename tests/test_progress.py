"""How far a read got and what is left: the estimate from the export's time position, the time
the vendor's quota needs for the rest, and how a terminal shows it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from mapping.records import SourceRecord
from sync.progress import StreamProgress, about, duration_text, record_moment
from sync.progress_display import TerminalProgress, reading_text

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def tickets(start: datetime, count: int, step: timedelta) -> list[SourceRecord]:
    return [
        SourceRecord("zendesk", "ticket", str(i), {"generated_timestamp": int((start + i * step).timestamp())})
        for i in range(count)
    ]  # fmt: skip


def test_the_records_left_are_estimated_from_the_time_position_of_the_export():
    # 1,000 tickets a page, one a minute: two pages cover 2,000 minutes of the 10,000 up to now.
    progress = StreamProgress("zendesk.tickets", 1000, 6.0, until=NOW)
    start = NOW - timedelta(minutes=10_000)
    progress.note_page(tickets(start, 1000, timedelta(minutes=1)), 1000)
    progress.note_page(tickets(start + timedelta(minutes=1000), 1000, timedelta(minutes=1)), 1000)

    assert progress.read == 2000 and progress.pages == 2
    assert progress.left() == round(2000 * 8001 / 1999)  # about 8,000 more
    # 9 pages at the export's 10 a minute.
    assert progress.quota_seconds(progress.left()) == 9 * 6.0


def test_sideloaded_users_are_not_counted_as_tickets():
    progress = StreamProgress("zendesk.tickets", 1000, 6.0, until=NOW)
    records = tickets(NOW - timedelta(hours=2), 3, timedelta(minutes=1))
    records.append(SourceRecord("zendesk", "user", "9", {"updated_at": "2026-11-23T08:59:00Z"}))
    progress.note_page(records, 3)
    assert progress.read == 3


def test_no_estimate_before_the_export_has_moved_in_time():
    progress = StreamProgress("jira.issues", 100, 0.1, until=NOW)
    assert progress.left() is None and progress.eta_seconds() is None


def test_each_vendor_stamp_is_read_as_utc():
    jira = SourceRecord(
        "jira", "issue", "ENG-1", {"fields": {"updated": "2026-11-23T10:00:00.000+0100"}}
    )
    salesforce = SourceRecord("salesforce", "account", "001", {"SystemModstamp": "2026-11-23T09:00:00.000+0000"})  # fmt: skip
    assert record_moment(jira) == record_moment(salesforce) == NOW


def test_a_terminal_sees_one_line_redrawn_until_the_stream_is_done():
    out = io.StringIO()
    shown = TerminalProgress(out)
    progress = StreamProgress("zendesk.tickets", 1000, 6.0, until=NOW)
    progress.note_page(tickets(NOW - timedelta(hours=2), 1000, timedelta(seconds=3)), 1000)
    shown.reading(progress)
    progress.finished = progress.started + 1
    shown.reading(progress)
    drawn = out.getvalue()
    assert drawn.count("\r\x1b[K") == 2 and drawn.endswith("done\n") and drawn.count("\n") == 1
    assert "zendesk tickets: 1,000 read, 1 page" in drawn


def test_estimates_read_as_estimates():
    assert about(61_234) == "61,000" and about(98) == "98"
    assert duration_text(40) == "40 s" and duration_text(240) == "4 min"
    assert duration_text(4800) == "80 min" and duration_text(6000) == "1 h 40 min"
    assert reading_text(StreamProgress("jira.issues", 100, 0.1)).startswith("jira issues: 0 read")


def test_a_record_that_is_no_json_object_has_no_time_and_is_still_counted_by_kind():
    progress = StreamProgress("jira.issues", 100, 0.1, until=NOW)
    progress.note_page([SourceRecord("jira", "issue", "X", "not an object"),  # type: ignore[arg-type]
                        SourceRecord("jira", "issue", "Y", {"fields": None})], 0)  # fmt: skip
    assert progress.read == 2 and progress.first_at is None
