"""`explain SYSTEM:ID`: why a ticket or issue holds what it holds, from the last run's mirror.

It shows what the run would write, not only what the matrix computes: a level a person set by
hand is the ticket's level (sync/human.py), and a Jira issue carries its linked tickets'
customer impact, so each value written to an issue is shown with the ticket it comes from.
Nothing here calls a system.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from config.schema import Config
from escalation.compiled import compile_matrix
from escalation.decision import Decision
from mapping.records import Account, Ticket
from sync.accounts_explain import print_account_explain
from sync.evaluate import Evaluation, evaluate_mirror
from sync.human import PeopleLevels
from sync.run import overrides_by_record
from sync.state import StateStore
from sync.ticket_changes import milestone_changes
from sync.wanted import Target, TargetBuilder
from vocabulary.durations import format_seconds

NOT_SET = "not set"
HISTORY_LINES = 12


def shown(value: Any) -> str:
    """A value as a person reads it: a missing one is "not set", never "None"."""
    return NOT_SET if value is None or value == "" else str(value)


def print_explain(
    config: Config, store: StateStore, wanted: str, now: datetime, out: TextIO
) -> bool:
    """Every trigger that fired, every SLA computation and what is written; False if unknown."""
    if wanted.startswith("account:"):  # the account matrix's decision (sync/accounts_explain.py)
        return print_account_explain(config, store, wanted.removeprefix("account:"), now, out)
    tickets = store.tickets()
    system, _, ident = wanted.partition(":")
    ticket = next((t for t in tickets if t.system == system and ident in (t.id, t.key)), None)
    if ticket is None:
        return False
    compiled = compile_matrix(config.matrix)
    evaluation = evaluate_mirror(
        config,
        compiled,
        tickets,
        store.accounts(),
        store.prior_states(),
        now,
        milestone_changes(store.db, config.matrix.sla.milestones),
        store.merged_accounts(),
    )
    written = store.written()
    people = PeopleLevels(
        compiled.levels,
        written,
        overrides_by_record(store, config.matrix.renamed),
        config.sync.overrides.expire == "on_level_rise",
        now,
    )
    builder = TargetBuilder(
        config,
        evaluation.tickets,
        evaluation.accounts.values(),
        evaluation.decisions,
        set(written),
        store.last_notes(),
        people,
    )
    p: Callable[..., None] = lambda text="": print(text, file=out)  # noqa: E731
    joined = next((t for t in evaluation.tickets if t.ref == ticket.ref), ticket)
    _print_ticket(p, ticket, evaluation.accounts.get(joined.account_id or ""), evaluation)
    decision = builder.computed.get(ticket.ref)
    if decision is None:
        p(
            f"  not evaluated at {now:%Y-%m-%d %H:%M} UTC: the ticket is {ticket.status.value} "
            "and its escalation ended"
        )
    else:
        _print_decision(p, config, ticket, decision, builder)
        if ticket.system == "jira":
            target = next((t for t in builder.jira_targets() if t.ref == ticket.ref), None)
            _print_issue_writes(p, ticket, target, builder)
    _print_history(p, store, ticket)
    return True


def _print_ticket(
    p: Callable[..., None], ticket: Ticket, account: Account | None, evaluation: Evaluation
) -> None:
    p(f"{ticket.ref}{' (' + ticket.key + ')' if ticket.key else ''}: {ticket.subject[:100]}")
    p(
        f"  status {ticket.status.value}, severity {shown(ticket.severity)}, "
        f"category {shown(ticket.category)}, created {ticket.created_at:%Y-%m-%d %H:%M} UTC"
    )
    if account is not None:
        p(
            f"  account {account.id} {account.name}: tier {account.tier}, ARR {shown(account.arr)}, "
            f"renewal {shown(account.renewal_date)}, region {shown(account.region)}, "
            f"health {shown(account.health)}"
        )
        return
    why = dict(evaluation.unmatched).get(ticket.ref, "no account matched")
    if ticket.system == "jira":
        p(f"  account: {NOT_SET} ({why}); the customer impact comes from its linked tickets")
    else:
        p(f"  account: {NOT_SET} ({why}); tier unknown")


def _print_decision(
    p: Callable[..., None],
    config: Config,
    ticket: Ticket,
    decision: Decision,
    builder: TargetBuilder,
) -> None:
    since = f"since {decision.level_since:%Y-%m-%d %H:%M} UTC"
    previous = shown(decision.previous_level)
    person = builder.set_by_person.get(ticket.ref)
    own = "its own level" if ticket.system == "jira" else "level"
    if person is not None:
        p(
            f"  level {person.level}, set by a person on {person.set_on:%Y-%m-%d} "
            f"(the matrix computes {decision.level}, previous {previous}, {since})"
        )
    else:
        p(f"  {own} {decision.level} (previous {previous}, {since})")
    p("  reasons (the matrix's):" if person is not None else "  reasons:")
    for reason in decision.reasons:
        p(f"    [{reason.kind.value}] {reason.name} -> {reason.level}: {reason.text}")
    if not decision.reasons:
        p("    no trigger fired")
    owner = decision.owner
    if owner is not None:
        p(
            f"  owner: {shown(owner.current)} ({owner.role}); primary {shown(owner.primary)}, "
            f"backup {shown(owner.backup)}" + (f"; {owner.note}" if owner.note else "")
        )
    if decision.sla:
        p("  SLA (business time of the ticket's calendar):")
        for metric, sla in decision.sla.items():
            left = "met" if sla.met_at else format_seconds(sla.business_seconds_left or 0)
            p(
                f"    {metric}: target {format_seconds(sla.target_seconds)}, "
                f"due {sla.due_at:%Y-%m-%d %H:%M} UTC, "
                f"{'left ' + left if not sla.met_at else 'met at ' + f'{sla.met_at:%Y-%m-%d %H:%M} UTC'}, "
                f"{sla.state.value}{', paused' if sla.paused else ''}"
            )
    elif ticket.system not in config.matrix.sla.systems:
        clocks = ", ".join(config.matrix.sla.systems) or "no system"
        p(f"  SLA: no clocks for {ticket.system} (sla.systems runs them for {clocks})")
    else:
        p(f"  SLA: no targets at level {decision.level}")


def _print_issue_writes(
    p: Callable[..., None], issue: Ticket, target: Target | None, builder: TargetBuilder
) -> None:
    """The values we write to the issue, each with the ticket it comes from."""
    name = issue.key or issue.id
    if target is None:
        p(f"  written to {name}: nothing (no linked ticket is escalated and we never wrote to it)")
        return
    p(f"  written to {name} (customer impact from its linked tickets):")

    def origin(output: str) -> str:
        ref = target.sources.get(output)
        if ref is None:
            return ""
        if ref == issue.ref:
            return "from its own decision"
        account = builder.tickets[ref].account_id if ref in builder.tickets else None
        if output in ("customer_tier", "renewal_date", "arr") and account:
            return f"account {account} of {ref}"
        person = builder.set_by_person.get(ref)
        return f"from {ref}" + (f", set by a person on {person.set_on:%Y-%m-%d}" if person else "")

    def line(output: str, value: Any) -> str:
        where = origin(output) if value is not None else ""
        return f"    {output}: {shown(value)}" + (f" ({where})" if where else "")

    by_hand = (
        builder.issue_person_level(issue, target.matrix_level)
        if target.matrix_level is not None
        else None
    )
    for output, value in target.values.items():
        if output == "level" and by_hand is not None:
            where = origin("level")
            p(
                f"    level: {by_hand.level}, set by a person on the issue on "
                f"{by_hand.set_on:%Y-%m-%d} (its linked tickets give {target.matrix_level}"
                + (f", {where})" if where else ")")
            )
            continue
        p(line(output, value))
    if target.tag_prefix is not None or target.wanted_tags:
        labels = ", ".join(sorted(target.wanted_tags))
        where = origin("level") if labels else ""
        p(f"    label: {shown(labels)}" + (f" ({where})" if where else ""))


def _print_history(p: Callable[..., None], store: StateStore, ticket: Ticket) -> None:
    """Decisions, overrides and writes for the ticket, its Jira key and its Salesforce record."""
    refs = [ticket.ref, f"salesforce:{ticket.ref}"]
    if ticket.key:
        refs.append(f"{ticket.system}:{ticket.key}")
    entries = sorted(
        (entry for ref in refs for entry in store.audit_entries(ref=ref)),
        key=lambda entry: (entry["at"], entry["run_id"]),
    )
    if not entries:
        return
    p("  history:")
    numbers = store.run_numbers()  # real runs are numbered on their own; dry runs have none
    for entry in entries[-HISTORY_LINES:]:
        run = numbers.get(entry["run_id"])
        when = f"run {run}" if run else "dry run"
        p(f"    {entry['at'][:16]} {when} {entry['kind']}: {_history(entry)}")


def _history(entry: dict[str, Any]) -> str:
    detail, kind = entry["detail"], entry["kind"]
    if kind == "decision":
        return f"level {shown(detail.get('level'))}"
    if kind == "override":
        return (
            f"{detail.get('field')} set by a person to {_short(detail.get('human_value'))} "
            f"(we wrote {_short(detail.get('we_wrote'))})"
        )
    if kind == "override_expired":
        return f"the person's {detail.get('field')} ended: the matrix's level rose to {detail.get('level')}"
    if kind == "write":
        parts = [f"{field} = {_short(value, 40)}" for field, value in detail["fields"].items()]
        tags = [f"+{t}" for t in detail.get("tags_add") or ()]
        tags += [f"-{t}" for t in detail.get("tags_remove") or ()]
        if tags:
            parts.append("tags " + " ".join(tags))
        if detail.get("note"):
            parts.append("private note")
        reason = f" ({detail['reason']})" if detail.get("reason") else ""
        return f"{detail.get('record', entry['ref'])} {detail.get('status')}{reason}: " + (
            "; ".join(parts) or "nothing"
        )
    return ", ".join(f"{key} {_short(value, 40)}" for key, value in sorted(detail.items()))


def _short(value: object, limit: int = 70) -> str:
    text = shown(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
