"""Shared fixtures. Tests that need the APIs start the sandbox themselves, on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_SPECS = REPO_ROOT.parent / "shared" / "specs"


@pytest.fixture(autouse=True)
def _cli_logging_ends_with_its_test() -> Iterator[None]:
    """A command run in-process (run_sync.main) sets up the root logger for its invocation: a
    handler on the stderr pytest captured for that test. Left in place, a warning logged
    later (by a later test, or a server thread of an earlier one) goes to that closed stream,
    and logging's "--- Logging error ---" report lands in whichever test captures stderr
    then (a JSON log test found it among its lines). Ours carry the secret mask."""
    import logging

    from sync.logs import SecretMask

    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if any(isinstance(f, SecretMask) for f in handler.filters):
            root.removeHandler(handler)


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
def world(world_sandbox, tmp_path: Path, state_url: str | None):
    """The module's sandbox reloaded with its data set, a fresh config and a fresh state store
    (a SQLite file; for tests on PostgreSQL too, a fresh PostgreSQL schema)."""
    from tests.sync_world import World

    sandbox, data = world_sandbox
    return World(sandbox, data, tmp_path, state_url=state_url)


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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator:
    """A throwaway PostgreSQL cluster for the session (tests/postgres_server.py): skipped with
    the reason when Debian's postgresql is not installed, a failure under CI=true."""
    from tests.postgres_server import PostgresServer, require_postgres

    require_postgres()
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty schema as a state.url, its password in the environment."""
    from tests.postgres_server import PASSWORD, PASSWORD_ENV

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return postgres_server.fresh_url()


# `make test-postgresql` (run by .ci/run after `make test`): the whole sync, CLI and fault
# suites, every test built on the `world` fixture, with their state in PostgreSQL.
BACKENDS_ENV = "ESCALATION_SYNC_TEST_STATE_BACKENDS"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`state_backend`: "sqlite" alone, or the backends a test's `state_backends` mark names
    (else its module's STATE_BACKENDS), each in turn. The key sync, fault, kill and lock tests
    run on SQLite and on a real PostgreSQL; the rest of those suites on SQLite, so the second
    backend adds about a minute to `make test`, not the suites' whole time again."""
    if "state_backend" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker("state_backends")
        backends = (
            marked.args if marked else getattr(metafunc.module, "STATE_BACKENDS", ("sqlite",))
        )
        chosen = os.environ.get(BACKENDS_ENV, "")
        explicit = any(
            "state_backend" in str(mark.args[0])
            for mark in metafunc.definition.iter_markers("parametrize")
        )
        if chosen and not marked and not explicit:  # `make test-postgresql`
            backends = tuple(b.strip() for b in chosen.split(",") if b.strip())
        if tuple(backends) != ("sqlite",):
            metafunc.parametrize("state_backend", backends, indirect=True)


@pytest.fixture
def state_backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture
def state_url(state_backend: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite (the config's state.path, as always); a fresh schema for PostgreSQL."""
    if state_backend == "sqlite":
        return None
    return request.getfixturevalue("postgres_url")
