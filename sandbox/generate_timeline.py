"""A Zendesk ticket's life (created, first reply, agents' updates, solved) and its metric set.

Tickets arrive at a steady rate over the 90 days before the anchor. Each is worked on by the
agents (status open) for a while, usually well within its customer's resolution target, then
often waits for the customer or for engineering (pending, on hold) before it is solved; four
days after that Zendesk closes it. So the open tickets form a realistic B2B backlog: mostly
the last weeks' tickets, plus a tail that has been waiting for weeks. Reply and update delays
are drawn as fractions of the SLA targets of config/example/matrix.yaml (approximated in
calendar time); a minority is late, as on any real desk.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sandbox.generate_companies import DAY
from sandbox.generate_values import ZENDESK_BASE_URL, ZENDESK_TICKET_METRIC_ID_START, zendesk_time

MINUTE = 60
HOUR = 3600
HISTORY = 90 * DAY
CLOSE_AFTER_SOLVED = 4 * DAY  # Zendesk closes a solved ticket four days after it was solved
LATEST_UPDATE_MARGIN = 120  # incremental export hides the last minute; stay clear of it

# The example matrix's targets per tier, in calendar seconds (a business day taken as a
# calendar day, working days as 7/5 calendar days). "unknown": no account matched.
ACKNOWLEDGE = {
    "strategic": 30 * MINUTE,
    "enterprise": HOUR,
    "growth": 4 * HOUR,
    "standard": 8 * HOUR,
    "unknown": DAY,
}
NEXT_UPDATE = {
    "strategic": 4 * HOUR,
    "enterprise": 8 * HOUR,
    "growth": DAY,
    "standard": 2 * DAY,
    "unknown": 3 * DAY,
}
RESOLVE = {
    "strategic": 2 * DAY,
    "enterprise": 4 * DAY,
    "growth": 7 * DAY,
    "standard": 14 * DAY,
    "unknown": 21 * DAY,
}
# Tickets the matrix escalates on sight get its tighter targets; agents answer them first.
URGENT_ACKNOWLEDGE = 30 * MINUTE
URGENT_NEXT_UPDATE = 4 * HOUR
URGENT_CATEGORIES = ("outage", "privacy", "contract")

LATE_RATE = 0.08  # first replies and updates that miss their target
WORK_MEDIAN_FRACTION = 0.3  # of the resolution target: the agents' share of the time to solve
WORK_SPREAD = 0.6  # sigma of the log-normal work time
# Waiting for the customer or engineering after the agents' work: mean days, and how often.
WAIT_MEAN_DAYS = (1.0, 7.0, 45.0)
WAIT_SHARES = (0.5, 0.25, 0.25)
HOLD_RATE = 0.3  # of the waiting tickets: on hold (engineering) rather than pending (customer)

# The sandbox account's business-hours schedule for the metrics' "business" minutes.
BUSINESS_START, BUSINESS_END = 8 * HOUR, 18 * HOUR  # Monday to Friday, UTC
_WEEK = 7 * DAY
_WEEK_MINUTES = 5 * (BUSINESS_END - BUSINESS_START) // MINUTE


@dataclass(frozen=True, slots=True)
class Timeline:
    """When things happened to one ticket, in unix seconds; None: has not happened."""

    status: str
    created_ts: int
    updated_ts: int
    replied_ts: int | None  # the first public agent reply
    agent_updated_ts: int | None  # the assignee's last update
    requester_updated_ts: int
    waiting_since_ts: int | None  # set pending or on hold when the agents' work was done
    solved_ts: int | None
    replies: int


def build_timeline(
    rng: random.Random, anchor_ts: int, tier: str, priority: str | None, category: str | None
) -> Timeline:
    """One ticket's life up to the anchor, for a customer of `tier`."""
    urgent = priority == "urgent" or category in URGENT_CATEGORIES
    acknowledge, next_update = ACKNOWLEDGE[tier], NEXT_UPDATE[tier]
    if urgent:
        acknowledge = min(acknowledge, URGENT_ACKNOWLEDGE)
        next_update = min(next_update, URGENT_NEXT_UPDATE)
    latest = anchor_ts - LATEST_UPDATE_MARGIN
    created = anchor_ts - rng.randint(10 * MINUTE, HISTORY)
    replied = created + max(MINUTE, int(acknowledge * _fraction_of_target(rng)))
    worked = replied + int(
        RESOLVE[tier] * WORK_MEDIAN_FRACTION * rng.lognormvariate(0.0, WORK_SPREAD)
    )
    mean_days = rng.choices(WAIT_MEAN_DAYS, weights=WAIT_SHARES)[0]
    solved = worked + int(rng.expovariate(1 / (mean_days * DAY)))
    if replied >= latest:
        return Timeline("new", created, created, None, None, created, None, None, 0)
    replies = 1 + min(8, int(rng.expovariate(1.0) * (min(solved, latest) - replied) / DAY))
    if solved <= latest:
        return _resolved(rng, created, replied, worked, solved, latest, replies)
    if worked <= latest:
        # Set pending or on hold by the agent's last update; the clock has stood still since.
        status = "hold" if rng.random() < HOLD_RATE else "pending"
        return Timeline(status, created, worked, replied, worked, created, worked, None, replies)
    # Open: the agents' turn. Their last update is usually within the update target; the
    # requester may have written since.
    age_of_update = int(next_update * _fraction_of_target(rng))
    agent_updated = min(max(replied, latest - age_of_update), latest)
    updated = rng.randint(agent_updated, latest)
    requester_updated = updated if updated > agent_updated else created
    return Timeline(
        "open", created, updated, replied, agent_updated, requester_updated, None, None, replies
    )


def _fraction_of_target(rng: random.Random) -> float:
    """How much of its target a reply or update took: mostly well within, sometimes late."""
    if rng.random() < LATE_RATE:
        return rng.uniform(1.1, 4.0)
    return rng.uniform(0.05, 0.85)


def _resolved(
    rng: random.Random,
    created: int,
    replied: int,
    worked: int,
    solved: int,
    latest: int,
    replies: int,
) -> Timeline:
    if solved + CLOSE_AFTER_SOLVED + HOUR <= latest:
        closed = solved + CLOSE_AFTER_SOLVED + rng.randint(0, HOUR)
        return Timeline(
            "closed", created, closed, replied, solved, created, worked, solved, replies
        )
    # A thank-you from the requester sometimes comes after the solve.
    updated = rng.randint(solved, min(latest, solved + DAY)) if rng.random() < 0.3 else solved
    return Timeline("solved", created, updated, replied, solved, updated, worked, solved, replies)


def metric_set(ticket_id: int, timeline: Timeline) -> dict[str, Any]:
    """The ticket's metric set, as GET /api/v2/tickets/{id}/metrics returns it."""
    metric_id = ZENDESK_TICKET_METRIC_ID_START + ticket_id
    created, solved, replied = timeline.created_ts, timeline.solved_ts, timeline.replied_ts
    assigned = None if replied is None else max(created, replied - 5 * MINUTE)
    resolution = _minutes(created, solved)
    # Once solved: the requester waited while the agents worked, the agents while the ticket
    # was pending; the sandbox's tickets wait pending, never on hold, before they are solved.
    waited = timeline.waiting_since_ts if solved is not None else None
    agent_wait = _minutes(waited, solved) if waited is not None else _minutes(created, None)
    no_hold = {"calendar": 0, "business": 0} if solved is not None else _minutes(created, None)
    moments = [created, replied, timeline.agent_updated_ts, timeline.requester_updated_ts]
    return {
        "url": f"{ZENDESK_BASE_URL}/api/v2/ticket_metrics/{metric_id}.json",
        "id": metric_id,
        "ticket_id": ticket_id,
        "created_at": zendesk_time(created),
        "updated_at": zendesk_time(timeline.updated_ts),
        "group_stations": 1,
        "assignee_stations": 0 if assigned is None else 1,
        "reopens": 0,
        "replies": timeline.replies,
        "assignee_updated_at": _time(timeline.agent_updated_ts),
        "requester_updated_at": zendesk_time(timeline.requester_updated_ts),
        "status_updated_at": zendesk_time(
            timeline.updated_ts if timeline.status != "open" else replied or created
        ),
        "initially_assigned_at": _time(assigned),
        "assigned_at": _time(assigned),
        "solved_at": _time(solved),
        "latest_comment_added_at": zendesk_time(max(m for m in moments if m is not None)),
        "reply_time_in_minutes": _minutes(created, replied),
        "first_resolution_time_in_minutes": resolution,
        "full_resolution_time_in_minutes": resolution,
        "agent_wait_time_in_minutes": agent_wait,
        "requester_wait_time_in_minutes": _minutes(created, waited),
        "on_hold_time_in_minutes": no_hold,
    }


def _time(ts: int | None) -> str | None:
    return None if ts is None else zendesk_time(ts)


def _minutes(start: int, end: int | None) -> dict[str, int | None]:
    """Zendesk's {calendar, business} minutes between two times; nulls until `end` happens."""
    if end is None:
        return {"calendar": None, "business": None}
    return {"calendar": (end - start) // MINUTE, "business": business_minutes(start, end)}


def business_minutes(start: int, end: int) -> int:
    """Minutes of [start, end) inside the schedule (weekdays 08:00-18:00 UTC)."""
    weeks, _ = divmod(max(0, end - start), _WEEK)
    total = weeks * _WEEK_MINUTES * MINUTE
    day = (start + weeks * _WEEK) // DAY * DAY
    while day < end:
        if (day // DAY + 3) % 7 < 5:  # 1970-01-01 was a Thursday; 0 is Monday
            opens = max(day + BUSINESS_START, start + weeks * _WEEK)
            total += max(0, min(day + BUSINESS_END, end) - opens)
        day += DAY
    return total // MINUTE
