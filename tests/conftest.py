"""Shared fixtures. Tests that need the APIs start the sandbox themselves, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_SPECS = REPO_ROOT.parent / "shared" / "specs"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator:
    """A fresh, empty sandbox of the three APIs with quotas off (tests switch them on)."""
    from sandbox.runner import Sandbox

    with Sandbox(work_dir=tmp_path / "sandbox", quotas=False) as running:
        yield running


@pytest.fixture(scope="module")
def world_sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator:
    """One running sandbox per test module, with a generated data set (sizes: the module's
    WORLD_SIZES, if any); each test gets fresh state through the `world` fixture."""
    from sandbox.runner import Sandbox
    from tests.sync_world import write_world_data

    data = write_world_data(
        tmp_path_factory.mktemp("data"), **getattr(request.module, "WORLD_SIZES", {})
    )
    with Sandbox(work_dir=tmp_path_factory.mktemp("tls"), quotas=False) as running:
        yield running, data


@pytest.fixture
def world(world_sandbox, tmp_path: Path):
    """The module's sandbox reloaded with its data set, a fresh config and a fresh state store."""
    from tests.sync_world import World

    sandbox, data = world_sandbox
    return World(sandbox, data, tmp_path)


@pytest.fixture(scope="module")
def fault_free(world_sandbox, tmp_path_factory: pytest.TempPathFactory):
    """(snapshot, values sent) of a fault-free sync of the module's world: the reference the
    fault tests compare every system with, field by field."""
    from tests.fault_helpers import fault_free_outcome

    return fault_free_outcome(*world_sandbox, tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def reference(fault_free) -> dict:
    return fault_free[0]


@pytest.fixture(scope="module")
def zendesk_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """One sandbox per module for the Zendesk tests (starting one takes about a second)."""
    from sandbox.runner import Sandbox

    with Sandbox(work_dir=tmp_path_factory.mktemp("zendesk"), quotas=False) as started:
        yield started


@pytest.fixture
def zendesk_small(zendesk_running):
    """The module's sandbox with Zendesk reset: no faults, quotas off at their default rules,
    no traffic, and the small fixture data set."""
    from sandbox.zendesk import fixtures

    app = zendesk_running.zendesk
    app.faults.clear()
    app.quotas.enabled = False
    app.quotas.set_rules(app.default_quota_rules(), time_factor=1.0)
    app.traffic.reset()
    app.load_state(fixtures.small_dataset(5))
    return zendesk_running


@pytest.fixture(scope="module")
def channels_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """One notification-channel sandbox (Slack, SMTP, webhook receiver) per module."""
    from sandbox.channels import ChannelSandbox

    with ChannelSandbox(quotas=False) as started:
        yield started


@pytest.fixture
def channels(channels_running):
    """The module's channel sandbox with fresh state: default workspace, nothing received,
    no faults, Slack's rate limits off (tests switch them on)."""
    channels_running.reset()
    channels_running.slack.quotas.enabled = False
    return channels_running
