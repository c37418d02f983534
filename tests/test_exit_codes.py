"""The README's exit-code table is the contract cron and monitoring are set up from: it lists
exactly the codes of `errors.ExitCode`, each with the meaning the summary line prints."""

from __future__ import annotations

import re
from pathlib import Path

from errors import ExitCode

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_exit_codes() -> dict[int, str]:
    """code -> meaning, from the table under the `| exit code | meaning |` header."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| exit code | meaning |")
    table: dict[int, str] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        code, meaning = (cell.strip() for cell in line.strip("|").split("|", 1))
        assert code not in map(str, table), f"code {code} is listed twice"
        table[int(code)] = meaning
    return table


def test_readme_lists_exactly_the_exit_codes_with_their_meanings():
    table = readme_exit_codes()
    assert sorted(table) == sorted(int(code) for code in ExitCode)
    for code in ExitCode:
        assert re.match(rf"{re.escape(code.meaning)}\b", table[code]), (code, table[code])


def test_every_exit_code_has_its_own_meaning():
    meanings = [code.meaning for code in ExitCode]
    assert len(set(meanings)) == len(meanings)


def test_every_error_that_ends_a_command_carries_its_exit_code():
    """One root, the code on each class: the CLI maps an error to its code in one place."""
    from config.errors import ConfigError
    from connectors.errors import AuthError, ConfigRefused, RateLimited, SystemUnavailable
    from errors import EscalationSyncError, UsageError
    from sync.clock import ClockWentBackwards
    from sync.lock import LockHeld
    from sync.state_faults import StateDamaged, StateFull, StateNotWritable

    assert {
        error: error.exit_code
        for error in (
            ConfigError,
            UsageError,
            ConfigRefused,
            SystemUnavailable,
            RateLimited,
            AuthError,
            LockHeld,
            StateDamaged,
            StateFull,
            StateNotWritable,
            ClockWentBackwards,
        )
        if issubclass(error, EscalationSyncError)
    } == {
        ConfigError: ExitCode.CONFIG_ERROR,
        UsageError: ExitCode.CONFIG_ERROR,
        ConfigRefused: ExitCode.CONFIG_ERROR,
        SystemUnavailable: ExitCode.UNREACHABLE,
        RateLimited: ExitCode.UNREACHABLE,
        AuthError: ExitCode.CREDENTIALS_REFUSED,
        LockHeld: ExitCode.LOCKED,
        StateDamaged: ExitCode.STATE_DAMAGED,
        StateFull: ExitCode.STATE_FULL,
        StateNotWritable: ExitCode.STATE_NOT_WRITABLE,
        ClockWentBackwards: ExitCode.CLOCK_BACKWARDS,
    }


def test_the_error_root_imports_none_of_the_packages():
    """errors.py sits below every package, so each may import it (imports run one way)."""
    import ast

    tree = ast.parse((README.parent / "errors.py").read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported <= {"__future__", "enum", "typing"}, imported
