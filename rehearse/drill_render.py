"""A drill's timeline in words: one block per moment where something happened or moved."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rehearse.drill import Timeline
from rehearse.replay import Step
from rehearse.scenario import wall_seconds


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%a %Y-%m-%d %H:%M UTC")


def _dues(step: Step) -> str:
    states = dict(step.states)
    parts = []
    for metric, due, paused in step.dues:
        pause = ", paused" if paused else ""
        parts.append(f"{metric} due {_when(due)} ({states.get(metric, 'ok')}{pause})")
    return "; ".join(parts) if parts else "no SLA clock running"


def moments(timeline: Timeline) -> list[dict]:
    """Each moment of the timeline: what the script did, and what the matrix decided."""
    start = timeline.scenario.start.astimezone(UTC).timestamp()
    found: dict[float, dict] = {}
    for step in timeline.scenario.steps:
        at = start + wall_seconds(step.after)
        found.setdefault(at, {"at": at, "script": [], "decision": None, "events": []})
        what = [w for w in ("agent_reply", "customer_reply") if getattr(step, w)]
        what += [
            f"{k} {getattr(step, k)}"
            for k in ("status", "severity", "category")
            if getattr(step, k) is not None
        ]
        found[at]["script"].append(step.note or ", ".join(what) or "(nothing)")
    before: Step | None = None
    for step in timeline.steps:
        entry = found.setdefault(
            step.at, {"at": step.at, "script": [], "decision": None, "events": []}
        )
        entry["decision"] = (before, step)
        before = step
    for event in timeline.events:
        found[event.at]["events"].append(event)
    return [found[at] for at in sorted(found)]


def as_text(timeline: Timeline) -> str:
    scenario = timeline.scenario
    lines = [
        f"Drill: {scenario.name}",
        f"runs every {scenario.run_every} from {_when(timeline.moments[0])} to {_when(timeline.moments[-1])}",
        "",
    ]
    for entry in moments(timeline):
        lines.append(_when(entry["at"]))
        for text in entry["script"]:
            lines.append(f"  scenario: {text}")
        if entry["decision"] is not None:
            before, step = entry["decision"]
            if before is None or before.level != step.level:
                how = "timed escalation" if step.timed else "level"
                if before is None:
                    lines.append(f"  {how}: {step.level} (first run)")
                else:
                    lines.append(f"  {how}: {before.level} -> {step.level}")
                lines += [f"    why: {reason}" for reason in step.reasons]
            if step.owner is not None and (before is None or before.owner != step.owner):
                lines.append(f"  owner: {step.owner} ({step.role})")
            if before is None or before.dues != step.dues or before.states != step.states:
                lines.append(f"  sla: {_dues(step)}")
        for event in entry["events"]:
            lines.append(f"  notify {event.to or 'nobody'}: {event.kind} ({event.detail})")
        lines.append("")
    return "\n".join(lines)


def as_json(timeline: Timeline) -> str:
    body = []
    for entry in moments(timeline):
        item: dict = {"at": _when(entry["at"]), "scenario": entry["script"]}
        if entry["decision"] is not None:
            _, step = entry["decision"]
            item["decision"] = {
                "level": step.level,
                "previous_level": step.previous_level,
                "timed_escalation": step.timed,
                "owner": step.owner,
                "role": step.role,
                "reasons": list(step.reasons),
                "sla": {
                    m: {"due": _when(d), "state": dict(step.states).get(m), "paused": p}
                    for m, d, p in step.dues
                },
            }
        item["notify"] = [
            {"to": e.to, "event": e.kind, "detail": e.detail} for e in entry["events"]
        ]
        body.append(item)
    return (
        json.dumps(
            {"scenario": timeline.scenario.name, "timeline": body}, ensure_ascii=False, indent=1
        )
        + "\n"
    )
