"""What a template may use: one plain mapping per ticket and moment, the same for every text.

Plain values only (strings, numbers, lists, dicts): the sandboxed templates see no objects of
ours, and a template written against the sample in `sample_context` works on real decisions,
because both are built here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from escalation.decision import Decision, MetricSla, Owner, Reason, ReasonKind, SlaState
from escalation.facts import PriorState
from mapping.records import Account, Ticket, TicketStatus

DRAFT_FROM_LEVEL_RANK = 3  # the customer update draft from action-needed (the 4th level) up


def relative(moment: datetime, now: datetime) -> str:
    """ "in 2h 15m", "40m ago": how far a moment is, as a person says it."""
    seconds = int((moment - now).total_seconds())
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes or not parts else []
    text = " ".join(parts[:2])
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def moment(at: datetime, now: datetime, time_zone: str) -> dict[str, str]:
    """A due time in the reader's words: their local time and how far it is, and UTC."""
    local = at.astimezone(ZoneInfo(time_zone))
    return {
        "utc": at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "local": f"{local:%a %d %b %H:%M} {local.tzname()} ({relative(at, now)})",
        "iso": at.astimezone(UTC).isoformat(),
    }


def _owner(owner: Owner | None) -> dict[str, Any]:
    if owner is None:
        return {"current": None, "primary": None, "backup": None, "role": "technical"}
    return {
        "current": owner.current,
        "primary": owner.primary,
        "backup": owner.backup,
        "role": owner.role,
    }


def _sla(metric: MetricSla, now: datetime, time_zone: str) -> dict[str, Any]:
    return {
        "metric": metric.metric.replace("_", " "),
        "name": metric.metric,
        "state": metric.state.value,
        **moment(metric.due_at, now, time_zone),
    }


def running(decision: Decision) -> list[MetricSla]:
    """The SLA metrics not met yet and not paused, soonest first."""
    found = [m for m in decision.sla.values() if m.met_at is None and not m.paused]
    return sorted(found, key=lambda m: m.due_at)


def ticket_context(
    ticket: Ticket,
    account: Account | None,
    decision: Decision,
    now: datetime,
    levels: Sequence[str],
    *,
    previous_level: str | None = None,
    previous_owner: str | None = None,
    time_zone: str = "UTC",
    timeline: Sequence[dict[str, str]] = (),
    metric: MetricSla | None = None,
    debrief: bool = False,
    max_level: str | None = None,
) -> dict[str, Any]:
    """Everything the templates know of one ticket at `now` (see the module docstring)."""
    rank = {name: index for index, name in enumerate(levels)}
    metrics = running(decision)
    update = decision.sla.get("next_update")
    return {
        "ticket": {
            "ref": ticket.ref,
            "id": ticket.id,
            "key": ticket.key,
            "system": ticket.system,
            "subject": ticket.subject,
            "url": ticket.url,
            "category": ticket.category,
            "severity": ticket.severity,
            "status": ticket.status.value,
            "jira": [link[5:] for link in ticket.linked if link.startswith("jira:")],
        },
        "account": {
            "id": account.id if account else None,
            "name": account.name if account else None,
            "tier": account.tier if account else "unknown",
            "arr": account.arr if account else None,
            "renewal_date": account.renewal_date.isoformat()
            if account and account.renewal_date
            else None,
            "owner": account.owner if account else None,
            "csm": account.csm if account else None,
        },
        "level": decision.level,
        "previous_level": previous_level,
        "lowest_level": levels[0],
        "max_level": max_level or decision.level,
        "level_rank": rank.get(decision.level, 0),
        "draft_from_rank": DRAFT_FROM_LEVEL_RANK,
        "owner": _owner(decision.owner),
        "previous_owner": previous_owner,
        "reasons": [reason.text for reason in decision.reasons],
        "breached": [m.metric.replace("_", " ") for m in metrics if m.state is SlaState.BREACHED],
        "at_risk": [m.metric.replace("_", " ") for m in metrics if m.state is SlaState.AT_RISK],
        "next_due": _sla(metrics[0], now, time_zone) if metrics else None,
        "next_update_due": _sla(update, now, time_zone)
        if update is not None and update.met_at is None and not update.paused
        else None,
        "sla": _sla(metric, now, time_zone) if metric is not None else None,
        "timeline": list(timeline),
        "debrief": debrief,
        "now": moment(now, now, time_zone),
    }


def sample_context(levels: Sequence[str]) -> dict[str, Any]:
    """A made-up decision with every variable filled: what `validate` renders templates with."""
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    top = levels[-1]
    ticket = Ticket(
        "zendesk",
        "101",
        "Checkout fails for every EU customer",
        TicketStatus.OPEN,
        now - timedelta(hours=5),
        now,
        url="https://acme.zendesk.com/agent/tickets/101",
        severity=1,
        category="outage",
        linked=("jira:ENG-15",),
    )
    account = Account(
        "001SAMPLE", "Globex", "strategic", date(2027, 1, 31), 250000.0, "ae@acme.example"
    )
    due = MetricSla("next_update", 3600.0, now + timedelta(hours=1), 3600.0, SlaState.AT_RISK)
    decision = Decision(
        ticket.ref,
        top,
        levels[0],
        now,
        Owner("executive", "vp.customer-success@acme.example", "coo@acme.example"),
        {"next_update": due},
        (Reason(ReasonKind.TRIGGER, "sev1-outage", top, "Sev-1 outage on a strategic account"),),
        PriorState(top, now),
    )
    timeline = [
        {"at": "2026-11-23 04:00 UTC", "text": f"escalated {levels[0]} -> {top}"},
        {"at": "2026-11-23 06:00 UTC", "text": "owner changed to vp.customer-success@acme.example"},
    ]
    context = ticket_context(
        ticket,
        account,
        decision,
        now,
        levels,
        previous_level=levels[0],
        previous_owner="support-tier2",
        timeline=timeline,
        metric=due,
        debrief=True,
    )
    context.update(
        {
            "audience": "technical",
            "event": "level_raised",
            "recipient": "vp.customer-success@acme.example",
            "items": ["zendesk:101 raised to advisory"],
            "owners": ["support-tier2", "vp.customer-success@acme.example"],
            "metrics": [
                {"name": "acknowledge", "taken": "25m", "target": "30m", "breached": False}
            ],
            "breaches": 0,
        }
    )
    return context


def debrief_extras(
    owners: Sequence[str], metrics: Sequence[dict[str, Any]], breaches: int
) -> dict[str, Any]:
    """The debrief's own variables (the other templates see them too, empty)."""
    return {"owners": list(owners), "metrics": list(metrics), "breaches": breaches}


def no_debrief_extras() -> dict[str, Any]:
    return {"owners": [], "metrics": [], "breaches": 0, "items": [], "recipient": ""}


def is_ended(decision: Decision) -> bool:
    return any(r.kind is ReasonKind.ENDED for r in decision.reasons)
