"""Business calendars: hand-worked due times across DST, weekends, holidays, overnight shifts
and 24x7, plus properties that must hold for any start and duration."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.matrix import Calendar
from escalation.calendar import AlwaysOpen, BusinessCalendar, build_calendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")
HOUR = 3600.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
EVERY_DAY = (*WEEKDAYS, "sat", "sun")


def calendar(time_zone: str, hours: dict, **extra: object) -> BusinessCalendar:
    built = build_calendar(
        "test", Calendar.model_validate({"time_zone": time_zone, "hours": hours, **extra})
    )
    assert isinstance(built, BusinessCalendar)
    return built


def office(time_zone: str, **extra: object) -> BusinessCalendar:
    return calendar(time_zone, {day: ["09:00-17:00"] for day in WEEKDAYS}, **extra)


def at(zone: ZoneInfo, *parts: int) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()  # type: ignore[misc]


def local(zone: ZoneInfo, instant: float) -> datetime:
    return datetime.fromtimestamp(instant, zone).replace(tzinfo=None)


BERLIN_OFFICE = office(
    "Europe/Berlin", holidays={"country": "DE", "subdivision": "BE", "dates": ["2026-12-22"]}
)
NEW_YORK_OFFICE = office("America/New_York", holidays={"country": "US"})


# --- DST -------------------------------------------------------------------------------------


def test_due_time_crosses_spring_dst_weekend_in_berlin() -> None:
    friday = at(BERLIN, 2026, 3, 27, 16)  # CET; clocks go forward on Sunday 29 March
    due = BERLIN_OFFICE.add(friday, 2 * HOUR)
    assert local(BERLIN, due) == datetime(2026, 3, 30, 10)  # Monday, CEST
    assert due - friday == (2 * 24 + 18) * HOUR - HOUR  # 18h to Monday 10:00, minus the lost hour


def test_due_time_crosses_autumn_dst_weekend_in_berlin() -> None:
    friday = at(BERLIN, 2026, 10, 23, 16)  # CEST; clocks go back on Sunday 25 October
    due = BERLIN_OFFICE.add(friday, 2 * HOUR)
    assert local(BERLIN, due) == datetime(2026, 10, 26, 10)
    assert due - friday == (2 * 24 + 18) * HOUR + HOUR


def test_due_time_crosses_spring_dst_weekend_in_new_york() -> None:
    friday = at(NEW_YORK, 2026, 3, 6, 16)  # EST; DST starts Sunday 8 March
    due = NEW_YORK_OFFICE.add(friday, 2 * HOUR)
    assert local(NEW_YORK, due) == datetime(2026, 3, 9, 10)
    assert datetime.fromtimestamp(due, UTC_ZONE).hour == 14  # 10:00 EDT is 14:00 UTC


def test_due_time_crosses_autumn_dst_weekend_in_new_york() -> None:
    friday = at(NEW_YORK, 2026, 10, 30, 16)  # EDT; DST ends Sunday 1 November
    due = NEW_YORK_OFFICE.add(friday, 2 * HOUR)
    assert local(NEW_YORK, due) == datetime(2026, 11, 2, 10)
    assert datetime.fromtimestamp(due, UTC_ZONE).hour == 15  # 10:00 EST is 15:00 UTC


def test_whole_day_calendar_counts_23_and_25_hour_days_in_berlin() -> None:
    always_local = calendar("Europe/Berlin", {day: ["00:00-24:00"] for day in EVERY_DAY})
    assert always_local.between(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30)) == 23 * HOUR
    assert always_local.between(at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 26)) == 25 * HOUR


def test_overnight_shift_spanning_dst_change_in_new_york_counts_real_hours() -> None:
    nights = calendar("America/New_York", {"sat": ["22:00-06:00"]})
    spring = at(NEW_YORK, 2026, 3, 7, 22)
    autumn = at(NEW_YORK, 2026, 10, 31, 22)
    assert nights.between(spring, spring + 24 * HOUR) == 7 * HOUR  # 02:00-03:00 never happens
    assert nights.between(autumn, autumn + 24 * HOUR) == 9 * HOUR  # 01:00-02:00 happens twice


def test_shift_starting_in_the_spring_gap_opens_at_the_shifted_time() -> None:
    # 02:30 does not exist on 29 March 2026 in Berlin; wall clock reads 03:30 at that instant.
    early = calendar("Europe/Berlin", {"sun": ["02:30-05:00"]})
    opened = early.add(at(BERLIN, 2026, 3, 29, 0), 1.0) - 1.0
    assert local(BERLIN, opened) == datetime(2026, 3, 29, 3, 30)


# --- weekends, holidays, closing time ------------------------------------------------------------


def test_due_time_lands_at_closing_time_not_next_opening() -> None:
    monday = at(BERLIN, 2026, 3, 2, 9)
    assert local(BERLIN, BERLIN_OFFICE.add(monday, 8 * HOUR)) == datetime(2026, 3, 2, 17)


def test_start_outside_hours_counts_from_next_opening() -> None:
    saturday = at(BERLIN, 2026, 3, 7, 12)
    assert local(BERLIN, BERLIN_OFFICE.add(saturday, HOUR)) == datetime(2026, 3, 9, 10)
    assert BERLIN_OFFICE.between(saturday, at(BERLIN, 2026, 3, 9, 9)) == 0


def test_due_time_skips_easter_holidays_in_berlin() -> None:
    thursday = at(BERLIN, 2026, 4, 2, 16)  # Good Friday 3 April, Easter Monday 6 April
    assert local(BERLIN, BERLIN_OFFICE.add(thursday, 2 * HOUR)) == datetime(2026, 4, 7, 10)


def test_subdivision_holiday_applies_only_there() -> None:
    # 8 March (International Women's Day) is a public holiday in Berlin only.
    friday = at(BERLIN, 2027, 3, 5, 16)
    germany = office("Europe/Berlin", holidays={"country": "DE"})
    assert local(BERLIN, BERLIN_OFFICE.add(friday, 2 * HOUR)) == datetime(2027, 3, 9, 10)
    assert local(BERLIN, germany.add(friday, 2 * HOUR)) == datetime(2027, 3, 8, 10)


def test_explicit_holiday_dates_close_the_day() -> None:
    monday = at(BERLIN, 2026, 12, 21, 16)  # 22 December is a company day off in this calendar
    assert local(BERLIN, BERLIN_OFFICE.add(monday, 2 * HOUR)) == datetime(2026, 12, 23, 10)


def test_due_time_skips_thanksgiving_in_new_york() -> None:
    wednesday = at(NEW_YORK, 2026, 11, 25, 16)
    assert local(NEW_YORK, NEW_YORK_OFFICE.add(wednesday, 2 * HOUR)) == datetime(2026, 11, 27, 10)


# --- overnight shifts and 24x7 ----------------------------------------------------------------


def test_overnight_shift_runs_into_the_next_day() -> None:
    nights = calendar("UTC", {day: ["22:00-06:00"] for day in WEEKDAYS})
    monday = at(UTC_ZONE, 2026, 3, 2, 21)
    assert local(UTC_ZONE, nights.add(monday, 2 * HOUR)) == datetime(2026, 3, 3, 0)
    # Friday's shift ends Saturday 06:00; the next one starts Monday 22:00.
    friday_night = at(UTC_ZONE, 2026, 3, 6, 22)
    assert local(UTC_ZONE, nights.add(friday_night, 9 * HOUR)) == datetime(2026, 3, 9, 23)


def test_holiday_closes_the_overnight_shift_that_starts_on_it() -> None:
    nights = calendar(
        "UTC", {day: ["22:00-06:00"] for day in WEEKDAYS}, holidays={"dates": ["2026-03-03"]}
    )
    monday_night = at(UTC_ZONE, 2026, 3, 2, 22)  # Monday's shift still runs into the holiday
    assert nights.between(monday_night, at(UTC_ZONE, 2026, 3, 4, 22)) == 8 * HOUR


def test_adjacent_spans_merge_into_continuous_time() -> None:
    shifts = calendar("UTC", {"mon": ["08:00-20:00", "20:00-08:00"]})
    monday = at(UTC_ZONE, 2026, 3, 2, 8)
    assert shifts.between(monday, monday + 24 * HOUR) == 24 * HOUR


def test_always_open_counts_elapsed_time() -> None:
    clock = build_calendar("24x7", Calendar(time_zone="UTC", always_open=True))
    assert isinstance(clock, AlwaysOpen)
    start = at(BERLIN, 2026, 3, 28, 12)
    assert clock.add(start, 30 * HOUR) == start + 30 * HOUR
    assert clock.between(start, start + 5.5) == 5.5
    assert clock.working_day_seconds == 24 * HOUR


def test_working_day_defaults_to_most_common_open_day() -> None:
    assert BERLIN_OFFICE.working_day_seconds == 8 * HOUR
    short_friday = calendar(
        "UTC", {**{d: ["08:00-18:00"] for d in WEEKDAYS}, "fri": ["08:00-12:00"]}
    )
    assert short_friday.working_day_seconds == 10 * HOUR
    assert office("UTC", working_day="7h30m").working_day_seconds == 7.5 * HOUR


def test_far_future_and_past_instants_extend_the_window() -> None:
    clock = office("Europe/Berlin", holidays={"country": "DE"})
    now = at(BERLIN, 2026, 3, 2, 9)
    assert clock.between(now, clock.add(now, 3000 * HOUR)) == pytest.approx(3000 * HOUR)
    old = at(BERLIN, 2015, 6, 1, 9)
    assert clock.between(old, now) == pytest.approx(
        clock.between(old, old + 1) + clock.between(old + 1, now)
    )
    assert local(BERLIN, clock.add(old, 8 * HOUR)) == datetime(2015, 6, 1, 17)


def test_pauses_do_not_count_towards_the_due_time() -> None:
    monday = at(UTC_ZONE, 2026, 3, 2, 9)
    clock = office("UTC")
    pause = ((monday + HOUR, monday + 3 * HOUR),)  # two business hours paused
    due, left = clock.due_and_left(monday, 4 * HOUR, monday + 3 * HOUR, pause)
    assert local(UTC_ZONE, due) == datetime(2026, 3, 2, 15)
    assert left == 3 * HOUR


def test_pause_after_the_due_time_does_not_count_as_time_left() -> None:
    monday = at(UTC_ZONE, 2026, 3, 2, 9)
    clock = office("UTC")
    pause = ((monday + 2 * HOUR, monday + 4 * HOUR),)
    due, left = clock.due_and_left(monday, HOUR, monday + 5 * HOUR, pause)
    assert local(UTC_ZONE, due) == datetime(2026, 3, 2, 10)
    assert left == -2 * HOUR  # five hours since start, one was allowed, two were paused


# --- properties -----------------------------------------------------------------------------

OVERNIGHT = calendar(
    "America/New_York", {**{d: ["20:00-04:00"] for d in WEEKDAYS}, "sat": ["10:00-14:00"]}
)
CLOCKS = {
    "berlin": BERLIN_OFFICE,
    "new_york": NEW_YORK_OFFICE,
    "overnight": OVERNIGHT,
    "always": AlwaysOpen("always"),
}
START = datetime(2024, 1, 1, tzinfo=UTC_ZONE).timestamp()
END = datetime(2029, 1, 1, tzinfo=UTC_ZONE).timestamp()
instants = st.floats(min_value=START, max_value=END, allow_nan=False)
durations = st.floats(min_value=0, max_value=2000 * HOUR, allow_nan=False)
clocks = st.sampled_from(sorted(CLOCKS))


@settings(max_examples=300, deadline=None)
@given(name=clocks, start=instants, seconds=durations)
def test_adding_then_measuring_gives_the_duration_back(
    name: str, start: float, seconds: float
) -> None:
    clock = CLOCKS[name]
    due = clock.add(start, seconds)
    assert due >= start
    assert clock.between(start, due) == pytest.approx(seconds, abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(name=clocks, start=instants, first=durations, second=durations)
def test_due_time_is_monotonic_in_duration(
    name: str, start: float, first: float, second: float
) -> None:
    clock = CLOCKS[name]
    low, high = sorted((first, second))
    assert clock.add(start, low) <= clock.add(start, high)


@settings(max_examples=200, deadline=None)
@given(name=clocks, points=st.lists(instants, min_size=3, max_size=3))
def test_business_time_is_additive_and_at_most_elapsed(name: str, points: list[float]) -> None:
    clock = CLOCKS[name]
    a, b, c = sorted(points)
    assert 0 <= clock.between(a, b) <= b - a + 1e-6
    assert clock.between(a, b) + clock.between(b, c) == pytest.approx(clock.between(a, c), abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(name=clocks, start=instants, seconds=durations, offset=st.floats(0, 4000 * HOUR))
def test_due_and_left_agrees_with_add_and_between(
    name: str, start: float, seconds: float, offset: float
) -> None:
    clock = CLOCKS[name]
    now = start + offset
    due, left = clock.due_and_left(start, seconds, now)
    assert due == pytest.approx(clock.add(start, seconds), abs=1e-3)
    assert left == pytest.approx(clock.between(now, due), abs=1e-3)


def _reference_due(clock, start: float, seconds: float, pauses) -> float:
    """Walk the pauses one by one with add/between: slow but obviously right."""
    remaining, moment = seconds, start
    for pause_start, pause_end in pauses:
        if pause_end <= moment:
            continue
        candidate = clock.add(moment, remaining)
        if candidate <= pause_start:
            return candidate
        remaining -= clock.between(moment, max(pause_start, moment))
        moment = pause_end
    return clock.add(moment, remaining)


@st.composite
def paused_case(draw):
    start = draw(instants)
    cuts = sorted(draw(st.lists(st.floats(0, 800 * HOUR), min_size=2, max_size=6, unique=True)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    pauses = tuple((start + cuts[i], start + cuts[i + 1]) for i in range(0, len(cuts), 2))
    now = start + draw(st.floats(cuts[-1], cuts[-1] + 800 * HOUR))
    return start, pauses, now


@settings(max_examples=200, deadline=None)
@given(name=clocks, case=paused_case(), seconds=st.floats(1, 600 * HOUR))
def test_paused_due_time_matches_the_step_by_step_reference(
    name: str, case, seconds: float
) -> None:
    clock = CLOCKS[name]
    start, pauses, now = case
    due, left = clock.due_and_left(start, seconds, now, pauses)
    assert due == pytest.approx(_reference_due(clock, start, seconds, pauses), abs=1e-3)
    assert due >= clock.add(start, seconds) - 1e-3  # pausing never brings the due time forward
    if now <= due:
        assert left == pytest.approx(clock.between(now, due), abs=1e-3)
    else:
        paused_after = sum(clock.between(max(s, due), e) for s, e in pauses if e > due)
        assert left == pytest.approx(-(clock.between(due, now) - paused_after), abs=1e-3)


def test_adding_nothing_returns_the_start_even_when_closed() -> None:
    saturday = at(BERLIN, 2026, 3, 7, 12)
    assert BERLIN_OFFICE.add(saturday, 0) == saturday
    assert BERLIN_OFFICE.due_and_left(saturday, 0, saturday + 60)[0] == saturday


def test_local_midnight_is_unaffected_by_timedelta_days() -> None:
    # Guard for the day walk: local dates advance by calendar days, not 24h of UTC.
    start = at(BERLIN, 2026, 3, 27, 9)
    week = [local(BERLIN, BERLIN_OFFICE.add(start, 8 * HOUR * n + 1)) for n in range(1, 4)]
    assert [d.date() for d in week] == [
        (datetime(2026, 3, 30) + timedelta(days=i)).date() for i in range(3)
    ]
