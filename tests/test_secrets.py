"""Secrets from the environment never leave the process: not in logs (text or JSON, -v), not in
the state store (its file, -wal and -shm), the audit log, the dry-run plan, `explain`, the
summary, nor in the messages of the errors a wrong secret causes.

The sandbox is told to accept distinctive values, so a leak of any of them (raw, or as the
base64 of an Authorization header) is found by a plain search. Failures are forced (401s,
5xx, resets, an expired session, a rejected write) so the error paths log too.
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import Iterator

import pytest

import run_sync
from config.loader import load_config
from connectors.errors import AuthError, ConnectorError
from connectors.transport import RetryPolicy
from sandbox.faults import Fault
from sync.connections import build_connectors
from tests.sync_world import World

pytestmark = pytest.mark.integration

EMAIL = "sync-bot@example.com"
SECRETS = {
    "ZENDESK_EMAIL": EMAIL,
    "ZENDESK_API_TOKEN": "zdTok-S3CR3T-8f41c2d9e7",
    "JIRA_EMAIL": EMAIL,
    "JIRA_API_TOKEN": "jiraTok-S3CR3T-2b7e90aa51",
    "SALESFORCE_CLIENT_ID": "sfClientId-S3CR3T-5c0d13",
    "SALESFORCE_CLIENT_SECRET": "sfClientSecret-S3CR3T-e6a2f8",
    "SALESFORCE_USERNAME": "integration@acme.example",
    "SALESFORCE_PASSWORD": "sfPassw0rd-S3CR3T-91c3",
    "SALESFORCE_SECURITY_TOKEN": "sfSecTok-S3CR3T-d47e",
}
WRONG = {
    "ZENDESK_API_TOKEN": "zdTok-WRONG-S3CR3T-0a9b8c",
    "JIRA_API_TOKEN": "jiraTok-WRONG-S3CR3T-7d6e5f",
    "SALESFORCE_CLIENT_SECRET": "sfClientSecret-WRONG-S3CR3T-4a3b",
}
# The emails and the username are identities, not secrets: data (the bot's own user record,
# authors of notes) legitimately holds them.
IDENTITIES = ("ZENDESK_EMAIL", "JIRA_EMAIL", "SALESFORCE_USERNAME")


def forbidden(extra: tuple[str, ...] = ()) -> list[str]:
    """Every secret, and the forms a header would carry them in."""
    values = [v for k, v in SECRETS.items() if k not in IDENTITIES] + list(WRONG.values())
    values += list(extra)
    encoded = [
        f"{EMAIL}/token:{SECRETS['ZENDESK_API_TOKEN']}",
        f"{EMAIL}/token:{WRONG['ZENDESK_API_TOKEN']}",
        f"{EMAIL}:{SECRETS['JIRA_API_TOKEN']}",
        f"{EMAIL}:{WRONG['JIRA_API_TOKEN']}",
    ]
    values += [base64.b64encode(text.encode()).decode() for text in encoded]
    return values


def leaks(text: str | bytes, extra: tuple[str, ...] = ()) -> list[str]:
    if isinstance(text, bytes):
        return [s for s in forbidden(extra) if s.encode() in text or s.encode("utf-16-le") in text]
    return [s for s in forbidden(extra) if s in text]


@pytest.fixture
def secret_world(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The world, with the sandbox accepting only the distinctive secrets."""
    sandbox = world.sandbox
    monkeypatch.setattr(sandbox.zendesk, "credentials", {(EMAIL, SECRETS["ZENDESK_API_TOKEN"])})
    monkeypatch.setattr(sandbox.jira, "credentials", {(EMAIL, SECRETS["JIRA_API_TOKEN"])})
    oauth = sandbox.salesforce.oauth
    for attribute, name in (("client_id", "SALESFORCE_CLIENT_ID"),
                            ("client_secret", "SALESFORCE_CLIENT_SECRET"),
                            ("username", "SALESFORCE_USERNAME"),
                            ("password", "SALESFORCE_PASSWORD"),
                            ("security_token", "SALESFORCE_SECURITY_TOKEN")):  # fmt: skip
        monkeypatch.setattr(oauth, attribute, SECRETS[name])
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    issue, issued = oauth._issue, []

    def remembering(base_url: str) -> dict[str, str]:
        answer = issue(base_url)
        issued.append(answer["access_token"])
        return answer

    monkeypatch.setattr(oauth, "_issue", remembering)
    world.issued_tokens = issued
    yield world


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI configures the root logger; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {
        name: logging.getLogger(name).level
        for name in ("urllib3", "zenpy", "jira", "simple_salesforce")
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in quiet.items():
        logging.getLogger(name).setLevel(value)


def access_tokens(world: World) -> tuple[str, ...]:
    """The Salesforce session tokens the sandbox issued: secrets of the run as well."""
    assert world.issued_tokens, "the run logged in to Salesforce"
    return tuple(world.issued_tokens)


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_sync.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def state_bytes(world: World) -> dict[str, bytes]:
    folder = world.config.state.path.parent
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def force_failures(world: World) -> None:
    """A 500, a reset and a 503 on reads, an expired session, a rejected write."""
    zendesk, jira, salesforce = world.sandbox.zendesk, world.sandbox.jira, world.sandbox.salesforce
    zendesk.faults.add(Fault("incremental_tickets", "status", times=1, status=500))
    jira.faults.add(Fault("search_jql", "reset", times=1))
    salesforce.faults.add(Fault("query_all", "status", times=1, status=503, retry_after=0))
    salesforce.expire_session_on("query_all", times=1)
    key = next(iter(sorted(jira.store.rows)))
    jira.reject_edit(key, errors={"customfield_10200": "Option value 'x' is not valid"})


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_verbose_logs_summary_and_plan_of_runs_with_failures_hold_no_secret(
    secret_world: World, log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    world, config = secret_world, str(secret_world.config_path)
    now = world.now.isoformat()
    force_failures(world)
    base = ["--log-format", log_format, "-v"]
    plan = cli([*base, "plan", "--config", config, "--now", now], capsys)
    force_failures(world)
    sync = cli([*base, "sync", "--config", config, "--now", now], capsys)
    world.settle()
    again = cli([*base, "sync", "--config", config, "--now", now], capsys)
    store = world.store()
    try:
        ticket = next(record for system, record in store.written() if system == "zendesk")
    finally:
        store.close()
    explained = cli(["explain", "--config", config, "--now", now, f"zendesk:{ticket}"], capsys)
    assert explained[0] == 0 and "reasons:" in explained[1]
    assert sync[0] == 1, sync[2][-2000:]  # the rejected Jira write
    if log_format == "json":  # the plan is part of the one JSON summary object
        planned = json.loads(plan[1])
        assert len({item["system"] for item in planned["plan"]}) >= 2
        assert "would write" in planned["message"]
    else:
        assert plan[1].count("record(s) to write") >= 2 and "would write" in plan[1]
    for _, out, err in (plan, sync, again, explained):
        assert leaks(out + err, access_tokens(world)) == []
    logged = plan[2] + sync[2] + again[2]
    assert "retry" in logged.lower() or "waiting" in logged.lower()  # the error paths did log
    assert "Option value 'x' is not valid" in sync[1] + sync[2]
    if log_format == "json":
        for line in sync[2].splitlines():
            if line.startswith("{"):
                json.loads(line)


def test_state_store_audit_log_and_run_summaries_hold_no_secret(
    secret_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = secret_world
    force_failures(world)
    code, out, err = cli(
        ["-v", "sync", "--config", str(world.config_path), "--now", world.now.isoformat()], capsys
    )
    assert code in (0, 1), err[-2000:]
    store = world.store()  # held open while the run writes: its -wal and -shm stay on disk
    try:
        world.settle()
        result = world.run(now=world.now)
        files = state_bytes(world)
        audit = json.dumps(store.audit_entries(), ensure_ascii=False)
        runs = json.dumps(store.runs(), ensure_ascii=False)
    finally:
        store.close()
    assert {"escalation-sync.sqlite", "escalation-sync.sqlite-wal"} <= set(files)
    assert "wrote" in out and result.exit_code in (0, 1)
    assert '"decision"' in audit and '"summary"' in runs
    tokens = access_tokens(world)
    for name, content in files.items():
        assert leaks(content, tokens) == [], name
    assert leaks(audit, tokens) == [] and leaks(runs, tokens) == []


@pytest.mark.parametrize("system", ["zendesk", "jira", "salesforce"])
def test_a_wrong_secret_gives_an_auth_error_whose_message_and_chain_hold_no_secret(
    secret_world: World, system: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = {"zendesk": "ZENDESK_API_TOKEN", "jira": "JIRA_API_TOKEN",
            "salesforce": "SALESFORCE_CLIENT_SECRET"}[system]  # fmt: skip
    monkeypatch.setenv(name, WRONG[name])
    config = load_config(secret_world.config_path)
    policy = RetryPolicy(sleep=lambda seconds: None, backoff_initial_seconds=0.01)
    with pytest.raises(ConnectorError) as caught:
        connectors = build_connectors(config, policy)
        try:
            read = {
                "zendesk": lambda c: next(c.read_ticket_changes(cursor=None, start_time=None)),
                "jira": lambda c: next(c.read_issue_changes(None)),
                "salesforce": lambda c: next(c.read_account_changes(None)),
            }[system]
            read(connectors[system])
        finally:
            for connector in connectors.values():
                connector.close()
    error = caught.value
    assert isinstance(error, AuthError), repr(error)
    chain, current = [], error
    while current is not None:
        chain.append(current)
        current = current.__cause__ or current.__context__
    texts = [str(e) + repr(e) for e in chain] + ["".join(traceback.format_exception(error))]
    assert leaks("\n".join(texts)) == []
    assert system in str(error)


def test_a_wrong_token_on_the_cli_exits_5_and_says_so_without_the_token(
    secret_world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZENDESK_API_TOKEN", WRONG["ZENDESK_API_TOKEN"])
    for log_format in ("text", "json"):
        code, out, err = cli(
            ["--log-format", log_format, "-v", "sync", "--config", str(secret_world.config_path)],
            capsys,
        )
        assert code == 5, err[-2000:]
        assert "zendesk" in out + err and "401" in out + err
        assert leaks(out + err) == []


def test_the_password_flow_keeps_password_and_security_token_out_of_logs_and_state(
    secret_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    connections = secret_world.config_path.parent / "connections.yaml"
    text = connections.read_text(encoding="utf-8").replace(
        "    auth: client_credentials\n",
        "    auth: password\n    username_env: SALESFORCE_USERNAME\n    password_env: SALESFORCE_PASSWORD\n"
        "    security_token_env: SALESFORCE_SECURITY_TOKEN\n",
    )
    connections.write_text(text, encoding="utf-8")
    code, out, err = cli(["-v", "--log-format", "json", "sync", "--config", str(secret_world.config_path),
                          "--now", secret_world.now.isoformat()], capsys)  # fmt: skip
    assert code == 0, err[-2000:]
    assert secret_world.sandbox.salesforce.oauth.tokens_issued >= 1
    tokens = access_tokens(secret_world)
    assert leaks(out + err, tokens) == []
    for name, content in state_bytes(secret_world).items():
        assert leaks(content, tokens) == [], name
