"""A clock earlier than the last run's (a wrong --now, a host clock stepped back) is refused
before anything is read or written, with exit 9, unless --allow-backwards-clock says so; a few
minutes of skew only warn. Runs `run_sync.py sync`/`plan` against the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

import run_sync
from tests.fault_helpers import FAULT_SIZES
from tests.sync_world import World

pytestmark = pytest.mark.integration

WORLD_SIZES = FAULT_SIZES


def cli(world: World, command: str, now, *extra: str) -> list[str]:
    return [command, "--config", str(world.config_path), "--now", now.isoformat(), *extra]


def requests_made(world: World) -> int:
    return sum(sum(app.traffic.requests.values()) for app in world.sandbox.apps.values())


def runs_recorded(world: World) -> int:
    store = world.store()
    try:
        return len(store.runs())
    finally:
        store.close()


@pytest.mark.parametrize("command", ["sync", "plan"])
def test_a_clock_two_weeks_back_is_refused_with_exit_9_and_touches_nothing(
    world: World, command: str, capsys
):
    last = world.now
    assert run_sync.main(cli(world, "sync", last)) == 0
    world.settle()
    world.sandbox.reset_traffic()
    capsys.readouterr()

    earlier = last - timedelta(days=14)
    assert run_sync.main(cli(world, command, earlier)) == 9
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"escalation-sync: the clock says {earlier:%Y-%m-%d %H:%M:%S} UTC, 14 days before the "
        f"last run ({last:%Y-%m-%d %H:%M:%S} UTC): a run now would write older values over "
        "newer ones; nothing was read or written. Fix the clock (or --now), or add "
        "--allow-backwards-clock to run anyway\n"
    )
    assert requests_made(world) == 0 and sum(world.writes().values()) == 0
    assert runs_recorded(world) == 1


def test_allow_backwards_clock_runs_at_the_earlier_time_and_later_runs_compare_with_it(
    world: World, capsys
):
    last = world.now
    assert run_sync.main(cli(world, "sync", last)) == 0
    world.settle()
    earlier = last - timedelta(days=14)
    code = run_sync.main(cli(world, "sync", earlier, "--allow-backwards-clock"))
    out, err = capsys.readouterr()
    assert code != 9, err
    assert "--allow-backwards-clock" in err and "14 days before the last run" in err
    assert runs_recorded(world) == 2
    # The clock was set back on purpose: the next run is measured against that run.
    world.settle()
    assert run_sync.main(cli(world, "sync", earlier + timedelta(minutes=5))) != 9


def test_a_few_minutes_of_skew_only_warn(world: World, capsys):
    last = world.now
    assert run_sync.main(cli(world, "sync", last)) == 0
    world.settle()
    capsys.readouterr()
    skewed = last - timedelta(minutes=3)
    assert run_sync.main(cli(world, "sync", skewed)) == 0
    out, err = capsys.readouterr()
    assert out.startswith("escalation-sync: ok;")
    assert "3 minutes before the last run" in err and "up to 5 minutes of skew is tolerated" in err
    # Six minutes before the last run (the skewed one) is past the tolerance.
    assert run_sync.main(cli(world, "sync", skewed - timedelta(minutes=6))) == 9


def test_a_dry_run_in_the_future_does_not_hold_later_runs_back(world: World, capsys):
    """A plan replayed at a later moment writes nothing anywhere: it is not the last run."""
    assert run_sync.main(cli(world, "plan", world.now + timedelta(days=3))) == 0
    assert run_sync.main(cli(world, "sync", world.now)) == 0
