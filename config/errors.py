"""Configuration errors: each names the file, the key path, what was found and what is expected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    key_path: str  # e.g. "matrix.triggers[3].when.all[0].field"
    message: str  # what was found and what is expected
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key_path}: {self.message}"


class ConfigError(Exception):
    """One or more problems in the configuration (exit code 2)."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
