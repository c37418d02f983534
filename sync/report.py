"""What a person reads: the one-line summary, the dry-run plan, and `explain`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TextIO

from config.write_mapping import WriteField
from sync.allowance import allowance_line
from sync.formats import comparable
from sync.notifications import plan_lines
from sync.quota_bound import quota_bound_lines
from sync.run import RunResult


def summary_line(result: RunResult) -> str:
    s = result.summary()
    pulled = sum(s["pulled"].values())
    written = sum(n for key, n in s["results"].items() if key.endswith(":ok"))
    planned = sum(s["planned_writes"].values())
    state = result.exit_code.meaning
    parts = [
        f"escalation-sync: {state}" + (" (dry run)" if result.dry_run else ""),
        f"pulled {pulled}",
        f"evaluated {s['evaluated']}",
        f"{'would write' if result.dry_run else 'wrote'} {planned if result.dry_run else written} record(s)",
    ]
    for key, label in (
        ("skipped_records", "bad records skipped"),
        ("bad_values", "bad values left out"),
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
    notified = s.get("notifications") or {}
    for key, label in (("sent", "notifications sent"), ("retry", "notifications to retry"),
                       ("rejected", "notifications rejected"), ("unknown", "notifications unknown"),
                       ("confirmed", "lost answers found delivered"),
                       ("resent_after_check", "lost answers found undelivered and sent"),
                       ("given_up", "notifications given up")):  # fmt: skip
        if notified.get(key) and not result.dry_run:
            parts.append(f"{notified[key]} {label}")
    for system, why in s.get("credentials_refused", {}).items():
        parts.append(f"{system} refused our credentials: {why.removeprefix(system + ': ')}")
    if s["unreachable"]:
        parts.append("unreachable: " + ", ".join(s["unreachable"]))
    parts += quota_bound_lines(s.get("quota_bound") or {})
    parts += [allowance_line(system, a) for system, a in (s.get("allowances") or {}).items()]
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
                    shown = target.writes.get(plan.field)
                    print(
                        f"    {plan.field}: {_short(_our_name(shown, plan.current))}"
                        f" -> {_short(_our_name(shown, plan.wanted))}",
                        file=out,
                    )
            if write.tags_add or write.tags_remove:
                tags = "labels" if system == "jira" else "tags"  # Jira calls them labels
                print(f"    {tags}: +{list(write.tags_add)} -{list(write.tags_remove)}", file=out)
            if write.note:
                print("    private note: " + write.note.splitlines()[0], file=out)
    if result.notifications is not None:
        for line in plan_lines(result.notifications):
            print(line, file=out)
    for ref, field, value in result.overrides_found:
        print(
            f"override: {ref} {field} set by a person to {_short(value)}; not overwritten", file=out
        )
    for ref, reason in result.pull.skipped:
        print(f"skipped: {ref}: {reason}", file=out)
    for issue in result.pull.issues:
        print(f"bad value: {issue}", file=out)


def _our_name(write: WriteField | None, value: object) -> object:
    """A dropdown value under our own name: the level `advisory`, not its option `esc_level_advisory`.

    A value that is no option of ours (set by a person) is shown as the system holds it.
    """
    if write is None or write.format != "dropdown" or not write.options or value is None:
        return value
    names = {comparable(write, option): name for name, option in write.options.items()}
    return names.get(value, value)


def _short(value: object, limit: int = 70) -> str:
    text = "-" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
