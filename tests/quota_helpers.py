"""A world whose sandbox enforces the vendors' quotas with time running ten times faster, and a
config that paces to the same, for the quota-bound and backfill tests.

Zendesk's 10 incremental exports a minute become 10 per 6 s; with 20 tickets a page the export
of the small world needs more than ten requests, so it meets the quota once at least.
"""

from __future__ import annotations

from pathlib import Path

import run_sync
from sandbox.quotas import scale_quotas
from sandbox.runner import Sandbox
from tests.sync_world import World

TIME_FACTOR = 0.1
PAGE_SIZE = 20
# `max_wait: 1s` cannot wait for the next export window: a cron sync ends quota-bound.
QUOTA_BOUND_CONFIG = f"""sync:
  max_wait: 1s
  quota_time_factor: {TIME_FACTOR}
  zendesk:
    page_size: {PAGE_SIZE}
"""


def quotas_on(sandbox: Sandbox) -> None:
    """The vendors' default quotas, scaled in time, fresh windows."""
    for app in sandbox.apps.values():
        app.quotas.set_rules(app.default_quota_rules(), time_factor=1.0)
        scale_quotas(app.quotas, TIME_FACTOR)
        app.quotas.enabled = True


def quotas_off(sandbox: Sandbox) -> None:
    for app in sandbox.apps.values():
        app.quotas.enabled = False


def next_window(sandbox: Sandbox) -> None:
    """Cron's next run comes minutes later: the quota windows have passed."""
    for app in sandbox.apps.values():
        app.quotas.set_rules(app.quotas.rules)


def one_go_export_pages(world: World, folder: Path) -> int:
    """Requests the ticket export of `world`'s data takes in one uninterrupted run (quotas off,
    a fresh state and the same page size)."""
    quotas_off(world.sandbox)
    fresh = World(world.sandbox, world.data, folder, extra_config=(
        f"sync:\n  zendesk:\n    page_size: {PAGE_SIZE}\n    export_per_minute: 1000\n"))  # fmt: skip
    assert run_sync.main(["sync", "--config", str(fresh.config_path)]) == 0
    return fresh.sandbox.zendesk.traffic.requests["incremental_tickets"]
