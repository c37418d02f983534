"""evaluate_accounts(items, now, matrix) -> AccountDecisions: the account matrix applied.

An account's level, in order:
1. Triggers: the highest account level among the triggers that fire (none fired: the lowest).
2. No flapping: the account keeps its previous level while no trigger of that level fires,
   unless the de-escalation policy lets it fall (quiet_period: no trigger of the level for
   the configured business time in the account's calendar); it then falls to what the
   triggers say now.
Then the owner (routing by level x tier x region, out-of-office as for tickets) and the
level's playbook with its outreach due date: `outreach_within` of business time in the
owner's calendar after the account reached the level, as a date in that calendar's zone. The
due date depends on when the level was reached, not on `now`: it stays put from run to run.

Pure: same inputs, same decision; `now` is passed in. A previous level the matrix no longer
has is ignored (treated as the lowest).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from config.matrix import MatrixConfig, Playbook
from escalation.account_context import (
    NO_ACCOUNT_FACTS,
    AccountContext,
    AccountFacts,
    account_getter,
)
from escalation.calendar import Clock
from escalation.compiled import CompiledMatrix, compile_matrix
from escalation.conditions import Predicate, compile_condition, compile_template
from escalation.decision import Owner, Reason, ReasonKind
from escalation.facts import PriorState
from escalation.routing import Router
from mapping.records import Account
from vocabulary.durations import Duration, parse_duration


@dataclass(frozen=True, slots=True)
class AccountTrigger:
    name: str
    level: int  # index into the account levels
    holds: Predicate[AccountContext]
    reason: Callable[[AccountContext], str]


@dataclass(frozen=True, slots=True)
class PlaybookDue:
    """The playbook of an account's level, filled in for the account."""

    name: str
    level: str
    subject: str
    actions: tuple[str, ...]
    required_data: tuple[str, ...]
    priority: str
    due: date  # the outreach's due date in the owner's calendar
    calendar: str  # the calendar it was counted in


@dataclass(frozen=True, slots=True)
class AccountDecision:
    """The account matrix's verdict on one account at `now`; `state` is what to persist."""

    account_id: str
    level: str
    previous_level: str | None  # None when the account is evaluated for the first time
    level_since: datetime
    owner: Owner
    playbook: PlaybookDue | None  # None: the level has no playbook
    reasons: tuple[Reason, ...]  # the triggers that fired (highest level first), then notes
    state: PriorState

    @property
    def changed(self) -> bool:
        return self.level != self.previous_level


class CompiledAccountMatrix:
    """matrix.accounts compiled once: triggers as closures, the router, playbooks, calendars."""

    def __init__(self, matrix: MatrixConfig):
        accounts = matrix.accounts
        if accounts is None:
            raise ValueError("the matrix has no accounts section")
        self.accounts = accounts
        self.tickets: CompiledMatrix = compile_matrix(matrix)  # calendars and calendar_for
        self.levels = accounts.levels
        self.level_index = {name: index for index, name in enumerate(self.levels)}
        triggers = [
            AccountTrigger(
                t.name,
                self.level_index[t.level],
                compile_condition(t.when, account_getter),
                compile_template(t.reason, account_getter),
            )
            for t in accounts.triggers
        ]
        # Highest level first (stable: config order within a level), as reasons read.
        self.triggers = tuple(sorted(triggers, key=lambda t: -t.level))
        self.router = Router(accounts.routing, matrix.out_of_office)
        quiet = accounts.de_escalation.quiet_for
        self.quiet_for: Duration | None = (
            parse_duration(quiet)
            if accounts.de_escalation.policy == "quiet_period" and quiet
            else None
        )
        self.playbooks: dict[str, tuple[Playbook, Callable[[AccountContext], str], Duration]] = {
            level: (
                playbook,
                compile_template(playbook.subject, account_getter),
                parse_duration(playbook.outreach_within),
            )
            for level, playbook in accounts.playbooks.items()
        }
        self.owner_clocks = {
            person: self.tickets.clocks[name] for person, name in accounts.owner_calendars.items()
        }
        # (calendar, level since, level) -> outreach due: most accounts at a level reached
        # it in the same run, and the date depends on nothing else. A cache, not a state.
        self.due_dates: dict[tuple[str, float, str], date] = {}

    def clock_for(self, account: Account) -> Clock:
        """The account's calendar: the ticket matrix's calendar_for by tier, then region."""
        return self.tickets.clock_for(account.tier, account.region)


_COMPILED: dict[int, tuple[MatrixConfig, CompiledAccountMatrix]] = {}


def compile_account_matrix(matrix: MatrixConfig) -> CompiledAccountMatrix:
    """Compile (or reuse the compiled form of) a matrix's accounts section."""
    found = _COMPILED.get(id(matrix))
    if found is not None and found[0] is matrix:
        return found[1]
    if len(_COMPILED) > 16:
        _COMPILED.clear()
    compiled = CompiledAccountMatrix(matrix)
    _COMPILED[id(matrix)] = (matrix, compiled)
    return compiled


def evaluate_accounts(
    items: Iterable[tuple[Account, AccountFacts | None]],
    now: datetime,
    matrix: MatrixConfig | CompiledAccountMatrix,
) -> list[AccountDecision]:
    """Decisions for many accounts at the same `now` (timezone-aware), in input order."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    m = compile_account_matrix(matrix) if isinstance(matrix, MatrixConfig) else matrix
    at = now.astimezone(UTC)
    epoch, today = at.timestamp(), at.date()  # the same for every account
    return [
        _decide(m, at, epoch, today, account, facts or NO_ACCOUNT_FACTS) for account, facts in items
    ]


def _decide(
    m: CompiledAccountMatrix,
    now: datetime,
    epoch: float,
    today: date,
    account: Account,
    facts: AccountFacts,
) -> AccountDecision:
    ctx = AccountContext(account, facts, epoch, today)
    fired = [t for t in m.triggers if t.holds(ctx)]
    top = fired[0].level if fired else 0
    prior = facts.prior
    prior_level = m.level_index.get(prior.level) if prior is not None else None
    level, notes = top, []
    if prior is not None and prior_level is not None and top < prior_level:
        blocker = _fall_blocker(m, m.clock_for(account), prior, epoch)
        if blocker is not None:
            level = prior_level
            notes.append(Reason(ReasonKind.HELD, ReasonKind.HELD.value, prior.level, blocker))
        else:
            text = (
                f"Lowered from {prior.level} to {m.levels[top]}: no {prior.level} trigger for "
                f"{m.accounts.de_escalation.quiet_for} of business time"
            )
            kind = ReasonKind.DE_ESCALATED
            notes.append(Reason(kind, kind.value, m.levels[top], text))
    fired_at_level = any(t.level >= level for t in fired)
    state = _next_state(m, now, prior, prior_level, level, fired_at_level)
    name = m.levels[level]
    owner = m.router.owner(
        name, None, account.tier, account.region, account.owner, account.csm, epoch
    )
    reasons = tuple(
        [Reason(ReasonKind.TRIGGER, t.name, m.levels[t.level], t.reason(ctx)) for t in fired]
    )
    return AccountDecision(
        account.id,
        name,
        prior.level if prior is not None else None,
        state.level_since,
        owner,
        _playbook(m, name, state.level_since, owner, account, ctx),
        reasons + tuple(notes),
        state,
    )


def _fall_blocker(
    m: CompiledAccountMatrix, clock: Clock, prior: PriorState, now: float
) -> str | None:
    """Why the level may not fall now; None when it may."""
    level = prior.level
    if m.quiet_for is None:
        return f"Kept at {level}: account levels do not fall (de-escalation policy never)"
    since = prior.level_since
    if prior.last_trigger_at is not None and prior.last_trigger_at > since:
        since = prior.last_trigger_at
    needed = m.quiet_for.business_seconds(clock.working_day_seconds)
    if clock.between(since.timestamp(), now) >= needed:
        return None
    quiet = m.accounts.de_escalation.quiet_for
    return f"Kept at {level} until no {level} trigger has fired for {quiet} of business time"


def _next_state(
    m: CompiledAccountMatrix,
    now: datetime,
    prior: PriorState | None,
    prior_level: int | None,
    level: int,
    fired_at_level: bool,
) -> PriorState:
    """The state to persist; the prior object itself when nothing changed."""
    if prior is not None and prior_level == level:
        if not fired_at_level:
            return prior
        return PriorState(prior.level, prior.level_since, now)
    return PriorState(m.levels[level], now, now if fired_at_level else None)


def _playbook(
    m: CompiledAccountMatrix,
    level: str,
    since: datetime,
    owner: Owner,
    account: Account,
    ctx: AccountContext,
) -> PlaybookDue | None:
    found = m.playbooks.get(level)
    if found is None:
        return None
    playbook, subject, within = found
    person = owner.current
    clock = (m.owner_clocks.get(person) if person else None) or m.clock_for(account)
    key = (clock.name, since.timestamp(), level)  # the level names its playbook
    due = m.due_dates.get(key)
    if due is None:
        if len(m.due_dates) > 10_000:
            m.due_dates.clear()
        due_at = clock.add(key[1], within.business_seconds(clock.working_day_seconds))
        due = m.due_dates[key] = datetime.fromtimestamp(due_at, getattr(clock, "zone", UTC)).date()
    return PlaybookDue(
        playbook.name,
        level,
        subject(ctx),
        playbook.actions,
        playbook.required_data,
        playbook.priority,
        due,
        clock.name,
    )
