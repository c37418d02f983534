"""Source paths: how the config names where a value sits inside a vendor's JSON.

Syntax, one segment per dot:
  `priority`                      a key
  `organization.external_id`      nested keys
  `fields.customfield_10020.value`
  `custom_fields[360001]`         in a list of {"id": .., "value": ..} objects (Zendesk custom
                                  fields), the value of the item with that id
  `fields.issuelinks[*].outwardIssue.key`   the rest of the path for every list item; a list

The syntax lives here because config/ checks every path at load time and mapping/paths.py
resolves them against records (with Zendesk's sideloads).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_SEGMENT = re.compile(r"^([^.\[\]]+)((?:\[[^\[\]]+\])*)$")
_SELECTOR = re.compile(r"\[([^\[\]]+)\]")

EACH = "*"


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # "key" | "select" | "each"
    name: str = ""


@dataclass(frozen=True, slots=True)
class SourcePath:
    text: str
    steps: tuple[Step, ...]

    @property
    def head(self) -> str:
        """The first key: the field a connector must ask the API for."""
        return self.steps[0].name

    def __str__(self) -> str:
        return self.text


@lru_cache(maxsize=4096)
def parse_source_path(text: str) -> SourcePath:
    """Parse a source path; ValueError with a reason when the syntax is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("found an empty path; expected e.g. `priority` or `custom_fields[360001]`")
    steps: list[Step] = []
    for segment in text.strip().split("."):
        match = _SEGMENT.match(segment.strip())
        if not match:
            raise ValueError(
                f"cannot read the segment '{segment}' of '{text}'; expected name, name[id] or name[*]"
            )
        steps.append(Step("key", match.group(1)))
        for selector in _SELECTOR.findall(match.group(2)):
            selector = selector.strip()
            steps.append(Step("each") if selector == EACH else Step("select", selector))
    return SourcePath(text.strip(), tuple(steps))
