"""The one-screen matrix summary printed by `run_sync.py validate`."""

from __future__ import annotations

from pathlib import Path

import yaml

from config.matrix import MatrixConfig
from escalation.summary import summarise
from escalation.testing import small_matrix, trigger

ROOT = Path(__file__).resolve().parent.parent


def test_summary_of_the_example_fits_one_screen() -> None:
    raw = yaml.safe_load((ROOT / "config/example/matrix.yaml").read_text(encoding="utf-8"))
    text = summarise(MatrixConfig.model_validate(raw["matrix"]))
    lines = text.splitlines()
    assert len(lines) <= 40
    assert max(len(line) for line in lines) <= 100
    assert "executive-review  sev1-outage-key-account" in text
    assert "at most to action-needed" in text
    assert "emea-business    Europe/Berlin, Mon-Thu 08:00-18:00, Fri 08:00-17:00" in text


def test_summary_lists_triggers_per_level_and_the_sla_table() -> None:
    matrix = small_matrix(
        triggers=[
            trigger("sev1", "action-needed", {"field": "ticket.severity", "eq": 1}),
            trigger("vip", "informational", {"field": "ticket.tags", "contains": "vip"}),
        ],
        de_escalation={"policy": "quiet_period", "quiet_for": "8h"},
    )
    lines = summarise(matrix).splitlines()
    assert (
        lines[0]
        == "matrix: 5 levels: none < informational < advisory < action-needed < executive-review"
    )
    assert "  action-needed     sev1" in lines
    assert "  informational     vip" in lines
    assert "timed escalation: off" in lines
    assert "de-escalation: after 8h of business time without a trigger of the level" in lines
    assert any(line.startswith("  action-needed     1h/2h/1d") for line in lines)
    assert any(line.startswith("  none              4h/8h/2d") for line in lines)
    assert "routing: 3 rules, roles executive, technical; 0 people listed out of office" in lines
