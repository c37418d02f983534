"""Every command line the README shows runs as written (STYLE.md: "Keep the README's commands
working exactly as written: a test runs them").

The commands run in a stand-in for a checkout (a temporary folder whose `.venv`, `run_sync.py`
and `config` link to this repository's), so `demo-data/` and everything else they write stay
out of the repository. The sandbox is started by the README's own `sandbox generate` and
`sandbox serve` lines, and the credentials `serve` prints are exported for the others. `serve`
runs with SANDBOX_ZENDESK_HIGH_VOLUME set: its Zendesk has the High Volume API add-on (30
exports a minute, sandbox/README.md), so the commands do not queue for Zendesk's export limit.

Changed before running, and only where a command names a place on a production machine:
- `/etc/escalation-sync` (init, validate): a temporary folder;
- the cron line runs from `.venv/bin/escalation-sync` on (the stand-in is its
  /opt/escalation-sync and the exported credentials its env.sh), with the sandbox's config for
  /etc/escalation-sync/escalation-sync.yaml and a temporary file for /var/log/...;
- `doctor`, `provision` and `report` take the sandbox's config for
  /etc/escalation-sync/escalation-sync.yaml (the example systems `init` names are not reachable
  from here, and report needs the state a sync left);
- the command table's placeholders: F is the sandbox's config, account:ID one of its
  accounts, SYSTEM:ID a ticket of the mirror, DIR a temporary folder, URL a fresh schema of the tests' PostgreSQL server; an option alone (`--now ...`) is given to `explain` of that
  ticket (a replay: it reads the mirror, so a clock two weeks back is no step back in time for
  the state).
Not run here: `make demo` and `make test` (the suite itself), and the venv + `pip install .`
line, which tests/test_install.py runs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.loader import load_config
from sandbox.commands import HIGH_VOLUME_VARIABLE
from sync.state import StateStore

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
CRON = re.compile(r"^(\S+\s+){5}cd \S+ && \. \./env\.sh && (?P<command>\.venv/bin/.*)$")
COMMAND = re.compile(r"^(make|python3\.11|\.venv/bin/\S+)\s|" + CRON.pattern)
NOT_RUN_HERE = {
    "make demo": "runs itself, see the Makefile",
    "make test": "the suite this test is part of",
    "python3.11 -m venv .venv && .venv/bin/pip install .": "tests/test_install.py",
}
ETC = "/etc/escalation-sync"
SANDBOX_CONFIG_COMMAND = re.compile(r"escalation-sync (doctor|provision|report) ")


def without_comment(command: str) -> str:
    return re.sub(r"\s+#\s.*$", "", command)


LOG = "/var/log/escalation-sync.log"


def code_block_commands(text: str) -> list[str]:
    """The command lines of the README's indented code blocks, in order (a trailing
    `# comment` is shell and is kept: the line runs as written)."""
    commands, previous = [], ""
    in_block = False
    for line in text.splitlines():
        in_block = line.startswith("    ") and (in_block or not previous.strip())
        if in_block and COMMAND.match(line.strip()):
            commands.append(line.strip())
        previous = line
    return commands


def table_commands(text: str) -> list[str]:
    """The backticked commands of the table whose first column is `command`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| command |"))
    commands = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        commands += re.findall(r"`([^`]+)`", line.split("|")[1])
    return commands


def test_the_readme_commands_are_found() -> None:
    text = README.read_text(encoding="utf-8")
    commands = code_block_commands(text)
    assert set(NOT_RUN_HERE) <= {without_comment(c) for c in commands}
    assert any(CRON.match(c) for c in commands)
    assert any("sandbox serve" in c for c in commands)
    assert {"sync --config F", "plan --config F"} <= set(table_commands(text))
    # A code line that looks like a command but that the extraction misses would go untested.
    code = [line.strip() for line in text.splitlines() if line.startswith("    ")]
    missed = [
        line
        for line in code
        if ("run_sync.py" in line or "escalation-sync " in line or line.startswith("make "))
        and line not in commands
    ]
    assert missed == []


class ReadmeSandbox:
    """The README's `sandbox generate` and `sandbox serve`, run as written in `folder`."""

    def __init__(self, folder: Path, generate: str, serve: str):
        self.folder = folder
        made = run(generate, folder, os.environ)
        assert made.returncode == 0, made.stderr
        # As a Zendesk account with the High Volume API add-on (30 exports a minute): the
        # commands after the first sync share the exports, and at 10 a minute one of them waits
        # out Zendesk's 429 for most of a minute. Waiting on that limit is tested elsewhere
        # (test_connector_zendesk_sandbox.py, test_sync_quota_bound.py, test_backfill.py).
        environ = {**os.environ, HIGH_VOLUME_VARIABLE: "1"}
        self.process = subprocess.Popen(
            shlex.split(serve), cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=environ,
        )  # fmt: skip
        printed: dict[str, str] = {}
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("serving"):
                break
            name, _, value = line.strip().partition(" ")
            printed[name] = value.strip()
        else:
            raise AssertionError(f"sandbox serve ended: {self.process.stderr.read()}")
        self.config = folder / printed["config"]
        self.environ = dict(os.environ)
        self.environ.update(pair.split("=", 1) for pair in printed["credentials"].split())

    def stop(self) -> str:
        """Ctrl-C, as the README says: the sandbox saves its state and ends."""
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=60)
        return out


def run(command: str, cwd: Path, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, shell=True, cwd=cwd, env=environ, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that looks like a checkout to the README's relative paths."""
    folder = tmp_path_factory.mktemp("checkout")
    for name in (".venv", "run_sync.py", "config"):
        (folder / name).symlink_to(REPO / name)
    return folder


@pytest.fixture(scope="module")
def readme_sandbox(checkout: Path) -> Iterator[ReadmeSandbox]:
    commands = code_block_commands(README.read_text(encoding="utf-8"))
    generate = next(c for c in commands if " sandbox generate " in c)
    serve = next(c for c in commands if " sandbox serve " in c)
    sandbox = ReadmeSandbox(checkout, generate, serve)
    try:
        yield sandbox
    finally:
        if sandbox.process.poll() is None:
            sandbox.process.kill()
            sandbox.process.wait()


def state_database(request: pytest.FixtureRequest, environ: dict[str, str]) -> str:
    """A PostgreSQL URL for the table's URL (its password in libpq's PGPASSWORD)."""
    from tests.postgres_server import PASSWORD, require_postgres

    require_postgres()
    environ["PGPASSWORD"] = PASSWORD
    return request.getfixturevalue("postgres_server").fresh_url()


def test_every_readme_command_runs_as_written(
    checkout: Path, readme_sandbox: ReadmeSandbox, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    text = README.read_text(encoding="utf-8")
    environ, config = readme_sandbox.environ, str(readme_sandbox.config)
    failures, ran = [], []

    def check(command: str, expect_in_out: str = "") -> subprocess.CompletedProcess[str]:
        done = run(command, checkout, environ)
        ran.append(command)
        if done.returncode != 0 or expect_in_out not in done.stdout:
            failures.append(f"{command}\n  exit {done.returncode}\n  {done.stderr[-1500:]}")
        return done

    for command in code_block_commands(text):
        if without_comment(command) in NOT_RUN_HERE or " sandbox " in command:
            continue  # sandbox generate and serve ran in the fixture, as written
        cron = CRON.match(command)
        if cron:
            log = tmp_path / "escalation-sync.log"
            line = cron["command"].replace(f"{ETC}/escalation-sync.yaml", config)
            done = check(line.replace(LOG, str(log)))
            summary = json.loads(done.stdout)  # one JSON object: the summary
            assert summary["status"] == "ok" and summary["exit_code"] == 0, summary
            logged = log.read_text(encoding="utf-8").splitlines()
            assert logged and all(json.loads(entry)["logger"] for entry in logged)
        elif SANDBOX_CONFIG_COMMAND.search(command):
            # doctor and provision talk to the systems, report reads the state a sync left: the
            # sandbox's config stands for the one `init` wrote (whose systems are not reachable
            # from here and which has no state yet).
            check(command.replace(f"{ETC}/escalation-sync.yaml", config))
        else:
            check(command.replace(ETC, str(tmp_path / "etc")))

    store = StateStore(load_config(readme_sandbox.config).state.path)
    try:
        ticket = next(t.ref for t in store.tickets(open_only=True) if t.system == "zendesk")
        account = f"account:{store.accounts()[0].id}"
    finally:
        store.close()
    for number, row in enumerate(table_commands(text)):
        words = {"F": config, "SYSTEM:ID": ticket, "DIR": str(tmp_path / f"dir{number}")}
        words["account:ID"] = account
        if "URL" in shlex.split(row):  # state copy: into a fresh schema of a real server
            words["URL"] = state_database(request, environ)
        argv = [words.get(word, word) for word in shlex.split(row)]
        if argv[0].startswith("--"):  # a replay: why a ticket had its level at that moment
            argv = ["explain", "--config", config, ticket, *argv]
        check(shlex.join([".venv/bin/escalation-sync", *argv]))

    saved = readme_sandbox.stop()
    assert "saved the sandbox's state" in saved
    assert failures == [], "\n".join(failures)
    assert len(ran) >= 10
