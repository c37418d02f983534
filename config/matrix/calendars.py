"""Business calendars: opening hours per weekday in an IANA zone, holidays, 24x7."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holidays_lib
from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from config.base import RelativeProblem
from config.matrix.base import Duration, Model, check_known
from config.problems import did_you_mean

WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_SPAN = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def parse_span(text: str) -> tuple[int, int]:
    """ "08:00-18:00" -> (start minute, end minute); an end at or before the start is the next
    day ("22:00-06:00" is an overnight shift)."""
    match = _SPAN.match(text.strip())
    if not match:
        raise ValueError(
            f"expected opening hours like '08:00-18:00' or '22:00-06:00', found {text!r}"
        )
    start = int(match.group(1)) * 60 + int(match.group(2))
    end = int(match.group(3)) * 60 + int(match.group(4))
    if start >= 24 * 60 or end > 24 * 60:
        raise ValueError(f"times run from 00:00 to 24:00 (24:00 only as an end), found {text!r}")
    if start == end:
        raise ValueError(f"start equals end in {text!r}; for a whole day write '00:00-24:00'")
    return start, end


def _span(text: str) -> str:
    parse_span(text)
    return text


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Holidays(Model):
    """Closed days: public holidays of a country (and subdivision) plus explicit dates."""

    country: str | None = None
    subdivision: str | None = None
    dates: tuple[date, ...] = ()

    @field_validator("country")
    @classmethod
    def _supported_country(cls, country: str) -> str:
        if country not in holidays_lib.list_supported_countries():
            raise ValueError(
                f"unknown country {country!r}; expected an ISO 3166 code the holidays library "
                "supports, e.g. DE, US, GB, FR"
            )
        return country

    @model_validator(mode="after")
    def _subdivision_of_country(self) -> Holidays:
        if self.subdivision is None:
            return self
        if self.country is None:
            raise ValueError("subdivision needs a country next to it")
        known = holidays_lib.list_supported_countries()[self.country]
        if self.subdivision not in known:
            raise ValueError(
                f"unknown subdivision {self.subdivision!r} of {self.country}; "
                f"expected one of {', '.join(known)}"
            )
        return self


class Calendar(Model):
    """When business time runs: opening hours per weekday in a time zone, minus holidays."""

    time_zone: str
    always_open: bool = False
    hours: dict[Weekday, tuple[Annotated[str, AfterValidator(_span)], ...]] = Field(
        default_factory=dict
    )
    holidays: Holidays | None = None
    # How long "1d" is in this calendar; default: the most common length of an open day.
    working_day: Duration | None = None

    @field_validator("time_zone")
    @classmethod
    def _iana_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            # Area/Location names only: legacy abbreviations (MST, EST) are poor suggestions.
            hint = did_you_mean(name, sorted(z for z in available_timezones() if "/" in z))
            raise ValueError(
                f"unknown time zone {name!r}{hint}; expected an IANA name like Europe/Berlin, "
                "America/New_York or UTC"
            ) from None
        return name

    @model_validator(mode="after")
    def _open_some_time(self) -> Calendar:
        if self.always_open and (self.hours or self.holidays):
            raise ValueError(
                "always_open calendars take no hours or holidays; to close on holidays, "
                "write hours 00:00-24:00 for every day instead"
            )
        if not self.always_open and not any(self.hours.values()):
            raise ValueError(
                "expected opening hours for at least one weekday, or always_open: true"
            )
        return self

    def config_problems(self) -> list[RelativeProblem]:
        """Spans that overlap: the clock counts shared time once, so "1d" (the usual open day)
        would disagree with it; one span for the whole time says what is meant."""
        problems: list[RelativeProblem] = []
        earlier: list[tuple[int, int, str]] = []  # start, end, "'08:00-12:00' (mon[0])"
        for day, index, text, start, end in _week_minutes(self.hours):
            # An overnight span on Sunday reaches into Monday: compare a week later too.
            clash = next(
                (
                    where
                    for first, last, where in earlier
                    for shift in (0, _WEEK, -_WEEK)
                    if start + shift < last and first < end + shift
                ),
                None,
            )
            if clash is not None:
                problems.append(
                    (
                        ("hours", day, index),
                        f"'{text}' overlaps {clash}; expected spans that do not overlap "
                        "(write one span for the whole time)",
                    )
                )
            earlier.append((start, end, f"'{text}' ({day}[{index}])"))
        return problems


_WEEK = 7 * 24 * 60


def _week_minutes(hours: Mapping[Weekday, tuple[str, ...]]) -> list[tuple[str, int, str, int, int]]:
    """(weekday, index, text, start, end) of every span, in minutes from Monday 00:00."""
    spans: list[tuple[str, int, str, int, int]] = []
    for day_index, day in enumerate(WEEKDAYS):
        offset = day_index * 24 * 60
        for index, text in enumerate(hours.get(day, ())):
            start, end = parse_span(text)
            end += 0 if end > start else 24 * 60
            spans.append((day, index, text, offset + start, offset + end))
    return spans


class CalendarChoice(Model):
    """Which calendar a ticket's business time runs in: by tier, else region, else default."""

    by_tier: dict[str, str] = Field(default_factory=dict)
    by_region: dict[str, str] = Field(default_factory=dict)
    default: str

    @field_validator("by_tier", "by_region")
    @classmethod
    def _known_names(cls, mapping: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        kind = "tiers" if info.field_name == "by_tier" else "regions"
        for name, calendar in mapping.items():
            check_known(name, kind)
            check_known(calendar, "calendars")
        return mapping

    @field_validator("default")
    @classmethod
    def _known_calendar(cls, calendar: str) -> str:
        return check_known(calendar, "calendars")
