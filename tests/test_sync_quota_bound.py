"""A cron `sync` whose waiting budget runs out on a vendor's quota is quota-bound, not unreachable.

The sandbox enforces the vendors' quotas with time running ten times faster (Zendesk's 10
incremental exports a minute become 10 per 6 s) and the config paces to the same
(`sync.quota_time_factor`). With 20 tickets a page the export needs more than ten requests, and
`sync.max_wait: 1s` cannot wait for the next window: the run stores what it read, writes it,
says how far it got and exits 10; the next runs resume from the stored cursors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import run_sync
from errors import ExitCode
from tests.quota_helpers import (
    QUOTA_BOUND_CONFIG,
    next_window,
    one_go_export_pages,
    quotas_off,
    quotas_on,
)
from tests.sync_world import World

pytestmark = pytest.mark.integration


@pytest.fixture
def quota_world(world_sandbox, tmp_path: Path) -> Iterator[World]:
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path, extra_config=QUOTA_BOUND_CONFIG)
    quotas_on(sandbox)
    yield world
    quotas_off(sandbox)


def cron_sync(world: World, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_sync.main(["sync", "--config", str(world.config_path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_run_that_spends_its_waiting_budget_on_the_export_quota_is_quota_bound_not_unreachable(
    quota_world: World, capsys: pytest.CaptureFixture[str]
):
    code, out, err = cron_sync(quota_world, capsys)

    assert code == ExitCode.QUOTA_BOUND == 10, out + err
    assert out.startswith("escalation-sync: quota-bound, resuming next run;"), out
    assert "unreachable" not in out + err
    line = re.search(r"zendesk tickets: ([\d,]+) of about ([\d,]+) read; about [^;]+ of quota "
                     r"left to read the rest; resumes next run", out)  # fmt: skip
    assert line, out
    read, total = (int(n.replace(",", "")) for n in line.groups())
    assert 0 < read < total
    store = quota_world.store()
    try:
        assert store.cursor("zendesk.tickets") is not None  # stored: the next run resumes there
        assert store.cursor("jira.issues") is not None  # the other systems were read in full
        assert store.cursor("salesforce.accounts") is not None
    finally:
        store.close()
    # What was read is written: the accounts and escalation records of the tickets read.
    assert quota_world.writes()["salesforce"] > 0


def test_cron_runs_after_a_quota_bound_one_resume_without_reading_the_export_again(
    quota_world: World, capsys: pytest.CaptureFixture[str]
):
    zendesk = quota_world.sandbox.zendesk
    codes = []
    for _ in range(6):
        code, out, err = cron_sync(quota_world, capsys)
        codes.append(code)
        if code != ExitCode.QUOTA_BOUND:
            break
        next_window(quota_world.sandbox)
    assert codes[0] == ExitCode.QUOTA_BOUND
    assert codes[-1] == ExitCode.OK, out + err
    resumed_pages = zendesk.traffic.requests["incremental_tickets"]
    capsys.readouterr()

    # As many pages as the same export in one go, give or take the one that ends each run (it
    # says "no more" and is asked again from its cursor).
    one_go = one_go_export_pages(quota_world, quota_world.config_path.parent.parent / "one-go")
    assert resumed_pages <= one_go + len(codes) - 1
