"""`run_sync.py sandbox generate` writes the three data files and says what it wrote."""

from __future__ import annotations

import json
from pathlib import Path

from run_sync import main
from sandbox.runner import DATA_FILES

ANCHOR = "2026-11-20T10:15:00+00:00"


def _generate(out: Path, *extra: str) -> int:
    sizes = ["--accounts", "30", "--tickets", "120", "--jira-issues", "20", "--seed", "5"]
    return main(["sandbox", "generate", "--out", str(out), *sizes, *extra])


def test_generate_writes_the_three_vendor_files_with_the_requested_sizes(tmp_path: Path, capsys):
    assert _generate(tmp_path / "data", "--anchor", ANCHOR) == 0
    files = {vendor: tmp_path / "data" / name for vendor, name in DATA_FILES.items()}
    loaded = {
        vendor: json.loads(path.read_text(encoding="utf-8")) for vendor, path in files.items()
    }
    assert len(loaded["zendesk"]["tickets"]) == 120
    assert len(loaded["jira"]["issues"]) == 20
    assert len(loaded["salesforce"]["sobjects"]["Account"]) == 30
    summary = capsys.readouterr().out.strip().splitlines()
    assert len(summary) == 1
    assert (
        "30 accounts" in summary[0]
        and "120 tickets" in summary[0]
        and "20 jira issues" in summary[0]
    )


def test_generate_with_the_same_anchor_rewrites_identical_files(tmp_path: Path):
    assert _generate(tmp_path / "a", "--anchor", ANCHOR) == 0
    assert _generate(tmp_path / "b", "--anchor", ANCHOR) == 0
    for name in DATA_FILES.values():
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_generate_refuses_an_anchor_without_offset(tmp_path: Path, capsys):
    assert _generate(tmp_path / "data", "--anchor", "2026-11-20T10:15:00") == 2
    assert "offset" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_generate_refuses_negative_sizes(tmp_path: Path, capsys):
    out = tmp_path / "data"
    assert main(["sandbox", "generate", "--out", str(out), "--tickets", "-5"]) == 2
    assert "tickets" in capsys.readouterr().err
