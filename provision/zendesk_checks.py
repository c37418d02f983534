"""Doctor's Zendesk checks: the API user's role, our ticket fields and options, the fields a
translate table reads, the organisation field the join uses, the views per escalated level
(when `mapping.zendesk.level_views`), the plan's rate limit and how long a first run takes at
the quotas (provision/first_run.py)."""

from __future__ import annotations

from typing import Any

from config.join_schema import OrganizationField
from config.schema import Config
from connectors.setup_errors import SetupRefused
from connectors.zendesk_setup import ZendeskSetup
from provision.expected import TranslatedSource, WantedField
from provision.findings import RUN_PROVISION, Finding, ok, problem, warning, where
from provision.first_run import zendesk_first_run
from provision.zendesk_organization import check_organization_matrix
from provision.zendesk_views import level_views

SYSTEM = "zendesk"
# our kind -> the ticket field types that hold it
TYPES = {
    "dropdown": ("tagger",),
    "text": ("text", "textarea"),
    "long_text": ("textarea", "text"),
    "date": ("date",),
    "number": ("integer", "decimal"),
}


def check_role(setup: ZendeskSetup, posts_notes: bool) -> list[Finding]:
    """The integration user must be an agent or admin who may edit tickets (and add notes)."""
    me = setup.me()
    role = me.get("role")
    subject = f"integration user {me.get('email')}"
    if role not in ("agent", "admin"):
        return [problem(SYSTEM, subject, f"role is {role!r}; it cannot edit tickets",
                        "make the user an agent (Admin Center > People > Team members)")]  # fmt: skip
    findings = [ok(SYSTEM, subject, f"role {role}")]
    if me.get("custom_role_id"):
        configuration = setup.custom_role(me["custom_role_id"]).get("configuration") or {}
        if not configuration.get("ticket_editing", True):
            findings.append(problem(SYSTEM, subject, "its custom role may not edit tickets",
                                    "allow 'Edit ticket properties' in the role (Admin Center > People > Roles)"))  # fmt: skip
        if posts_notes and configuration.get("comment_access") not in ("public", "private"):
            findings.append(problem(SYSTEM, subject, "its custom role may not add private comments",
                                    "allow private comments in the role, or set mapping.zendesk.private_note_on_level_change: false"))  # fmt: skip
    if role != "admin":
        findings.append(warning(SYSTEM, subject, "not an admin: provision cannot create fields or views",
                                "run provision as an admin, or create the fields by hand"))  # fmt: skip
    return findings


def check_fields(
    config: Config, fields: list[dict[str, Any]], wanted: list[WantedField]
) -> list[Finding]:
    """Each field we write exists with a type that holds our value, and has our options."""
    by_id = {str(f["id"]): f for f in fields}
    findings = []
    for want in wanted:
        subject = f"ticket field {want.label}"
        field = by_id.get(want.field)
        if field is None:
            findings.append(problem(SYSTEM, subject, "no such ticket field",
                                    f"{RUN_PROVISION} (creates '{want.title}' and writes its id to {where(config, want.key_path)})"))  # fmt: skip
        elif field.get("type") not in TYPES[want.kind]:
            findings.append(problem(SYSTEM, subject, f"is a {field.get('type')} field ('{field.get('title')}'); expected {' or '.join(TYPES[want.kind])}",
                                    f"name a {TYPES[want.kind][0]} field at {where(config, want.key_path)}, or remove the key and run provision"))  # fmt: skip
        elif not field.get("active", True):
            findings.append(problem(SYSTEM, subject, f"'{field.get('title')}' is inactive",
                                    "activate it (Admin Center > Objects and rules > Tickets > Fields)"))  # fmt: skip
        else:
            findings.append(_options_finding(config, want, field) or ok(SYSTEM, subject, f"{field['type']} '{field.get('title')}'"))  # fmt: skip
    return findings


def _options_finding(config: Config, want: WantedField, field: dict[str, Any]) -> Finding | None:
    if want.kind != "dropdown":
        return None
    tags = [o.get("value") for o in field.get("custom_field_options") or []]
    return option_finding(SYSTEM, config, want, f"ticket field {want.label}", tags, "tags")


def option_finding(
    system: str, config: Config, want: WantedField, subject: str, present: list[Any], what: str
) -> Finding | None:
    """A problem naming the option values we write that the field lacks (a near miss by case
    is named with the spelling to use instead), or None when all are there."""
    missing = [v for v in want.options if v not in present]
    if not missing:
        return None
    by_case = {str(p).casefold(): p for p in present}
    near = [f"'{v}' -> '{by_case[v.casefold()]}'" for v in missing if v.casefold() in by_case]
    if near:
        fix = f"change {', '.join(near)} under {where(config, (*want.key_path, 'options'))}"
    else:
        fix = f"{RUN_PROVISION} (adds the missing options)"
    return problem(system, subject, f"missing {what}: {', '.join(missing)}", fix)


def check_translated(
    config: Config, fields: list[dict[str, Any]], sources: list[TranslatedSource]
) -> list[Finding]:
    """A translate table's keys should be among the source field's option tags."""
    by_id = {str(f["id"]): f for f in fields}
    findings = []
    for source in sources:
        subject = f"ticket field {source.field} read as {source.attribute}"
        field = by_id.get(source.field)
        if field is None:
            findings.append(problem(SYSTEM, subject, "no such ticket field",
                                    f"name an existing field at {where(config, source.key_path[:-1])}"))  # fmt: skip
            continue
        tags = {str(o.get("value")).casefold() for o in field.get("custom_field_options") or []}
        unknown = [v for v in source.values if tags and v.casefold() not in tags]
        if unknown:
            findings.append(warning(SYSTEM, subject, f"translate names values the field has no option for: {', '.join(unknown)}",
                                    f"use the option tags at {where(config, source.key_path)}"))  # fmt: skip
        else:
            findings.append(ok(SYSTEM, subject, "every translated value is an option"))
    return findings


def check_organization_fields(config: Config, org_fields: list[dict[str, Any]]) -> list[Finding]:
    keys = {f.get("key") for f in org_fields}
    findings = []
    for index, strategy in enumerate(config.join):
        if isinstance(strategy, OrganizationField):
            subject = f"organization field {strategy.field} (join)"
            if strategy.field in keys:
                findings.append(ok(SYSTEM, subject, "exists"))
            else:
                findings.append(problem(SYSTEM, subject, "no such organization field",
                                        f"{RUN_PROVISION} (creates it), or fix join[{index}].field"))  # fmt: skip
    return findings


def check_views(config: Config, views: list[dict[str, Any]]) -> list[Finding]:
    """A missing view is a warning: syncing works without it, agents lack the queue."""
    wanted = level_views(config)
    if not wanted:
        return []
    titles = {str(v.get("title")) for v in views}
    missing = [f"'{v.title}'" for v in wanted if v.title not in titles]
    if missing:
        return [warning(SYSTEM, "views", f"missing: {', '.join(missing)}",
                        f"{RUN_PROVISION} (makes them), or set level_views: false at {where(config, ('mapping', 'zendesk'))}")]  # fmt: skip
    return [ok(SYSTEM, "views", f"one per escalated level ({len(wanted)})")]


def check_rate_limit(headers: dict[str, str]) -> list[Finding]:
    lowered = {k.lower(): v for k, v in headers.items()}
    limit, left = lowered.get("x-rate-limit"), lowered.get("x-rate-limit-remaining")
    if limit is None:
        return [warning(SYSTEM, "rate limit", "Zendesk sent no X-Rate-Limit header")]
    return [ok(SYSTEM, "rate limit", f"{limit} requests a minute, {left} left now")]


def check_zendesk(
    config: Config, setup: ZendeskSetup, wanted: list[WantedField], sources: list[TranslatedSource]
) -> list[Finding]:
    """Every Zendesk check, in checklist order."""
    findings = check_role(setup, config.mapping.zendesk.private_note_on_level_change)
    try:
        fields = setup.ticket_fields()
    except SetupRefused as refused:
        return [*findings, problem(SYSTEM, "ticket fields", refused.words, "give the user an agent role that can see ticket fields")]  # fmt: skip
    findings += check_fields(config, fields, wanted)
    findings += check_translated(config, fields, sources)
    findings += check_organization_fields(config, setup.organization_fields())
    findings += check_organization_matrix(config, setup)
    if config.mapping.zendesk.level_views:
        findings += check_views(config, setup.views())
    findings += check_rate_limit(setup.last_headers)
    return findings + zendesk_first_run(config, setup)
