"""`replay` refuses a broken draft matrix and bad options with one clear line each, exit 2."""

from __future__ import annotations

import pytest

from run_sync import main

CONFIG = "config/example/escalation-sync.yaml"


def _replay(*extra: str) -> list[str]:
    return ["replay", "--config", CONFIG, "--from", "2026-03-01", "--to", "2026-03-02", *extra]


def test_a_draft_naming_an_unknown_level_is_refused_with_its_file_key_and_line(tmp_path, capsys):
    draft = tmp_path / "draft.yaml"
    text = open("config/example/matrix.yaml", encoding="utf-8").read()
    text = text.replace(
        'level: executive-review\n      reason: "Severity 1',
        'level: war-room\n      reason: "Severity 1',
        1,
    )
    draft.write_text(text, encoding="utf-8")
    line = text.splitlines().index("      level: war-room") + 1

    assert main(_replay("--matrix", str(draft))) == 2
    err = capsys.readouterr().err
    assert f"{draft}:{line}: matrix.triggers[0].level: unknown level 'war-room'" in err
    assert "Traceback" not in err


def test_a_draft_without_a_matrix_key_is_refused(tmp_path, capsys):
    draft = tmp_path / "draft.yaml"
    draft.write_text("levels: [none, high]\n", encoding="utf-8")
    assert main(_replay("--matrix", str(draft))) == 2
    assert "expected a top-level 'matrix:' key" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--step", "soon"), "--step 'soon': expected a duration such as 30m, 1h or 1d, or 'runs'"),
        (("--from", "March"), "--from 'March': expected a date (2026-03-01)"),
        (("--to", "2026-02-01"), "--to 2026-02-01 is not after --from 2026-03-01"),
    ],
)
def test_bad_replay_options_are_one_line_each(options, message, capsys):
    argv = ["replay", "--config", CONFIG, "--matrix", "config/example/matrix.yaml"]
    given = dict(zip(options[::2], options[1::2], strict=True))
    for option, default in (("--from", "2026-03-01"), ("--to", "2026-03-02")):
        argv += [option, given.pop(option, default)]
    argv += [word for pair in given.items() for word in pair]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
