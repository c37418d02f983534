"""The channel connection settings: validated like config/connections.py, secrets by name only,
and turned into working channels by `open_channels`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.notifications_schema import NotificationChannels
from connectors.channels import Message, SendStatus, open_channels
from connectors.email import EmailChannel
from connectors.slack import SlackChannel
from connectors.webhook import WebhookChannel


def settings(**channel) -> dict:
    return {
        "channels": {
            "pager": {
                "type": "webhook",
                "url": "https://hooks.example/x",
                "secret_env": "HOOK_SECRET",
                **channel,
            }
        }
    }


def errors(data: dict) -> str:
    with pytest.raises(ValidationError) as raised:
        NotificationChannels.model_validate(data)
    return str(raised.value)


def test_secrets_are_named_never_given():
    assert "not an environment variable name" in errors(settings(secret_env="s3cr3t-v@lue"))


def test_tls_is_always_on():
    assert "expected an https:// URL" in errors(settings(url="http://hooks.example/x"))
    slack = {"channels": {"slack": {"type": "slack", "token_env": "T", "base_url": "http://x"}}}
    assert "expected an https:// URL" in errors(slack)


def test_unknown_keys_and_types_are_errors():
    assert "Extra inputs are not permitted" in errors(settings(verify=False))
    assert "does not match any of the expected tags" in errors(
        {"channels": {"teams": {"type": "teams"}}}
    )


def test_channel_names_are_slugs():
    data = {"channels": {"Pager Hook": settings()["channels"]["pager"]}}
    assert "expected a channel name" in errors(data)


def test_email_login_is_both_variables_or_neither_and_ports_follow_the_tls_mode():
    email = {"type": "email", "host": "smtp.acme.example", "sender": "esc@acme.example"}
    assert "found only one of username_env and password_env" in errors(
        {"channels": {"email": {**email, "username_env": "SMTP_USER"}}}
    )
    assert "expected an e-mail address" in errors(
        {"channels": {"email": {**email, "sender": "escalations"}}}
    )
    starttls = NotificationChannels.model_validate({"channels": {"email": email}})
    implicit = NotificationChannels.model_validate({"channels": {"email": {**email, "tls": "tls"}}})
    assert starttls.channels["email"].effective_port == 587
    assert implicit.channels["email"].effective_port == 465
    assert starttls.secret_refs() == []


@pytest.mark.integration
def test_the_sandbox_settings_open_one_working_channel_of_each_kind(channels):
    config = NotificationChannels.model_validate(channels.settings())
    environ = channels.environ()
    assert sorted(name for _, name in config.secret_refs()) == sorted(environ)

    opened = open_channels(config, environ.__getitem__)
    try:
        assert isinstance(opened["slack"], SlackChannel)
        assert isinstance(opened["email"], EmailChannel)
        assert isinstance(opened["pager-webhook"], WebhookChannel)
        targets = {"slack": "#escalations", "email": "owner@acme.example", "pager-webhook": ""}
        for name, channel in opened.items():
            sent = channel.send(Message(f"k-{name}", name, targets[name], "Subject", "Text"))
            assert sent.status is SendStatus.SENT, sent.detail
    finally:
        for channel in opened.values():
            channel.close()
    assert len(channels.slack.messages) == len(channels.smtp.received) == 1
    assert len(channels.webhook.deliveries) == 1
