"""tests/system_packages.py: a test that needs a Debian package skips locally when it is
missing and fails under CI=true (PostgreSQL here; Chromium: tests/test_browser_helper.py)."""

from __future__ import annotations

import pytest

from tests import postgres_server


def test_missing_postgresql_skips_with_the_package_to_install_locally(monkeypatch):
    monkeypatch.setattr(postgres_server, "bin_dir", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(
        pytest.skip.Exception, match=r"initdb not found \(apt-get install postgresql\)"
    ):
        postgres_server.require_postgres()


def test_missing_postgresql_fails_under_ci(monkeypatch, tmp_path):
    (tmp_path / "initdb").touch()  # a half installation: initdb without pg_ctl
    monkeypatch.setattr(postgres_server, "bin_dir", lambda: tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL test cannot run under CI.*pg_ctl"):
        postgres_server.require_postgres()
