"""The global options (--log-format, -v/-vv) are accepted before or after the subcommand:
the README's cron line puts them after it, people type them in either place."""

from __future__ import annotations

import pytest

import run_sync

CONFIG = ["--config", "escalation-sync.yaml"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--log-format", "json", "sync", *CONFIG],
        ["sync", *CONFIG, "--log-format", "json"],
        ["sync", "--log-format", "json", *CONFIG],
        ["--log-format", "text", "sync", *CONFIG, "--log-format", "json"],
    ],
)
def test_log_format_is_accepted_before_or_after_the_subcommand(argv: list[str]) -> None:
    args = run_sync.build_parser().parse_args(argv)
    assert args.command == "sync" and args.log_format == "json"


@pytest.mark.parametrize(
    ("argv", "verbosity"),
    [
        (["sync", *CONFIG], 0),
        (["-v", "sync", *CONFIG], 1),
        (["sync", *CONFIG, "-v"], 1),
        (["-vv", "plan", *CONFIG], 2),
        (["plan", *CONFIG, "-vv"], 2),
        (["explain", *CONFIG, "zendesk:1", "--verbose", "--verbose"], 2),
        (["validate", *CONFIG, "-v"], 1),
    ],
)
def test_verbosity_counts_and_is_accepted_before_or_after_the_subcommand(
    argv: list[str], verbosity: int
) -> None:
    args = run_sync.build_parser().parse_args(argv)
    assert args.verbose == verbosity and args.log_format == "text"


def test_the_sandbox_subcommands_accept_the_global_options_too() -> None:
    args = run_sync.build_parser().parse_args(["sandbox", "serve", "--data", "d", "-v"])
    assert args.sandbox_command == "serve" and args.verbose == 1


def test_an_unknown_log_format_is_refused_after_the_subcommand_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        run_sync.build_parser().parse_args(["sync", *CONFIG, "--log-format", "xml"])
    assert exited.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err
