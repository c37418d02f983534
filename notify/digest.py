"""The daily digest: messages of the rules marked `digest` wait in the outbox, per recipient,
until the digest time of the recipient's calendar; then one message carries them all.

The digest's key names the recipient and the local day, so a day has one digest per recipient
and channel; what comes in after it waits for the next day's. Building it and marking its items
happen in one transaction: a crash leaves either both or neither.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from config.notifications_rules import NotificationsConfig
from notify.outbox import Outbox, OutboxRow
from notify.templates import Templates


def collect_digests(
    outbox: Outbox,
    settings: NotificationsConfig,
    templates: Templates,
    time_zone_of: Callable[[str], str],
    now: datetime,
) -> int:
    """Turn the waiting items of every recipient whose digest time has come into one pending
    message each; returns how many digests were made."""
    digest = settings.digest
    if digest is None:
        return 0
    waiting: dict[tuple[str, str, str], list[OutboxRow]] = {}
    for row in outbox.in_state("digest"):
        to = row.message["to"]
        waiting.setdefault((digest.channel, to, row.recipient), []).append(row)
    hour, minute = (int(part) for part in digest.at.split(":"))
    made = 0
    for (channel, to, recipient), rows in sorted(waiting.items()):
        zone = ZoneInfo(time_zone_of(recipient))
        local = now.astimezone(zone)
        if local.time() < time(hour, minute):
            continue
        key = f"digest|{channel}|{to}|{local.date().isoformat()}"
        items = [row.message["subject"] for row in rows]
        text = templates.render(
            "digest.j2", {"recipient": recipient, "items": items, "now": local.isoformat()}
        )
        subject = text.partition("\n")[0]
        row = OutboxRow(
            key=key,
            event_key=key,
            ticket_ref=f"digest:{recipient}",
            event="digest",
            level="",
            channel=channel,
            recipient=recipient,
            message={
                "key": key,
                "channel": channel,
                "to": to,
                "subject": subject.strip(),
                "text": text,
                "html": None,
                "blocks": [],
                "payload": None,
            },
            state="pending",
            created_at=now.astimezone(UTC).isoformat(),
            not_before=now.astimezone(UTC).isoformat(),
        )
        with outbox.transaction():
            if outbox.add([row]):
                for item in rows:
                    outbox.set_state(item.key, "digested", key)
                made += 1
    return made
