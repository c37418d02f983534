"""Whatever `validate` accepts runs: day-one edge cases through validate, then a plan against
the sandbox (real clients, real HTTPS on 127.0.0.1)."""

from __future__ import annotations

import pytest

import run_sync
from tests.sync_world import World

pytestmark = pytest.mark.integration

WORLD_SIZES = {"tickets": 60, "accounts": 10, "jira_issues": 8}


def test_out_of_office_until_9999_12_31_validates_and_plans_with_the_backup(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = world.config_path.parent / "matrix.yaml"
    text = matrix.read_text(encoding="utf-8")
    away = "{person: dpo@acme.example, from: 2026-12-21, until: 2027-01-04}"
    assert away in text
    # "Indefinitely", as people write it: the day after 9999-12-31 has no date.
    text = text.replace(away, "{person: support-tier1, from: 2020-01-01, until: 9999-12-31}")
    matrix.write_text(text, encoding="utf-8")
    argv = ["--config", str(world.config_path), "--now", world.now.isoformat()]

    assert run_sync.main(["validate", "--strict", *argv]) == 0
    assert capsys.readouterr().err == ""
    assert run_sync.main(["plan", *argv]) == 0
    out = capsys.readouterr().out
    assert "support-tier2" in out  # the backup, while support-tier1 is away
    assert "-> support-tier1" not in out
    assert world.writes() == {"zendesk": 0, "jira": 0, "salesforce": 0}
