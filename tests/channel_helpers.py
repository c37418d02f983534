"""Shared by the channel tests: one channel sandbox per module, reset for each test."""

from __future__ import annotations

from connectors.channels import Message


def message(
    to: str, key: str = "ticket:101|level_raised|action_needed|2026-11-23T09:00Z", **fields
) -> Message:
    """A notification as the outbox would store it; `fields` override the defaults."""
    values = {
        "channel": "slack",
        "subject": "Ticket 101 raised to action needed",
        "text": "Ticket 101 (Globex) is now action needed: 3 reopens. Next update due 10:00.",
    }
    values.update(fields)
    return Message(key=key, to=to, **values)
