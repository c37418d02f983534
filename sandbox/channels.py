"""The notification channels' sandbox: Slack, SMTP (STARTTLS and SMTPS) and a webhook receiver.

All on 127.0.0.1 over TLS with the sandbox's CA, so the real clients (slack_sdk, smtplib,
requests) keep verification on. Started on its own (`with ChannelSandbox() as channels:`) or
by `Sandbox(channels=True)` beside the three vendor APIs, sharing their CA.

`settings()` and `environ()` give a ready channel configuration (config/notifications_schema.py)
and the secrets it names.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sandbox.lossy_server import LossyHTTPServer
from sandbox.slack import workspace as slack_workspace
from sandbox.slack.app import SlackApp
from sandbox.smtp_server import PASSWORD, USERNAME, SMTPSandbox
from sandbox.tls import LocalTLS
from sandbox.webhook_receiver import SECRET, WebhookReceiverApp

SLACK_TOKEN_ENV = "SANDBOX_SLACK_BOT_TOKEN"
SMTP_USERNAME_ENV = "SANDBOX_SMTP_USERNAME"
SMTP_PASSWORD_ENV = "SANDBOX_SMTP_PASSWORD"
WEBHOOK_SECRET_ENV = "SANDBOX_WEBHOOK_SECRET"
SENDER = "Escalations <escalations@acme.example>"


class ChannelSandbox:
    """Use as a context manager; `quotas=False` switches Slack's rate limits off."""

    def __init__(
        self,
        tls: LocalTLS | None = None,
        time_factor: float = 1.0,
        quotas: bool = True,
    ):
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if tls is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="escalation-channels-")
            tls = LocalTLS(Path(self._tmp.name))
        self.tls = tls
        self.slack = SlackApp(time_factor=time_factor)
        self.slack.quotas.enabled = quotas
        self.webhook = WebhookReceiverApp(time_factor=time_factor)
        self.smtp = SMTPSandbox(tls, "starttls")
        self.smtps = SMTPSandbox(tls, "tls")
        self._servers: list[LossyHTTPServer] = []

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    @property
    def slack_url(self) -> str:
        """The Web API base URL, as `base_url` in the config (methods follow it)."""
        return f"{self.slack.base_url}/api"

    def start(self) -> ChannelSandbox:
        for app in (self.slack, self.webhook):
            server = LossyHTTPServer(app, self.tls)
            server.start()
            self._servers.append(server)
        self.smtp.start()
        self.smtps.start()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers.clear()
        self.smtp.stop()
        self.smtps.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ChannelSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def clear_faults(self) -> None:
        self.slack.faults.clear()
        self.webhook.faults.clear()

    def reset(self) -> None:
        """Fresh state for the next test: default workspace, nothing received, no faults."""
        self.clear_faults()
        self.slack.reset()
        self.webhook.reset()
        self.smtp.reset()
        self.smtps.reset()

    # -- a ready configuration ----------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The `channels:` mapping of a notifications config that reaches this sandbox."""
        ca = str(self.ca_path)
        return {
            "channels": {
                "slack": {
                    "type": "slack",
                    "token_env": SLACK_TOKEN_ENV,
                    "base_url": self.slack_url,
                    "ca_bundle": ca,
                },
                "email": {
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": self.smtp.port,
                    "tls": "starttls",
                    "sender": SENDER,
                    "username_env": SMTP_USERNAME_ENV,
                    "password_env": SMTP_PASSWORD_ENV,
                    "ca_bundle": ca,
                },
                "pager-webhook": {
                    "type": "webhook",
                    "url": self.webhook.url(),
                    "secret_env": WEBHOOK_SECRET_ENV,
                    "ca_bundle": ca,
                },
            }
        }

    @staticmethod
    def environ() -> dict[str, str]:
        """The secrets `settings()` names, by variable."""
        return {
            SLACK_TOKEN_ENV: slack_workspace.BOT_TOKEN,
            SMTP_USERNAME_ENV: USERNAME,
            SMTP_PASSWORD_ENV: PASSWORD,
            WEBHOOK_SECRET_ENV: SECRET,
        }
