"""The Zendesk views provision makes so agents have a queue: one shared view per escalated level
(every level above the lowest), "Escalated: <level>", holding the open tickets at that level,
the soonest SLA due first. `mapping.zendesk.level_views: false` turns them off.

A view finds its tickets by our level tag (`current_tags includes escalation_<level>`: the tag
follows the level a person sets too), or, with `tags_prefix: null`, by the level field's option
(`custom_fields_<id> is <tag>`). Zendesk requires a status condition in `all`, so open means
status less than solved. It is sorted by our SLA due field, ascending: that field is text
holding "YYYY-MM-DD HH:MM UTC", fixed width and always UTC, so text order is time order
(Zendesk date fields hold no time of day). Views are found by title: a second apply makes none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from config.schema import Config
from config.write_mapping import level_tag

TITLE = "Escalated: {level}"


@dataclass(frozen=True)
class LevelView:
    level: str
    title: str
    condition: str  # for the plan: how it finds its tickets


def level_views(config: Config) -> list[LevelView]:
    """The views the config asks for (none when switched off or Zendesk is not enabled)."""
    zendesk = config.mapping.zendesk
    if not zendesk.level_views or "zendesk" not in config.connections.enabled_systems():
        return []
    found = []
    for level in list(config.matrix.levels)[1:]:
        if zendesk.tags_prefix:
            condition = f"open tickets tagged {level_tag(zendesk.tags_prefix, level)}"
        else:
            condition = f"open tickets whose level field is {level}"
        found.append(LevelView(level, TITLE.format(level=level), condition))
    return found


def view_spec(
    config: Config, view: LevelView, field_id: Callable[[str], str | None]
) -> dict[str, Any]:
    """POST /api/v2/views.json's `view`; `field_id(output)` gives our field ids, known only
    when the step runs (a field made in the same apply)."""
    zendesk = config.mapping.zendesk
    conditions: list[dict[str, Any]] = [{"field": "status", "operator": "less_than", "value": "solved"}]  # fmt: skip
    if zendesk.tags_prefix:
        tag = level_tag(zendesk.tags_prefix, view.level)
        conditions.append({"field": "current_tags", "operator": "includes", "value": tag})
    else:
        level = zendesk.write.outputs()["level"]
        option = (level.options or {}).get(view.level, view.level)
        conditions.append({"field": f"custom_fields_{field_id('level')}", "operator": "is", "value": option})  # fmt: skip
    output: dict[str, Any] = {"columns": ["status", "description", "requester", "organization", "updated"]}  # fmt: skip
    due = field_id("sla_next_due")
    if due is not None:
        output["columns"].insert(1, int(due))  # a custom field column is its id
        output.update(sort_by=str(due), sort_order="asc")
    return {"title": view.title, "all": conditions, "output": output, "active": True,
            "description": f"Open tickets escalation-sync holds at {view.level}, the soonest SLA due first."}  # fmt: skip
