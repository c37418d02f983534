"""The `notifications:` section (notifications.yaml): who hears of which event, how and when.

The channels themselves (Slack, SMTP, webhooks) are config/notifications_schema.py; this adds
the rules on top of them:

    notifications:
      channels: {...}                         # config/notifications_schema.py
      recipients:                             # queues and people the matrix names
        escalation-engineering: {email: esc-eng@acme.example, slack: "#escalations"}
        vp.customer-success@acme.example: {calendar: amer}
      rules:
        - {events: [level_raised], levels: [action-needed, executive-review],
           to: [owner, backup, "#escalations"], channels: [slack, email]}
      quiet_hours: {default_calendar: emea, except_levels: [executive-review]}
      digest: {levels: [informational, advisory], at: "09:00", channel: email}
      max_per_ticket_per_hour: 6
      give_up_after: 24h

Durations here are wall-clock ("30m", "2h", "1d" = 24 hours): a send is retried, a reminder
is due, in real time. Names that point elsewhere (levels, categories, tiers, calendars,
channels) are checked by `Config.config_problems`, which sees the matrix too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

from config.base import StrictModel, resolve_path
from config.notifications_schema import Address, ChannelName, NotificationChannels

# Recipients a rule names by role; anything else is an e-mail address, a "#slack-channel" or a
# name under `recipients`.
ROLE_RECIPIENTS = ("owner", "backup", "previous_owner", "account_owner", "account_csm")

_WALL = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_SLACK_CHANNEL = re.compile(r"^#[a-z0-9][a-z0-9._-]{0,79}$")


def wall_seconds(text: str) -> int:
    """ "30m", "2h", "1d" (24 hours), "1d6h" -> seconds; ValueError with what is expected."""
    match = _WALL.match(text) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise ValueError(
            f"found {text!r}; expected a wall-clock duration like '30m', '2h' or '1d' "
            "(d = 24 hours, h = hours, m = minutes)"
        )
    days, hours, minutes = (int(part) if part else 0 for part in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60


def _wall(value: object) -> str:
    wall_seconds(value)  # type: ignore[arg-type]
    return str(value)


def _clock(value: str) -> str:
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ValueError(f"found {value!r}; expected a local time such as '09:00'")
    return value


def _slack_target(value: str) -> str:
    if not _SLACK_CHANNEL.match(value):
        raise ValueError(
            f"found {value!r}; expected a Slack channel such as '#escalations' (lowercase)"
        )
    return value


def _recipient(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"found {value!r}; expected a recipient")
    return value.strip()


WallDuration = Annotated[str, AfterValidator(_wall)]
LocalTime = Annotated[str, AfterValidator(_clock)]
SlackTarget = Annotated[str, AfterValidator(_slack_target)]
Event = Literal[
    "level_raised",
    "owner_changed",
    "sla_at_risk",
    "sla_breached",
    "update_due",
    "de_escalated",
    "resolved",
]
Audience = Literal["technical", "commercial", "executive"]
# The one list of each: rules are validated against the Literal types.
EVENTS: tuple[str, ...] = get_args(Event)
AUDIENCES: tuple[str, ...] = get_args(Audience)


class Recipient(StrictModel):
    """How to reach a queue or person the matrix names, and the calendar of their quiet hours."""

    email: Address | None = None
    slack: SlackTarget | None = None  # a channel for a queue; a person is found by e-mail
    calendar: str | None = None


class NotificationRule(StrictModel):
    """event x level (x category x tier) -> recipients on channels. Left out = any."""

    events: list[Event] = Field(min_length=1)
    levels: list[str] | None = None
    categories: list[str] | None = None
    tiers: list[str] | None = None
    to: list[Annotated[str, AfterValidator(_recipient)]] = Field(min_length=1)
    channels: list[ChannelName] = Field(min_length=1)
    audience: Audience | None = None  # default: the owner's role (technical when none)
    quiet_hours: bool = True  # false: sent at once, at any hour
    digest: bool = False  # collected into the recipient's daily digest (see `digest`)


class QuietHours(StrictModel):
    """Messages wait while the recipient's calendar is closed, except at these levels."""

    enabled: bool = True
    default_calendar: str | None = None  # recipients without their own; default: the matrix's
    except_levels: list[str] = Field(default_factory=list)


class Digest(StrictModel):
    """A daily digest per recipient of the rules marked `digest: true` (the lowest levels)."""

    at: LocalTime = "09:00"  # in the recipient's calendar's time zone
    channel: ChannelName


class Debrief(StrictModel):
    """From which level a solved ticket's close-out asks for a debrief, and when it is due.

    `due_in` counts business days of the owner's calendar ("5d": five days it is open),
    unlike the wall-clock durations elsewhere in this section."""

    min_level: str = "action-needed"
    due_in: WallDuration = "5d"

    @property
    def due_days(self) -> int:
        """Whole business days (a part day counts as one)."""
        return max(1, -(-wall_seconds(self.due_in) // 86400))


def _templates_dir(value: object, info: ValidationInfo) -> Path | None:
    path = resolve_path(value, info)
    if path is not None and not path.is_dir():
        raise ValueError(f"found no folder at {path}; expected a folder of template files")
    return path


class NotificationsConfig(NotificationChannels):
    recipients: dict[str, Recipient] = Field(default_factory=dict)
    rules: list[NotificationRule] = Field(default_factory=list)
    at_risk_lead: WallDuration = "1h"  # before each SLA due time
    update_due_lead: WallDuration = "30m"  # the cadence reminder before the next update is due
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    digest: Digest | None = None
    max_per_ticket_per_hour: int = Field(6, ge=1, le=1000)
    retry_initial: WallDuration = "1m"  # backoff of a failing send: doubles up to retry_max
    retry_max: WallDuration = "1h"
    give_up_after: WallDuration = "1d"
    # How long one run may wait for short rate-limit waits (notify/deliver.py); "0m": none.
    rate_limit_wait: WallDuration = "2m"
    debrief: Debrief | None = Field(default_factory=Debrief)
    # Templates here replace the shipped ones of the same name (notify/templates/).
    templates_dir: Annotated[Path | None, BeforeValidator(_templates_dir)] = None


def notification_problems(
    notifications: NotificationsConfig, levels: tuple[str, ...], matrix: object
) -> list[tuple[tuple[str | int, ...], str]]:
    """Names the notifications section points at that the matrix or the channels lack.

    Key paths are relative to the config root; `matrix` is the MatrixConfig (tiers,
    categories, calendars)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    base: tuple[str | int, ...] = ("notifications",)
    channels = tuple(notifications.channels)
    tiers = tuple(getattr(matrix, "tiers", ()))
    categories = getattr(matrix, "categories", None)
    calendars = tuple(getattr(matrix, "calendars", {}))

    def check(path: tuple[str | int, ...], value: str, names: tuple[str, ...], what: str) -> None:
        if value not in names:
            problems.append(
                (base + path, f"unknown {what} '{value}'; expected one of {', '.join(names)}")
            )

    for index, rule in enumerate(notifications.rules):
        where: tuple[str | int, ...] = ("rules", index)
        for i, level in enumerate(rule.levels or ()):
            check(where + ("levels", i), level, levels, "level")
        for i, tier in enumerate(rule.tiers or ()):
            check(where + ("tiers", i), tier, tiers, "tier")
        if categories is not None:
            for i, category in enumerate(rule.categories or ()):
                check(where + ("categories", i), category, tuple(categories), "category")
        for i, channel in enumerate(rule.channels):
            check(where + ("channels", i), channel, channels, "channel")
        if rule.digest and notifications.digest is None:
            message = "found digest: true but no `digest:` section; expected one (its time)"
            problems.append((base + where + ("digest",), message))
    for name, recipient in notifications.recipients.items():
        if recipient.calendar is not None:
            check(("recipients", name, "calendar"), recipient.calendar, calendars, "calendar")
    quiet = notifications.quiet_hours
    if quiet.default_calendar is not None:
        check(("quiet_hours", "default_calendar"), quiet.default_calendar, calendars, "calendar")
    for i, level in enumerate(quiet.except_levels):
        check(("quiet_hours", "except_levels", i), level, levels, "level")
    if notifications.digest is not None:
        check(("digest", "channel"), notifications.digest.channel, channels, "channel")
    if notifications.debrief is not None:
        check(("debrief", "min_level"), notifications.debrief.min_level, levels, "level")
    if wall_seconds(notifications.retry_initial) > wall_seconds(notifications.retry_max):
        message = f"found {notifications.retry_initial}, longer than retry_max; expected less"
        problems.append((base + ("retry_initial",), message))
    return problems
