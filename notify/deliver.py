"""Send what the outbox holds: after the field writes, one message at a time, never twice.

Each row is marked `sending` (committed) before its request leaves and gets its outcome
(committed) when the answer comes. A run killed between the two leaves `sending` rows: the
next run cannot know whether they arrived, so they become `unknown` and are not resent (a
webhook's are: its receiver drops a repeated Idempotency-Key). An unknown message on a channel
that can read back what it sent (Slack) is looked for on each run while it is younger than
`give_up_after`: found, it is sent; surely absent, it is sent now; otherwise it stays unknown. A channel answering RETRY is
tried again on a later run, after its Retry-After or the backoff (doubling from
`retry_initial` up to `retry_max`); one failing longer than `give_up_after` is given up, with
an entry in the audit log. A channel whose setup is wrong stops its own sends for the run and
nothing else: the field writes were made before any of this.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from config.notifications_rules import NotificationsConfig, wall_seconds
from connectors.channels import (
    SETUP,
    TURNED_OFF,
    Channel,
    Found,
    SendResult,
    SendStatus,
    SentLookup,
)
from notify.outbox import Outbox, OutboxRow
from notify.planner import message_from

Audit = Callable[[str, str, dict[str, Any]], None]
# A rate-limited send (Slack: one message a second per channel, after a short burst) asks for
# a wait of a second or two: the run waits for it and sends again, up to the run's budget
# (`rate_limit_wait`), instead of leaving the rest to a later run minutes away. Longer waits
# are never waited for in the run.
MAX_WAIT_IN_RUN = 10.0
# A lost post is looked for in messages posted after its row was stored, less this margin for
# a clock of ours running ahead of the vendor's.
CLOCK_MARGIN = timedelta(minutes=5)


@dataclass
class DeliveryReport:
    sent: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (key, vendor's words)
    retry: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)
    confirmed: int = 0  # unknown messages found at the vendor: sent after all
    resent_after_check: int = 0  # unknown messages surely absent at the vendor: sent again
    given_up: list[tuple[str, str]] = field(default_factory=list)
    deferred_by_cap: int = 0
    waiting_for_instance: int = 0  # debriefs whose Zendesk or org is turned off: they wait
    waited_seconds: float = 0.0  # for rate limits, within the run
    by_channel: Counter = field(default_factory=Counter)  # (channel, status) -> n

    @property
    def failed(self) -> bool:
        return bool(self.rejected or self.retry or self.unknown or self.given_up)

    def summary(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "rejected": len(self.rejected),
            "retry": len(self.retry),
            "unknown": len(self.unknown),
            "confirmed": self.confirmed,
            "resent_after_check": self.resent_after_check,
            "given_up": len(self.given_up),
            "deferred_by_cap": self.deferred_by_cap,
            "waiting_for_instance": self.waiting_for_instance,
            "waited_seconds": round(self.waited_seconds, 1),
            "by_channel": {f"{c}:{s}": n for (c, s), n in sorted(self.by_channel.items())},
        }


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Deliverer:
    """One run's sends through `channels` (name -> Channel)."""

    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        settings: NotificationsConfig,
        now: datetime,
        audit: Audit,
        idempotent: tuple[str, ...] = (),
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.outbox = outbox
        self.channels = channels
        self.settings = settings
        self.now = now.astimezone(UTC)
        self.audit = audit
        self.report = DeliveryReport()
        self.types = {name: c.type for name, c in settings.channels.items()}
        # Channels that find what they made before making it: resent after a kill.
        self.idempotent = idempotent
        self.sleep = sleep
        self.wait_left = float(wall_seconds(settings.rate_limit_wait))
        # (channel, to) -> (when, monotonic, and how long after `now`) a rate-limited target
        # may be sent to again: its other rows wait for a later run without a request each.
        self.limited: dict[tuple[str, str], tuple[float, float]] = {}

    def run(self) -> DeliveryReport:
        self._settle_interrupted()
        self._look_for_unknown()
        broken: set[str] = set()
        sent_events: dict[str, set[str]] = {}
        cap = self.settings.max_per_ticket_per_hour
        hour_ago = self.now - timedelta(hours=1)
        for row in self.outbox.due(self.now):
            if row.channel in broken:
                continue
            channel = self.channels.get(row.channel)
            if channel is None:  # a channel removed from the config since the row was stored
                self._finish(
                    row, SendResult(row.key, SendStatus.REJECTED, "channel not configured")
                )
                continue
            events = sent_events.get(row.ticket_ref)
            if events is None:
                events = sent_events[row.ticket_ref] = self.outbox.events_sent_since(
                    row.ticket_ref, hour_ago
                )
            if row.event_key not in events and len(events) >= cap:
                self.report.deferred_by_cap += 1
                later = (self.now + timedelta(hours=1)).isoformat()
                self.outbox.set_state(row.key, "pending", "over the hourly cap", not_before=later)
                continue
            target = (row.channel, str(row.message.get("to") or ""))
            until, wait = self.limited.get(target, (0.0, 0.0))
            if until > time.monotonic():  # the vendor's wait, from this run's `now`
                later = (self.now + timedelta(seconds=wait)).isoformat()
                self.outbox.set_state(row.key, "pending", "rate-limited", not_before=later)
                self.report.retry.append((row.key, "rate-limited"))
                continue
            self.outbox.set_state(row.key, "sending", None, attempts=row.attempts + 1)
            result = self._send(channel, row)
            if result.status is SendStatus.RETRY and result.detail.startswith(TURNED_OFF):
                # Its record's instance is turned off: no failure, no step towards giving up.
                self.report.waiting_for_instance += 1
                again = self.now + timedelta(seconds=wall_seconds(self.settings.retry_initial))
                self.outbox.set_state(
                    row.key, "pending", result.detail, attempts=row.attempts,
                    not_before=again.isoformat(),
                )  # fmt: skip
                continue
            if result.status is SendStatus.RETRY and result.retry_after is not None:
                wait = result.retry_after
                self.limited[target] = (time.monotonic() + wait, wait)
            self._finish(row, result)
            if result.status is SendStatus.SENT:
                events.add(row.event_key)
            elif result.status is SendStatus.RETRY and result.detail.startswith(SETUP):
                broken.add(row.channel)
        return self.report

    def _send(self, channel: Channel, row: OutboxRow) -> SendResult:
        """One send; a short rate-limit wait is waited for and the send made again (the
        vendor refused it, so it did not arrive), while the run's budget lasts."""
        message = message_from(row.message)
        result = channel.send(message)
        while (
            result.status is SendStatus.RETRY
            and result.retry_after is not None
            and result.retry_after <= min(MAX_WAIT_IN_RUN, self.wait_left)
        ):
            wait = max(result.retry_after, 0.0)
            self.sleep(wait)
            self.wait_left -= max(wait, 0.01)  # a zero wait still spends the budget
            self.report.waited_seconds += wait
            result = channel.send(message)
        return result

    def _settle_interrupted(self) -> None:
        """Rows a killed run left `sending`: unknown, except a webhook's (deduped by key)."""
        for row in self.outbox.in_state("sending"):
            if self.types.get(row.channel) == "webhook" or row.channel in self.idempotent:
                self.outbox.set_state(row.key, "pending", "resent: the receiver dedupes by key")
                continue
            detail = "sent; the run ended before the answer"
            self.outbox.set_state(row.key, "unknown", detail)
            self.report.unknown.append((row.key, detail))
            self.audit("notification_unknown", row.ticket_ref, {"key": row.key, "detail": detail})

    def _look_for_unknown(self) -> None:
        """Ask channels that can read back (SentLookup) about their unknown messages."""
        too_old = self.now - timedelta(seconds=wall_seconds(self.settings.give_up_after))
        for row in self.outbox.in_state("unknown"):
            channel = self.channels.get(row.channel)
            if not isinstance(channel, SentLookup) or not row.created_at:
                continue
            if _at(row.created_at) < too_old:
                continue
            check = channel.find_sent(message_from(row.message), _at(row.created_at) - CLOCK_MARGIN)
            if check.found is Found.CANNOT_TELL:
                self.outbox.set_state(row.key, "unknown", check.detail)
                continue
            self.report.unknown = [entry for entry in self.report.unknown if entry[0] != row.key]
            details = {"key": row.key, "channel": row.channel, "detail": check.detail}
            if check.found is Found.THERE:
                self.report.confirmed += 1
                self.outbox.set_state(
                    row.key, "sent", check.detail,
                    sent_at=self.now.isoformat(), remote_id=check.remote_id,
                )  # fmt: skip
                self.audit("notification_confirmed", row.ticket_ref, details)
            else:
                self.report.resent_after_check += 1
                self.outbox.set_state(row.key, "pending", check.detail, not_before=row.created_at)
                self.audit("notification_resent_after_check", row.ticket_ref, details)

    def _finish(self, row: OutboxRow, result: SendResult) -> None:
        status = result.status
        self.report.by_channel[(row.channel, status.value)] += 1
        if status is SendStatus.SENT:
            self.report.sent += 1
            self.outbox.set_state(
                row.key, "sent", result.detail or None,
                sent_at=self.now.isoformat(), remote_id=result.remote_id,
            )  # fmt: skip
            return
        entry = (row.key, result.detail)
        if status is SendStatus.REJECTED:
            self.report.rejected.append(entry)
            self.outbox.set_state(row.key, "rejected", result.detail)
            self.audit("notification_rejected", row.ticket_ref, _detail(row, result))
        elif status is SendStatus.UNKNOWN:
            self.report.unknown.append(entry)
            self.outbox.set_state(row.key, "unknown", result.detail)
            self.audit("notification_unknown", row.ticket_ref, _detail(row, result))
        else:
            self._retry_later(row, result)

    def _retry_later(self, row: OutboxRow, result: SendResult) -> None:
        first = _at(row.first_failed_at) if row.first_failed_at else self.now
        if self.now - first >= timedelta(seconds=wall_seconds(self.settings.give_up_after)):
            self.report.given_up.append((row.key, result.detail))
            self.outbox.set_state(row.key, "given_up", result.detail)
            self.audit(
                "notification_given_up",
                row.ticket_ref,
                {**_detail(row, result), "failing_since": first.isoformat()},
            )
            return
        self.report.retry.append((row.key, result.detail))
        initial = wall_seconds(self.settings.retry_initial)
        backoff = min(initial * 2 ** max(row.attempts, 0), wall_seconds(self.settings.retry_max))
        wait = max(float(backoff), result.retry_after or 0.0)
        self.outbox.set_state(
            row.key,
            "pending",
            result.detail,
            not_before=(self.now + timedelta(seconds=wait)).isoformat(),
            first_failed_at=first.isoformat(),
        )


def _detail(row: OutboxRow, result: SendResult) -> dict[str, Any]:
    return {
        "key": row.key,
        "event": row.event,
        "channel": row.channel,
        "recipient": row.recipient,
        "status": result.status.value,
        "detail": result.detail,
    }
