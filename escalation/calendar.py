"""Business time: how many business seconds lie between two instants, and when N have passed.

A calendar's open intervals are precomputed as sorted UTC epoch arrays with the cumulative
business seconds before each interval, so both questions are a bisect plus arithmetic
(a few hundred nanoseconds) instead of a walk over days. Local wall-clock hours are converted
to UTC per day, so DST, holidays and overnight shifts are settled once, when the arrays are
built. The window starts 2 years before and ends 3 years after the first instant asked about,
and grows when a question falls outside it; answers do not depend on the window.

All instants are float epoch seconds (UTC) here: the engine converts at its edges.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from config.matrix import WEEKDAYS, Calendar, parse_span
from vocabulary.durations import parse_duration

DAY = 86400.0
_YEAR = 366 * DAY
_BACK, _AHEAD, _GROW = 2 * _YEAR, 3 * _YEAR, 2 * _YEAR
# How far ahead of the first instant asked about the tables reach: a due time past it is
# possible (the window grows) but slow, and no sane target is that far away.
HORIZON_AHEAD = _AHEAD
_MAX_GROWTHS = 50  # a century ahead: past that the calendar is effectively never open

# Per weekday (Monday first), the open spans as (start minute, end minute); end <= start
# means the span ends the next day.
WeekHours = tuple[tuple[tuple[int, int], ...], ...]


Pauses = tuple[tuple[float, float], ...]  # sorted, non-overlapping (start, end) epochs


class _Clock:
    """Business time over positions: position(t) counts business seconds from an origin, and
    locate(p) is the earliest instant at position p. Subclasses define both."""

    name: str
    working_day_seconds: float

    def _cover_span(self, first: float, last: float) -> None:
        """Make sure positions between first and last can be compared (no-op by default)."""

    def _position(self, instant: float) -> float:
        raise NotImplementedError

    def _locate(self, position: float) -> float:
        raise NotImplementedError

    def _position_of_now(self, now: float) -> float:
        return self._position(now)

    def between(self, start: float, end: float) -> float:
        """Business seconds from start to end (negative when end is before start)."""
        self._cover_span(min(start, end), max(start, end))
        return self._position_of_now(end) - self._position(start)  # end is usually "now"

    def add(self, start: float, seconds: float) -> float:
        """The instant at which `seconds` business seconds after `start` have passed.

        Lands on the end of an open interval rather than the start of the next one when the
        budget runs out exactly at closing time."""
        if seconds <= 0:
            return start
        self._cover_span(start, start)
        # max(): a duration too small to change a float position would otherwise land on the
        # previous closing time when `start` is outside opening hours.
        return max(start, self._locate(self._position(start) + seconds))

    def due_and_left(
        self, start: float, seconds: float, now: float, pauses: Pauses = ()
    ) -> tuple[float, float]:
        """(due, left): when `seconds` of business time after `start` have passed, not
        counting business time inside `pauses` (which end at `now` at the latest), and the
        business seconds from now to due (negative once due, pauses after due excluded).

        The hot path of the SLA clocks: everything is done on positions, so the time left
        needs no second lookup of the due time."""
        first = min(start, pauses[0][0]) if pauses else start
        self._cover_span(first if first < now else now, now if now > start else start)
        position = self._position
        target = position(start) + (seconds if seconds > 0 else 0.0)
        paused_after_due = 0.0
        for pause_start, pause_end in pauses:
            if pause_end <= start:
                continue
            begins = position(pause_start if pause_start > start else start)
            if begins >= target:  # this pause (and every later one) comes after the due time
                paused_after_due += position(pause_end) - begins
            else:
                target += position(pause_end) - begins
        due = max(start, self._locate(target)) if seconds > 0 else start
        return due, target - self._position_of_now(now) + paused_after_due

    def is_open(self, instant: float) -> bool:
        raise NotImplementedError


class AlwaysOpen(_Clock):
    """A 24x7 calendar: business time is elapsed time."""

    def __init__(self, name: str, working_day_seconds: float = DAY):
        self.name = name
        self.working_day_seconds = working_day_seconds

    def _position(self, instant: float) -> float:
        return instant

    def _position_of_now(self, now: float) -> float:
        return now

    def _locate(self, position: float) -> float:
        return position

    def due_and_left(
        self, start: float, seconds: float, now: float, pauses: Pauses = ()
    ) -> tuple[float, float]:
        if pauses:
            return super().due_and_left(start, seconds, now, pauses)
        due = start + seconds if seconds > 0 else start
        return due, due - now

    def is_open(self, instant: float) -> bool:
        return True


class BusinessCalendar(_Clock):
    """Opening hours per weekday in a time zone, closed on the given dates."""

    def __init__(
        self,
        name: str,
        zone: ZoneInfo,
        week: WeekHours,
        is_closed: Callable[[date], bool],
        working_day_seconds: float,
    ):
        self.name = name
        self.zone = zone
        self.week = week
        self.is_closed = is_closed
        self.working_day_seconds = working_day_seconds
        self._lo = self._hi = 0.0
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._cum_start: list[float] = []  # business seconds before each interval
        self._cum_end: list[float] = []  # business seconds at the end of each interval
        # Positions asked for again and again: `now` (a batch shares it) and the last start
        # (a ticket's acknowledge and resolve clocks both start at its creation).
        self._memo_instant = self._memo_position = float("nan")
        self._memo_start = self._memo_start_position = float("nan")

    def due_and_left(
        self, start: float, seconds: float, now: float, pauses: Pauses = ()
    ) -> tuple[float, float]:
        # The same as _Clock.due_and_left, inlined for the common case (no pauses, inside the
        # window): it runs for every SLA metric of every ticket.
        if pauses or seconds <= 0 or not (self._lo <= start <= self._hi and now <= self._hi):
            return super().due_and_left(start, seconds, now, pauses)
        if start == self._memo_start:
            target = self._memo_start_position + seconds
        else:
            index = bisect_right(self._starts, start) - 1
            position = 0.0
            if index >= 0:
                end = self._ends[index]
                position = self._cum_start[index] + (
                    (end if start > end else start) - self._starts[index]
                )
            self._memo_start, self._memo_start_position = start, position
            target = position + seconds
        index = bisect_left(self._cum_end, target)
        if index == len(self._cum_end):  # beyond the window: let the general path grow it
            return super().due_and_left(start, seconds, now, pauses)
        due = self._starts[index] + (target - self._cum_start[index])
        if now != self._memo_instant:
            self._memo_instant, self._memo_position = now, self._position(now)
        return (due if due > start else start), target - self._memo_position

    def is_open(self, instant: float) -> bool:
        self._cover_span(instant, instant)
        index = bisect_right(self._starts, instant) - 1
        return index >= 0 and instant < self._ends[index]

    def _cover_span(self, first: float, last: float) -> None:
        # Positions are relative to the window start: grow the window before any lookup
        # whose results are compared, never in between.
        if first < self._lo or last > self._hi:
            self._ensure(first)
            self._ensure(last)

    def _position(self, instant: float) -> float:
        index = bisect_right(self._starts, instant) - 1
        if index < 0:
            return 0.0
        end = self._ends[index]
        return self._cum_start[index] + ((end if instant > end else instant) - self._starts[index])

    def _position_of_now(self, now: float) -> float:
        if now != self._memo_instant:
            self._memo_instant, self._memo_position = now, self._position(now)
        return self._memo_position

    def _locate(self, position: float) -> float:
        for _ in range(_MAX_GROWTHS):
            index = bisect_left(self._cum_end, position)
            if index < len(self._cum_end):
                return self._starts[index] + (position - self._cum_start[index])
            # Growing forward keeps the window start, so positions stay valid.
            self._cover(self._lo, self._hi + _GROW)
        raise ValueError(f"calendar {self.name!r} has no business time left")

    # --- arrays ----------------------------------------------------------------------------

    def _ensure(self, instant: float) -> None:
        if not self._starts and self._lo == self._hi:
            self._cover(instant - _BACK, instant + _AHEAD)
        elif instant < self._lo:
            self._cover(min(instant, self._lo - _GROW), self._hi)
        elif instant > self._hi:
            self._cover(self._lo, max(instant, self._hi + _GROW))

    def _cover(self, lo: float, hi: float) -> None:
        """Rebuild the arrays for [lo, hi]; intervals are clipped to the window."""
        merged: list[list[float]] = []
        for start, end in sorted(self._intervals(lo, hi)):
            start, end = max(start, lo), min(end, hi)
            if end <= start:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        total = 0.0
        self._starts, self._ends, self._cum_start, self._cum_end = [], [], [], []
        for start, end in merged:
            self._starts.append(start)
            self._ends.append(end)
            self._cum_start.append(total)
            total += end - start
            self._cum_end.append(total)
        self._lo, self._hi = lo, hi
        # Positions moved with the window start.
        self._memo_instant = self._memo_start = float("nan")

    def _intervals(self, lo: float, hi: float) -> Iterable[tuple[float, float]]:
        # Local dates from a day before lo (an overnight span may reach into the window) to a
        # day after hi (UTC and local dates differ by up to a day).
        first = datetime.fromtimestamp(lo, self.zone).date() - timedelta(days=1)
        last = datetime.fromtimestamp(hi, self.zone).date() + timedelta(days=1)
        day = first
        while day <= last:
            spans = self.week[day.weekday()]
            if spans and not self.is_closed(day):
                midnight = datetime(day.year, day.month, day.day)
                for start_minute, end_minute in spans:
                    end_day = 1 if end_minute <= start_minute else 0
                    start = midnight + timedelta(minutes=start_minute)
                    end = midnight + timedelta(days=end_day, minutes=end_minute)
                    # Wall-clock times resolved in the zone: a time in the spring-forward gap
                    # maps forward, an ambiguous autumn time to its first occurrence (fold=0).
                    yield (
                        start.replace(tzinfo=self.zone).timestamp(),
                        end.replace(tzinfo=self.zone).timestamp(),
                    )
            day += timedelta(days=1)


Clock = AlwaysOpen | BusinessCalendar


def build_calendar(name: str, config: Calendar) -> Clock:
    """Compile one calendar of the matrix config."""
    working_day = parse_duration(config.working_day) if config.working_day else None
    if config.always_open:
        seconds = working_day.business_seconds(DAY) if working_day else DAY
        return AlwaysOpen(name, seconds)
    week = tuple(tuple(parse_span(text) for text in config.hours.get(day, ())) for day in WEEKDAYS)
    seconds = working_day.business_seconds(DAY) if working_day else _usual_day_seconds(week)
    return BusinessCalendar(name, ZoneInfo(config.time_zone), week, _closed_days(config), seconds)


def _usual_day_seconds(week: WeekHours) -> float:
    """The most common length of an open day (the longer on a tie): what "1d" means."""
    lengths = [
        sum((end - start) % 1440 or 1440 for start, end in spans) * 60.0 for spans in week if spans
    ]
    counts = Counter(lengths)
    return max(counts, key=lambda length: (counts[length], length))


def _closed_days(config: Calendar) -> Callable[[date], bool]:
    if config.holidays is None:
        return lambda day: False
    extra = frozenset(config.holidays.dates)
    if config.holidays.country is None:
        return extra.__contains__
    public = holidays_lib.country_holidays(
        config.holidays.country, subdiv=config.holidays.subdivision
    )
    # The holidays object fills in each year on first lookup (expand=True by default).
    return lambda day: day in extra or day in public
