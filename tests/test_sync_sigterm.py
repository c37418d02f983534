"""`sync` stopped by SIGTERM (what systemd, Kubernetes and cron's kill send) in the middle of a run
that waits for the vendors' quotas: it exits 130 at once with what it read stored, and the next
runs finish the work with the same end state as a fault-free sync, no note or value sent twice.

The sandbox enforces the vendors' quotas ten times faster and the config paces to the same
(tests/quota_helpers.py), with a waiting budget long enough that the run waits for the next
export window instead of ending quota-bound.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from subprocess import PIPE

import pytest

from errors import ExitCode
from tests.fault_helpers import (
    REPO,
    assert_fault_free_state,
    converge,
    state_file_is_sound,
    sync_command,
    writes_repeated,
)
from tests.quota_helpers import PAGE_SIZE, TIME_FACTOR, quotas_off, quotas_on
from tests.sync_world import World

pytestmark = pytest.mark.integration

WAITING_CONFIG = f"""sync:
  max_wait: 5m
  quota_time_factor: {TIME_FACTOR}
  zendesk:
    page_size: {PAGE_SIZE}
"""


@pytest.fixture
def waiting_world(
    world_sandbox, fault_free: tuple[dict, Counter], tmp_path: Path
) -> Iterator[World]:
    """The quota world; `fault_free` is asked for first so its own world is done with."""
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path, extra_config=WAITING_CONFIG)
    quotas_on(sandbox)
    yield world
    quotas_off(sandbox)


def stop_sync_after(
    world: World, endpoint: str, served: int, signum: int, *options: str
) -> tuple[int, str, str]:
    """Start `sync` in its own process, send `signum` once the sandbox has served `served`
    requests of `endpoint`; its exit code, stdout and stderr."""
    process = subprocess.Popen(
        [*sync_command(world), *options], cwd=REPO, stdout=PIPE, stderr=PIPE, text=True
    )
    requests = world.sandbox.zendesk.traffic.requests
    try:
        deadline = time.monotonic() + 60
        while requests[endpoint] < served and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, out, err


# In the middle of the ticket export: a few pages read, then the quota's next window (10 exports
# per 6 s, more than 10 pages to read) is waited for. Or once Zendesk's first bulk update is
# queued: that batch is seen through (its job polled to the end), then the run stops.
@pytest.mark.parametrize(
    ("endpoint", "served"),
    [("incremental_tickets", 5), ("update_many", 1)],
    ids=["reading", "writing"],
)
def test_a_sync_stopped_by_sigterm_exits_130_and_the_next_runs_finish_without_repeats(
    endpoint: str, served: int, fault_free: tuple[dict, Counter], waiting_world: World
):
    world = waiting_world
    reference, sent_without_faults = fault_free
    code, out, err = stop_sync_after(world, endpoint, served, signal.SIGTERM)

    assert code == ExitCode.INTERRUPTED == 130, out + err
    assert out.startswith("escalation-sync: interrupted, resuming next run (SIGTERM)"), out
    assert "Traceback" not in err, err
    assert state_file_is_sound(world.config.state.path)
    store = world.store()
    try:  # the pages read before the stop are stored with their cursor
        assert store.cursor("zendesk.tickets") is not None
    finally:
        store.close()

    quotas_off(world.sandbox)
    world.sandbox.zendesk.run_jobs()
    converge(world)
    assert_fault_free_state(reference, world)
    assert writes_repeated(world, sent_without_faults) == {}


def test_a_stopped_sync_says_so_in_its_json_summary(waiting_world: World):
    code, out, err = stop_sync_after(
        waiting_world, "incremental_tickets", 3, signal.SIGINT, "--log-format", "json"
    )
    assert code == ExitCode.INTERRUPTED, out + err
    summary = json.loads(out)
    assert summary["exit_code"] == 130
    assert summary["message"].startswith("escalation-sync: interrupted, resuming next run (SIGINT)")
