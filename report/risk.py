"""The heat map of at-risk accounts and the renewal-risk table.

Each risk factor of an account is graded 0-3 (none, low, medium, high) by fixed thresholds,
written here so a reader can check a colour against its rule. An account needs executive
attention when one of its open tickets is at the top level, or when three or more factors
are high. Those come first; then the others by total grade, then ARR.
"""

from __future__ import annotations

from datetime import date

from mapping.records import Account
from report.data import ReportData
from report.derive import Derived
from report.tables import Table

# Health as the example mappings translate it (green / at-risk / red), and common synonyms.
HEALTH_GRADES = {"green": 0, "at-risk": 2, "at_risk": 2, "yellow": 2, "amber": 2, "red": 3}
FACTORS = (
    "highest open level",
    "breaches",
    "tickets in 30 days",
    "days to renewal",
    "ARR",
    "health",
)


def _level_grade(rank: int, top: int) -> int:
    return 0 if rank <= 0 else max(1, round(3 * rank / top))


def _count_grade(count: int, low: int, medium: int, high: int) -> int:
    return 3 if count >= high else 2 if count >= medium else 1 if count >= low else 0


def _renewal_grade(days: int | None, window: int) -> int:
    if days is None or days > window:
        return 0
    return 3 if days <= window / 6 else 2 if days <= window / 2 else 1


def _arr_grade(arr: float | None) -> int:
    if arr is None:
        return 0
    return 3 if arr >= 1_000_000 else 2 if arr >= 250_000 else 1 if arr >= 50_000 else 0


def days_to_renewal(account: Account, today: date) -> int | None:
    return (account.renewal_date - today).days if account.renewal_date else None


def heat_map(data: ReportData, derived: Derived, renewal_days: int) -> Table:
    """Accounts with an open escalation, each factor graded; executive attention first.
    With the account matrix, also the accounts it escalated (no open ticket needed), each
    with its account level; its top level is executive attention too."""
    today = data.now.date()
    top = len(data.levels) - 1
    names = data.account_level_names
    escalated_accounts = {
        account_id
        for account_id, level in data.account_levels.items()
        if names and level in names and names.index(level) > 0
    }
    ranked = []
    for account_id in [*derived.by_account, *sorted(escalated_accounts - set(derived.by_account))]:
        tickets = derived.by_account.get(account_id, [])
        account = data.accounts.get(account_id)
        if account is None:
            continue
        highest = (
            max(tickets, key=lambda t: data.rank(t.level)).level if tickets else data.levels[0]
        )
        breaches = sum(1 for t in tickets if derived.state[t.ref].breached)
        repeated = data.recent_requests.get(account_id, 0)
        days = days_to_renewal(account, today)
        grades = (
            _level_grade(data.rank(highest), top),
            _count_grade(breaches, 1, 2, 4),
            _count_grade(repeated, 2, 4, 6),
            _renewal_grade(days, renewal_days),
            _arr_grade(account.arr),
            HEALTH_GRADES.get((account.health or "").lower(), 0),
        )
        account_level = data.account_levels.get(account_id)
        executive = (
            data.rank(highest) == top
            or sum(1 for g in grades if g == 3) >= 3
            or bool(names and account_level == names[-1])
        )
        row = (
            "yes" if executive else "no",
            account.name,
            account.tier,
            account.region,
            *((account_level,) if names else ()),
            highest,
            breaches,
            repeated,
            days,
            account.arr,
            account.health,
            sum(grades),
        )
        ranked.append(
            ((not executive, -sum(grades), -(account.arr or 0), account.name), row, grades)
        )
    ranked.sort(key=lambda item: item[0])
    return Table(
        "heat_map",
        "Heat map: accounts with open escalations, by risk",
        (
            "executive attention",
            "account",
            "tier",
            "region",
            *(("account level",) if names else ()),
            *FACTORS,
            "risk score",
        ),
        [row for _, row, _ in ranked],
        "Each factor graded none / low / medium / high (the word is in every cell). Executive "
        "attention: an open ticket at the top level, or three factors high"
        + (", or the top account level" if names else "")
        + ".",
        graded_columns=FACTORS,
        grades=[grades for _, _, grades in ranked],
        html_limit=100,
    )


def renewal_risk(data: ReportData, derived: Derived, renewal_days: int) -> Table:
    """Accounts renewing within the window with open escalations, and the ARR at stake."""
    today = data.now.date()
    rows = []
    for account_id, tickets in derived.by_account.items():
        account = data.accounts.get(account_id)
        if account is None:
            continue
        days = days_to_renewal(account, today)
        if days is None or days < 0 or days > renewal_days:
            continue
        highest = max(tickets, key=lambda t: data.rank(t.level)).level
        breaches = sum(1 for t in tickets if derived.state[t.ref].breached)
        rows.append(
            (
                account.name,
                account.renewal_date.isoformat() if account.renewal_date else None,
                days,
                account.arr,
                highest,
                len(tickets),
                breaches,
                account.owner,
                account.csm,
            )
        )
    rows.sort(key=lambda r: (-(r[3] or 0), r[2], r[0]))
    at_stake = sum(r[3] or 0 for r in rows)
    return Table(
        "renewal_risk",
        f"Renewal risk: renewing within {renewal_days} days with open escalations",
        (
            "account",
            "renewal date",
            "days to renewal",
            "ARR",
            "highest open level",
            "open escalations",
            "breaches",
            "account owner",
            "CSM",
        ),
        rows,
        f"ARR at stake: {at_stake:,.0f} across {len(rows)} account(s).",
    )


def arr_at_stake(table: Table) -> float:
    """The renewal table's ARR total (for the headline)."""
    return sum(float(row[3] or 0) for row in table.rows)
