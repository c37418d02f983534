"""Owners: the first routing rule matching level x category x tier x region, and out-of-office.

Rule matching depends only on those four names, so its result is cached; resolving the people
depends on the account ({account.owner}, {account.csm}) and on who is away at `now`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from config.matrix import ANY, OutOfOffice, RoutingRule
from escalation.decision import Owner

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _as_set(selector: str | tuple[str, ...]) -> frozenset[str] | None:
    """None means "any"."""
    if selector == ANY:
        return None
    names = (selector,) if isinstance(selector, str) else selector
    return None if ANY in names else frozenset(names)


def _instant(moment: date | datetime, end_of_day: bool) -> float:
    if isinstance(moment, datetime):
        return moment.timestamp()
    if end_of_day and moment == date.max:
        # `until: 9999-12-31` is how people write "indefinitely": the day after has no date.
        return float("inf")
    day = moment + timedelta(days=1) if end_of_day else moment
    return datetime.combine(day, time(0), UTC).timestamp()


class Router:
    def __init__(self, rules: Sequence[RoutingRule], out_of_office: Sequence[OutOfOffice]):
        self._rules = tuple(rules)
        self._selectors = tuple(
            (_as_set(r.level), _as_set(r.category), _as_set(r.tier), _as_set(r.region))
            for r in rules
        )
        self._away = tuple(
            (entry.person, _instant(entry.from_, False), _instant(entry.until, True))
            for entry in out_of_office
        )
        # Rules naming {account.owner} / {account.csm}: their people differ per account.
        self._personal = tuple("{" in (r.primary + (r.backup or "")) for r in rules)
        self._rule_cache: dict[tuple[str, str | None, str, str | None], int] = {}
        self._owner_cache: dict[tuple[int, str | None, str | None, float], Owner] = {}

    def rule_for(self, level: str, category: str | None, tier: str, region: str | None) -> int:
        """Index of the first rule that matches (the config guarantees a fallback per level)."""
        key = (level, category, tier, region)
        found = self._rule_cache.get(key)
        if found is None:
            found = self._rule_cache[key] = next(
                index
                for index, selectors in enumerate(self._selectors)
                if all(
                    allowed is None or value in allowed
                    for allowed, value in zip(selectors, key, strict=True)
                )
            )
        return found

    def owner(
        self,
        level: str,
        category: str | None,
        tier: str,
        region: str | None,
        account_owner: str | None,
        account_csm: str | None,
        now: float,
    ) -> Owner:
        """Who owns a ticket at `level`, with out-of-office applied at `now`."""
        index = self.rule_for(level, category, tier, region)
        rule = self._rules[index]
        if self._personal[index]:
            primary = _fill(rule.primary, account_owner, account_csm)
            backup = _fill(rule.backup, account_owner, account_csm)
        else:
            primary, backup = rule.primary, rule.backup
        key = (index, primary, backup, now)
        found = self._owner_cache.get(key)
        if found is None:
            if len(self._owner_cache) > 10_000:
                self._owner_cache.clear()
            found = self._owner_cache[key] = self._resolve(rule, primary, backup, now)
        return found

    def is_away(self, person: str, now: float) -> bool:
        return any(who == person and start <= now < end for who, start, end in self._away)

    def _resolve(
        self, rule: RoutingRule, primary: str | None, backup: str | None, now: float
    ) -> Owner:
        if primary is None:
            note = f"the account has no one for {rule.primary}"
            return Owner(rule.role, None, backup, routed_to_backup=backup is not None, note=note)
        if not self.is_away(primary, now):
            return Owner(rule.role, primary, backup)
        if backup is None:
            note = f"{primary} is out of office and the rule names no backup"
            return Owner(rule.role, primary, None, note=note)
        note = f"{primary} is out of office"
        if self.is_away(backup, now):
            note += f"; the backup {backup} is out of office too"
        return Owner(rule.role, primary, backup, routed_to_backup=True, note=note)


def _fill(person: str | None, account_owner: str | None, account_csm: str | None) -> str | None:
    """Fill {account.owner} / {account.csm}; None when the account lacks the value."""
    if person is None or "{" not in person:
        return person
    values = {"account.owner": account_owner, "account.csm": account_csm}
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = values.get(match.group(1))
        missing = missing or not found
        return found or ""

    filled = _PLACEHOLDER.sub(value, person)
    return None if missing else filled
