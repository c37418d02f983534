"""The account matrix's Zendesk side for doctor and provision: the organisation field that
shows the account level (`mapping.zendesk.organization.level_field`) and the tags
(`tags_prefix`), which Zendesk keeps only while tags on users and organisations are on
(account settings `user.tagging`; off, an organisation update's tags are dropped).

Only when the account matrix is enabled (matrix.accounts) and the mapping names an
organisation write. The field is text holding the level's name, or a drop-down when
`options` maps levels to option tags.
"""

from __future__ import annotations

from typing import Any

from config.account_mapping import ZendeskOrganizationWrite
from config.schema import Config
from connectors.zendesk_setup import ZendeskSetup
from provision.actions import Plan, Step
from provision.findings import RUN_PROVISION, Finding, ok, problem, where

SYSTEM = "zendesk"
TITLE = "Account escalation level"
TEXT_TYPES = ("text", "textarea")
TAGGING_FIX = ("turn on tags for users and organizations (Admin Center > People > Configuration > "
               "End users), or run `escalation-sync provision --config F --apply`")  # fmt: skip


def organization_write(config: Config) -> ZendeskOrganizationWrite | None:
    """What the account matrix writes on organisations; None when it writes nothing there."""
    if config.matrix.accounts is None:
        return None
    return config.mapping.zendesk.organization


def _options(config: Config, write: ZendeskOrganizationWrite) -> dict[str, str]:
    """Account level -> the value written (its option tag, or its name)."""
    levels = config.matrix.accounts.levels if config.matrix.accounts else []
    return {level: (write.options or {}).get(level, level) for level in levels}


def _tagging_on(settings: dict[str, Any]) -> bool:
    return bool((settings.get("user") or {}).get("tagging", True))


def check_organization_matrix(config: Config, setup: ZendeskSetup) -> list[Finding]:
    """The organisation field exists with a type and the options that hold our values; the
    account's settings keep organisation tags."""
    write = organization_write(config)
    if write is None:
        return []
    findings = []
    path = ("mapping", "zendesk", "organization")
    if write.level_field:
        subject = f"organization field {write.level_field} (account level)"
        fields = {f.get("key"): f for f in setup.organization_fields()}
        field = fields.get(write.level_field)
        wanted = list(_options(config, write).values())
        if field is None:
            findings.append(problem(SYSTEM, subject, "no such organization field",
                                    f"{RUN_PROVISION} (creates it)"))  # fmt: skip
        elif field.get("type") == "dropdown":
            present = {o.get("value") for o in field.get("custom_field_options") or []}
            missing = [v for v in wanted if v not in present]
            if missing:
                findings.append(problem(SYSTEM, subject, f"missing options: {', '.join(missing)}",
                                        f"add them to the field (Admin Center > People > Configuration > Organization fields), or map levels to its options at {where(config, (*path, 'options'))}"))  # fmt: skip
            else:
                findings.append(ok(SYSTEM, subject, "dropdown with every account level"))
        elif field.get("type") in TEXT_TYPES:
            findings.append(ok(SYSTEM, subject, str(field.get("type"))))
        else:
            findings.append(problem(SYSTEM, subject, f"is a {field.get('type')} field; expected text or dropdown",
                                    f"name a text field at {where(config, (*path, 'level_field'))}"))  # fmt: skip
    if write.tags_prefix:
        subject = "organization tags"
        if _tagging_on(setup.account_settings()):
            findings.append(ok(SYSTEM, subject, f"on (tags {write.tags_prefix}<level>)"))
        else:
            findings.append(problem(SYSTEM, subject, "tags on users and organizations are off: the account level tags would be dropped", TAGGING_FIX))  # fmt: skip
    return findings


def plan_organization_matrix(config: Config, setup: ZendeskSetup, plan: Plan) -> None:
    """Create the organisation field when missing (text, or a drop-down when levels map to
    options); turn organisation tags on when they are off. Nothing existing is changed."""
    write = organization_write(config)
    if write is None:
        return
    if write.level_field:
        keys = {f.get("key") for f in setup.organization_fields()}
        if write.level_field not in keys:
            spec: dict[str, Any] = {"key": write.level_field, "title": TITLE, "type": "text",
                                    "description": "Written by escalation-sync (account_level)."}  # fmt: skip
            what = "text"
            if write.options:
                spec["type"] = "dropdown"
                spec["custom_field_options"] = [{"name": level, "value": value} for level, value in _options(config, write).items()]  # fmt: skip
                what = f"dropdown, {len(spec['custom_field_options'])} options"
            plan.add(Step(SYSTEM, f"create organization field '{write.level_field}' ({what}, the account level)",
                          lambda spec=spec: setup.create_organization_field(spec) and None))  # fmt: skip
    if write.tags_prefix and not _tagging_on(setup.account_settings()):
        plan.add(Step(SYSTEM, "turn on tags for users and organizations (the account level tags)",
                      lambda: setup.enable_organization_tags()))  # fmt: skip
