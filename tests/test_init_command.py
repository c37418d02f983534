"""`escalation-sync init DIR`: a commented starting configuration that validates, written
without overwriting anything a person already has there (unless --force)."""

from __future__ import annotations

from pathlib import Path

import pytest

import run_sync

REPO = Path(__file__).resolve().parent.parent
SECRETS = ("ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET")


def test_init_writes_the_commented_example_which_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "etc" / "escalation-sync"
    assert run_sync.main(["init", str(target)]) == 0
    out = capsys.readouterr().out
    written = sorted(p.name for p in target.iterdir())
    assert written == ["connections.yaml", "escalation-sync.yaml", "mapping.yaml", "matrix.yaml"]
    assert (target / "matrix.yaml").read_text() == (REPO / "config/example/matrix.yaml").read_text()
    main = (target / "escalation-sync.yaml").read_text()
    assert main.startswith("# escalation-sync configuration")  # the comments come along
    # Its header tells how to check it: with the installed command and its own path.
    assert f"escalation-sync validate --config {target}/escalation-sync.yaml" in main
    assert "run_sync.py" not in main
    for name in (*SECRETS, "JIRA_EMAIL", "JIRA_API_TOKEN"):
        assert name in out
    assert f"escalation-sync validate --config {target}/escalation-sync.yaml" in out
    check = ["validate", "--config", str(target / "escalation-sync.yaml"), "--skip-env-check"]
    assert run_sync.main(check) == 0


def test_init_minimal_writes_the_smallest_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_sync.main(["init", str(tmp_path), "--minimal"]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["escalation-sync.yaml", "matrix.yaml"]
    assert all(name in out for name in SECRETS) and "JIRA_API_TOKEN" not in out
    check = ["validate", "--config", str(tmp_path / "escalation-sync.yaml"), "--skip-env-check"]
    assert run_sync.main(check) == 0


def test_init_refuses_to_overwrite_and_writes_nothing_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "matrix.yaml"
    mine.write_text("# my matrix, hand-tuned\n")
    assert run_sync.main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(mine) in err and "--force" in err and "Traceback" not in err
    assert mine.read_text() == "# my matrix, hand-tuned\n"
    assert [p.name for p in tmp_path.iterdir()] == ["matrix.yaml"]  # not half written
    assert run_sync.main(["init", str(tmp_path), "--force"]) == 0
    assert mine.read_text() == (REPO / "config/example/matrix.yaml").read_text()


def test_init_into_a_file_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("")
    assert run_sync.main(["init", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a folder" in err
