"""How far a run got: records and pages read per stream, writes sent per system, and how much
is left, estimated from what the vendors tell.

Every run keeps this (the puller and the apply step update it), so a run that stops on a quota
can say "61,000 of about 100,000 tickets read; about 4 min of quota left". `backfill` also
shows it as it goes (sync/progress_display.py).

How much is left: the exports are ordered by modification time, so the time position of the
last record read, between the first record of the run and now, tells the share read (Zendesk's
export and Jira's search give no total; records are taken to be spread evenly over time: an
estimate, and said so). How long the rest takes: the pages left at the quota's pace
(sync/pacing.py), or at the pace seen so far when that is slower.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from mapping.records import SourceRecord

# The records a stream is about (sideloaded users and organisations ride along uncounted).
STREAM_KINDS = {
    "salesforce.accounts": ("account", "accounts"),
    "zendesk.organizations": ("organization", "organizations"),
    "zendesk.tickets": ("ticket", "tickets"),
    "zendesk.ticket_events": ("ticket_event", "ticket events"),
    "jira.issues": ("issue", "issues"),
}


def record_moment(record: SourceRecord) -> datetime | None:
    """The modification time the vendor's export is ordered by; None when the record has none
    (or is no JSON object at all: a bad record is reported by the pull, not here)."""
    data = record.data
    if not isinstance(data, dict):
        return None
    if record.system == "zendesk":
        stamp = data.get("generated_timestamp", data.get("timestamp"))
        if isinstance(stamp, int | float) and not isinstance(stamp, bool):
            return datetime.fromtimestamp(stamp, UTC)
        text = data.get("updated_at")
    elif record.system == "jira":
        fields = data.get("fields")
        text = fields.get("updated") if isinstance(fields, dict) else None
    else:
        text = data.get("SystemModstamp")
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


@dataclass
class StreamProgress:
    """One stream's reading in this run."""

    stream: str
    page_size: int
    seconds_per_request: float  # the quota's pace for this stream (0: none binds)
    until: datetime | None = None  # the run's now: where the export ends
    started: float = field(default_factory=time.monotonic)
    read: int = 0  # records of the stream's kind stored
    pages: int = 0
    first_at: datetime | None = None  # time position of the first record read this run
    last_at: datetime | None = None  # ... and of the newest so far
    finished: float | None = None  # monotonic time it read its last page

    @property
    def kind(self) -> str:
        return STREAM_KINDS.get(self.stream.split("@")[0], ("", "records"))[1]

    @property
    def done(self) -> bool:
        return self.finished is not None

    def note_page(self, records: list[SourceRecord], stored: int) -> None:
        """Count one stored page and move the time position to its newest record."""
        wanted = STREAM_KINDS.get(self.stream.split("@")[0], ("", ""))[0]  # @: an instance
        self.pages += 1
        self.read += sum(1 for r in records if r.kind == wanted) if wanted else stored
        for record in records:
            if wanted and record.kind != wanted:
                continue
            moment = record_moment(record)
            if moment is None:
                continue
            if self.first_at is None or moment < self.first_at:
                self.first_at = moment
            if self.last_at is None or moment > self.last_at:
                self.last_at = moment

    def seconds(self, now: float | None = None) -> float:
        end = self.finished if self.finished is not None else (now or time.monotonic())
        return max(end - self.started, 0.0)

    def rate(self, now: float | None = None) -> float:
        """Records a second so far."""
        seconds = self.seconds(now)
        return self.read / seconds if seconds > 0 else 0.0

    def left(self) -> int | None:
        """About how many records are still to read up to the run's now (None: cannot be told)."""
        if self.done:
            return 0
        if self.until is None or self.first_at is None or self.last_at is None:
            return None
        covered = (self.last_at - self.first_at).total_seconds()
        if covered <= 0:
            return None
        ahead = max((self.until - self.last_at).total_seconds(), 0.0)
        return round(self.read * ahead / covered)

    def quota_seconds(self, left: int) -> float:
        """The least time the vendor's quota allows to read `left` more records."""
        return math.ceil(max(left, 0) / max(self.page_size, 1)) * self.seconds_per_request

    def eta_seconds(self, now: float | None = None) -> float | None:
        """About how long the rest takes: at the quota's pace, or the pace seen when slower."""
        left = self.left()
        if left is None:
            return None
        rate = self.rate(now)
        seen = left / rate if rate > 0 else 0.0
        return max(self.quota_seconds(left), seen)


@dataclass
class WriteProgress:
    """One system's writes in this run."""

    system: str
    total: int
    sent: int = 0  # writes whose outcome is known (landed or not)
    started: float = field(default_factory=time.monotonic)

    def rate(self, now: float | None = None) -> float:
        seconds = (now or time.monotonic()) - self.started
        return self.sent / seconds if seconds > 0 else 0.0

    def eta_seconds(self, now: float | None = None) -> float | None:
        rate = self.rate(now)
        return (self.total - self.sent) / rate if rate > 0 else None


class ProgressListener(Protocol):
    """Told after every page stored and every batch of writes sent (`backfill` shows it)."""

    def reading(self, progress: StreamProgress) -> None: ...

    def writing(self, progress: WriteProgress) -> None: ...


class Unseen:
    """The listener of a cron run: progress is kept for the summary, not shown."""

    def reading(self, progress: StreamProgress) -> None:
        return None

    def writing(self, progress: WriteProgress) -> None:
        return None


def about(number: int) -> str:
    """A count as an estimate reads: two significant figures, thousands separated."""
    if number < 100:
        return f"{number:,}"
    digits = len(str(number)) - 2
    return f"{round(number, -digits):,}"


def duration_text(seconds: float) -> str:
    """A wait as a person reads it: "40 s", "4 min", "1 h 20 min"."""
    if seconds < 90:
        return f"{max(round(seconds), 1)} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
