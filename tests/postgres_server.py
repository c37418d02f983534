"""A throwaway PostgreSQL cluster for the tests: a real server, never a mock.

Debian's `postgresql` package (`make postgres-deps` or .ci/run installs it) brings initdb and
pg_ctl under /usr/lib/postgresql/<major>/bin. PostgreSQL refuses to run as root, and the tests
run as root in CI, so the cluster is made and started as the `postgres` user through
`runuser`; as any other user it runs as that user. It listens on a unix socket in its own
temporary folder and on a free TCP port on 127.0.0.1 (password authentication there, as a
deployment would have it). fsync is off for the tests (they kill clients, never the server),
on for the benchmark.

Each test gets a schema of its own in one database (`fresh_url`): creating one is instant,
and the state store's identity (database and schema) keeps the advisory locks apart.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.system_packages import missing_files, require

# The mark of a test that runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_BACKENDS = pytest.mark.state_backends("sqlite", "postgresql")

ROLE = "esync"
PASSWORD = "state-secret-for-tests"  # the test cluster's own; never a real one
PASSWORD_ENV = "ESCALATION_SYNC_STATE_PASSWORD"
DATABASE = "state"


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_major)
    return found[-1].parent if found else None


def _major(path: Path) -> int:
    name = path.parent.parent.name
    return int(name) if name.isdigit() else 0


def missing_postgres() -> str | None:
    """Why no PostgreSQL test can run here, or None."""
    found = bin_dir()
    if found is None:
        return "/usr/lib/postgresql/*/bin/initdb not found (apt-get install postgresql)"
    reason = missing_files(((found / "pg_ctl", "postgresql"),))
    if reason is None and os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "no postgres user to run the server as (apt-get install postgresql)"
    return reason


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is not installed; fail instead under CI=true."""
    require(missing_postgres(), "PostgreSQL")


class PostgresServer:
    """initdb, pg_ctl start; `stop` stops it and removes every file."""

    def __init__(self, durable: bool = False) -> None:
        """`durable`: fsync on, as a deployment runs it (the benchmark); off for the tests."""
        binaries = bin_dir()
        assert binaries is not None
        self.bin = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="escalation-sync-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        self._started = False
        self.durable = durable

    def _run(self, *args: str) -> None:
        command = [*(["runuser", "-u", "postgres", "--"] if self._as_root else []), *args]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresServer:
        self.socket_dir.mkdir(parents=True)
        if self._as_root:
            os.chmod(self.folder, 0o755)
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        password_file = self.folder / "password"
        password_file.write_text("postgres-superuser\n", encoding="utf-8")
        if self._as_root:
            shutil.chown(password_file, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8",
            "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={password_file}",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} "
            "-c max_connections=200"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        self._started = True
        self.admin_sql(
            f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'",
            f"CREATE DATABASE {DATABASE} OWNER {ROLE}",
        )
        return self

    def admin_sql(self, *statements: str, database: str = "postgres") -> None:
        """Run statements as the superuser over the unix socket (trusted there)."""
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir), port=self.port, user="postgres", dbname=database,
            autocommit=True,
        ) as db:  # fmt: skip
            for statement in statements:
                db.execute(statement)

    def url(self, database: str = DATABASE, schema: str | None = None) -> str:
        """The `state.url` of the test role over TCP (its password: PASSWORD_ENV)."""
        url = f"postgresql://{ROLE}@127.0.0.1:{self.port}/{database}"
        return url + (f"?options=-csearch_path%3D{schema}" if schema else "")

    def fresh_url(self) -> str:
        """A new, empty schema of its own, as a state.url."""
        schema = "t_" + uuid.uuid4().hex[:12]
        self.admin_sql(f"CREATE SCHEMA {schema} AUTHORIZATION {ROLE}", database=DATABASE)
        return self.url(schema=schema)

    def fresh_database(self) -> str:
        """A new, empty database owned by the test role, as a state.url."""
        name = "d_" + uuid.uuid4().hex[:12]
        self.admin_sql(f"CREATE DATABASE {name} OWNER {ROLE}")
        return self.url(database=name)

    def stop(self) -> None:
        try:
            if self._started:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
