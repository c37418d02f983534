"""The "Now" section: open escalations, owner accountability, bottlenecks, unmatched tickets."""

from __future__ import annotations

from collections import defaultdict

from report.data import ReportData
from report.derive import Derived, hours_between, short_time
from report.tables import Table

BOTTLENECK_ROWS = 25
SEVERAL_HANDOFFS = 2


def open_escalations(data: ReportData, derived: Derived) -> Table:
    rows = []
    for ticket in derived.escalations:
        state = derived.state[ticket.ref]
        account = data.accounts.get(ticket.account_id or "")
        rows.append(
            (
                ticket.level,
                ticket.label,
                ticket.subject,
                account.name if account else None,
                ticket.tier,
                ticket.owner,
                ticket.backup,
                ticket.role,
                short_time(state.due_soonest),
                state.due_metric,
                ", ".join(state.breached) or "no",
                round(hours_between(ticket.level_since, data.now), 1),
            )
        )
    return Table(
        "open_escalations",
        "Open escalations by level",
        (
            "level",
            "ticket",
            "subject",
            "account",
            "tier",
            "owner",
            "backup",
            "role",
            "due soonest",
            "due metric",
            "breached",
            "hours at level",
        ),
        rows,
        "Highest level first, then the soonest due time.",
        html_limit=200,
    )


def owner_accountability(data: ReportData, derived: Derived) -> Table:
    held: dict[str, list] = defaultdict(list)
    backing: dict[str, int] = defaultdict(int)
    for ticket in derived.escalations:
        held[ticket.owner or "(no owner)"].append(ticket)
        if ticket.backup:
            backing[ticket.backup] += 1
    rows = []
    for owner, tickets in held.items():
        levels = defaultdict(int)
        for ticket in tickets:
            levels[ticket.level] += 1
        overdue = sum(1 for t in tickets if derived.state[t.ref].breached)
        oldest = max(hours_between(t.level_since, data.now) for t in tickets)
        top = max(tickets, key=lambda t: data.rank(t.level)).level
        by_level = ", ".join(
            f"{lvl} {levels[lvl]}" for lvl in reversed(data.levels) if lvl in levels
        )
        rows.append(
            (owner, len(tickets), overdue, top, by_level, backing.get(owner, 0), round(oldest, 1))
        )
    rows.sort(key=lambda r: (-r[2], -r[1], r[0]))
    return Table(
        "owner_accountability",
        "Owner accountability",
        (
            "owner",
            "escalations held",
            "overdue",
            "highest level",
            "by level",
            "backup for",
            "oldest hours at level",
        ),
        rows,
        "Who holds what: the most overdue first. Overdue: at least one SLA breached.",
    )


def bottlenecks(data: ReportData, derived: Derived) -> Table:
    longest = sorted(derived.escalations, key=lambda t: (t.level_since, t.ref))[:BOTTLENECK_ROWS]
    chosen = {t.ref: "long at its level" for t in longest}
    for ticket in derived.escalations:
        if data.handoffs[ticket.ref] >= SEVERAL_HANDOFFS:
            chosen[ticket.ref] = (
                "long at its level; several handoffs"
                if ticket.ref in chosen
                else "several handoffs"
            )
    rows = []
    for ticket in derived.escalations:
        why = chosen.get(ticket.ref)
        if why is None:
            continue
        rows.append(
            (
                ticket.label,
                ticket.level,
                round(hours_between(ticket.level_since, data.now), 1),
                data.handoffs[ticket.ref],
                ticket.owner,
                why,
            )
        )
    rows.sort(key=lambda r: (-r[2], r[0]))
    return Table(
        "bottlenecks",
        "Bottlenecks",
        ("ticket", "level", "hours at level", "handoffs in period", "owner", "why listed"),
        rows,
        f"The {BOTTLENECK_ROWS} open escalations longest at their level, and any with "
        f"{SEVERAL_HANDOFFS} or more owner changes in the period.",
    )


def unmatched_tickets(data: ReportData, derived: Derived) -> Table:
    rows = [
        (
            t.label,
            t.subject,
            t.level,
            short_time(t.created_at),
            t.unmatched_reason or "no account matched",
        )
        for t in sorted(derived.open_tickets, key=lambda t: (-data.rank(t.level), t.created_at))
        if not t.account_id
    ]
    return Table(
        "unmatched_tickets",
        "Unmatched tickets",
        ("ticket", "subject", "level", "created", "reason"),
        rows,
        "Open tickets with no account get the 'unknown' tier's SLA: a person should set the account.",
        html_limit=200,
    )
