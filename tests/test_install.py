"""A real, non-editable `pip install .` into a fresh virtualenv: no packaging warnings, and the
installed `escalation-sync init` writes a configuration that the installed `validate` accepts,
outside any checkout (the example configurations ship inside the package).

Offline: the fresh venv reaches the test venv's site-packages through a .pth file (pip,
setuptools and wheel to build with, and the dependencies), so pip runs with
--no-build-isolation --no-deps and needs no index. A .pth line only adds a path: the test
venv's own .pth files (its editable install of this project) are not run, so the imports come
from the fresh install.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# What `pip install .` is not given: the working state of a checkout.
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "demo-data", "state",
              ".pytest_cache", ".ruff_cache", ".hypothesis", "tests", "bench")  # fmt: skip
PACKAGING_WARNINGS = ("is absent from the `packages` configuration", "as data is deprecated")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the fresh venv's bin folder, pip's verbose output of the install)."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    fresh_site = next(venv.glob("lib/python*/site-packages"))
    (fresh_site / "test-venv.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-v", "--no-deps",
         "--no-build-isolation", "--no-index", str(source)],
        cwd=tmp, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = pip.stdout + pip.stderr
    assert pip.returncode == 0, output[-3000:]
    return venv / "bin", output


def test_pip_install_builds_without_packaging_warnings(installed: tuple[Path, str]) -> None:
    _, output = installed
    assert "Successfully installed escalation-sync" in output
    assert [
        line for line in output.splitlines() if any(w in line for w in PACKAGING_WARNINGS)
    ] == []


def test_the_installed_package_is_imported_from_the_fresh_venv(
    installed: tuple[Path, str], tmp_path: Path
) -> None:
    bin_dir, _ = installed
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import config, run_sync; print(config.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(bin_dir.parent)


@pytest.mark.parametrize("variant", [[], ["--minimal"]])
def test_installed_init_writes_a_configuration_that_validates(
    installed: tuple[Path, str], tmp_path: Path, variant: list[str]
) -> None:
    bin_dir, _ = installed
    command = str(bin_dir / "escalation-sync")
    init = subprocess.run(
        [command, "init", "conf", *variant], cwd=tmp_path, capture_output=True, text=True
    )
    assert init.returncode == 0, init.stderr
    assert "escalation-sync validate --config conf/escalation-sync.yaml" in init.stdout
    validate = subprocess.run(
        [command, "validate", "--config", "conf/escalation-sync.yaml", "--skip-env-check"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert validate.returncode == 0, validate.stderr
    assert validate.stdout.startswith("ok")
