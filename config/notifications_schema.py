"""How to reach the notification channels: Slack, an SMTP server, signed HTTPS webhooks.

The connection settings only; which events go where (rules, recipients, quiet hours) is another
model. Like config/connections.py: secrets never live here, each `*_env` key names the
environment variable that holds one; TLS verification cannot be turned off, a private CA is
trusted through `ca_bundle`.

    channels:
      slack:        {type: slack, token_env: SLACK_BOT_TOKEN}
      email:        {type: email, host: smtp.acme.example, sender: escalations@acme.example,
                     username_env: SMTP_USERNAME, password_env: SMTP_PASSWORD}
      pager-webhook: {type: webhook, url: "https://bridge.acme.example/hooks/escalation",
                      secret_env: PAGER_WEBHOOK_SECRET}
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from config.base import EnvVarName, HttpsUrl, StrictModel
from config.connections import CaBundle, Seconds

_CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
# An address as a person writes it in a From header: "Name <a@b>" or "a@b"; checked loosely,
# the SMTP server has the last word.
_ADDRESS = re.compile(r"^(?:[^<>]*<)?[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>?$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9a-fA-F:.]+\]?$")


def _channel_name(value: str) -> str:
    if not _CHANNEL_NAME.match(value):
        raise ValueError(
            f"found '{value}'; expected a channel name such as slack or pager-webhook "
            "(lowercase letters, digits, - and _)"
        )
    return value


def _address(value: str) -> str:
    if not _ADDRESS.match(value.strip()):
        raise ValueError(
            f"found '{value}'; expected an e-mail address such as escalations@acme.example "
            "or 'Escalations <escalations@acme.example>'"
        )
    return value.strip()


def _host(value: str) -> str:
    if not _HOST.match(value.strip()):
        raise ValueError(f"found '{value}'; expected a host name or IP address, without a scheme")
    return value.strip()


ChannelName = Annotated[str, AfterValidator(_channel_name)]
Address = Annotated[str, AfterValidator(_address)]
Port = Annotated[int, Field(ge=1, le=65535)]


class _ChannelSettings(StrictModel):
    timeout_seconds: Seconds = 30.0
    ca_bundle: CaBundle = None

    def secret_env_fields(self) -> dict[str, str]:
        """Key -> environment variable name, for every secret this channel uses."""
        return {}


class SlackChannelSettings(_ChannelSettings):
    """A Slack app's bot token (xoxb-...) and the Web API base URL (a sandbox, Slack GovSlack)."""

    type: Literal["slack"]
    token_env: EnvVarName
    base_url: HttpsUrl = "https://slack.com/api"

    def secret_env_fields(self) -> dict[str, str]:
        return {"token_env": self.token_env}


class EmailChannelSettings(_ChannelSettings):
    """An SMTP submission server: STARTTLS (usually port 587) or implicit TLS (465)."""

    type: Literal["email"]
    host: Annotated[str, AfterValidator(_host)]
    tls: Literal["starttls", "tls"] = "starttls"
    port: Port | None = None  # default: 587 with starttls, 465 with tls
    sender: Address  # the From header and the envelope sender
    reply_to: Address | None = None
    username_env: EnvVarName | None = None  # both or neither: a relay may need no login
    password_env: EnvVarName | None = None
    # The right-hand side of the Message-IDs we derive from the outbox key; default: the
    # sender's domain.
    message_id_domain: Annotated[str, AfterValidator(_host)] | None = None

    @model_validator(mode="after")
    def _login_pair(self) -> EmailChannelSettings:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError(
                "found only one of username_env and password_env; expected both (SMTP AUTH) "
                "or neither (a relay that needs no login)"
            )
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 587 if self.tls == "starttls" else 465

    def secret_env_fields(self) -> dict[str, str]:
        if self.username_env is None or self.password_env is None:
            return {}
        return {"username_env": self.username_env, "password_env": self.password_env}


class WebhookChannelSettings(_ChannelSettings):
    """An HTTPS endpoint that receives signed JSON (a bridge to Teams, PagerDuty, Opsgenie)."""

    type: Literal["webhook"]
    url: HttpsUrl
    secret_env: EnvVarName  # the shared HMAC-SHA256 key

    def secret_env_fields(self) -> dict[str, str]:
        return {"secret_env": self.secret_env}


ChannelSettings = Annotated[
    SlackChannelSettings | EmailChannelSettings | WebhookChannelSettings,
    Field(discriminator="type"),
]


class NotificationChannels(StrictModel):
    """Every channel a rule may name, by name."""

    channels: dict[ChannelName, ChannelSettings] = Field(default_factory=dict)

    def secret_refs(self) -> list[tuple[tuple[str, str, str], str]]:
        """(key path, environment variable name) for every secret the channels need."""
        return [
            (("channels", name, key), env_name)
            for name, channel in self.channels.items()
            for key, env_name in channel.secret_env_fields().items()
        ]
