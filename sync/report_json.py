"""The run summary as one JSON object (`--log-format json`), for log shippers and monitoring.

It carries what the text output carries: the one-line summary in words (`message`), the
counts behind it, every rejected record with the vendor's words and, for a dry run, the plan.
No secrets and, outside the plan (which is what a person asked to see), no record values.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sync.notifications import plan_entries
from sync.plan import PlannedWrite
from sync.report import summary_line
from sync.run import RunResult

STATUS = {
    0: "ok",
    1: "some records failed",
    3: "a system could not be reached",
    10: "quota-bound, resuming next run",
}


def summary_json(result: RunResult) -> str:
    """One line of JSON: the summary object."""
    return json.dumps(summary_object(result), ensure_ascii=False, default=str)


def summary_object(result: RunResult) -> dict[str, Any]:
    summary = {
        "status": STATUS.get(result.exit_code, "failed"),
        "exit_code": result.exit_code,
        "dry_run": result.dry_run,
        "run_id": result.run_id,
        "message": summary_line(result),
        **result.summary(),
        "rejected_records": [
            {"ref": ref, "reason": reason} for ref, reason in result.apply.rejected
        ],
        "still_rejected_records": [
            {"ref": ref, "reason": re.sub(r" \[payload [0-9a-f]+\]$", "", reason or "")}
            for ref, reason in result.still_rejected
        ],
    }
    if result.dry_run:
        summary["plan"] = [_planned(item) for item in result.writes]
        summary["overrides"] = [
            {"ref": ref, "field": field, "value": value}
            for ref, field, value in result.overrides_found
        ]
        if result.notifications is not None:
            summary["notifications_plan"] = plan_entries(result.notifications)
    return summary


def _planned(item: PlannedWrite) -> dict[str, Any]:
    """One record of the plan: its fields old -> new and why (as print_plan shows it)."""
    target, write = item.target, item.write
    assert write is not None, "the plan lists result.writes: records with something to send"
    return {
        "ref": write.ref,
        "system": target.system,
        "level": target.level,
        "why": list(target.reasons),
        "fields": {
            plan.field: {"old": plan.current, "new": plan.wanted}
            for plan in item.record_plan.fields
            if plan.needs_write
        },
        "tags_add": list(write.tags_add),
        "tags_remove": list(write.tags_remove),
        "note": write.note.splitlines()[0] if write.note else None,
    }
