"""A PostgreSQL state that fails says so in one line with its own exit code, never a
traceback, never the password; nothing is lost: the next run resumes from the last committed
step (sync/state_faults_pg.py). Against a real server (tests/postgres_server.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import run_sync
from sandbox.faults import Fault
from tests.fault_helpers import (
    FAULT_SIZES,
    assert_fault_free_state,
    converge,
    start_sync,
    state_is_sound,
)
from tests.postgres_server import PASSWORD, PASSWORD_ENV, ROLE
from tests.sync_world import World, use_state_url

pytestmark = pytest.mark.integration
WORLD_SIZES = FAULT_SIZES


def _sync(world: World, capsys, *extra: str) -> tuple[int, str, str]:
    code = run_sync.main(
        ["sync", "--config", str(world.config_path), "--now", world.now.isoformat(), *extra]
    )
    out, err = capsys.readouterr()
    return code, out, err


def _world_at(world_sandbox, tmp_path: Path, url: str) -> World:
    sandbox, data = world_sandbox
    return World(sandbox, data, tmp_path, state_url=url)


def _one_line(err: str) -> str:
    """The error's line: the last on stderr (the run's log lines, if any, come before it), and
    the only one that is not a log line."""
    lines = err.strip().splitlines()
    assert [line for line in lines if " escalation_sync" not in line] == lines[-1:], err
    assert "Traceback" not in err and PASSWORD not in err
    return lines[-1]


def test_unreachable_refused_missing_and_read_only_each_have_their_line_and_code(
    world_sandbox, tmp_path: Path, postgres_server, postgres_url: str, capsys, monkeypatch
):
    closed = f"postgresql://{ROLE}@127.0.0.1:1/state"
    world = _world_at(world_sandbox, tmp_path / "closed", closed)
    code, out, err = _sync(world, capsys)
    assert code == 3 and out == ""
    assert _one_line(err).startswith(
        f"escalation-sync: the state database {closed} could not be reached ("
    )

    world = _world_at(world_sandbox, tmp_path / "missing", postgres_server.url("no_such_db"))
    code, _, err = _sync(world, capsys)
    assert code == 8
    assert "is missing" in _one_line(err) and 'database "no_such_db" does not exist' in err

    # A schema the role may read but not create tables in.
    postgres_server.admin_sql(
        "CREATE SCHEMA locked_out", f"GRANT USAGE ON SCHEMA locked_out TO {ROLE}", database="state"
    )
    url = postgres_server.url(schema="locked_out")
    world = _world_at(world_sandbox, tmp_path / "read-only", url)
    code, _, err = _sync(world, capsys)
    assert code == 8
    assert "cannot be written" in _one_line(err) and "permission denied" in err

    world = _world_at(world_sandbox, tmp_path / "refused", postgres_url)
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    code, _, err = _sync(world, capsys)
    assert code == 5
    assert "refused our credentials" in _one_line(err)
    assert "not-the-password" not in err
    assert world.writes() == {"zendesk": 0, "jira": 0, "salesforce": 0}


def test_an_unset_password_variable_is_a_configuration_error_naming_it(
    world_sandbox, tmp_path: Path, postgres_url: str, capsys, monkeypatch
):
    world = _world_at(world_sandbox, tmp_path, postgres_url)
    monkeypatch.delenv(PASSWORD_ENV)
    code, _, err = _sync(world, capsys)
    assert code == 2
    assert f"environment variable {PASSWORD_ENV} is not set" in err
    code = run_sync.main(["explain", "--config", str(world.config_path), "zendesk:1"])
    err = capsys.readouterr().err
    assert code == 2 and f"{PASSWORD_ENV} (state.password_env) is not set" in _one_line(err)


def test_a_session_the_server_ends_mid_run_exits_3_and_the_next_runs_finish(
    world_sandbox, tmp_path: Path, postgres_server, postgres_url: str, reference: dict
):
    world = _world_at(world_sandbox, tmp_path, postgres_url)
    slow = world.sandbox.salesforce.faults.add(Fault("query", "delay", delay_seconds=2.0))
    process = start_sync(world)
    try:
        deadline = time.monotonic() + 60
        while slow.hits < 1:  # the run is inside its pull, its sessions open
            assert time.monotonic() < deadline and process.poll() is None, process.stderr
            time.sleep(0.02)
        postgres_server.admin_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name LIKE 'escalation-sync pid {process.pid} %'"
        )
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 3, f"{out}\n{err}"
    assert _one_line(err).startswith(
        f"escalation-sync: the state database {postgres_server.url()} could not be reached ("
    )
    world.sandbox.clear_faults()
    assert state_is_sound(world.config.state)
    world.sandbox.zendesk.run_jobs()
    converge(world)
    assert_fault_free_state(reference, world)


def test_a_password_in_the_url_is_refused_at_its_key_and_not_repeated(
    tmp_path: Path, world_sandbox, capsys
):
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path)
    use_state_url(world.config_path, f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1/state")
    code = run_sync.main(["validate", "--config", str(world.config_path), "--skip-env-check"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "state.url" in err and "found a password in the URL" in err
    assert PASSWORD not in out + err


def test_the_state_password_is_in_no_log_line_or_summary_even_with_client_debug(
    world_sandbox, tmp_path: Path, postgres_url: str, capsys
):
    world = _world_at(world_sandbox, tmp_path, postgres_url)
    code, out, err = _sync(world, capsys, "-vv", "--log-format", "json")
    assert code == 0, err[-2000:]
    assert err and PASSWORD not in out + err


def test_validate_names_the_state_database_and_its_lock_not_a_file(
    tmp_path: Path, world_sandbox, capsys
):
    sandbox, data = world_sandbox
    world = World(sandbox, data, tmp_path)
    use_state_url(world.config_path, "postgresql://esync@db.example:5432/state?sslmode=require")
    code = run_sync.main(["validate", "--config", str(world.config_path), "--skip-env-check"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "state: postgresql://esync@db.example:5432/state (advisory lock)" in out
    assert "sqlite" not in out
