"""`doctor` checks the notification channels against the sandbox's Slack, SMTP server and
webhook receiver: the token and its scopes, every #channel a rule names, the SMTP login; each
broken setting is a problem with its fix (a missing history scope a warning), and nothing is
ever sent."""

from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from provision.commands import EXIT_OK, EXIT_SETUP_PROBLEMS, doctor
from sandbox.channels import SLACK_TOKEN_ENV, SMTP_PASSWORD_ENV
from sandbox.generate import generate_dataset
from sandbox.runner import DATA_FILES, Sandbox
from sandbox.sandbox_config import ENVIRONMENT, write_sandbox_config
from sandbox.slack import workspace as ws
from tests.notify_helpers import RULES, notifications_yaml, reset_channels

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with Sandbox(work_dir=tmp_path_factory.mktemp("tls"), quotas=False, channels=True) as started:
        dataset = generate_dataset(10, 30, 6, seed=2)
        for name in DATA_FILES:
            started.apps[name].load_state(dataset[name])
        yield started


def checks(
    sandbox: Sandbox, folder: Path, secrets: dict[str, str] | None = None, **overrides: Any
) -> tuple[int, list[dict]]:
    """Doctor's exit code and its notification lines, for notifications.yaml + `overrides`,
    with the channels' `secrets` (variable -> value) in place of the working ones."""
    os.environ.update(ENVIRONMENT)
    yaml_text = notifications_yaml(sandbox, **overrides)  # sets the channels' secrets
    os.environ.update(secrets or {})
    config = write_sandbox_config(folder, sandbox.urls, sandbox.ca_path, notifications=yaml_text)
    out = io.StringIO()
    args = argparse.Namespace(config=str(config), format="json", join_sample=0)
    code = doctor(args, out, io.StringIO())
    return code, [c for c in json.loads(out.getvalue())["checks"] if c["system"] == "notifications"]


def by_subject(lines: list[dict]) -> dict[str, dict]:
    return {line["subject"]: line for line in lines}


@pytest.fixture(autouse=True)
def fresh(sandbox):
    reset_channels(sandbox)
    yield
    os.environ.update(sandbox.channels.environ())


def nothing_sent(sandbox: Sandbox) -> bool:
    channels = sandbox.channels
    return not (channels.slack.messages or channels.smtp.received or channels.webhook.deliveries)


def test_working_channels_are_all_ok_and_nothing_is_sent(sandbox, tmp_path):
    code, lines = checks(sandbox, tmp_path)
    assert code == EXIT_OK, [line for line in lines if line["status"] != "ok"]
    found = by_subject(lines)
    assert found["channel slack (Slack)"]["detail"].startswith(f"token of {ws.BOT_NAME}")
    assert found["channel slack (Slack) #escalations"]["status"] == "ok"
    assert "STARTTLS and logged in" in found["channel email (e-mail)"]["detail"]
    assert found["channel pager-webhook (webhook)"]["status"] == "ok"
    assert nothing_sent(sandbox)
    # Slack was asked who we are and which channels exist; nothing else.
    assert set(sandbox.channels.slack.traffic.requests) == {"auth.test", "conversations.list"}


def test_a_token_without_a_scope_a_rule_needs_is_a_problem_naming_it(sandbox, tmp_path):
    sandbox.channels.slack.tokens["xoxb-narrow"] = ws.BOT_SCOPES - {"groups:read"}
    code, lines = checks(sandbox, tmp_path, {SLACK_TOKEN_ENV: "xoxb-narrow"})
    assert code == EXIT_SETUP_PROBLEMS
    scopes = by_subject(lines)["channel slack (Slack) scopes"]
    assert scopes["status"] == "problem" and "groups:read" in scopes["detail"]
    assert "groups:read" in scopes["fix"]


def test_a_token_without_the_history_scopes_is_a_warning(sandbox, tmp_path):
    sandbox.channels.slack.tokens["xoxb-no-history"] = ws.BOT_SCOPES - {"channels:history"}
    code, lines = checks(sandbox, tmp_path, {SLACK_TOKEN_ENV: "xoxb-no-history"})
    assert code == EXIT_OK
    history = by_subject(lines)["channel slack (Slack) history scopes"]
    assert history["status"] == "warning" and "channels:history" in history["detail"]


def test_a_revoked_token_is_one_problem_line(sandbox, tmp_path):
    sandbox.channels.slack.revoked_tokens.add(ws.BOT_TOKEN)
    code, lines = checks(sandbox, tmp_path)
    assert code == EXIT_SETUP_PROBLEMS
    (slack,) = [line for line in lines if line["subject"].startswith("channel slack")]
    assert slack["status"] == "problem" and "token_revoked" in slack["detail"]


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("#general", "not in the channel"),
        ("#old-escalations", "archived"),
        ("#secret-board", "no such channel"),
        ("#no-such-channel", "no such channel"),
    ],
)
def test_a_channel_the_app_cannot_post_to_is_a_problem_with_its_fix(
    sandbox, tmp_path, target, said
):
    rules = [*RULES, {"events": ["level_raised"], "to": [target], "channels": ["slack"]}]
    code, lines = checks(sandbox, tmp_path, rules=rules)
    assert code == EXIT_SETUP_PROBLEMS
    line = by_subject(lines)[f"channel slack (Slack) {target}"]
    assert line["status"] == "problem" and said in line["detail"]
    assert target in line["fix"]
    assert by_subject(lines)["channel slack (Slack) #escalations"]["status"] == "ok"


def test_a_refused_smtp_login_is_a_problem_and_the_other_channels_are_checked(sandbox, tmp_path):
    code, lines = checks(sandbox, tmp_path, {SMTP_PASSWORD_ENV: "wrong"})
    assert code == EXIT_SETUP_PROBLEMS
    email = by_subject(lines)["channel email (e-mail)"]
    assert email["status"] == "problem" and "refused our login" in email["detail"]
    assert "wrong" not in json.dumps(lines)
    assert by_subject(lines)["channel slack (Slack)"]["status"] == "ok"
    assert nothing_sent(sandbox)
