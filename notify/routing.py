"""Pure: events -> the messages to store in the outbox: who, on which channel, from when.

Rules (notifications.yaml) match an event by kind, level, category and tier; each names
recipients and channels. A recipient is a role (owner, backup, previous_owner, account_owner,
account_csm), an e-mail address, a "#slack-channel" or a name under `recipients` (a queue).
On Slack a person gets a direct message (found by e-mail), a queue its channel; by e-mail,
anyone with an address; a webhook gets one message per event, naming every recipient.

Quiet hours: a person's message waits until their calendar opens, unless the rule or the level
says otherwise. A rule marked `digest` collects its messages for the recipient's daily digest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from config.notifications_rules import NotificationRule, NotificationsConfig, Recipient
from notify.events import Event

ROLE_TOKENS = ("owner", "backup", "previous_owner", "account_owner", "account_csm")


@dataclass(frozen=True)
class Addressee:
    """One recipient resolved: how to reach them and whose calendar keeps their quiet hours."""

    name: str
    email: str | None
    slack: str | None  # "#channel" or "user:<e-mail>"
    calendar: str | None
    person: bool


@dataclass(frozen=True)
class Routed:
    """One message the outbox will hold (rendering happens after routing)."""

    event: Event
    channel: str
    channel_type: str
    to: str  # the channel's address ("" for a webhook)
    recipient: str  # the name the rule resolved (for digests, quiet hours and the plan)
    audience: str
    not_before: datetime
    digest: bool
    recipients: tuple[str, ...] = field(default=())  # a webhook's: everyone the rule names

    @property
    def key(self) -> str:
        return f"{self.event.key}|{self.channel}|{self.to}"


def addressee(name: str, recipients: Mapping[str, Recipient]) -> Addressee | None:
    """How to reach a name the matrix or a rule gives; None when there is no way."""
    known = recipients.get(name)
    if name.startswith("#"):
        calendar = known.calendar if known else None
        return Addressee(name, None, name, calendar, False)
    email = known.email if known and known.email else (name if "@" in name else None)
    slack = known.slack if known and known.slack else (f"user:{email}" if email else None)
    if email is None and slack is None:
        return None
    person = "@" in name or (known is not None and known.slack is None)
    return Addressee(name, email, slack, known.calendar if known else None, person)


def matches(rule: NotificationRule, event: Event, category: str | None, tier: str) -> bool:
    return (
        event.kind in rule.events
        and (rule.levels is None or event.level in rule.levels)
        and (rule.categories is None or category in rule.categories)
        and (rule.tiers is None or tier in rule.tiers)
    )


class Router:
    """Routes one run's events; `opens_at(calendar, now)` gives when a calendar next opens."""

    def __init__(
        self,
        settings: NotificationsConfig,
        opens_at: Callable[[str, datetime], datetime],
    ):
        self.settings = settings
        self.opens_at = opens_at
        self.types = {name: channel.type for name, channel in settings.channels.items()}
        self.unaddressable: set[str] = set()

    def route(
        self,
        event: Event,
        people: Mapping[str, str | None],
        facts: Mapping[str, Any],
        now: datetime,
    ) -> list[Routed]:
        """Messages for one event. `people`: role -> name; `facts`: category, tier, role."""
        found: dict[str, Routed] = {}
        for rule in self.settings.rules:
            if not matches(rule, event, facts.get("category"), facts.get("tier") or "unknown"):
                continue
            audience = rule.audience or facts.get("role") or "technical"
            if audience not in ("technical", "commercial", "executive"):
                audience = "technical"
            names = self._names(rule, people)
            digest = self.settings.digest
            # A digest item goes by the digest's channel: it is read there, in one message.
            channels = [digest.channel] if rule.digest and digest is not None else rule.channels
            for channel in channels:
                for routed in self._for_channel(rule, event, channel, names, audience, now):
                    found.setdefault(routed.key, routed)
        return list(found.values())

    def _names(self, rule: NotificationRule, people: Mapping[str, str | None]) -> list[str]:
        names = []
        for token in rule.to:
            name = people.get(token) if token in ROLE_TOKENS else token
            if name and name not in names:
                names.append(name)
        return names

    def _for_channel(
        self,
        rule: NotificationRule,
        event: Event,
        channel: str,
        names: list[str],
        audience: str,
        now: datetime,
    ) -> list[Routed]:
        kind = self.types[channel]
        if kind == "webhook":
            return [
                Routed(event, channel, kind, "", "", audience, now, False, recipients=tuple(names))
            ]
        routed = []
        for name in names:
            who = addressee(name, self.settings.recipients)
            to = None
            if who is not None:
                to = who.slack if kind == "slack" else who.email
            if who is None or to is None:
                self.unaddressable.add(f"{name} ({kind})")
                continue
            digest = rule.digest and self.settings.digest is not None
            not_before = now if digest else self._after_quiet_hours(rule, event, who, now)
            routed.append(Routed(event, channel, kind, to, name, audience, not_before, digest))
        return routed

    def _after_quiet_hours(
        self, rule: NotificationRule, event: Event, who: Addressee, now: datetime
    ) -> datetime:
        quiet = self.settings.quiet_hours
        if not quiet.enabled or not rule.quiet_hours or event.level in quiet.except_levels:
            return now
        calendar = who.calendar or (quiet.default_calendar if who.person else None)
        if calendar is None:
            return now
        return max(now, self.opens_at(calendar, now)).astimezone(UTC)
