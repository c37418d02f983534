"""Source paths: where a value sits inside a vendor's JSON.

Syntax, one segment per dot:
  `priority`                      a key
  `organization.external_id`      nested keys
  `fields.customfield_10020.value`
  `custom_fields[360001]`         in a list of {"id": .., "value": ..} objects (Zendesk custom
                                  fields), the value of the item with that id
  `fields.issuelinks[*].outwardIssue.key`   the rest of the path for every list item; a list
Zendesk sideloads: when the record has no `organization` but has `organization_id`, the path
`organization.x` looks the organisation up in the related records given to the resolver (same
for `requester`, `assignee`, `submitter` with users).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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


def _select(items: Any, wanted: str) -> Any:
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and str(item.get("id")) == wanted:
            return item.get("value") if "value" in item else item
    return None


def _related(data: Mapping[str, Any], name: str, related: Mapping[str, Mapping[str, Any]]) -> Any:
    table = related.get(name)
    ref = data.get(f"{name}_id")
    if table is None or ref is None:
        return None
    return table.get(str(ref))


def _walk(
    value: Any, steps: tuple[Step, ...], index: int, related: Mapping[str, Mapping[str, Any]]
) -> Any:
    while index < len(steps):
        step = steps[index]
        if value is None:
            return None
        if step.kind == "key":
            if not isinstance(value, Mapping):
                return None
            found = value.get(step.name)
            if found is None and index == 0 and related:
                found = _related(value, step.name, related)
            value = found
        elif step.kind == "select":
            value = _select(value, step.name)
        else:  # each: the rest of the path per item, flattened into one list
            if not isinstance(value, list):
                return None
            collected: list[Any] = []
            for item in value:
                result = _walk(item, steps, index + 1, {})
                if isinstance(result, list):
                    collected.extend(r for r in result if r is not None)
                elif result is not None:
                    collected.append(result)
            return collected
        index += 1
    return value


def resolve(
    data: Mapping[str, Any],
    path: SourcePath,
    related: Mapping[str, Mapping[str, Any]] | None = None,
) -> Any:
    """The value at `path` in `data`, or None when any step is missing or of the wrong shape."""
    return _walk(data, path.steps, 0, related or {})
