"""What provision creates in Zendesk: our ticket fields (a drop-down with one option per level
and the tags the mapping names, text fields), missing options, the organisation field the
join uses, the account matrix's organisation field and tags (provision/zendesk_organization.py),
and one view per escalated level (provision/zendesk_views.py). A field with our
title and a fitting type is adopted instead of made twice."""

from __future__ import annotations

from typing import Any

from config.join_schema import OrganizationField
from config.schema import Config
from connectors.zendesk_setup import ZendeskSetup
from provision.actions import Plan, Step
from provision.expected import WantedField
from provision.zendesk_checks import TYPES
from provision.zendesk_organization import plan_organization_matrix
from provision.zendesk_views import level_views, view_spec

SYSTEM = "zendesk"
CREATE_TYPE = {"dropdown": "tagger", "text": "text", "long_text": "textarea", "date": "date", "number": "decimal"}  # fmt: skip


def plan_zendesk(
    config: Config, setup: ZendeskSetup, wanted: list[WantedField], plan: Plan
) -> None:
    fields = setup.ticket_fields()
    by_id = {str(f["id"]): f for f in fields}
    by_title = {str(f.get("title", "")).casefold(): f for f in fields if f.get("active", True)}
    ids: dict[str, str] = {}  # output -> field id; a field made by a step is added when it runs
    for want in wanted:
        field = by_id.get(want.field)
        if field is None:
            adopted = by_title.get(want.title.casefold())
            if adopted is not None and adopted.get("type") in TYPES[want.kind]:
                plan.add(Step(SYSTEM, f"use the existing field '{adopted['title']}' ({adopted['id']}) for {want.output}",
                              lambda found=adopted: str(found["id"]), want.key_path))  # fmt: skip
                field = adopted
            else:
                plan.add(_create_step(setup, want, ids))
                continue
        ids[want.output] = str(field["id"])
        if want.kind == "dropdown" and field.get("type") == "tagger":
            _options(setup, want, field, plan)
    org_keys = {f.get("key") for f in setup.organization_fields()}
    for strategy in config.join:
        if isinstance(strategy, OrganizationField) and strategy.field not in org_keys:
            spec = {"key": strategy.field, "type": "text", "title": strategy.field.replace("_", " ").capitalize()}  # fmt: skip
            plan.add(Step(SYSTEM, f"create organization field '{strategy.field}' (text, the join reads it)",
                          lambda spec=spec: setup.create_organization_field(spec) and None))  # fmt: skip
    plan_organization_matrix(config, setup, plan)
    _views(config, setup, ids, plan)


def _views(config: Config, setup: ZendeskSetup, ids: dict[str, str], plan: Plan) -> None:
    """A view per escalated level that no view has the title of yet (made after the fields)."""
    wanted = level_views(config)
    if not wanted:
        return
    titles = {str(v.get("title")) for v in setup.views()}
    for view in wanted:
        if view.title not in titles:
            plan.add(Step(SYSTEM, f"create view '{view.title}' ({view.condition}, SLA due soonest first)",
                          lambda view=view: setup.create_view(view_spec(config, view, ids.get)) and None))  # fmt: skip


def _create_step(setup: ZendeskSetup, want: WantedField, ids: dict[str, str]) -> Step:
    spec: dict[str, Any] = {"type": CREATE_TYPE[want.kind], "title": want.title,
                            "description": f"Written by escalation-sync ({want.output})."}  # fmt: skip
    what = CREATE_TYPE[want.kind]
    if want.kind == "dropdown":
        spec["custom_field_options"] = [{"name": name, "value": tag} for name, tag in zip(want.option_names, want.options, strict=True)]  # fmt: skip
        what = f"drop-down, {len(want.options)} options"

    def create() -> str:
        ids[want.output] = str(setup.create_ticket_field(spec)["id"])
        return ids[want.output]

    return Step(SYSTEM, f"create ticket field '{want.title}' ({what}) for {want.output}", create, want.key_path)  # fmt: skip


def _options(setup: ZendeskSetup, want: WantedField, field: dict[str, Any], plan: Plan) -> None:
    present = [o.get("value") for o in field.get("custom_field_options") or []]
    for name, tag in zip(want.option_names, want.options, strict=True):
        if tag not in present:
            plan.add(Step(SYSTEM, f"add option '{name}' (tag {tag}) to '{field.get('title')}'",
                          lambda name=name, tag=tag: setup.add_ticket_field_option(int(field["id"]), name, tag) and None))  # fmt: skip
    extra = [tag for tag in present if tag not in want.options]
    if extra:
        plan.obsolete.append(f"zendesk: options of '{field.get('title')}' the mapping no longer names: {', '.join(map(str, extra))}")  # fmt: skip
