"""`explain account:ID`: why an account holds its account level, from the last run's mirror.

The account's values and signals, the facts derived from its tickets and its history, every
trigger (fired or not), the level with hysteresis, the owner and how they were routed, the
playbook and its due date, the values written and remembered, and the audit history. It
decides as a run would at `now`; nothing is called and nothing is remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from config.schema import Config
from escalation.account_context import AccountContext, AccountFacts
from escalation.accounts import compile_account_matrix, evaluate_accounts
from escalation.compiled import compile_matrix
from mapping.records import Account
from sync.accounts_facts import gather, read_attributes
from sync.accounts_store import AccountStore
from sync.accounts_targets import SF_ACCOUNT, SF_TASK, task_key
from sync.evaluate import evaluate_mirror
from sync.state import StateStore

HISTORY_LINES = 12


def _shown(value: Any) -> str:
    return "not set" if value is None or value == "" else str(value)


def print_account_explain(
    config: Config, store: StateStore, account_id: str, now: datetime, out: TextIO
) -> bool:
    """Print the account's decision; False when the account is not in the mirror."""
    matrix = config.matrix
    accounts = {a.id: a for a in store.accounts()}
    account = accounts.get(account_id) or next(
        (a for a in accounts.values() if a.id[:15] == account_id[:15]), None
    )
    p: Callable[..., None] = lambda text="": print(text, file=out)  # noqa: E731
    if account is None:
        return False
    if matrix.accounts is None:
        p(f"account:{account.id} {account.name}: the matrix has no accounts section")
        return True
    evaluation = evaluate_mirror(
        config,
        compile_matrix(matrix),
        store.tickets(),
        list(accounts.values()),
        store.prior_states(),
        now,
    )
    accounts_store = AccountStore(store)
    gathered = gather(matrix, evaluation, {account.id: account}, accounts_store, now)
    facts = gathered.facts[account.id]
    compiled = compile_account_matrix(matrix)
    (decision,) = evaluate_accounts([(account, facts)], now, compiled)
    _print_account(p, account, read_attributes(matrix.accounts)[0])
    _print_facts(p, account, facts, now, gathered.breach_days or 30)
    ctx = AccountContext(account, facts, now.timestamp(), now.date())
    p("  triggers (highest level first):")
    for trigger in compiled.triggers:
        holds = trigger.holds(ctx)
        text = f": {trigger.reason(ctx)}" if holds else ""
        p(
            f"    [{'fired' if holds else 'no'}] {trigger.name} -> {compiled.levels[trigger.level]}{text}"
        )
    since = f"since {decision.level_since:%Y-%m-%d %H:%M} UTC"
    p(f"  account level {decision.level} (previous {_shown(decision.previous_level)}, {since})")
    for reason in decision.reasons:
        if reason.kind.value != "trigger":
            p(f"    [{reason.kind.value}] {reason.text}")
    owner = decision.owner
    p(
        f"  owner: {_shown(owner.current)} ({owner.role}); primary {_shown(owner.primary)}, "
        f"backup {_shown(owner.backup)}" + (f"; {owner.note}" if owner.note else "")
    )
    playbook = decision.playbook
    if playbook is None:
        p(f"  playbook: none at {decision.level}")
    else:
        p(f"  playbook {playbook.name} (priority {playbook.priority}): {playbook.subject}")
        p(f"    outreach due {playbook.due:%Y-%m-%d} ({playbook.calendar} calendar)")
        for number, action in enumerate(playbook.actions, start=1):
            p(f"    {number}. {action}")
        if playbook.required_data:
            p(f"    have at hand: {', '.join(playbook.required_data)}")
        memory = accounts_store.tasks().get((account.id, playbook.name))
        if memory is not None:
            left = "; a person closed or deleted it: left alone" if memory.left_alone else ""
            p(f"    task {_shown(memory.task_id)} (for the stay since {memory.since[:16]}){left}")
    _print_written(p, store, account, playbook.name if playbook else None)
    playbooks = [playbook.name for playbook in matrix.accounts.playbooks.values()]
    _print_history(p, store, account, playbooks)
    return True


def _print_account(p: Callable[..., None], account: Account, read: set[str]) -> None:
    p(f"account:{account.id} {account.name}")
    p(
        f"  tier {account.tier}, ARR {_shown(account.arr)}, renewal {_shown(account.renewal_date)}, "
        f"region {_shown(account.region)}, health {_shown(account.health)}, "
        f"CSM {_shown(account.csm)}, owner {_shown(account.owner)}"
    )
    signals = sorted({name.removeprefix("account.") for name in read} - _BUILT_IN)
    if signals:
        values = ", ".join(f"{name} {_shown(account.signals.get(name))}" for name in signals)
        p(f"  signals: {values}")


_BUILT_IN = {"id", "name", "tier", "arr", "owner", "csm", "region", "time_zone", "health"}
_BUILT_IN |= {"external_id"}


def _print_facts(
    p: Callable[..., None], account: Account, facts: AccountFacts, now: datetime, days: int
) -> None:
    ctx = AccountContext(account, facts, now.timestamp(), now.date())
    p(
        f"  tickets: {facts.open_tickets} open, {facts.escalated_tickets} escalated "
        f"(highest {_shown(facts.highest_ticket_level)}); {ctx.recent_tickets(30)} opened in "
        f"30 days; {ctx.breaches(days)} SLA targets missed in {days} days; days to renewal "
        f"{_shown(ctx.days_to_renewal())}"
    )
    for name, history in sorted(facts.history.items()):
        seen = ", ".join(
            f"{datetime.fromtimestamp(at, now.tzinfo):%Y-%m-%d} {_shown(value)}"
            for at, value in history[-6:]
        )
        p(f"  {name} over time: {seen}")


def _print_written(
    p: Callable[..., None], store: StateStore, account: Account, playbook: str | None
) -> None:
    written = store.written()
    mine = written.get((SF_ACCOUNT, account.id), {})
    if mine:
        values = ", ".join(f"{field} {_shown(value)}" for field, value in sorted(mine.items()))
        p(f"  written to the account: {values}")
    if playbook is not None:
        task = written.get((SF_TASK, task_key(account.id, playbook)), {})
        if task:
            p(
                f"  written to the task: due {_shown(task.get('due'))}, status {_shown(task.get('status'))}"
            )


def _print_history(
    p: Callable[..., None], store: StateStore, account: Account, playbooks: list[str]
) -> None:
    """Decisions, task events, overrides and writes of the account, its fields and tasks."""
    refs = [f"account:{account.id}", f"{SF_ACCOUNT}:{account.id}"]
    refs += [f"{SF_TASK}:{task_key(account.id, name)}" for name in playbooks]
    entries = [entry for ref in refs for entry in store.audit_entries(ref=ref)]
    entries = sorted(entries, key=lambda entry: (entry["at"], entry["run_id"]))
    if not entries:
        return
    p("  history:")
    for entry in entries[-HISTORY_LINES:]:
        detail = entry["detail"]
        if entry["kind"] == "account_decision":
            text = f"level {detail.get('level')} (owner {detail.get('owner', {}).get('current')})"
        elif entry["kind"] == "write":
            text = f"{detail.get('record')} {detail.get('status')}: " + ", ".join(
                f"{field} = {str(value)[:40]}"
                for field, value in (detail.get("fields") or {}).items()
            )
        else:
            text = ", ".join(f"{key} {value}" for key, value in sorted(detail.items()))
        p(f"    {entry['at'][:16]} {entry['kind']}: {text}")
