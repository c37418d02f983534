"""sync/stopping.py: `sync` finishes the batch in progress on the first SIGTERM, `backfill` and a
second signal stop at once, and a wait for a quota is cut short."""

from __future__ import annotations

import os
import signal

import pytest

from sync.progress import WriteProgress
from sync.stopping import Interrupted, StopBetweenBatches, StopRequest, stopped_by_signals


def test_the_first_sigterm_of_a_sync_stops_it_at_the_next_batch_not_where_it_is():
    with stopped_by_signals(at_once=False) as stop:
        os.kill(os.getpid(), signal.SIGTERM)  # handled here: only noted
        assert stop.signum == signal.SIGTERM
        with pytest.raises(Interrupted, match="SIGTERM"):
            StopBetweenBatches(stop).writing(WriteProgress("zendesk", 10))


def test_a_second_signal_stops_a_sync_at_once():
    with stopped_by_signals(at_once=False), pytest.raises(Interrupted, match="SIGINT"):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)


def test_a_sync_waiting_for_a_quota_stops_at_once():
    with stopped_by_signals(at_once=False) as stop, pytest.raises(Interrupted):
        previous = signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        try:
            stop.sleep(30)
        finally:
            signal.signal(signal.SIGALRM, previous)


def test_backfill_stops_at_once():
    with stopped_by_signals(at_once=True), pytest.raises(Interrupted, match="SIGTERM"):
        os.kill(os.getpid(), signal.SIGTERM)


def test_the_handlers_before_are_put_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted), stopped_by_signals(at_once=True):
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before


class Sender:
    """A connector's apply that waits inside its batch (as Zendesk polls its jobs)."""

    def __init__(self, stop: StopRequest):
        self.stop = stop
        self.sent: list[str] = []

    def apply(self, writes: list[str]) -> list[str]:
        os.kill(os.getpid(), signal.SIGTERM)
        self.stop.sleep(0.01)
        self.sent.extend(writes)
        return writes


def test_a_batch_of_writes_in_progress_is_seen_through_its_waits_then_the_run_stops():
    with stopped_by_signals(at_once=False) as stop:
        sender = Sender(stop)
        stop.see_writes_through(sender)  # type: ignore[arg-type]
        assert sender.apply(["a", "b"]) == ["a", "b"]
        assert sender.sent == ["a", "b"] and stop.signum == signal.SIGTERM
        with pytest.raises(Interrupted):
            StopBetweenBatches(stop).writing(WriteProgress("zendesk", 2))
