"""Pauses from the real status history: hand-worked timelines, due times worked out by hand.

The small matrix (escalation.testing): a silver account without region runs on the New York
office calendar (Mon-Fri 09:00-17:00); acknowledge 4h, resolve 2d (= 16 business hours);
pending and on_hold pause every metric. 2 March 2026 is a Monday.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from escalation.engine import evaluate
from escalation.history import paused_from_history, with_exact_pauses
from escalation.testing import make_account, make_ticket, small_matrix
from mapping.records import TicketStatus

NY = ZoneInfo("America/New_York")
MATRIX = small_matrix()
PAUSE = frozenset({TicketStatus.PENDING, TicketStatus.ON_HOLD})
OPEN, PENDING, ON_HOLD = TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=NY)


CREATED = ny(2, 10)  # Monday 10:00
# Pending for ten minutes between two hourly runs (11:00 and 12:00: both saw "open"), then
# on hold at 13:00, pending at 14:00 (still the same pause), open again at 15:00.
HISTORY = (
    (ny(2, 10), OPEN),
    (ny(2, 11, 20), PENDING),
    (ny(2, 11, 30), OPEN),
    (ny(2, 13), ON_HOLD),
    (ny(2, 14), PENDING),
    (ny(2, 15), OPEN),
)


def sla_at(ticket, now):
    return evaluate(ticket, make_account(), None, now, MATRIX).sla


def test_the_history_gives_every_pause_and_one_pause_across_pending_and_on_hold() -> None:
    assert paused_from_history(HISTORY, PAUSE) == (
        (ny(2, 11, 20), ny(2, 11, 30)),
        (ny(2, 13), ny(2, 15)),
    )


def test_a_pause_between_two_runs_moves_the_due_times() -> None:
    # What the polls saw at 11:00, 12:00, ... 16:00: "open" except 13:00 and 14:00 (paused).
    polled = make_ticket(CREATED, updated_at=ny(2, 15), paused_intervals=((ny(2, 13), ny(2, 15)),))
    # Polls: acknowledge 4h from 10:00 plus the 2h seen paused -> 16:00.
    assert sla_at(polled, ny(2, 15, 30))["acknowledge"].due_at == ny(2, 16)
    exact = with_exact_pauses(polled, HISTORY, PAUSE)
    sla = sla_at(exact, ny(2, 15, 30))
    # 10:00-11:20 (1h20) + 11:30-13:00 (1h30) + 15:00-16:10 (1h10) = 4h: due 16:10.
    assert sla["acknowledge"].due_at == ny(2, 16, 10)
    # resolve 16h: Monday 10:00-17:00 is 7h, less 2h10 paused = 4h50; Tuesday 09-17 is 8h
    # (12h50); 3h10 more on Wednesday from 09:00 -> Wednesday 12:10.
    assert sla["resolve"].due_at == ny(4, 12, 10)


def test_a_pause_starts_when_the_status_changed_not_at_the_last_update() -> None:
    # Pending since 11:00; an internal note at 12:30 moved updated_at; no status_changed_at.
    history = ((ny(2, 10), OPEN), (ny(2, 11), PENDING))
    polled = make_ticket(CREATED, status=PENDING, updated_at=ny(2, 12, 30))
    # The estimate paused from 12:30: 2h30 counted, 1h30 left, the clock stopped at 13:30,
    # so due = 13:30 + 1h30 = 15:00.
    assert sla_at(polled, ny(2, 13, 30))["acknowledge"].due_at == ny(2, 15)
    exact = with_exact_pauses(polled, history, PAUSE)
    assert exact.paused_intervals == ((ny(2, 11), None),)
    acknowledge = sla_at(exact, ny(2, 13, 30))["acknowledge"]
    # Exactly: 10:00-11:00 counted (1h), 3h left from 13:30 -> 16:30, and the clock is paused.
    assert acknowledge.due_at == ny(2, 16, 30)
    assert acknowledge.paused


def test_the_ticket_newer_than_the_history_closes_the_pause_at_its_update() -> None:
    # The history (lagging) still says pending; the ticket, updated at 12:00, is open.
    history = ((ny(2, 11), PENDING),)
    ticket = make_ticket(CREATED, status=OPEN, updated_at=ny(2, 12))
    assert with_exact_pauses(ticket, history, PAUSE).paused_intervals == ((ny(2, 11), ny(2, 12)),)


def test_pauses_before_a_pruned_history_are_kept() -> None:
    ticket = make_ticket(
        CREATED, updated_at=ny(2, 15), paused_intervals=((ny(2, 10, 30), ny(2, 10, 45)),)
    )
    exact = with_exact_pauses(ticket, HISTORY[1:], PAUSE)
    assert exact.paused_intervals == (
        (ny(2, 10, 30), ny(2, 10, 45)),
        (ny(2, 11, 20), ny(2, 11, 30)),
        (ny(2, 13), ny(2, 15)),
    )


def test_no_history_leaves_the_ticket_as_it_is() -> None:
    ticket = make_ticket(CREATED, paused_intervals=((ny(2, 13), ny(2, 15)),))
    assert with_exact_pauses(ticket, (), PAUSE) is ticket
