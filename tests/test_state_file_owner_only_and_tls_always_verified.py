"""Safety: the state file is readable by its owner only, and TLS verification cannot be turned
off by accident (no config key does it, the environment cannot downgrade it, an explicit CA
bundle works, a wrong CA fails at once with a plain error and exit 3)."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme

import run_sync
from sync.state import StateStore
from tests.sync_world import World
from tests.test_config_loader import MAIN, MATRIX, only, problems, write

SYSTEMS = ("zendesk", "jira", "salesforce")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask() -> Iterator:
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


# --- the state file -------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o000, 0o002, 0o022, 0o077])
def test_state_file_wal_and_shm_are_created_owner_only_whatever_the_umask(
    tmp_path: Path, umask, mask: int
) -> None:
    umask(mask)
    store = StateStore(tmp_path / "state" / "escalation-sync.sqlite")
    try:
        with store.transaction():
            store.set_cursor("zendesk.tickets", "cursor", datetime.now(UTC))
        files = sorted((tmp_path / "state").iterdir())
        assert [f.name for f in files] == [
            "escalation-sync.sqlite",
            "escalation-sync.sqlite-shm",
            "escalation-sync.sqlite-wal",
        ]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        store.close()


def test_a_state_file_and_leftovers_readable_by_others_are_made_owner_only(
    tmp_path: Path, umask
) -> None:
    """An old file, or one restored from a backup or left by a crash, with a lax mode."""
    first = StateStore(tmp_path / "live.sqlite")
    with first.transaction():
        first.set_cursor("zendesk.tickets", "before the crash", datetime.now(UTC))
    for suffix in ("", "-wal", "-shm"):  # a copy while the run held it open: a crash image
        shutil.copy(tmp_path / f"live.sqlite{suffix}", tmp_path / f"state.sqlite{suffix}")
        os.chmod(tmp_path / f"state.sqlite{suffix}", 0o644)
    first.close()
    store = StateStore(tmp_path / "state.sqlite")
    try:
        assert store.cursor("zendesk.tickets") == "before the crash"  # the WAL was used
        for suffix in ("", "-wal", "-shm"):
            assert mode(tmp_path / f"state.sqlite{suffix}") == 0o600, suffix
    finally:
        store.close()


def test_a_real_sync_leaves_only_owner_readable_files_in_the_state_folder(
    world: World, umask, capsys: pytest.CaptureFixture[str]
) -> None:
    umask(0o002)
    code = run_sync.main(
        ["sync", "--config", str(world.config_path), "--now", world.now.isoformat()]
    )
    assert code == 0, capsys.readouterr().err[-2000:]
    store = world.store()  # while open, the -wal and -shm exist
    try:
        files = sorted(world.config.state.path.parent.iterdir())
        assert {"escalation-sync.sqlite", "escalation-sync.sqlite-wal"} <= {f.name for f in files}
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        store.close()


# --- TLS: no key turns verification off -----------------------------------------------------

SWITCHES = ["verify: false", "verify_ssl: false", "ssl_verify: false", "insecure: true",
            "tls_verify: false", "disable_ssl_verification: true", "ca_bundle: false"]  # fmt: skip


@pytest.mark.parametrize("system", SYSTEMS)
@pytest.mark.parametrize("switch", SWITCHES)
def test_no_config_key_turns_tls_verification_off(tmp_path: Path, system: str, switch: str) -> None:
    jira = (
        "  jira:\n    url: https://acme.atlassian.net\n    email_env: J_EMAIL\n"
        "    token_env: J_TOKEN\n    projects: [SUP]\n"
    )
    main = MAIN.replace("  salesforce:\n", jira + "  salesforce:\n")
    anchor = {"zendesk": "    token_env: ZD_TOKEN\n", "jira": "    projects: [SUP]\n",
              "salesforce": "    client_secret_env: SF_SECRET\n"}[system]  # fmt: skip
    main = main.replace(anchor, f"{anchor}    {switch}\n")
    key = switch.split(":")[0]
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        f"connections.{system}.{key}",
    )
    if key == "ca_bundle":
        assert problem.message.startswith("found False; expected")
    else:
        assert problem.message.startswith(f"unknown key '{key}'")


# --- TLS against the sandbox ----------------------------------------------------------------


def connections_without(world: World, key: str) -> None:
    path = world.config_path.parent / "connections.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if f"{key}:" not in line), encoding="utf-8")


def point_ca_bundle_at(world: World, ca_file: Path) -> None:
    path = world.config_path.parent / "connections.yaml"
    text = path.read_text(encoding="utf-8").replace(str(world.sandbox.ca_path), str(ca_file))
    path.write_text(text, encoding="utf-8")


def sync(world: World, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_sync.main(
        ["sync", "--config", str(world.config_path), "--now", world.now.isoformat()]
    )
    out, err = capsys.readouterr()
    return code, out, err


def other_ca(folder: Path) -> Path:
    path = folder / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


@pytest.mark.parametrize(
    "environment",
    [
        {"REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem", "CURL_CA_BUNDLE": "garbage"},
        {"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": "false"},
        {"REQUESTS_CA_BUNDLE": "{other_ca}"},
    ],
    ids=["garbage-paths", "false-and-empty", "another-ca"],
)
def test_an_explicit_ca_bundle_wins_over_the_ca_bundle_environment_variables(
    world: World,
    environment: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value.replace("{other_ca}", str(other_ca(tmp_path))))
    code, out, err = sync(world, capsys)
    assert code == 0, err[-2000:]
    assert out.startswith("escalation-sync: ok;")


UNTRUSTED = "is not trusted (unable to get local issuer certificate); set ca_bundle"


@pytest.mark.parametrize(
    ("environment", "refusal"),
    [
        ({}, UNTRUSTED),
        ({"REQUESTS_CA_BUNDLE": ""}, UNTRUSTED),
        ({"CURL_CA_BUNDLE": "0"}, "invalid path: 0; expected a readable PEM file"),
        ({"REQUESTS_CA_BUNDLE": "false"}, "invalid path: false; expected a readable PEM file"),
        ({"REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem"}, "invalid path: /nonexistent/ca.pem;"),
    ],
    ids=["no-variable", "empty", "zero", "false", "missing-file"],
)
def test_without_the_servers_ca_no_environment_value_lets_a_run_through(
    world: World,
    environment: dict[str, str],
    refusal: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The sandbox's CA is not in the system store: every system must refuse, nothing written."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    connections_without(world, "ca_bundle")
    code, out, err = sync(world, capsys)
    assert code == 3, err[-2000:]
    assert "unreachable: jira, salesforce, zendesk" in out
    assert world.writes() == {"zendesk": 0, "jira": 0, "salesforce": 0}
    assert sum(sum(app.traffic.requests.values()) for app in world.sandbox.apps.values()) == 0
    refused = [line for line in err.splitlines() if refusal in line]
    assert {system for system in SYSTEMS for line in refused if f": {system}: " in line} == set(
        SYSTEMS
    ), err[-3000:]


def test_a_wrong_ca_fails_at_once_with_a_clear_error_and_exit_3(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    point_ca_bundle_at(world, other_ca(tmp_path))
    code, out, err = sync(world, capsys)
    assert code == 3, err[-2000:]
    for system in SYSTEMS:
        url = world.sandbox.urls[system].rstrip("/")
        assert (
            f"{system}: the TLS certificate of {url} is not trusted "
            "(unable to get local issuer certificate); set ca_bundle to the CA that signed it"
        ) in err
    assert "requests retried" not in out  # not mistaken for a network problem
    assert world.writes() == {"zendesk": 0, "jira": 0, "salesforce": 0}
