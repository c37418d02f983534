"""run_sync.py sync / plan / explain as cron and people use them, against the sandbox."""

from __future__ import annotations

import json

import pytest

import run_sync
from tests.postgres_server import BOTH_BACKENDS
from tests.sync_world import World, distrust

pytestmark = pytest.mark.integration
# On SQLite and PostgreSQL: the tests marked BOTH_BACKENDS (tests/conftest.py); the rest on SQLite.


WORLD_SIZES = {"tickets": 120, "accounts": 20, "jira_issues": 15}


def cli(world: World, *args: str) -> list[str]:
    return [
        *args[:1],
        "--config",
        str(world.config_path),
        "--now",
        world.now.isoformat(),
        *args[1:],
    ]


@BOTH_BACKENDS
def test_sync_prints_one_summary_line_and_exits_0(world: World, capsys):
    assert run_sync.main(cli(world, "sync")) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("escalation-sync: ok;") and "wrote" in out[0]


def test_plan_prints_fields_old_to_new_with_reasons_and_writes_nothing(world: World, capsys):
    assert run_sync.main(cli(world, "plan")) == 0
    out = capsys.readouterr().out
    assert "zendesk:" in out and "record(s) to write" in out and " -> " in out and "why:" in out
    assert "(dry run)" in out.splitlines()[-1]
    assert world.writes() == {"zendesk": 0, "jira": 0, "salesforce": 0}


@BOTH_BACKENDS
def test_explain_shows_triggers_sla_computations_and_owner(world: World, capsys):
    run_sync.main(cli(world, "sync"))
    store = world.store()
    try:
        decision = next(
            e for e in store.audit_entries(kind="decision") if e["detail"]["level"] != "none"
        )
    finally:
        store.close()
    capsys.readouterr()
    assert run_sync.main(cli(world, "explain", decision["ref"])) == 0
    out = capsys.readouterr().out
    assert f"level {decision['detail']['level']}" in out
    assert "reasons:" in out and "SLA (business time" in out and "acknowledge: target" in out
    assert "owner:" in out and "history:" in out


def test_explain_of_an_unknown_ticket_says_so(world: World, capsys):
    run_sync.main(cli(world, "sync"))
    assert run_sync.main(cli(world, "explain", "zendesk:999999999")) == 1
    assert "is not in the mirror" in capsys.readouterr().err


@BOTH_BACKENDS
def test_wrong_credentials_exit_5_naming_the_system_and_the_others_still_sync(
    world: World, capsys, monkeypatch
):
    monkeypatch.setenv("JIRA_API_TOKEN", "not-the-token")
    assert run_sync.main(cli(world, "sync")) == 5
    out = capsys.readouterr().out
    assert out.startswith("escalation-sync: a system refused our credentials;")
    assert "; jira refused our credentials: " in out and "unreachable" not in out
    assert world.writes()["zendesk"] > 0 and world.writes()["salesforce"] > 0
    assert "not-the-token" not in out


def test_a_refused_salesforce_login_says_credentials_refused_with_the_vendors_words(
    world: World, capsys, monkeypatch
):
    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", "not-the-secret")
    assert run_sync.main(cli(world, "sync")) == 5
    out = capsys.readouterr().out.strip()
    assert out.startswith("escalation-sync: a system refused our credentials;"), out
    assert (
        "salesforce refused our credentials: login refused "
        "(invalid_client: invalid client credentials)" in out
    ), out
    assert "unreachable" not in out and "not-the-secret" not in out


def test_unreachable_system_exits_3(world: World, capsys):
    distrust(world.config_path, "salesforce")  # its certificate: not the configured CA's
    assert run_sync.main(cli(world, "sync")) == 3
    printed = capsys.readouterr()
    assert "unreachable: salesforce" in printed.out
    assert "not trusted" in printed.err and "ca_bundle" in printed.err  # what to fix


def test_json_logs_are_one_object_per_line(world: World, capsys):
    assert run_sync.main(["--log-format", "json", "-v", *cli(world, "sync")]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines, "verbose mode logs"
    for line in lines:
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(record)


@BOTH_BACKENDS
def test_a_plan_before_the_first_sync_leaves_that_sync_run_1(world: World, capsys):
    assert run_sync.main(cli(world, "plan")) == 0
    assert run_sync.main(cli(world, "sync")) == 0
    store = world.store()
    try:
        decision = next(e for e in store.audit_entries(kind="decision"))
        numbers = [(run["dry_run"], run["number"]) for run in store.runs()]
    finally:
        store.close()
    assert numbers == [(True, None), (False, 1)]
    capsys.readouterr()
    assert run_sync.main(cli(world, "explain", decision["ref"])) == 0
    history = capsys.readouterr().out.split("history:")[1]
    assert " run 1 decision:" in history and " run 2 " not in history


def test_plan_shows_level_names_not_option_tags_and_calls_jira_labels_labels(world: World, capsys):
    assert run_sync.main(cli(world, "plan")) == 0
    out = capsys.readouterr().out
    assert "esc_level_" not in out
    records: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.startswith("  ") and not line.startswith("    "):
            header = line.strip()
            records[header] = []
        elif line.startswith("    "):
            records[header].append(line.strip())
    zendesk = {h: lines for h, lines in records.items() if h.startswith("zendesk:")}
    jira = {h: lines for h, lines in records.items() if h.startswith("jira:")}
    assert zendesk and jira
    for header, lines in zendesk.items():
        level = header.split("(level ", 1)[1].split(";", 1)[0]
        assert f"level: - -> {level}" in lines, (header, lines)
    jira_lines = [line for lines in jira.values() for line in lines]
    assert any(line.startswith("labels: +") for line in jira_lines)
    assert not any(line.startswith("tags:") for line in jira_lines)
