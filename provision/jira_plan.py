"""What provision creates in Jira: our custom fields (select with one option per level or tier,
date, date-time, number, text), missing options, and each field on the screens of every
configured project (a field made through the API is on no screen).

A field we make gets a context limited to the configured projects (every issue type), with our
options in it, instead of the global context Jira gives a new field: that global context, on
the field made in the same step, is removed, so the field stays out of every other project. An
existing field whose contexts leave a configured project out gets a context for it; nothing of
an existing field is removed."""

from __future__ import annotations

from typing import Any

from config.schema import Config
from connectors.jira_setup import JiraSetup
from provision.actions import Plan, Step
from provision.expected import WantedField
from provision.jira_checks import SCHEMA_TYPES, covering_contexts, field_options

SYSTEM = "jira"
CREATE_TYPE = {"dropdown": "select", "text": "textfield", "long_text": "textarea",
               "datetime": "datetime", "date": "datepicker", "number": "float"}  # fmt: skip
CONTEXT_NAME = "escalation-sync"


class _Screens:
    """Each configured project's (screen, tab) pairs and the fields on them, read once."""

    def __init__(self, config: Config, setup: JiraSetup):
        self.setup = setup
        self.tabs: dict[str, list[tuple[int, int]]] = {}
        self.on_tab: dict[tuple[int, int], list[str]] = {}
        self.project_ids: dict[str, str] = {}  # key -> id, what contexts name projects by
        for project in config.connections.jira.projects:
            project_id = str(setup.project(project)["id"])
            self.project_ids[project] = project_id
            self.tabs[project] = setup.screen_tabs(project_id)
            for tab in self.tabs[project]:
                self.on_tab.setdefault(tab, setup.tab_fields(*tab))

    def missing(self, field_id: str | None) -> list[tuple[str, tuple[int, int]]]:
        return [(p, tab) for p, tabs in self.tabs.items() for tab in tabs if field_id is None or field_id not in self.on_tab[tab]]  # fmt: skip

    def add(self, field_id: str, tab: tuple[int, int]) -> None:
        if field_id not in self.on_tab[tab]:  # two projects may share a screen
            self.setup.add_to_tab(tab[0], tab[1], field_id)
            self.on_tab[tab].append(field_id)


def plan_jira(config: Config, setup: JiraSetup, wanted: list[WantedField], plan: Plan) -> None:
    fields = setup.fields()
    by_id = {f["id"]: f for f in fields}
    by_name = {str(f.get("name", "")).casefold(): f for f in fields if f.get("custom")}
    screens = _Screens(config, setup)
    for want in wanted:
        field = by_id.get(want.field)
        if field is None:
            adopted = by_name.get(want.title.casefold())
            if (
                adopted is not None
                and (adopted.get("schema") or {}).get("type") in SCHEMA_TYPES[want.kind]
            ):
                plan.add(Step(SYSTEM, f"use the existing field '{adopted['name']}' ({adopted['id']}) for {want.output}",
                              lambda found=adopted: str(found["id"]), want.key_path))  # fmt: skip
                field = adopted
            else:
                plan.add(_create_step(setup, screens, want))
                continue
        cover = covering_contexts(setup, field["id"], screens.project_ids)
        _contexts(setup, want, field, cover, screens.project_ids, plan)
        if want.kind == "dropdown" and (field.get("schema") or {}).get("type") == "option":
            _options(setup, want, field, cover, plan)
        for project, tab in screens.missing(field["id"]):
            plan.add(Step(SYSTEM, f"add '{field['name']}' ({field['id']}) to {project}'s screen {tab[0]}",
                          lambda field_id=field["id"], tab=tab: screens.add(field_id, tab)))  # fmt: skip


def _create_step(setup: JiraSetup, screens: _Screens, want: WantedField) -> Step:
    kind = CREATE_TYPE[want.kind]
    targets = screens.missing(None)

    project_ids = screens.project_ids

    def create() -> str:
        field = setup.create_field(want.title, kind, f"Written by escalation-sync ({want.output}).")
        given = setup.field_contexts(field["id"])
        context = _limited_context(setup, want, field["id"], list(project_ids.values()))
        for default in given:  # the global context Jira gave the field we just made
            if default.get("isGlobalContext"):
                setup.delete_context(field["id"], default["id"])
        if want.kind == "dropdown":
            setup.add_options(field["id"], context, list(want.options))
        for _, tab in targets:
            screens.add(field["id"], tab)
        return str(field["id"])

    options = f", {len(want.options)} options" if want.kind == "dropdown" else ""
    projects = ", ".join(dict.fromkeys(p for p, _ in targets))
    return Step(SYSTEM, f"create field '{want.title}' ({kind}{options}) for {want.output}, with a context for {', '.join(project_ids)}, on the screens of {projects}",
                create, want.key_path)  # fmt: skip


def _limited_context(
    setup: JiraSetup, want: WantedField, field_id: str, project_ids: list[str]
) -> str:
    made = setup.create_context(field_id, CONTEXT_NAME, f"The projects escalation-sync writes {want.output} in.", project_ids)  # fmt: skip
    return str(made["id"])


def _contexts(
    setup: JiraSetup,
    want: WantedField,
    field: dict[str, Any],
    cover: dict[str, str | None],
    project_ids: dict[str, str],
    plan: Plan,
) -> None:
    """A context (with our options) for the configured projects no context of the field covers."""
    uncovered = [key for key, context in cover.items() if context is None]
    if not uncovered or not field.get("custom"):
        return

    def add() -> None:
        context = _limited_context(setup, want, field["id"], [project_ids[k] for k in uncovered])
        if want.kind == "dropdown":
            setup.add_options(field["id"], context, list(want.options))

    plan.add(Step(SYSTEM, f"add a context for {', '.join(uncovered)} to '{field['name']}' ({field['id']})", add))  # fmt: skip


def _options(
    setup: JiraSetup,
    want: WantedField,
    field: dict[str, Any],
    cover: dict[str, str | None],
    plan: Plan,
) -> None:
    """Missing options added to each context that applies the field to a configured project."""
    contexts = sorted({c for c in cover.values() if c is not None})
    extra: list[str] = []
    for context in contexts:
        present = field_options(setup, field["id"], [context])
        missing = [v for v in want.options if v not in present]
        if missing:
            where = f" (context {context})" if len(contexts) > 1 else ""
            plan.add(Step(SYSTEM, f"add options {', '.join(missing)} to '{field['name']}'{where}",
                          lambda context=context, missing=missing: setup.add_options(field["id"], context, missing) and None))  # fmt: skip
        extra += [v for v in present if v not in want.options and v not in extra]
    if extra:
        plan.obsolete.append(f"jira: options of '{field['name']}' the mapping no longer names: {', '.join(extra)}")  # fmt: skip
