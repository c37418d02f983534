"""Generated ticket lives and metric sets: a steady stream of tickets, a recent backlog, first
replies mostly within the example matrix's targets, metric sets shaped as Zendesk's."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from sandbox.generate import generate_dataset
from sandbox.generate_timeline import ACKNOWLEDGE, DAY, build_timeline, business_minutes

ANCHOR = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
ANCHOR_TS = int(ANCHOR.timestamp())
OPEN = ("new", "open", "pending", "hold")
METRIC_KEYS = {
    "url",
    "id",
    "ticket_id",
    "created_at",
    "updated_at",
    "group_stations",
    "assignee_stations",
    "reopens",
    "replies",
    "assignee_updated_at",
    "requester_updated_at",
    "status_updated_at",
    "initially_assigned_at",
    "assigned_at",
    "solved_at",
    "latest_comment_added_at",
    "reply_time_in_minutes",
    "first_resolution_time_in_minutes",
    "full_resolution_time_in_minutes",
    "agent_wait_time_in_minutes",
    "requester_wait_time_in_minutes",
    "on_hold_time_in_minutes",
}


@pytest.fixture(scope="module")
def zendesk():
    return generate_dataset(accounts=120, tickets=1500, jira_issues=50, seed=7, anchor=ANCHOR)[
        "zendesk"
    ]


def _ts(text: str | None) -> int | None:
    if text is None:
        return None
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def test_every_ticket_has_one_metric_set_with_zendesks_fields(zendesk):
    metric_sets = zendesk["ticket_metrics"]
    assert [m["ticket_id"] for m in metric_sets] == [t["id"] for t in zendesk["tickets"]]
    assert len({m["id"] for m in metric_sets}) == len(metric_sets)
    for metric_set in metric_sets:
        assert set(metric_set) == METRIC_KEYS
        assert set(metric_set["reply_time_in_minutes"]) == {"calendar", "business"}


def test_new_tickets_have_no_reply_and_others_a_first_reply_before_the_last_agent_update(zendesk):
    by_ticket = {m["ticket_id"]: m for m in zendesk["ticket_metrics"]}
    statuses = Counter()
    for ticket in zendesk["tickets"]:
        metric_set, status = by_ticket[ticket["id"]], ticket["status"]
        statuses[status] += 1
        created, updated = _ts(ticket["created_at"]), _ts(ticket["updated_at"])
        minutes = metric_set["reply_time_in_minutes"]
        if status == "new":
            assert metric_set["replies"] == 0
            assert minutes == {"calendar": None, "business": None}
            assert metric_set["assignee_updated_at"] is None
            continue
        assert metric_set["replies"] >= 1
        assert 0 <= minutes["business"] <= minutes["calendar"]
        replied = created + 60 * minutes["calendar"]
        assert replied <= _ts(metric_set["assignee_updated_at"]) <= updated
        solved = _ts(metric_set["solved_at"])
        assert (solved is not None) == (status in ("solved", "closed"))
        if solved is not None:
            assert replied <= solved <= updated
    assert set(statuses) == {"new", "open", "pending", "hold", "solved", "closed"}


def test_a_solved_tickets_time_splits_into_requester_and_agent_waits(zendesk):
    solved = [m for m in zendesk["ticket_metrics"] if m["solved_at"] is not None]
    assert solved
    for metric_set in solved:
        total = metric_set["full_resolution_time_in_minutes"]["calendar"]
        parts = (
            metric_set["requester_wait_time_in_minutes"]["calendar"]
            + metric_set["agent_wait_time_in_minutes"]["calendar"]
        )
        assert total - 1 <= parts <= total
    unsolved = [m for m in zendesk["ticket_metrics"] if m["solved_at"] is None]
    assert all(m["full_resolution_time_in_minutes"]["calendar"] is None for m in unsolved)


def test_open_tickets_are_mostly_recent_with_a_tail_and_most_tickets_are_solved(zendesk):
    ages = [
        (ANCHOR_TS - _ts(t["created_at"])) / DAY for t in zendesk["tickets"] if t["status"] in OPEN
    ]
    assert 0.05 < len(ages) / len(zendesk["tickets"]) < 0.35  # a backlog, not the whole history
    assert sum(age <= 21 for age in ages) / len(ages) > 0.5
    assert max(ages) > 45 and max(ages) <= 90


def test_most_first_replies_meet_the_acknowledge_target_and_a_minority_is_late():
    rng = random.Random(3)
    lives = [build_timeline(rng, ANCHOR_TS, "growth", "normal", "defect") for _ in range(3000)]
    delays = [life.replied_ts - life.created_ts for life in lives if life.replied_ts is not None]
    late = sum(delay > ACKNOWLEDGE["growth"] for delay in delays) / len(delays)
    assert 0.02 < late < 0.15


def test_urgent_tickets_are_answered_faster_than_the_tiers_target():
    rng = random.Random(4)
    lives = [build_timeline(rng, ANCHOR_TS, "standard", "urgent", "outage") for _ in range(500)]
    delays = sorted(life.replied_ts - life.created_ts for life in lives if life.replied_ts)
    assert delays[len(delays) // 2] < 30 * 60 < ACKNOWLEDGE["standard"]


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        ("2026-11-20T17:00:00Z", "2026-11-23T09:00:00Z", 120),  # Friday 17:00 to Monday 09:00
        ("2026-11-21T10:00:00Z", "2026-11-22T10:00:00Z", 0),  # a weekend day
        ("2026-11-16T08:00:00Z", "2026-11-23T08:00:00Z", 3000),  # a whole week
        ("2026-11-16T12:00:00Z", "2026-11-30T12:00:00Z", 6000),  # two weeks from midday
        ("2026-11-18T06:00:00Z", "2026-11-18T09:30:00Z", 90),  # before opening
    ],
)
def test_business_minutes_count_weekdays_eight_to_six_utc(start: str, end: str, minutes: int):
    assert business_minutes(_ts(start), _ts(end)) == minutes
