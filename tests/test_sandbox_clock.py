"""The sandbox's one record clock: wall time plus an offset, read the way each vendor stamps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.clock import Clock
from sandbox.jira.app import JiraApp
from sandbox.salesforce.app import SalesforceApp
from sandbox.zendesk.app import ZendeskApp


def test_advance_moves_seconds_milliseconds_and_datetime_together():
    clock = Clock(source=lambda: 1_800_000_000.25)
    clock.advance(90)
    assert clock.timestamp() == 1_800_000_090.25
    assert clock.now_ms() == 1_800_000_090_250
    assert clock.now() == datetime.fromtimestamp(1_800_000_090.25, UTC)
    assert clock.offset == 90


def test_set_makes_a_chosen_moment_now_and_time_runs_on_from_it():
    wall = [1_800_000_000.0]
    clock = Clock(source=lambda: wall[0])
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    clock.set(moment)
    assert clock.now() == moment
    wall[0] += 10
    assert clock.timestamp() == moment.timestamp() + 10


@pytest.mark.parametrize("app_class", [ZendeskApp, JiraApp, SalesforceApp])
def test_every_vendor_app_keeps_its_record_time_on_the_one_clock(app_class):
    app = app_class()
    assert isinstance(app.clock, Clock)
    before = app.clock.offset
    app.advance_clock(3600)
    assert app.clock.offset == before + 3600


def test_a_saved_zendesk_state_keeps_the_clock_offset():
    app = ZendeskApp()
    app.advance_clock(61)
    saved = app.dump_state()
    restored = ZendeskApp()
    restored.load_state(saved)
    assert restored.clock.offset == 61
