"""`backfill` reads a world to the end in one go under the vendors' quotas, shows how far it got,
and when Ctrl-C or SIGTERM stops it, the next run resumes without reading stored pages again.

The sandbox enforces the vendors' quotas ten times faster and the config paces to the same
(tests/quota_helpers.py); `sync.max_wait: 1s` would end a cron sync quota-bound, a backfill
ignores it.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import run_sync
from errors import ExitCode
from tests.quota_helpers import QUOTA_BOUND_CONFIG, one_go_export_pages, quotas_off, quotas_on
from tests.sync_world import World

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def quota_world(world_sandbox, tmp_path: Path) -> Iterator[World]:
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path, extra_config=QUOTA_BOUND_CONFIG)
    quotas_on(sandbox)
    yield world
    quotas_off(sandbox)


def test_backfill_reads_past_the_quota_to_the_end_with_progress_lines_in_the_log(
    quota_world: World, capsys: pytest.CaptureFixture[str]
):
    code = run_sync.main(["backfill", "--config", str(quota_world.config_path)])
    out, err = capsys.readouterr()

    assert code == ExitCode.OK, out + err
    assert out.startswith("escalation-sync: ok;"), out
    # Not a terminal: plain log lines per stream, while reading and when done.
    assert re.search(r"INFO escalation_sync.backfill: backfill zendesk tickets: \d+ read, \d+ "
                     r"pages?, [\d,]+/s; about [\d,]+ left, about .+ at the vendor's quota", err), err  # fmt: skip
    for stream in (
        "salesforce accounts",
        "zendesk organizations",
        "zendesk tickets",
        "jira issues",
    ):
        assert re.search(rf"backfill {stream}: [\d,]+ read, [\d,]+ pages? in .+, done", err), err
    assert re.search(r"backfill zendesk writes: [\d,]+ of [\d,]+ sent, done", err), err
    store = quota_world.store()
    try:
        assert store.cursor("zendesk.tickets") is not None
    finally:
        store.close()
    # Everything was read: a sync right after reads nothing old and ends ok, not quota-bound.
    assert run_sync.main(["sync", "--config", str(quota_world.config_path)]) == ExitCode.OK


def backfill_process(world: World) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(REPO / "run_sync.py"), "backfill", "--config", str(world.config_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_backfill_resumes_without_reading_stored_pages_again(
    signum: int, quota_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    traffic = quota_world.sandbox.zendesk.traffic
    exports = traffic.requests
    process = backfill_process(quota_world)
    try:
        # Stop it in the middle of the ticket export: it has read a few pages and waits for the
        # quota's next window (10 exports per 6 s, more than 10 pages to read).
        deadline = time.monotonic() + 60
        while exports["incremental_tickets"] < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == ExitCode.INTERRUPTED == 130, out + err
    assert out.startswith("escalation-sync: interrupted, resuming next run"), out
    assert "zendesk tickets: " in out and "the next backfill or sync resumes" in out, out
    assert "Traceback" not in err
    # Pages served (a request refused by the quota, as the next run's first may be, is not one).
    read_before = traffic.statuses[("incremental_tickets", 200)]

    code = run_sync.main(["backfill", "--config", str(quota_world.config_path)])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, out + err
    read_in_all = traffic.statuses[("incremental_tickets", 200)]
    assert read_in_all > read_before

    one_go = one_go_export_pages(quota_world, tmp_path / "one-go")
    # At most the page in flight when it stopped is read again.
    assert read_in_all <= one_go + 1
