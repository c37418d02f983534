"""Configuration problems: each names the file, the key path, what was found and what is expected.

A problem is an error (the configuration cannot run: exit 2) or a warning (it runs, but is
surely not what was meant: `validate` prints it and exits 0, `validate --strict` exits 2).
Both are rendered the same way; the heading above them says which they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from errors import EscalationSyncError, ExitCode

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    key_path: str  # e.g. "matrix.triggers[3].when.all[0].field"
    message: str  # what was found and what is expected
    line: int | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key_path}: {self.message}"

    def as_warning(self) -> ConfigProblem:
        return replace(self, severity="warning")

    def as_error(self) -> ConfigProblem:
        return replace(self, severity="error")


def sort_problems(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    """Without repeats, in the order of the files and lines they point at."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.line or 0, p.key_path))


class ConfigError(EscalationSyncError):
    """One or more problems in the configuration."""

    exit_code = ExitCode.CONFIG_ERROR

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def report(self) -> str:
        lines = [f"the configuration has {len(self.problems)} problem(s):"]
        return "\n".join([*lines, *(f"  {problem}" for problem in self.problems)])
