"""A provisioning plan: what will be created where, each step runnable, and what is obsolete.

Steps run in order; a step that makes a field returns its new id, which goes into the mapping
at the step's key path. Nothing is ever deleted: what the config no longer names is listed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    system: str
    description: str  # "create ticket field 'Escalation level' (drop-down, 5 options)"
    run: Callable[[], str | None]  # returns the new field id to write into the mapping, if any
    key_path: tuple[str, ...] | None = None  # where that id goes


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)  # listed, never deleted

    def add(self, step: Step) -> None:
        self.steps.append(step)

    def lines(self) -> list[str]:
        if not self.steps:
            lines = ["nothing to create: every field, option, screen and permission is in place"]
        else:
            lines = [f"  {s.system}: {s.description}" for s in self.steps]
        return lines + [f"  obsolete (left alone): {text}" for text in self.obsolete]
