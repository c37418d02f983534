"""Business durations as ops people write them: "30m", "4h", "2d", "1d4h".

A "d" is one working day of the calendar the duration is counted in (see
`Calendar.working_day`), not 24 hours: "2d" on a 08:00-18:00 calendar is 20 business hours,
on a 24x7 calendar 48 hours. Hours and minutes are plain business hours and minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True, slots=True)
class Duration:
    """Working days plus business seconds; resolved to seconds against a calendar."""

    days: int
    seconds: int

    def business_seconds(self, working_day_seconds: float) -> float:
        """Seconds of business time, given how long one working day is in that calendar."""
        return self.days * working_day_seconds + self.seconds


def parse_duration(text: str) -> Duration:
    """Parse "30m", "4h", "2d", "1d4h30m"; raise ValueError with what is expected."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise ValueError(
            f"expected a duration like '30m', '4h', '2d' or '1d4h' "
            f"(d = working days, h = hours, m = minutes), found {text!r}"
        )
    days, hours, minutes = (int(part) if part else 0 for part in match.groups())
    return Duration(days=days, seconds=hours * 3600 + minutes * 60)


def parse_positive_duration(text: str) -> Duration:
    """Like parse_duration, but zero is refused (a zero target is always breached)."""
    duration = parse_duration(text)
    if duration.days == 0 and duration.seconds == 0:
        raise ValueError(f"expected a duration greater than zero, found {text!r}")
    return duration


def parse_percent(text: str) -> float | None:
    """Return the fraction for "25%" (0.25); None when the text is not a percentage."""
    match = _PERCENT.match(text) if isinstance(text, str) else None
    return float(match.group(1)) / 100.0 if match else None


def format_seconds(seconds: float) -> str:
    """Business seconds as ops people read them: "45m", "2h", "1h30m" (no days: their length
    depends on the calendar)."""
    minutes = int(round(abs(seconds) / 60.0))
    hours, minutes = divmod(minutes, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")
    return ("-" if seconds < 0 else "") + text
