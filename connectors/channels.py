"""The contract between the notification outbox and the channels that deliver its messages.

A channel (Slack, e-mail, a signed HTTPS webhook) knows its vendor and nothing about escalation:
it takes one `Message` and answers one `SendResult`. It never raises for a vendor's answer or a
network failure, and it never retries on its own: the outbox owns retries, backoff and giving
up, because only the outbox (which stores a message before it is sent) can keep a message from
being sent twice.

What a status promises:

- SENT: the vendor accepted the message (`remote_id` says where, when the vendor says so).
- RETRY: it surely did not arrive, or the vendor dedupes a resend (the webhook's
  Idempotency-Key); send it again later, after `retry_after` seconds when the vendor said so.
  A channel whose setup is wrong (credentials, scopes, the CA) also answers RETRY, with a detail
  that begins "channel setup:": the message is fine, the channel is not, and it goes once the
  setup is fixed (or is given up after the outbox's configured age).
- REJECTED: the vendor refused this message for good (no such channel, user or mailbox, a
  message too long); sending it again cannot help.
- UNKNOWN: the request left and its answer was lost (a reset, a timeout, a 5xx that may follow
  a partial success). Slack and SMTP offer no idempotency key, so a resend may show the message
  twice: the outbox must not resend it blindly (the issue asks for never twice), only record it.
  An e-mail resent anyway carries the same Message-ID, and a Slack post the key in its metadata,
  so a person (or a later reconciliation) can recognise it.

A channel that can read back what it sent (Slack: the conversation's history, where each post
carries its key in metadata) also offers `find_sent` (`SentLookup`): the outbox asks it about
each unknown message on a later run, and marks it sent, or sends it (surely not there), or
leaves it unknown when the channel cannot tell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from config.notifications_schema import NotificationChannels

SETUP = "channel setup: "  # how a RETRY detail says the channel, not the message, is at fault
# How a RETRY detail says the record's instance is turned off (`enabled: false`): the message
# waits, neither failing nor running towards give_up_after, until it is turned on again.
TURNED_OFF = "turned off: "


@dataclass(frozen=True)
class Message:
    """One notification to one recipient on one channel, as the outbox stored it."""

    key: str  # the outbox key (ticket, event, level, due): idempotency, never sent twice
    channel: str  # the configured channel name (e.g. "slack", "email", "pager-webhook")
    # Slack: "#channel-name", a channel id, or "user:<e-mail>" (a DM, found by
    # users.lookupByEmail); e-mail: an address; webhook: "".
    to: str
    subject: str
    text: str  # plain text (Slack fallback text; e-mail text part)
    html: str | None = None  # e-mail HTML part
    blocks: tuple[dict[str, Any], ...] = ()  # Slack Block Kit blocks
    payload: Mapping[str, Any] | None = None  # webhook JSON body (default: `default_payload`)


class SendStatus(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SendResult:
    key: str
    status: SendStatus
    detail: str = ""  # one line for the log and the audit: the vendor's words, never a secret
    remote_id: str | None = None  # Slack "channel:ts", the e-mail Message-ID, a webhook's id
    retry_after: float | None = None  # seconds the vendor asked us to wait (429 Retry-After)


class Channel(Protocol):
    """What the outbox sends through. `close` ends connections held between sends."""

    name: str

    def send(self, message: Message) -> SendResult: ...

    def close(self) -> None: ...


class Found(StrEnum):
    THERE = "there"  # the vendor has it: it was sent
    ABSENT = "absent"  # read to the end, not there: it was not sent, sending it is safe
    CANNOT_TELL = "cannot tell"  # the read failed or was cut short: ask again later


@dataclass(frozen=True)
class SentCheck:
    found: Found
    detail: str  # one line for the log and the audit
    remote_id: str | None = None  # where it is, when THERE


@runtime_checkable
class SentLookup(Protocol):
    """A channel that can tell whether a message reached the vendor (posted after `since`)."""

    def find_sent(self, message: Message, since: datetime) -> SentCheck: ...


def default_payload(message: Message) -> dict[str, Any]:
    """The webhook body when the message brings none: every field a bridge may need."""
    return {
        "key": message.key,
        "channel": message.channel,
        "to": message.to,
        "subject": message.subject,
        "text": message.text,
    }


def open_channels(
    settings: NotificationChannels, secret: Callable[[str], str]
) -> dict[str, Channel]:
    """name -> channel for every configured channel; `secret(env_name)` reads one, now."""
    # Imported here: a config with only e-mail must not need slack_sdk to load.
    channels: dict[str, Channel] = {}
    for name, channel in settings.channels.items():
        if channel.type == "slack":
            from connectors.slack import from_settings as slack_channel

            channels[name] = slack_channel(name, channel, secret)
        elif channel.type == "email":
            from connectors.email import from_settings as email_channel

            channels[name] = email_channel(name, channel, secret)
        else:
            from connectors.webhook import from_settings as webhook_channel

            channels[name] = webhook_channel(name, channel, secret)
    return channels
