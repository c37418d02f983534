"""The type checker is part of lint: `make lint` runs mypy after ruff, `.ci/run` runs `make lint`,
and mypy's configuration (pyproject.toml) names the packages it checks and, one by one, the
libraries that ship no types, instead of ignoring every missing import.

The run itself is slow-marked (`make test-all`): `make lint` is where it normally fails.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKED = {"connectors", "sync", "escalation", "mapping", "config", "vocabulary", "errors.py"}


def _recipe(target: str) -> list[str]:
    """The command lines of one Makefile target, in order."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^{target}:", line))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def _mypy_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def test_make_lint_runs_mypy_after_ruff() -> None:
    recipe = _recipe("lint")
    ruff = [i for i, line in enumerate(recipe) if "-m ruff" in line]
    mypy = [i for i, line in enumerate(recipe) if re.search(r"-m mypy\b", line)]
    assert ruff and mypy, recipe
    assert min(mypy) > max(ruff)


def test_ci_runs_make_lint_before_the_suite() -> None:
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if not line.strip().startswith("#")
    ]
    assert commands.index("make lint") < commands.index("make test")


def test_mypy_checks_the_packages_and_ignores_missing_imports_only_per_module() -> None:
    config = _mypy_config()
    assert CHECKED <= set(config["files"])
    assert config["python_version"] == "3.11"
    assert config["check_untyped_defs"] is True
    assert config["warn_unused_ignores"] is True
    assert "ignore_missing_imports" not in config
    for override in config.get("overrides", []):
        if override.get("ignore_missing_imports"):
            modules = override["module"]
            assert modules and "*" not in modules, override


def test_mypy_and_the_stubs_are_test_extras() -> None:
    setup = (ROOT / "setup.cfg").read_text()
    extras = setup.split("[options.extras_require]", 1)[1].split("\n[", 1)[0]
    names = {
        re.split(r"[<>=\s]", line.strip(), maxsplit=1)[0].lower()
        for line in extras.splitlines()
        if line.startswith("    ") and not line.strip().startswith("#")
    }
    assert {"mypy", "types-pyyaml", "types-requests"} <= names


@pytest.mark.slow
def test_the_checked_packages_type_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from mypy import api

    monkeypatch.chdir(ROOT)  # mypy reads [tool.mypy] and the file list from the working folder
    stdout, stderr, status = api.run([])
    assert status == 0, stdout + stderr
