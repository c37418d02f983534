"""The README's exit-code table is the contract cron and monitoring are set up from: it lists
exactly the codes of `sync.exits.ExitCode`, each with the meaning the summary line prints."""

from __future__ import annotations

import re
from pathlib import Path

from sync.exits import ExitCode

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
