"""`run_sync.py validate`: "ok" and a summary with exit 0, or every problem with exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_config_loader import MAIN, MATRIX, write

import run_sync
from sync.state import StateStore

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SECRETS = {
    "ZENDESK_EMAIL": "bot@acme.com",
    "ZENDESK_API_TOKEN": "zd-token-do-not-print",
    "JIRA_EMAIL": "bot@acme.com",
    "JIRA_API_TOKEN": "jira-token-do-not-print",
    "SALESFORCE_CLIENT_ID": "sf-id",
    "SALESFORCE_CLIENT_SECRET": "sf-secret-do-not-print",
}


@pytest.mark.parametrize("folder", ["example", "minimal"])
def test_validate_prints_ok_and_a_summary_for_shipped_configs(
    folder: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in EXAMPLE_SECRETS.items():
        monkeypatch.setenv(name, value)
    code = run_sync.main(
        ["validate", "--config", str(REPO / "config" / folder / "escalation-sync.yaml")]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == "ok"
    assert "zendesk     https://acme.zendesk.com" in out
    assert "executive-review" in out  # the matrix summary
    assert "do-not-print" not in out + err


MINIMAL = str(REPO / "config" / "minimal" / "escalation-sync.yaml")


def _without_secrets_but_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in EXAMPLE_SECRETS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZENDESK_API_TOKEN", "zd-token-do-not-print")


def _minimal_line(text: str) -> int:
    lines = Path(MINIMAL).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_validate_without_the_secrets_warns_and_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_secrets_but_one(monkeypatch)
    code = run_sync.main(["validate", "--config", MINIMAL])
    out, err = capsys.readouterr()
    assert code == 0
    assert err.splitlines()[:2] == [
        "config has 3 warnings:",
        f"  {MINIMAL}:{_minimal_line('email_env')}: connections.zendesk.email_env: "
        "environment variable ZENDESK_EMAIL is not set (or empty); expected it to hold the secret",
    ]
    assert out.splitlines()[0] == "ok"
    assert "secrets: 4 environment variables, 3 not set" in out
    assert "ZENDESK_API_TOKEN" not in err and "do-not-print" not in out + err


def test_validate_strict_makes_missing_secrets_errors_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_secrets_but_one(monkeypatch)
    code = run_sync.main(["validate", "--strict", "--config", MINIMAL])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == "config has 3 problems:"
    assert "connections.zendesk.email_env: environment variable ZENDESK_EMAIL is not set" in err
    assert "ZENDESK_API_TOKEN" not in err and "do-not-print" not in err


@pytest.mark.parametrize("command", ["sync", "plan"])
def test_sync_and_plan_refuse_to_run_without_the_secrets(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_secrets_but_one(monkeypatch)
    code = run_sync.main([command, "--config", MINIMAL])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == "escalation-sync: the configuration has 3 problem(s):"
    assert "environment variable ZENDESK_EMAIL is not set" in err


def test_explain_reads_the_mirror_without_the_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_secrets_but_one(monkeypatch)
    for name in ("escalation-sync.yaml", "matrix.yaml"):
        (tmp_path / name).write_text((Path(MINIMAL).parent / name).read_text())
    StateStore(tmp_path / "escalation-sync.sqlite").close()  # an empty mirror
    code = run_sync.main(
        ["explain", "--config", str(tmp_path / "escalation-sync.yaml"), "zendesk:7"]
    )
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err == (
        "escalation-sync: zendesk:7 is not in the mirror (expected SYSTEM:ID, e.g. zendesk:123)\n"
    )


def test_validate_can_skip_the_environment_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in EXAMPLE_SECRETS:
        monkeypatch.delenv(name, raising=False)
    config = str(REPO / "config" / "minimal" / "escalation-sync.yaml")
    assert run_sync.main(["validate", "--skip-env-check", "--config", config]) == 0
    assert "secrets: 4 environment variables, not checked" in capsys.readouterr().out


def test_validate_script_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    main = (
        MAIN.replace("https://acme", "http://acme").replace("tokn_env", "token_env")
        + "join:\n  - strategy: email_domian\n"
        + "mapping:\n  zendesk:\n    ticket:\n      severty: {source: priority}\n"
    )
    matrix = MATRIX.replace("level: action-needed", "level: loud")
    path = write(tmp_path, main_yaml=main, matrix_yaml=matrix)
    env = {key: value for key, value in os.environ.items() if key not in EXAMPLE_SECRETS}
    result = subprocess.run(
        [sys.executable, str(REPO / "run_sync.py"), "validate", "--config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "config has 4 problems:"
    assert f"{path}:4: connections.zendesk.url: found 'http://'" in lines[1]
    assert f"{path}:13: join[0].strategy: found strategy 'email_domian'" in lines[2]
    assert f"{path}:17: mapping.zendesk.ticket.severty: unknown key 'severty'" in lines[3]
    assert (
        f"{tmp_path / 'matrix.yaml'}:13: matrix.triggers[0].level: unknown level 'loud'" in lines[4]
    )
    assert "Traceback" not in result.stderr


def test_levels_that_become_one_zendesk_tag_are_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = MATRIX.replace("matrix:\n", "matrix:\n  levels: [none, Hot, hot]\n", 1).replace(
        "level: action-needed", "level: hot"
    )
    path = write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix)
    code = run_sync.main(["validate", "--skip-env-check", "--config", str(path)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "config has 1 problem:",
        f"  {tmp_path / 'matrix.yaml'}:2: matrix.levels[2]: levels 'Hot' and 'hot' are both "
        "written as the tag 'escalation_hot' (level names become lowercase, with _ for "
        "characters other than a-z, 0-9, _ and -); expected one per level",
    ]


def test_a_level_name_with_spaces_is_written_as_its_slug() -> None:
    from config.write_mapping import level_tag, slug

    assert slug("war room: CEO") == "war_room_ceo"
    assert slug("action-needed") == "action-needed"
    assert level_tag("escalation-", "War Room") == "escalation-war_room"
