"""Pure: one run's ticket changes -> the rendered outbox rows (events, routes, texts).

Rendering happens here, at planning time, so a message retried on a later run says what it
said when it was planned, and `plan` shows exactly what a run would send.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from config.notifications_rules import NotificationsConfig, wall_seconds
from connectors.channels import Message
from escalation.decision import Decision
from mapping.records import Account, Ticket
from notify.context import no_debrief_extras, ticket_context
from notify.events import Before, Event, Timing, derive_events
from notify.outbox import OutboxRow
from notify.routing import Routed, Router
from notify.templates import Templates


@dataclass(frozen=True)
class TicketChange:
    """A ticket as this run decided it, and what the last run left of it."""

    ticket: Ticket
    account: Account | None
    decision: Decision
    before: Before
    timeline: tuple[dict[str, str], ...] = ()


@dataclass
class NotificationPlan:
    rows: list[OutboxRow] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    unaddressable: set[str] = field(default_factory=set)


def timing(settings: NotificationsConfig, levels: Sequence[str]) -> Timing:
    debrief = settings.debrief
    return Timing(
        timedelta(seconds=wall_seconds(settings.at_risk_lead)),
        timedelta(seconds=wall_seconds(settings.update_due_lead)),
        list(levels).index(debrief.min_level)
        if debrief is not None and debrief.min_level in levels
        else None,
    )


class NotificationPlanner:
    """Everything one run's planning needs; `plan(changes)` does it."""

    def __init__(
        self,
        settings: NotificationsConfig,
        levels: Sequence[str],
        templates: Templates,
        opens_at: Callable[[str, datetime], datetime],
        time_zones: Mapping[str, str],  # calendar -> time zone
        links: Callable[[Ticket, Account | None], dict[str, str]],
        now: datetime,
    ):
        self.settings = settings
        self.levels = tuple(levels)
        self.rank = {name: index for index, name in enumerate(self.levels)}
        self.templates = templates
        self.router = Router(settings, opens_at)
        self.time_zones = time_zones
        self.links = links
        self.now = now
        self.timing = timing(settings, self.levels)

    def events(self, change: TicketChange) -> list[Event]:
        decision = change.decision
        return derive_events(
            change.before,
            decision,
            change.ticket.status.is_open,
            self.now,
            self.rank,
            self.timing,
        )

    def plan(self, changes: Sequence[TicketChange]) -> NotificationPlan:
        result = NotificationPlan()
        for change in changes:
            for event in self.events(change):
                result.events.append(event)
                people = self._people(change, event)
                facts = {
                    "category": change.ticket.category,
                    "tier": change.account.tier if change.account else "unknown",
                    "role": change.decision.owner.role if change.decision.owner else None,
                }
                for routed in self.router.route(event, people, facts, self.now):
                    result.rows.append(self._row(change, routed))
        result.unaddressable = set(self.router.unaddressable)
        return result

    def _people(self, change: TicketChange, event: Event) -> dict[str, str | None]:
        owner = change.decision.owner
        account = change.account
        return {
            "owner": (owner.current if owner else None) or event.previous_owner,
            "backup": owner.backup if owner else None,
            "previous_owner": event.previous_owner,
            "account_owner": account.owner if account else None,
            "account_csm": account.csm if account else None,
        }

    def _time_zone(self, routed: Routed) -> str:
        recipient = self.settings.recipients.get(routed.recipient)
        calendar = (recipient.calendar if recipient else None) or (
            self.settings.quiet_hours.default_calendar
        )
        return self.time_zones.get(calendar or "", "UTC")

    def context(self, change: TicketChange, event: Event, time_zone: str) -> dict[str, Any]:
        metric = change.decision.sla.get(event.metric) if event.metric else None
        context = ticket_context(
            change.ticket,
            change.account,
            change.decision,
            self.now,
            self.levels,
            previous_level=event.previous_level,
            previous_owner=event.previous_owner,
            time_zone=time_zone,
            timeline=change.timeline,
            metric=metric,
            debrief=event.debrief,
            max_level=change.before.max_level,
        )
        return {**context, **no_debrief_extras(), "event": event.kind}

    def _row(self, change: TicketChange, routed: Routed) -> OutboxRow:
        event = routed.event
        context = self.context(change, event, self._time_zone(routed))
        context["recipient"] = routed.recipient
        rendered = self.templates.message(event.kind, routed.audience, context)
        links = self.links(change.ticket, change.account)
        message = Message(
            key=routed.key,
            channel=routed.channel,
            to=routed.to,
            subject=rendered.subject,
            text=f"{rendered.subject}\n{rendered.body}",
            html=as_html(rendered.subject, rendered.body, links)
            if routed.channel_type == "email"
            else None,
            blocks=as_blocks(rendered.subject, rendered.body, links)
            if routed.channel_type == "slack"
            else (),
            payload={
                "key": routed.key,
                "event": event.kind,
                "ticket": event.ticket_ref,
                "level": event.level,
                "due": event.due,
                "recipients": list(routed.recipients),
                "subject": rendered.subject,
                "text": rendered.body,
                "links": links,
            }
            if routed.channel_type == "webhook"
            else None,
        )
        return OutboxRow(
            key=routed.key,
            event_key=event.key,
            ticket_ref=event.ticket_ref,
            event=event.kind,
            level=event.level,
            channel=routed.channel,
            recipient=routed.recipient or routed.channel,
            message=message_fields(message),
            state="suppressed" if event.suppressed else "digest" if routed.digest else "pending",
            created_at=self.now.astimezone(UTC).isoformat(),
            not_before=routed.not_before.astimezone(UTC).isoformat(),
        )


def message_fields(message: Message) -> dict[str, Any]:
    return {
        "key": message.key,
        "channel": message.channel,
        "to": message.to,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "blocks": list(message.blocks),
        "payload": dict(message.payload) if message.payload is not None else None,
    }


def message_from(fields: Mapping[str, Any]) -> Message:
    return Message(
        key=fields["key"],
        channel=fields["channel"],
        to=fields["to"],
        subject=fields["subject"],
        text=fields["text"],
        html=fields.get("html"),
        blocks=tuple(fields.get("blocks") or ()),
        payload=fields.get("payload"),
    )


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def as_blocks(subject: str, body: str, links: Mapping[str, str]) -> tuple[dict[str, Any], ...]:
    """Block Kit: the subject, the body (reasons and the due time), links to the records."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(body)[:2900]}},
    ]
    if links:
        elements = [
            {"type": "mrkdwn", "text": f"<{url}|{_slack_escape(name)}>"}
            for name, url in links.items()
        ]
        blocks.append({"type": "context", "elements": elements[:10]})
    return tuple(blocks)


def as_html(subject: str, body: str, links: Mapping[str, str]) -> str:
    lines = "".join(f"{html.escape(line)}<br>\n" for line in body.splitlines())
    anchors = " | ".join(
        f'<a href="{html.escape(url, quote=True)}">{html.escape(name)}</a>'
        for name, url in links.items()
    )
    return (
        f"<html><body><h3>{html.escape(subject)}</h3>\n<p>{lines}</p>"
        + (f"<p>{anchors}</p>" if anchors else "")
        + "</body></html>"
    )


__all__ = ["Before", "NotificationPlan", "NotificationPlanner", "TicketChange", "message_from"]
