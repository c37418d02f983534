"""Ctrl-C and SIGTERM for `sync` and `backfill`: how a run is stopped without losing anything.

A page read and its cursor are one transaction, a write is marked in flight before it is sent,
so a run may end anywhere: what is stored stays, a write whose answer never came is re-read by
the next run before it is sent again. `Interrupted` carries the stop up through the run; it is
a BaseException, like KeyboardInterrupt, so no `except Exception` on the way swallows it, while
transactions roll back and the lock is released as it passes. Both commands exit 130
(ExitCode.INTERRUPTED) for either signal, so one alert rule covers them.

- `backfill` is run by a person: the signal stops it at once.
- `sync` is run by cron, systemd or a Kubernetes CronJob, which send SIGTERM and wait a grace
  period: the page or the batch of writes in progress finishes (its outcomes are stored), then
  the run stops. Waits inside a batch of writes (a Zendesk job polled, a retry) are seen
  through. A run waiting for a vendor's quota or a retry while reading stops at once: nothing is
  in flight then. A second signal stops it at once.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from connectors.base import Connector, FieldWrite, WriteResult
from sync.progress import ProgressListener, StreamProgress, Unseen, WriteProgress

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM: the run stops where it is (see the module's docstring)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopRequest:
    """What `sync`'s signal handler sets; checked between batches and before every wait."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.waiting = False  # in a wait that may be cut short
        self.sending = False  # inside a connector's apply: the batch is seen through

    def check(self) -> None:
        """Raise Interrupted when a stop was asked for (a point where the run may end)."""
        if self.signum is not None:
            interrupt(self.signum)

    def sleep(self, seconds: float) -> None:
        """The connectors' wait (RetryPolicy.sleep): outside a batch of writes, a stop asked for
        before or during it ends the run instead of waiting out a quota window the grace period
        may not cover."""
        if self.sending:
            time.sleep(seconds)
            return
        self.check()
        self.waiting = True
        try:
            time.sleep(seconds)
        finally:
            self.waiting = False

    def see_writes_through(self, connector: Connector) -> None:
        """Mark `connector.apply` as a batch: a stop waits until its outcomes are back (they are
        stored before the next check), and its waits are not cut short."""
        send = connector.apply

        def apply(writes: Sequence[FieldWrite]) -> list[WriteResult]:
            self.sending = True
            try:
                return send(writes)
            finally:
                self.sending = False

        connector.apply = apply  # type: ignore[method-assign]


class StopBetweenBatches:
    """A ProgressListener that ends the run after the page or write batch just stored."""

    def __init__(self, request: StopRequest, inner: ProgressListener | None = None):
        self.request = request
        self.inner = inner or Unseen()

    def reading(self, progress: StreamProgress) -> None:
        self.inner.reading(progress)
        self.request.check()

    def writing(self, progress: WriteProgress) -> None:
        self.inner.writing(progress)
        self.request.check()


def interrupt(signum: int) -> None:
    """Raise Interrupted; later signals are ignored from here on (until the handlers are put
    back): they must not cut the rollback and the lock's release short."""
    for name in SIGNALS:
        signal.signal(name, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def stopped_by_signals(at_once: bool = True) -> Iterator[StopRequest]:
    """SIGINT and SIGTERM stop the run: at once (`at_once`), or at the next point the
    StopRequest is checked (the second signal, or one during a wait, stops it at once)."""
    request = StopRequest()

    def stop(signum: int, frame: FrameType | None) -> None:
        if at_once or request.signum is not None or (request.waiting and not request.sending):
            interrupt(signum)
        request.signum = signum

    previous = {name: signal.signal(name, stop) for name in SIGNALS}
    try:
        yield request
    finally:
        for name, handler in previous.items():
            signal.signal(name, handler)
