"""Faults of the machine around the state file, through `run_sync.py sync` against the sandbox:
each ends with one plain line naming the file and what to do, and an exit code of its own
(6 damaged, 7 full, 8 not writable), never a traceback and never "some records failed".

The full disk and the read-only folder are real: a tiny tmpfs, and a read-only bind mount, made
in a mount namespace of the test's own (`unshare --mount`, so nothing outside the test sees
them; root cannot be stopped by chmod). Without the rights to do that those tests are skipped;
the damaged-file tests need nothing special.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sync.state_faults import SIDE_FILES
from tests.fault_helpers import (
    FAULT_SIZES,
    REPO,
    assert_fault_free_state,
    converge,
    duplicate_escalation_records,
    duplicate_notes,
    state_file_is_sound,
    sync_command,
)
from tests.sync_world import World

pytestmark = pytest.mark.integration

WORLD_SIZES = FAULT_SIZES


def run_cli(world: World, *prefix: str) -> subprocess.CompletedProcess:
    """`run_sync.py sync` as cron runs it, in a process of its own (optionally under `prefix`)."""
    return subprocess.run(
        [*prefix, *sync_command(world)], cwd=REPO, capture_output=True, text=True, timeout=180
    )


def requests_made(world: World) -> int:
    return sum(sum(app.traffic.requests.values()) for app in world.sandbox.apps.values())


# -- a damaged state file -------------------------------------------------------------------------


def truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]  # a copy cut short, a disk that lost the tail


def garble_header(data: bytes) -> bytes:
    return b"\x00garbled!" * 8 + data[72:]  # "file is not a database"


def garble_a_page(data: bytes) -> bytes:
    """A page in the middle overwritten: SQLite opens the file and would notice only when it
    reads that page; the check on open finds it before anything is written."""
    page = 4096
    return data[: 3 * page] + bytes(range(256)) * (page // 256) + data[4 * page :]


DAMAGE: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "truncated": (truncate, "database disk image is malformed"),
    "garbled-header": (garble_header, "file is not a database"),
    "garbled-page": (garble_a_page, "SQLite's check: "),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_state_file_is_moved_aside_the_run_stops_with_6_and_the_next_is_a_first_run(
    damage: str, world: World, reference: dict
):
    damaged_by, words = DAMAGE[damage]
    first = run_cli(world)
    assert first.returncode == 0, first.stderr
    path = world.config.state.path
    assert not path.with_name(path.name + "-wal").exists()  # the file holds every step
    damaged = damaged_by(path.read_bytes())
    path.write_bytes(damaged)
    world.settle()
    world.sandbox.reset_traffic()

    stopped = run_cli(world)
    assert stopped.returncode == 6, stopped.stderr
    assert stopped.stdout == ""
    [aside] = [
        p for p in path.parent.glob(f"{path.name}.damaged-*") if not p.name.endswith(SIDE_FILES)
    ]
    assert stopped.stderr.startswith(f"escalation-sync: the state file {path} is damaged ({words}")
    assert stopped.stderr.endswith(
        f"); kept it for inspection as {aside}; the next run starts afresh as a first run "
        f"(to keep the history, put a backup at {path} before then)\n"
    )
    assert stopped.stderr.count("\n") == 1
    assert aside.read_bytes() == damaged, "the damaged file is kept as it was"
    assert not path.exists()
    assert requests_made(world) == 0, "nothing is read or written with a damaged state"

    # The next run is a first run: it reads everything again and writes what it decides. The
    # history the file held is gone (see the README: SLA pauses, levels held, overrides), so
    # levels may differ from before; but no private note is posted twice (the run looks at each
    # ticket before sending one), no record is created twice, and the runs after it settle.
    again = run_cli(world)
    assert again.returncode == 0, again.stderr
    store = world.store()
    try:
        assert [run["run_id"] for run in store.runs()] == [1]
    finally:
        store.close()
    converge(world)
    assert duplicate_notes(world) == {} and duplicate_escalation_records(world) == []
    assert aside.read_bytes() == damaged


# -- a full disk and a read-only folder, for real, in a mount namespace of our own ---------------


class PrivateMounts:
    """A mount namespace held open by a sleeping process; commands run in it with nsenter, and
    its files are reachable from here through /proc/<pid>/root."""

    def __init__(self) -> None:
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sleep", "600"]
        )
        ours = os.readlink("/proc/self/ns/mnt")
        # unshare switches namespace after it starts: wait for that by the clock (a count of
        # yields ran out first on a busy machine and the tests skipped).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if os.readlink(f"/proc/{self.holder.pid}/ns/mnt") != ours:
                    return
            except OSError:
                pass
            if self.holder.poll() is not None:
                break
            time.sleep(0.01)
        self.close()
        raise OSError("could not make a mount namespace")

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["nsenter", "-t", str(self.holder.pid), "-m", "--", *argv],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def mount(self, *argv: str) -> None:
        done = self.run("mount", *argv)
        assert done.returncode == 0, done.stderr

    def seen(self, path: Path) -> Path:
        """`path` as the namespace sees it."""
        return Path(f"/proc/{self.holder.pid}/root") / path.relative_to("/")

    def close(self) -> None:
        self.holder.send_signal(signal.SIGKILL)
        self.holder.wait()


@pytest.fixture
def private_mounts(tmp_path: Path) -> Iterator[PrivateMounts]:
    try:
        mounts = PrivateMounts()
    except OSError as error:
        pytest.skip(f"no mount namespace: {error}")
    probe = tmp_path / "probe"
    probe.mkdir()
    if mounts.run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)).returncode:
        mounts.close()
        pytest.skip("no right to mount in a mount namespace (needs root or CAP_SYS_ADMIN)")
    yield mounts
    mounts.close()


def test_a_disk_that_fills_during_the_run_exits_7_and_the_next_run_resumes(
    world: World, reference: dict, private_mounts: PrivateMounts
):
    path = world.config.state.path
    path.parent.mkdir(parents=True)
    # The finished state of this world takes about 400 KiB: the backfill runs out of room.
    private_mounts.mount("-t", "tmpfs", "-o", "size=200k", "tmpfs", str(path.parent))

    full = run_cli(world, "nsenter", "-t", str(private_mounts.holder.pid), "-m", "--")
    assert full.returncode == 7, full.stderr
    assert full.stdout == ""
    assert full.stderr == (
        f"escalation-sync: no space left for the state file {path} (database or disk is full); "
        "free space on its file system and run again: the file holds the last completed step "
        "and the next run resumes from it\n"
    )

    private_mounts.mount("-o", "remount,size=16m", str(path.parent))
    assert state_file_is_sound(private_mounts.seen(path))
    world.settle()
    again = run_cli(world, "nsenter", "-t", str(private_mounts.holder.pid), "-m", "--")
    assert again.returncode == 0, again.stderr
    for _ in range(3):  # until a run writes nothing (Zendesk's export catches up between runs)
        world.settle()
        last = run_cli(world, "nsenter", "-t", str(private_mounts.holder.pid), "-m", "--")
        assert last.returncode == 0, last.stderr
        if "wrote 0 record(s)" in last.stdout:
            break
    assert_fault_free_state(reference, world)


def test_a_disk_already_full_exits_7_before_anything_is_sent(
    world: World, private_mounts: PrivateMounts
):
    path = world.config.state.path
    path.parent.mkdir(parents=True)
    private_mounts.mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(path.parent))
    inside = ("nsenter", "-t", str(private_mounts.holder.pid), "-m", "--")
    assert run_cli(world, *inside).returncode == 0
    filler = private_mounts.run("dd", "if=/dev/zero", f"of={path.parent}/filler", "bs=4k")
    assert "No space left on device" in filler.stderr
    world.settle()
    world.sandbox.reset_traffic()

    full = run_cli(world, *inside)
    assert full.returncode == 7, full.stderr
    assert full.stderr.startswith(f"escalation-sync: no space left for the state file {path} (")
    assert full.stderr.count("\n") == 1 and "Traceback" not in full.stderr
    assert requests_made(world) == 0

    private_mounts.run("rm", f"{path.parent}/filler")
    assert run_cli(world, *inside).returncode == 0


def test_a_read_only_state_folder_exits_8_naming_the_file_and_the_next_run_resumes(
    world: World, private_mounts: PrivateMounts
):
    assert run_cli(world).returncode == 0
    folder = world.config.state.path.parent
    private_mounts.mount("--bind", "-o", "ro", str(folder), str(folder))
    inside = ("nsenter", "-t", str(private_mounts.holder.pid), "-m", "--")
    assert "Read-only file system" in private_mounts.run("touch", f"{folder}/x").stderr
    world.settle()
    world.sandbox.reset_traffic()

    refused = run_cli(world, *inside)
    assert refused.returncode == 8, refused.stderr
    lock = world.config.state.lock_file
    assert refused.stderr == (
        f"escalation-sync: cannot write {lock} ([Errno 30] Read-only file system); make "
        f"{folder} writable, or point state.path (and state.lock_path) at a writable folder, "
        "and run again\n"
    )
    assert requests_made(world) == 0

    private_mounts.run("umount", str(folder))
    assert run_cli(world, *inside).returncode == 0


def test_a_read_only_state_file_with_its_lock_elsewhere_names_the_state_file(tmp_path: Path):
    """The lock can live elsewhere (state.lock_path): then the state file is the one refused.
    The OS error is raised by hand here; the mount tests above show the real one."""
    from sync.state_faults import StateNotWritable, classify

    path = tmp_path / "state" / "escalation-sync.sqlite"
    error = OSError(30, "Read-only file system", str(path))
    fault = classify(error, path, tmp_path / "locks" / "sync.lock")
    assert isinstance(fault, StateNotWritable) and fault.exit_code == 8
    assert str(fault).startswith(f"cannot write {path} ([Errno 30] Read-only file system)")
    unrelated = OSError(30, "Read-only file system", "/etc/ssl/ca.pem")
    assert classify(unrelated, path, tmp_path / "locks" / "sync.lock") is None
    assert classify(sqlite3.OperationalError("database is locked"), path, path) is None


def test_explain_on_a_damaged_state_file_says_so_with_6_and_leaves_it_for_sync(world: World):
    """explain takes no run lock, so it never moves the file: the next sync does."""
    assert run_cli(world).returncode == 0
    path = world.config.state.path
    path.write_bytes(garble_header(path.read_bytes()))
    explained = subprocess.run(
        [*sync_command(world)[:2], "explain", "--config", str(world.config_path), "zendesk:1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert explained.returncode == 6
    assert explained.stderr == (
        f"escalation-sync: the state file {path} is damaged (file is not a database); the next "
        "sync moves it aside and starts afresh as a first run\n"
    )
    assert path.exists() and not list(path.parent.glob("*.damaged-*"))
