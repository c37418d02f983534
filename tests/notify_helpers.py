"""Shared by the notification tests: a world whose sandbox also serves Slack, SMTP and a
webhook receiver, a notifications.yaml that reaches them, and what each channel received."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from sandbox.runner import Sandbox
from tests.sync_world import World

# Queues the example matrix routes to, reachable through the sandbox's channels.
QUEUES = {
    "escalation-engineering": {"email": "esc-eng@acme.example", "slack": "#escalations"},
    "support-duty-manager": {"email": "duty@acme.example"},
    "support-tier2": {"email": "tier2@acme.example"},
    "escalations-emea": {"email": "esc-emea@acme.example", "slack": "#escalations"},
    "tam-strategic": {"email": "tam@acme.example"},
    "cs-team": {"email": "cs-team@acme.example"},
    "cs-managers": {"email": "cs-managers@acme.example"},
    "security-oncall": {"email": "security@acme.example"},
}
RULES: list[dict[str, Any]] = [
    {
        "events": ["level_raised", "owner_changed", "de_escalated", "resolved"],
        "levels": ["advisory", "action-needed", "executive-review"],
        "to": ["owner", "backup"],
        "channels": ["email"],
        "quiet_hours": False,
    },
    {
        "events": ["level_raised"],
        "levels": ["action-needed", "executive-review"],
        "to": ["#escalations"],
        "channels": ["slack", "pager-webhook"],
    },
    {
        "events": ["sla_breached"],
        "levels": ["action-needed", "executive-review"],
        "to": ["owner"],
        "channels": ["email"],
        "quiet_hours": False,
    },
]


def notifications_yaml(sandbox: Sandbox, **overrides: Any) -> str:
    """A notifications.yaml that reaches the sandbox's channels; `overrides` replace keys."""
    section: dict[str, Any] = {
        **sandbox.channels.settings(),
        "recipients": QUEUES,
        "rules": RULES,
        "quiet_hours": {"enabled": False},
    }
    section.update(overrides)
    for name, value in sandbox.channels.environ().items():
        os.environ[name] = value
    return yaml.safe_dump({"notifications": section}, sort_keys=False)


def notify_world(sandbox: Sandbox, data: Path, folder: Path, **overrides: Any) -> World:
    return World(sandbox, data, folder, notifications=notifications_yaml(sandbox, **overrides))


def reset_channels(sandbox: Sandbox) -> None:
    sandbox.channels.reset()
    sandbox.channels.slack.quotas.enabled = False


def emails(sandbox: Sandbox) -> list[Any]:
    return list(sandbox.channels.smtp.received)


def email_keys(sandbox: Sandbox) -> list[str]:
    """The outbox key of every e-mail received (X-Escalation-Key)."""
    return [str(mail.message["X-Escalation-Key"]) for mail in sandbox.channels.smtp.received]


def slack_keys(sandbox: Sandbox) -> list[str | None]:
    return [posted.key for posted in sandbox.channels.slack.messages]


def webhook_keys(sandbox: Sandbox) -> list[str]:
    return [delivery.key for delivery in sandbox.channels.webhook.deliveries]
