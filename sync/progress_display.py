"""How `backfill` shows its progress: a line per system redrawn in place on a terminal, plain
log lines (every few seconds per stream, and when it ends) otherwise.

The words are the same both ways: records read, pages, rate, and about how much is left and how
long it takes at the vendor's quota (sync/progress.py estimates both).
"""

from __future__ import annotations

import logging
import time
from typing import TextIO

from sync.progress import StreamProgress, WriteProgress, about, duration_text

log = logging.getLogger("escalation_sync.backfill")

LOG_EVERY_SECONDS = 10.0


def reading_text(progress: StreamProgress) -> str:
    """'zendesk tickets: 4,000 read, 4 pages, 160/s; about 96,000 left, about 10 min (quota)'."""
    system, _, _ = progress.stream.partition(".")
    pages = "page" if progress.pages == 1 else "pages"
    head = f"{system} {progress.kind}: {progress.read:,} read, {progress.pages:,} {pages}"
    if progress.done:
        return f"{head} in {duration_text(progress.seconds())}, done"
    text = f"{head}, {progress.rate():,.0f}/s"
    left = progress.left()
    eta = progress.eta_seconds()
    if left is not None and eta is not None:
        paced = " at the vendor's quota" if progress.seconds_per_request > 0 else ""
        text += f"; about {about(left)} left, about {duration_text(eta)}{paced}"
    return text


def writing_text(progress: WriteProgress) -> str:
    """'jira writes: 5,000 of 14,070 sent, 10/s, about 15 min left'."""
    text = f"{progress.system} writes: {progress.sent:,} of {progress.total:,} sent"
    if progress.sent >= progress.total:
        return text + ", done"
    text += f", {progress.rate():,.1f}/s"
    eta = progress.eta_seconds()
    return text + (f", about {duration_text(eta)} left" if eta is not None else "")


class TerminalProgress:
    """One line per stream (then per system's writes), redrawn in place until it is done."""

    def __init__(self, out: TextIO):
        self.out = out

    def _draw(self, text: str, done: bool) -> None:
        self.out.write("\r\x1b[K" + text + ("\n" if done else ""))
        self.out.flush()

    def reading(self, progress: StreamProgress) -> None:
        self._draw(reading_text(progress), progress.done)

    def writing(self, progress: WriteProgress) -> None:
        self._draw(writing_text(progress), progress.sent >= progress.total)


class LoggedProgress:
    """A log line per stream every `every` seconds, on its first page and when it is done."""

    def __init__(self, every: float = LOG_EVERY_SECONDS):
        self.every = every
        self._last: dict[str, float] = {}

    def _due(self, key: str, done: bool) -> bool:
        now = time.monotonic()
        last = self._last.get(key)
        if done or last is None or now - last >= self.every:
            self._last[key] = now
            return True
        return False

    def reading(self, progress: StreamProgress) -> None:
        if self._due(progress.stream, progress.done):
            log.info("backfill %s", reading_text(progress))

    def writing(self, progress: WriteProgress) -> None:
        if self._due(f"{progress.system} writes", progress.sent >= progress.total):
            log.info("backfill %s", writing_text(progress))


class Remembered:
    """Passes progress on and keeps the latest of each stream: what an interrupted backfill
    says it got to."""

    def __init__(self, shown: TerminalProgress | LoggedProgress):
        self.shown = shown
        self.streams: dict[str, StreamProgress] = {}

    def reading(self, progress: StreamProgress) -> None:
        self.streams[progress.stream] = progress
        self.shown.reading(progress)

    def writing(self, progress: WriteProgress) -> None:
        self.shown.writing(progress)
