"""What a ticket already shows of earlier runs: the level in our field or tag, the SLA timer's
steps in our reason, and the level our last private note announced.

A run with no stored engine state for a ticket (the first run, or one after the state file
was lost) starts from what the ticket shows: its level is the previous level, so the run
neither announces it again nor repeats a timed step the fields already reflect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from config.schema import Config
from config.write_mapping import level_tag
from escalation.facts import PriorState
from mapping.records import Ticket, TicketStatus

_TIMER = re.compile(r"Escalated by the SLA timer \((\d+) steps?\)")
_NOTE_MARKER = re.compile(r"\[escalation-sync:([^\]]+)\]")


def timer_reason(steps: int) -> str:
    """How the reason field says the SLA timer moved the ticket up (read by `timer_steps`)."""
    return f"Escalated by the SLA timer ({steps} step{'s' if steps > 1 else ''})"


def timer_steps(reason: object) -> int:
    """The timed steps a reason field written by `timer_reason` records; 0 when none."""
    found = _TIMER.search(reason) if isinstance(reason, str) else None
    return int(found.group(1)) if found else 0


def note_key(ticket_ref: str, level: str) -> str:
    """A note's key names the event, the ticket reaching a level; never the run that saw it,
    so a run without memory still recognises the note on the ticket."""
    return f"{ticket_ref}>{level}"


def noted_level(ticket_ref: str, key: str, renamed: Mapping[str, str]) -> str:
    """The level a note key announced; keys of older versions are 'level@time'."""
    prefix = f"{ticket_ref}>"
    level = key[len(prefix) :] if key.startswith(prefix) else key.split("@", 1)[0]
    return renamed.get(level, level)


def last_marker(comment_texts: list[str]) -> str | None:
    """The key in the last note of ours among a ticket's comments (their texts, oldest first)."""
    found = None
    for text in comment_texts:
        markers = _NOTE_MARKER.findall(text)
        if markers:
            found = markers[-1]
    return found


def shown_level(ticket: Ticket, config: Config) -> str | None:
    """The level a Zendesk ticket shows in our level field, else in our tag; None if neither.

    Jira's level field holds the highest level among the issue and its customers' tickets,
    not the issue's own, so it says nothing about the issue's previous level.
    """
    if ticket.system != "zendesk":
        return None
    mapping = config.for_record("zendesk", ticket.id).mapping.zendesk  # its instance's fields
    levels = config.matrix.levels
    renamed = config.matrix.renamed
    write = mapping.write.level
    value = ticket.managed_fields.get("level") if write is not None else None
    if write is not None and isinstance(value, str) and value.strip():
        value = value.strip()
        if write.format == "dropdown":
            by_option = {option: level for level, option in (write.options or {}).items()}
            value = by_option.get(value, value)
        level = renamed.get(value, value)
        if level in levels:
            return level
    prefix = mapping.tags_prefix
    if not prefix:
        return None
    # Tags carry the slug of a level's name (level_tag), so compare slugs, old names included.
    tags = set(ticket.tags)
    for level in reversed(levels):
        names = [level, *(old for old, new in renamed.items() if new == level)]
        if any(level_tag(prefix, name) in tags for name in names):
            return level
    return None


def shows_our_work(ticket: Ticket, config: Config) -> bool:
    """Whether an earlier run wrote to this ticket or issue (a value in a field we manage)."""
    return shown_level(ticket, config) is not None or any(
        value not in (None, "", []) for value in ticket.managed_fields.values()
    )


def prior_from_shown(ticket: Ticket, config: Config, now: datetime) -> PriorState | None:
    """The engine state a ticket without one starts from: the level it shows.

    The level counts from now (a quiet period before it may fall starts again, never
    shortened); timed steps the reason records count as taken when the ticket last changed,
    so the next step re-arms from there instead of being taken again at once. A closed
    ticket cannot be changed any more, nor can a deleted one: they get none.
    """
    if ticket.status in (TicketStatus.CLOSED, TicketStatus.DELETED):
        return None
    level = shown_level(ticket, config)
    if level is None:
        return None
    steps = timer_steps(ticket.managed_fields.get("reason"))
    return PriorState(level, now, None, steps, ticket.updated_at if steps else None)
