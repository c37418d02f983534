"""A run as a container makes it: the CA from an environment variable holding its PEM (a
Kubernetes Secret, no file mounted), logs on stderr, and nothing written on the local disk but
what the config names (the state and its lock) and the CA's private temporary file, removed
when the run ends."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import certifi
import pytest

from config.errors import ConfigError
from config.loader import load_config
from sync.checks import run_problems
from tests.fault_helpers import REPO, sync_command
from tests.sync_world import World

CA_VARIABLE = "ESCALATION_SYNC_CA_PEM"


def with_ca_from_environment(world: World) -> None:
    """The world's connections with `ca_bundle_env` in place of every `ca_bundle` file."""
    connections = world.config_path.parent / "connections.yaml"
    text = connections.read_text(encoding="utf-8")
    text = text.replace(f"ca_bundle: {world.sandbox.ca_path}", f"ca_bundle_env: {CA_VARIABLE}")
    connections.write_text(text, encoding="utf-8")


@pytest.mark.integration
def test_a_sync_with_the_ca_in_an_environment_variable_writes_only_what_the_config_names(
    world: World, tmp_path: Path
):
    with_ca_from_environment(world)
    state_folder = world.config.state.path.parent
    before = set(state_folder.rglob("*")) if state_folder.exists() else set()
    work, temp = tmp_path / "cwd", tmp_path / "tmp"
    work.mkdir()
    temp.mkdir()
    environment = {
        **os.environ,
        CA_VARIABLE: world.sandbox.ca_path.read_text(encoding="ascii"),
        "TMPDIR": str(temp),
        "HOME": str(work),
        "PYTHONPATH": str(REPO),
    }
    process = subprocess.run(sync_command(world), cwd=work, env=environment,
                             capture_output=True, text=True, timeout=300)  # fmt: skip

    assert process.returncode == 0, process.stdout + process.stderr
    assert process.stdout.startswith("escalation-sync: ok"), process.stdout
    assert "pulled zendesk.tickets" in process.stderr  # the logs: on stderr
    assert list(work.iterdir()) == []  # no log file, no cache in the working folder
    assert list(temp.iterdir()) == []  # the CA's temporary file is gone with the run
    made = {p.name for p in set(state_folder.rglob("*")) - before if p.is_file()}
    assert made <= {world.config.state.path.name, world.config.state.lock_file.name}, made


def test_ca_bundle_env_unset_or_without_a_certificate_stops_a_run_at_its_key(
    world_config_with_ca_env: Path,
):
    config = load_config(world_config_with_ca_env)
    unset = run_problems(config, environ={**os.environ, CA_VARIABLE: ""})
    assert [str(p) for p in unset if "ca_bundle_env" in str(p)] == [
        f"{world_config_with_ca_env.parent / 'connections.yaml'}:{line}: "
        f"connections.{system}.ca_bundle_env: environment variable {CA_VARIABLE} is not set "
        "(or empty); expected the CA's PEM text"
        for system, line in (("zendesk", 7), ("jira", 16), ("salesforce", 24))
    ]
    garbled = run_problems(config, environ={**os.environ, CA_VARIABLE: "-----BEGIN nothing"})
    texts = [str(p) for p in garbled if "ca_bundle_env" in str(p)]
    assert len(texts) == 3 and all("holds no CA certificate" in t for t in texts), texts
    assert all("BEGIN" not in t for t in texts)  # the value is never quoted


def test_ca_bundle_and_ca_bundle_env_together_are_refused(world_config_with_ca_env: Path):
    connections = world_config_with_ca_env.parent / "connections.yaml"
    text = connections.read_text(encoding="utf-8")
    connections.write_text(
        text.replace(f"ca_bundle_env: {CA_VARIABLE}",
                     f"ca_bundle_env: {CA_VARIABLE}\n    ca_bundle: {certifi.where()}", 1),
        encoding="utf-8",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="found both ca_bundle and ca_bundle_env"):
        load_config(world_config_with_ca_env)


@pytest.fixture
def world_config_with_ca_env(tmp_path: Path) -> Path:
    """A sandbox config (no sandbox running) whose systems trust the CA of CA_VARIABLE."""
    from sandbox.sandbox_config import write_sandbox_config
    from tests.sync_world import ENVIRONMENT

    for name, value in ENVIRONMENT.items():
        os.environ[name] = value
    urls = {s: f"https://127.0.0.1:{9000 + i}" for i, s in enumerate(("zendesk", "jira", "salesforce"))}  # fmt: skip
    ca = tmp_path / "ca.pem"
    ca.write_text("unused", encoding="ascii")
    main = write_sandbox_config(tmp_path / "config", urls, ca)
    connections = main.parent / "connections.yaml"
    text = connections.read_text(encoding="utf-8").replace(
        f"ca_bundle: {ca}", f"ca_bundle_env: {CA_VARIABLE}"
    )
    connections.write_text(text, encoding="utf-8")
    return main
