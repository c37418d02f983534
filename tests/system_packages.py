"""Tests that need a program from Debian's packages (Chromium, PostgreSQL): skip or fail.

Missing locally: the test is skipped with a plain reason (which file, which package). Missing
under CI=true: the test fails, so a CI machine without the package cannot pass those tests by
skipping them (.ci/run installs the packages).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pytest


def missing_files(needed: Iterable[tuple[Path, str]]) -> str | None:
    """Why the programs are not usable: the first (path, Debian package) whose path is
    missing, as a sentence; None when all are there."""
    for path, package in needed:
        if not path.exists():
            return f"{path} not found (apt-get install {package})"
    return None


def require(reason: str | None, what: str) -> None:
    """Skip the calling test when `reason` says something is missing; fail under CI=true."""
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} test cannot run under CI: {reason}")
    pytest.skip(reason)
