"""What a person reads: the one-line summary, the dry-run plan, and `explain`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TextIO

from config.schema import Config
from escalation.compiled import compile_matrix
from escalation.durations import format_seconds
from sync.evaluate import evaluate_mirror
from sync.exits import ExitCode
from sync.run import RunResult
from sync.state import StateStore


def summary_line(result: RunResult) -> str:
    s = result.summary()
    pulled = sum(s["pulled"].values())
    written = sum(n for key, n in s["results"].items() if key.endswith(":ok"))
    planned = sum(s["planned_writes"].values())
    state = ExitCode(result.exit_code).meaning
    parts = [
        f"escalation-sync: {state}" + (" (dry run)" if result.dry_run else ""),
        f"pulled {pulled}",
        f"evaluated {s['evaluated']}",
        f"{'would write' if result.dry_run else 'wrote'} {planned if result.dry_run else written} record(s)",
    ]
    for key, label in (
        ("skipped_records", "bad records skipped"),
        ("unmatched", "tickets without an account"),
        ("overrides_found", "new human overrides"),
        ("overrides_kept", "overridden fields kept"),
        ("retry", "writes to retry"),
        ("conflicts", "conflicts"),
        ("rejected", "rejected"),
        ("still_rejected", "still rejected"),
    ):
        if s[key]:
            since = s.get(f"{key}_since")  # how long a record has been refused
            parts.append(f"{s[key]} {label}" + (f" (since {_utc_minute(since)})" if since else ""))
    for system, why in s.get("credentials_refused", {}).items():
        parts.append(f"{system} refused our credentials: {why.removeprefix(system + ': ')}")
    if s["unreachable"]:
        parts.append("unreachable: " + ", ".join(s["unreachable"]))
    never_read = s.get("never_read") or []
    if never_read:
        held = "nothing written" if "salesforce" in never_read else "private notes wait"
        parts.append(f"{held} until {', '.join(never_read)} has been read once")
    transport = s.get("transport", {})
    retried = {system: t for system, t in sorted(transport.items()) if t.get("retries")}
    if retried:
        parts.append(
            "requests retried: "
            + ", ".join(
                f"{system} {t['retries']}"
                + (
                    f" ({t['throttled']} rate-limited, waited {t['waited_seconds']:.0f}s)"
                    if t.get("throttled")
                    else ""
                )
                for system, t in retried.items()
            )
        )
    return "; ".join(parts)


def _utc_minute(moment: str) -> str:
    """A stored ISO 8601 UTC moment as a person reads it: 2026-11-23 09:00 UTC."""
    return f"{datetime.fromisoformat(moment):%Y-%m-%d %H:%M} UTC"


def print_rejections(result: RunResult, out: TextIO) -> None:
    """Each record a vendor refused for good, with the vendor's words: a person must act on it."""
    for ref, reason in result.apply.rejected:
        print(f"rejected {ref}: {reason}", file=out)
    for ref, reason in result.still_rejected:
        reason = re.sub(r" \[payload [0-9a-f]+\]$", "", reason or "")
        print(f"still rejected {ref} (the same values are not sent again): {reason}", file=out)


def print_plan(result: RunResult, out: TextIO) -> None:
    """Per system: each record, each field old -> new, and why. Writes nothing."""
    by_system: dict[str, list] = {}
    for item in result.writes:
        by_system.setdefault(item.target.system, []).append(item)
    for system in sorted(by_system):
        items = by_system[system]
        print(f"{system}: {len(items)} record(s) to write", file=out)
        for item in items:
            target, write = item.target, item.write
            why = ", ".join(target.reasons) or "-"
            print(f"  {write.ref} (level {target.level}; why: {why})", file=out)
            for plan in item.record_plan.fields:
                if plan.needs_write:
                    print(
                        f"    {plan.field}: {_short(plan.current)} -> {_short(plan.wanted)}",
                        file=out,
                    )
            if write.tags_add or write.tags_remove:
                print(f"    tags: +{list(write.tags_add)} -{list(write.tags_remove)}", file=out)
            if write.note:
                print("    private note: " + write.note.splitlines()[0], file=out)
    for ref, field, value in result.overrides_found:
        print(
            f"override: {ref} {field} set by a person to {_short(value)}; not overwritten", file=out
        )
    for ref, reason in result.pull.skipped:
        print(f"skipped: {ref}: {reason}", file=out)


def _short(value: object, limit: int = 70) -> str:
    text = "-" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_explain(
    config: Config, store: StateStore, wanted: str, now: datetime, out: TextIO
) -> bool:
    """Every trigger that fired and every SLA computation for one ticket; False if unknown."""
    compiled = compile_matrix(config.matrix)
    tickets = store.tickets()
    system, _, ident = wanted.partition(":")
    ticket = next((t for t in tickets if t.system == system and ident in (t.id, t.key)), None)
    if ticket is None:
        return False
    evaluation = evaluate_mirror(
        config, compiled, tickets, store.accounts(), store.prior_states(), now
    )
    decision = next((d for d in evaluation.decisions if d.ticket_ref == ticket.ref), None)
    joined = next((t for t in evaluation.tickets if t.ref == ticket.ref), ticket)
    account = evaluation.accounts.get(joined.account_id or "")
    p = lambda text="": print(text, file=out)  # noqa: E731 - a local shorthand
    p(f"{ticket.ref}{' (' + ticket.key + ')' if ticket.key else ''}: {ticket.subject[:100]}")
    p(
        f"  status {ticket.status.value}, severity {ticket.severity}, category {ticket.category}, "
        f"created {ticket.created_at:%Y-%m-%d %H:%M} UTC"
    )
    if account is not None:
        p(
            f"  account {account.id} {account.name}: tier {account.tier}, ARR {account.arr}, "
            f"renewal {account.renewal_date}, region {account.region}, health {account.health}"
        )
    else:
        why = dict(evaluation.unmatched).get(ticket.ref, "no account matched")
        p(f"  account: none ({why}); tier unknown")
    if decision is None:
        p(
            f"  not evaluated at {now:%Y-%m-%d %H:%M} UTC: the ticket is {ticket.status.value} and its escalation ended"
        )
        return True
    p(
        f"  level {decision.level} (previous {decision.previous_level}, since {decision.level_since:%Y-%m-%d %H:%M} UTC)"
    )
    p("  reasons:")
    for reason in decision.reasons:
        p(f"    [{reason.kind.value}] {reason.name} -> {reason.level}: {reason.text}")
    if not decision.reasons:
        p("    no trigger fired")
    owner = decision.owner
    if owner is not None:
        p(
            f"  owner: {owner.current} ({owner.role}); primary {owner.primary}, backup {owner.backup}"
            + (f"; {owner.note}" if owner.note else "")
        )
    p("  SLA (business time of the ticket's calendar):")
    for metric, sla in decision.sla.items():
        left = "met" if sla.met_at else format_seconds(sla.business_seconds_left or 0)
        p(
            f"    {metric}: target {format_seconds(sla.target_seconds)}, due {sla.due_at:%Y-%m-%d %H:%M} UTC, "
            f"{'left ' + left if not sla.met_at else 'met at ' + f'{sla.met_at:%Y-%m-%d %H:%M} UTC'}, "
            f"{sla.state.value}{', paused' if sla.paused else ''}"
        )
    history = store.audit_entries(ref=ticket.ref)
    if history:
        p("  history:")
        for entry in history[-10:]:
            detail = entry["detail"]
            p(
                f"    {entry['at'][:16]} run {entry['run_id']} {entry['kind']}: "
                + (
                    f"level {detail.get('level')}"
                    if entry["kind"] == "decision"
                    else detail.get("status", "")
                )
            )
    return True
