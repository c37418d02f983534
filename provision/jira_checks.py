"""Doctor's Jira checks: permissions in every configured project, our fields with their schema
types and options, a context of each field covering every configured project (a field no
context applies to a project cannot be set on its issues), the fields on each project's edit
screen (editmeta), translated sources.

A select field's options live in a context: the options we write must be in the context that
applies the field to each configured project (the project's own context, else the global one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from config.schema import Config
from connectors.jira_setup import JiraSetup
from provision.expected import TranslatedSource, WantedField
from provision.findings import RUN_PROVISION, Finding, ok, problem, warning, where
from provision.first_run import jira_first_run
from provision.zendesk_checks import option_finding

SYSTEM = "jira"
NEEDED_PERMISSIONS = ("BROWSE_PROJECTS", "EDIT_ISSUES")
# our kind -> the schema types of a field that holds it
SCHEMA_TYPES = {
    "dropdown": ("option",),
    "text": ("string",),
    "long_text": ("string",),
    "datetime": ("datetime",),
    "date": ("date",),
    "number": ("number",),
}


def check_permissions(config: Config, setup: JiraSetup) -> list[Finding]:
    findings = []
    for project in config.connections.jira.projects:
        have = setup.my_permissions(project, list(NEEDED_PERMISSIONS))
        missing = [key for key in NEEDED_PERMISSIONS if not have.get(key)]
        subject = f"permissions in project {project}"
        if missing:
            findings.append(problem(SYSTEM, subject, f"the integration user lacks {', '.join(missing)}",
                                    f"grant {', '.join(missing)} to the user in {project}'s permission scheme (Project settings > Permissions)"))  # fmt: skip
        else:
            findings.append(ok(SYSTEM, subject, ", ".join(NEEDED_PERMISSIONS)))
    return findings


def project_ids(config: Config, setup: JiraSetup) -> dict[str, str]:
    """Configured project key -> its id (contexts name projects by id)."""
    return {key: str(setup.project(key)["id"]) for key in config.connections.jira.projects}


def covering_contexts(
    setup: JiraSetup, field_id: str, projects: dict[str, str]
) -> dict[str, str | None]:
    """Project key -> the context that applies the field there (the project's own, else the
    global one), or None when no context covers the project."""
    mapping = setup.context_projects(field_id)
    own = {str(m["projectId"]): str(m["contextId"]) for m in mapping if m.get("projectId")}
    default = next((str(m["contextId"]) for m in mapping if m.get("isGlobalContext")), None)
    return {key: own.get(project_id, default) for key, project_id in projects.items()}


def field_options(
    setup: JiraSetup, field_id: str, contexts: Iterable[str] | None = None
) -> list[str]:
    """The enabled option values of a select field that every one of `contexts` holds (every
    context of the field, joined, when None)."""
    wanted = (
        [c["id"] for c in setup.field_contexts(field_id)] if contexts is None else list(contexts)
    )
    held = [
        [o["value"] for o in setup.field_options(field_id, c) if not o.get("disabled")]
        for c in wanted
    ]
    if contexts is None:
        return [value for values in held for value in values]
    return [v for v in held[0] if all(v in values for values in held[1:])] if held else []


def check_fields(
    config: Config,
    setup: JiraSetup,
    fields: dict[str, dict[str, Any]],
    wanted: list[WantedField],
    projects: dict[str, str],
) -> list[Finding]:
    findings = []
    for want in wanted:
        subject = f"field {want.label}"
        field = fields.get(want.field)
        schema_type = ((field or {}).get("schema") or {}).get("type")
        if field is None:
            findings.append(problem(SYSTEM, subject, "no such field",
                                    f"{RUN_PROVISION} (creates '{want.title}' and writes its id to {where(config, want.key_path)})"))  # fmt: skip
        elif schema_type not in SCHEMA_TYPES[want.kind]:
            findings.append(problem(SYSTEM, subject, f"'{field.get('name')}' holds {schema_type}; expected {SCHEMA_TYPES[want.kind][0]}",
                                    f"name a field of that type at {where(config, want.key_path)}, or remove the key and run provision"))  # fmt: skip
        else:
            missing = None
            if want.kind == "dropdown":
                cover = covering_contexts(setup, want.field, projects)
                contexts = sorted({c for c in cover.values() if c is not None})
                present = field_options(setup, want.field, contexts or None)
                missing = option_finding(SYSTEM, config, want, subject, present, "options")
            findings.append(missing or ok(SYSTEM, subject, f"{schema_type} '{field.get('name')}'"))
    return findings


def check_contexts(
    setup: JiraSetup,
    fields: dict[str, dict[str, Any]],
    wanted: list[WantedField],
    projects: dict[str, str],
) -> list[Finding]:
    """Each existing custom field of ours has a context covering every configured project."""
    findings = []
    for want in wanted:
        field = fields.get(want.field)
        if field is None or not field.get("custom"):
            continue
        cover = covering_contexts(setup, want.field, projects)
        uncovered = [key for key, context in cover.items() if context is None]
        subject = f"contexts of {want.label}"
        if uncovered:
            findings.append(problem(SYSTEM, subject, f"no context of '{field.get('name')}' covers {', '.join(uncovered)}; the field cannot be set on their issues",
                                    f"{RUN_PROVISION} (adds a context for them), or add them to a context in Settings > Issues > Custom fields"))  # fmt: skip
        else:
            findings.append(ok(SYSTEM, subject, f"a context covers {', '.join(cover)}"))
    return findings


def check_screens(
    config: Config, setup: JiraSetup, fields: dict[str, dict[str, Any]], wanted: list[WantedField]
) -> list[Finding]:
    """Our existing fields are editable on an issue of each type in each project (editmeta)."""
    ours = [w for w in wanted if w.field in fields]
    findings: list[Finding] = []
    if not ours:
        return findings  # none exists yet: their own lines say so
    for project in config.connections.jira.projects:
        samples = setup.issues_by_type(project)
        if not samples:
            findings.append(warning(SYSTEM, f"edit screen of {project}", "no issue to ask editmeta with; not checked"))  # fmt: skip
            continue
        for issue_type, key in sorted(samples.items()):
            editable = setup.edit_meta(key)
            absent = [w.field for w in ours if w.field not in editable]
            subject = f"edit screen of {project} ({issue_type}, asked with {key})"
            if absent:
                findings.append(problem(SYSTEM, subject, f"not on it: {', '.join(absent)}; edits would fail",
                                        f"{RUN_PROVISION} (adds them to {project}'s screens), or add them in Project settings > Screens"))  # fmt: skip
            else:
                findings.append(ok(SYSTEM, subject, f"all {len(ours)} of our fields are editable"))
    return findings


def check_translated(
    config: Config,
    setup: JiraSetup,
    fields: dict[str, dict[str, Any]],
    sources: list[TranslatedSource],
) -> list[Finding]:
    findings = []
    for source in sources:
        subject = f"field {source.field} read as {source.attribute}"
        field = fields.get(source.field)
        if field is None:
            findings.append(problem(SYSTEM, subject, "no such field",
                                    f"name an existing field at {where(config, source.key_path[:-1])}"))  # fmt: skip
            continue
        if ((field.get("schema") or {}).get("type")) != "option":
            continue  # free text: any value may occur
        present = {v.casefold() for v in field_options(setup, source.field)}
        unknown = [v for v in source.values if v.casefold() not in present]
        if unknown:
            findings.append(warning(SYSTEM, subject, f"translate names values the field has no option for: {', '.join(unknown)}",
                                    f"use the option names at {where(config, source.key_path)}"))  # fmt: skip
        else:
            findings.append(ok(SYSTEM, subject, "every translated value is an option"))
    return findings


def check_rate_limit(headers: dict[str, str]) -> list[Finding]:
    lowered = {k.lower(): v for k, v in headers.items()}
    shown = {
        k: v
        for k, v in lowered.items()
        if k.startswith(("x-ratelimit", "ratelimit", "retry-after"))
    }
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(shown.items())) or "no rate-limit headers (Jira sends them when near a limit)"  # fmt: skip
    return [ok(SYSTEM, "rate limit", detail)]


def check_jira(
    config: Config, setup: JiraSetup, wanted: list[WantedField], sources: list[TranslatedSource]
) -> list[Finding]:
    findings = check_permissions(config, setup)
    fields = {f["id"]: f for f in setup.fields()}
    projects = project_ids(config, setup)
    findings += check_fields(config, setup, fields, wanted, projects)
    findings += check_contexts(setup, fields, wanted, projects)
    findings += check_screens(config, setup, fields, wanted)
    findings += check_translated(config, setup, fields, sources)
    findings += check_rate_limit(setup.last_headers)
    return findings + jira_first_run(config, setup)
