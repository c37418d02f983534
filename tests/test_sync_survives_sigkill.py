"""`run_sync.py sync` killed with SIGKILL at seeded points of a run, then run again.

The sandbox serves from this process and counts the requests it handles; the sync runs in a
process of its own and is killed right after the vendor handled the N-th request, before the
answer reaches it (the worst moment: the vendor acted, the client never learns of it). After each
kill the state (file, or PostgreSQL database: both backends) is intact and unlocked, the next
cron run completes, and clean runs bring every system to
the fault-free state: no note or record twice, no value the vendor already holds sent again.
"""

from __future__ import annotations

import random
import signal
from collections import Counter
from pathlib import Path

import pytest

from sandbox.runner import Sandbox
from tests.fault_helpers import (
    FAULT_SIZES,
    KillSwitch,
    assert_fault_free_state,
    converge,
    field_writes,
    start_sync,
    state_is_sound,
    writes_repeated,
)
from tests.postgres_server import BOTH_BACKENDS
from tests.sync_world import World, write_world_data

pytestmark = pytest.mark.integration
# On SQLite and PostgreSQL: the tests marked BOTH_BACKENDS (tests/conftest.py); the rest on SQLite.

SEED = 20261123
SLOW_POINTS = 24


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory):
    data = write_world_data(tmp_path_factory.mktemp("data"), **FAULT_SIZES)
    with Sandbox(work_dir=tmp_path_factory.mktemp("tls"), quotas=False) as sandbox:
        switch = KillSwitch(sandbox.apps)
        yield sandbox, data, switch
        switch.remove()


@pytest.fixture(scope="module")
def fault_free(
    running, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict, Counter, list[str]]:
    """The fault-free end state, the values sent to reach it, and the requests of one run."""
    sandbox, data, switch = running
    world = World(sandbox, data, tmp_path_factory.mktemp("reference"))
    switch.arm(None)
    process = start_sync(world)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    requests = list(switch.endpoints)
    converge(world)
    return world.snapshot(), field_writes(world), requests


def kill_at(world: World, switch: KillSwitch, at: int) -> str:
    """Start a sync, SIGKILL it after the `at`-th request; the endpoint it was killed after."""
    process = start_sync(world)
    switch.arm(process.pid, at)
    out, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, (
        f"not killed at request {at}: exit {process.returncode}\n{err}"
    )
    return str(switch.killed_after)


def recover(world: World, switch: KillSwitch) -> None:
    """What happens before and at the next cron run: the vendor finishes queued jobs, its
    exports catch up, the next run takes the lock a killed run left and completes."""
    switch.arm(None)
    world.sandbox.zendesk.run_jobs()
    assert state_is_sound(world.config.state)
    world.settle()
    process = start_sync(world)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, f"{out}\n{err}"
    converge(world)


def kill_and_check(running, fault_free, folder: Path, at: int, state_url: str | None) -> None:
    sandbox, data, switch = running
    reference, sent_without_faults, _ = fault_free
    world = World(sandbox, data, folder, state_url=state_url)
    killed_after = kill_at(world, switch, at)
    recover(world, switch)
    try:
        assert_fault_free_state(reference, world)
        assert writes_repeated(world, sent_without_faults) == {}
    except AssertionError as error:
        raise AssertionError(f"killed after request {at} ({killed_after}): {error}") from None


def first_request_to(requests: list[str], endpoint: str) -> int:
    return requests.index(endpoint) + 1


@pytest.mark.parametrize(
    "endpoint", ["zendesk.update_many", "jira.issue_edit", "salesforce.composite_upsert"]
)
def test_killed_right_after_a_write_landed_the_next_runs_finish_it_without_repeating_it(
    endpoint: str, running, fault_free, tmp_path: Path, state_url: str | None
):
    at = first_request_to(fault_free[2], endpoint)
    kill_and_check(running, fault_free, tmp_path, at, state_url)


@pytest.mark.state_backends("postgresql")
def test_on_postgresql_killed_right_after_a_write_landed_the_next_runs_finish_it(
    running, fault_free, tmp_path: Path, state_url: str | None
):
    """One of the points above with the state in PostgreSQL (the slow suite kills at two
    dozen points on both backends)."""
    at = first_request_to(fault_free[2], "salesforce.composite_upsert")
    kill_and_check(running, fault_free, tmp_path, at, state_url)


@pytest.mark.slow
@BOTH_BACKENDS
def test_killed_at_two_dozen_seeded_points_of_a_run_nothing_is_lost_or_written_twice(
    running, fault_free, tmp_path: Path, state_backend: str, request: pytest.FixtureRequest
):
    requests = fault_free[2]
    points = sorted(
        random.Random(SEED).sample(range(1, len(requests)), min(SLOW_POINTS, len(requests) - 1))
    )
    assert len(points) >= 20, f"a run makes only {len(requests)} requests"
    server = None
    if state_backend != "sqlite":  # the password in the environment, a fresh schema per point
        request.getfixturevalue("postgres_url")
        server = request.getfixturevalue("postgres_server")
    for at in points:
        url = server.fresh_url() if server is not None else None
        kill_and_check(running, fault_free, tmp_path / f"kill-{at}", at, url)
