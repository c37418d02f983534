"""The deployment examples in deploy/ run a valid escalation-sync command, give it the secrets the
example config names, and keep the settings the README promises (a timer every 5 minutes that
catches up, runs that never overlap, a grace period for the SIGTERM stop)."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

import run_sync
from config.loader import load_config
from config.policy import StateConfig

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
EXAMPLE = REPO / "config" / "example" / "escalation-sync.yaml"
# A variable the deployments pass beyond the example config's secrets: the CA's PEM for
# `ca_bundle_env`. (The CronJob's PostgreSQL password is the one its own config names.)
CA_PEM = "ESCALATION_SYNC_CA_PEM"
GRACE_SECONDS = 300  # the longest step between two stop points, with room (README: Deploying)


def example_secret_names() -> set[str]:
    return {name for _, name in load_config(EXAMPLE).secret_refs()}


def unit(name: str) -> configparser.ConfigParser:
    # systemd repeats keys (SystemCallFilter=) and is case-sensitive: not strict, case kept.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return parser


def assert_a_sync(argv: list[str]) -> None:
    """`argv` is `escalation-sync sync --config F ...` as the parser reads it."""
    assert Path(argv[0]).name == "escalation-sync", argv
    args = run_sync.build_parser().parse_args(argv[1:])
    assert args.command == "sync" and not args.dry_run, argv
    assert args.config.startswith("/etc/escalation-sync/"), argv
    assert args.log_format == "json", argv  # one JSON summary a log shipper can read


def test_the_systemd_service_runs_a_sync_as_its_own_user_with_the_secrets_from_a_file():
    service = unit("escalation-sync.service")["Service"]
    assert_a_sync(shlex.split(service["ExecStart"]))
    assert service["Type"] == "oneshot"
    assert service["User"] == "escalation-sync" != "root"
    assert service["EnvironmentFile"] == "/etc/escalation-sync/secrets.env"
    assert int(service["TimeoutStopSec"]) >= GRACE_SECONDS
    for hardening in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices"):
        assert service[hardening] == "yes", hardening
    assert service["ProtectSystem"] == "strict"
    # The only place it may write: the state directory the example config names.
    state_folder = load_config(EXAMPLE).state.path.parent
    assert state_folder == Path("/var/lib") / service["StateDirectory"]


def test_the_systemd_environment_file_names_the_example_configs_secrets():
    lines = (DEPLOY / "systemd" / "escalation-sync.env.example").read_text(encoding="utf-8")
    names = {
        line.split("=", 1)[0]
        for line in lines.splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert names == example_secret_names()
    assert all(line.endswith("=") for line in lines.splitlines() if "=" in line)  # no values


def test_the_systemd_timer_starts_the_service_every_five_minutes_and_catches_up():
    timer = unit("escalation-sync.timer")
    assert timer["Timer"]["OnCalendar"] == "*:0/5"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["Unit"] == "escalation-sync.service"
    assert timer["Install"]["WantedBy"] == "timers.target"


def cronjob_documents() -> dict[str, dict[str, Any]]:
    text = (DEPLOY / "kubernetes" / "cronjob.yaml").read_text(encoding="utf-8")
    return {document["kind"]: document for document in yaml.safe_load_all(text)}


def test_the_kubernetes_cronjob_runs_one_sync_at_a_time_with_secrets_and_config_mounted():
    documents = cronjob_documents()
    cronjob = documents["CronJob"]
    assert cronjob["apiVersion"] == "batch/v1"
    spec = cronjob["spec"]
    assert spec["schedule"] == "*/5 * * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == GRACE_SECONDS
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert_a_sync(container["command"])

    secrets = {
        variable["name"]: variable["valueFrom"]["secretKeyRef"]
        for variable in container["env"]
        if "secretKeyRef" in variable.get("valueFrom", {})
    }
    main = yaml.safe_load(documents["ConfigMap"]["data"]["escalation-sync.yaml"])
    state = StateConfig(**main["state"])  # the config's own check of the state section
    assert state.config_problems() == [] and state.url is not None
    # The password reaches the run under the name the config reads it from.
    assert state.password_env is not None
    assert set(secrets) == example_secret_names() | {state.password_env, CA_PEM}
    assert all(ref["key"] == name for name, ref in secrets.items())
    assert not [v for v in container["env"] if "value" in v]  # no secret written in the file

    # The config comes from the ConfigMap, mounted where the command reads it.
    config_map = documents["ConfigMap"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "config"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "config"]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    assert mount["readOnly"] and container["command"][3].startswith(mount["mountPath"] + "/")
    url = urlsplit(main["state"]["url"])
    assert url.scheme == "postgresql" and url.username and url.password is None  # from the env
