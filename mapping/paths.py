"""Resolve a source path (its syntax: vocabulary/paths.py) against a vendor record.

Zendesk sideloads: when the record has no `organization` but has `organization_id`, the path
`organization.x` looks the organisation up in the related records given to the resolver (same
for `requester`, `assignee`, `submitter` with users).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vocabulary.paths import SourcePath, Step


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
