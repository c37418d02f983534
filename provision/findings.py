"""One line of doctor's checklist, and how the checklist is printed (text or JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from config.schema import Config

Status = Literal["ok", "problem", "warning"]
RUN_PROVISION = "run `escalation-sync provision --config F --apply`"


@dataclass(frozen=True)
class Finding:
    system: str
    status: Status
    subject: str  # what was checked: "ticket field level (360000000201)"
    detail: str  # what was found
    fix: str = ""  # what to do, for a problem or warning

    def line(self) -> str:
        mark = {"ok": "ok     ", "problem": "PROBLEM", "warning": "warning"}[self.status]
        text = f"  {mark} {self.subject}: {self.detail}"
        return text + (f"\n          fix: {self.fix}" if self.fix else "")


def ok(system: str, subject: str, detail: str) -> Finding:
    return Finding(system, "ok", subject, detail)


def problem(system: str, subject: str, detail: str, fix: str) -> Finding:
    return Finding(system, "problem", subject, detail, fix)


def warning(system: str, subject: str, detail: str, fix: str = "") -> Finding:
    return Finding(system, "warning", subject, detail, fix)


def where(config: Config, key_path: tuple[str | int, ...]) -> str:
    """`mapping.yaml:12 (mapping.zendesk.write.level)`: the file, line and key to change (a list
    position shows as `join[1]`)."""
    location = config.location(key_path)
    key_path = config.written_at(key_path)  # a named Zendesk's own section, where it has one
    line = f":{location.line}" if location.line else ""
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in key_path)
    return f"{location.file}{line} ({key.lstrip('.')})"


def as_text(findings: list[Finding]) -> str:
    lines = []
    for system in dict.fromkeys(f.system for f in findings):
        lines.append(system)
        lines += [f.line() for f in findings if f.system == system]
    counts = {s: sum(1 for f in findings if f.status == s) for s in ("ok", "problem", "warning")}
    lines.append(f"{counts['ok']} ok, {counts['problem']} problems, {counts['warning']} warnings")
    return "\n".join(lines)


def as_json(findings: list[Finding]) -> str:
    return json.dumps({"checks": [asdict(f) for f in findings]}, indent=2)
