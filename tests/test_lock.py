"""One run at a time: a second cron invocation exits 4 at once, and a SIGKILLed holder leaves
no lock behind (flock is released by the kernel; PostgreSQL's advisory lock by the server when
the session ends), so the next cron run works."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.state_url import display_url
from sandbox.faults import Fault
from sandbox.runner import Sandbox
from sync.lock import LockHeld, RunLock
from sync.pg_lock import AdvisoryLock
from tests.fault_helpers import FAULT_SIZES, start_sync
from tests.postgres_server import PASSWORD
from tests.sync_world import World, write_world_data

pytestmark = pytest.mark.integration
STATE_BACKENDS = ("sqlite", "postgresql")  # the run lock: flock, or the advisory lock

HOLD_SECONDS = 12.0  # the first run waits this long for an answer: it holds the lock meanwhile


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory):
    data = write_world_data(tmp_path_factory.mktemp("data"), **FAULT_SIZES)
    with Sandbox(work_dir=tmp_path_factory.mktemp("tls"), quotas=False) as sandbox:
        yield sandbox, data


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_second_run_exits_4_at_once_and_a_killed_holder_leaves_no_lock(
    running, tmp_path: Path, state_url: str | None
):
    sandbox, data = running
    world = World(sandbox, data, tmp_path, state_url=state_url)
    slow = sandbox.salesforce.faults.add(Fault("query_all", "delay", delay_seconds=HOLD_SECONDS))
    holder = start_sync(world)
    try:
        wait_for(lambda: slow.hits == 1)  # the holder is inside its run, waiting for Salesforce
        requests_before = sum(sum(app.traffic.requests.values()) for app in sandbox.apps.values())

        started = time.monotonic()
        second = start_sync(world)
        out, err = second.communicate(timeout=HOLD_SECONDS)
        took = time.monotonic() - started
        assert second.returncode == 4, f"{out}\n{err}"
        lock_file = world.config.state.lock_file
        if state_url is None:
            held = f"the lock {lock_file} (pid {holder.pid})"
        else:
            url = display_url(state_url)
            held = f"the lock on the state {url} (escalation-sync pid {holder.pid} on {socket.gethostname()})"
        assert err.strip() == f"escalation-sync: another run holds {held}; exiting"
        assert out == ""
        assert took < HOLD_SECONDS / 2, (
            "the second run waited for the lock instead of leaving at once"
        )
        assert (
            sum(sum(app.traffic.requests.values()) for app in sandbox.apps.values())
            == requests_before
        )

        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    if state_url is None:
        assert lock_file.exists(), (
            "the killed run's lock file stays behind; flock makes it harmless"
        )

    after = start_sync(world)
    out, err = after.communicate(timeout=120)
    assert after.returncode == 0, f"{out}\n{err}"
    assert out.startswith("escalation-sync: ok;")


def test_lock_is_exclusive_and_released_on_exit(tmp_path: Path):
    path = tmp_path / "state" / "escalation-sync.sqlite.lock"
    with RunLock(path):
        with pytest.raises(
            LockHeld, match=rf"another run holds the lock {path} \(pid {os.getpid()}\)"
        ):
            RunLock(path).acquire()
    with RunLock(path):  # released: taken again at once
        pass


def test_lock_of_a_killed_process_is_free_for_the_next_run(tmp_path: Path):
    path = tmp_path / "escalation-sync.sqlite.lock"
    code = f"from sync.lock import RunLock; import time; RunLock({str(path)!r}).acquire(); print('held', flush=True); time.sleep(60)"
    holder = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld):
            RunLock(path).acquire()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
    RunLock(path).acquire().release()


def test_advisory_lock_is_exclusive_per_state_and_released_on_exit(postgres_server):
    one, other = postgres_server.fresh_url(), postgres_server.fresh_url()
    with AdvisoryLock(one, PASSWORD):
        with pytest.raises(LockHeld, match=rf"pid {os.getpid()} on {socket.gethostname()}"):
            AdvisoryLock(one, PASSWORD).acquire()
        with AdvisoryLock(other, PASSWORD):  # another state (schema) has a lock of its own
            pass
    with AdvisoryLock(one, PASSWORD):  # released: taken again at once
        pass


def test_advisory_lock_of_a_killed_process_is_free_for_the_next_run(postgres_server):
    url = postgres_server.fresh_url()
    code = (
        "import sys, time; from sync.pg_lock import AdvisoryLock; "
        "lock = AdvisoryLock(sys.argv[1], sys.argv[2]).acquire(); print('held', flush=True); "
        "time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, url, PASSWORD],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld, match=f"escalation-sync pid {holder.pid} "):
            AdvisoryLock(url, PASSWORD).acquire()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
    # The server notices the closed connection and ends the session: the lock goes with it.
    wait_for(lambda: _free(url))


def _free(url: str) -> bool:
    try:
        AdvisoryLock(url, PASSWORD).acquire().release()
    except LockHeld:
        return False
    return True


def test_every_command_opens_the_configured_state_and_backfill_takes_its_lock(
    running, tmp_path: Path, state_url: str | None, capsys: pytest.CaptureFixture[str]
):
    """backfill, report, replay and explain go through sync/state_open.py: on PostgreSQL they
    read the database the sync wrote (no file appears), and backfill waits for no one: the
    run lock held elsewhere makes it exit 4 at once."""
    import run_sync
    from sync.state_open import run_lock

    sandbox, data = running
    world = World(sandbox, data, tmp_path, state_url=state_url)
    config = str(world.config_path)
    assert run_sync.main(["sync", "--config", config]) in (0, 1)
    ticket = next(t.ref for t in world.store().tickets(open_only=True))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    matrix = str(world.config_path.parent / "matrix.yaml")
    reading = [
        ["report", "--config", config, "--out", str(tmp_path / "report")],
        ["replay", "--config", config, "--matrix", matrix, "--from", today, "--to", today],
        ["explain", "--config", config, ticket],
    ]
    for argv in reading:
        assert run_sync.main(argv) == 0, (argv, capsys.readouterr().err[-1500:])
    capsys.readouterr()
    assert world.config.state.path.exists() == (state_url is None)

    held = run_lock(world.config.state).acquire()
    try:
        assert run_sync.main(["backfill", "--config", config]) == 4
    finally:
        held.release()
    assert "another run holds the lock" in capsys.readouterr().err
