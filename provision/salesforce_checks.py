"""Doctor's Salesforce checks: the connected app's OAuth scopes, our objects and fields with
type, length and picklist values, the integration user's edit access (describe: updateable,
createable), the ticket record's external id (External ID and Unique), translated sources, the
daily API allowance and whether a first run fits in what is left (provision/first_run.py).

Scopes: every REST call needs `api` (or `full`); without it Salesforce refuses each one with
401 "This session is not valid for use with the REST API". Our auth modes (client
credentials, username-password) fetch a new token when a session ends and never use a refresh
token, so `refresh_token` / `offline_access` is not needed."""

from __future__ import annotations

from typing import Any

from config.schema import Config
from connectors.salesforce_setup import SalesforceSetup
from provision.expected import TranslatedSource, WantedField
from provision.findings import RUN_PROVISION, Finding, ok, problem, warning, where
from provision.first_run import salesforce_first_run
from provision.zendesk_checks import option_finding

SYSTEM = "salesforce"
TYPES = {
    "dropdown": ("picklist",),
    # a level name fits a picklist; a combobox (Task.Subject) holds any text
    "text": ("string", "textarea", "email", "url", "picklist", "combobox"),
    "long_text": ("textarea", "string"),
    "datetime": ("datetime",),
    "date": ("date",),
    "number": ("double", "currency", "int", "percent"),
    "reference": ("reference",),
    "external_id": ("string",),
    "name": ("string",),
}
ALLOWANCE_WARNING_SHARE = 0.1  # warn when less than this share of the daily allowance is left
GRANT = "grants edit access through the permission set Escalation_Sync"
REST_SCOPES = frozenset({"api", "full"})  # either lets the token call the REST API
SCOPE_FIX = ("add the OAuth scope 'Manage user data via APIs (api)' to the connected app "
             "(Setup > App Manager > the app > Edit > Selected OAuth Scopes; an external client app: "
             "its OAuth Settings), then wait a few minutes for the change to reach every server")  # fmt: skip


def check_scopes(setup: SalesforceSetup) -> list[Finding]:
    """What the token answer says the connected app grants; without `api` nothing else works."""
    scopes = setup.granted_scopes()
    subject = "connected app scopes"
    if scopes is None:
        return [ok(SYSTEM, subject, "the token answer names no scopes; the calls below show whether REST is allowed")]  # fmt: skip
    if not REST_SCOPES & set(scopes):
        return [problem(SYSTEM, subject, f"the token grants {', '.join(scopes)}; without api no REST call is allowed", SCOPE_FIX)]  # fmt: skip
    return [ok(SYSTEM, subject, ", ".join(scopes))]


def _described(
    setup: SalesforceSetup, wanted: list[WantedField]
) -> dict[str, dict[str, Any] | None]:
    names = dict.fromkeys(w.object_name for w in wanted if w.object_name)
    return {name: setup.describe(name) for name in names}


def check_objects(
    config: Config, described: dict[str, dict[str, Any] | None], wanted: list[WantedField]
) -> list[Finding]:
    findings = []
    for name, describe in described.items():
        if describe is None:
            findings.append(problem(SYSTEM, f"object {name}", "no such object",
                                    f"{RUN_PROVISION} (creates it with its fields)"))  # fmt: skip
        elif name != "Account" and not describe.get("createable"):
            findings.append(problem(SYSTEM, f"object {name}", "the integration user may not create its records",
                                    f"{RUN_PROVISION} ({GRANT})"))  # fmt: skip
        else:
            findings.append(ok(SYSTEM, f"object {name}", "exists"))
    return findings


def check_fields(
    config: Config, described: dict[str, dict[str, Any] | None], wanted: list[WantedField]
) -> list[Finding]:
    findings = []
    for want in wanted:
        describe = described.get(want.object_name or "")
        if describe is None:
            continue  # the object's own finding says it
        field = next(
            (f for f in describe["fields"] if f["name"].casefold() == want.field.casefold()), None
        )
        findings.append(_field_finding(config, want, field))
    return findings


def _field_finding(config: Config, want: WantedField, field: dict[str, Any] | None) -> Finding:
    subject = f"field {want.label}"
    if field is None and want.standard:
        return problem(SYSTEM, subject, f"no such standard field on {want.object_name}",
                       f"name an existing field at {where(config, want.key_path)}")  # fmt: skip
    if field is None:
        return problem(SYSTEM, subject, "no such field", f"{RUN_PROVISION} (creates it)")
    if field["type"] not in TYPES[want.kind]:
        return problem(SYSTEM, subject, f"is a {field['type']} field; expected {' or '.join(TYPES[want.kind])}",
                       f"name a field of that type at {where(config, want.key_path)}")  # fmt: skip
    if want.kind == "external_id" and not (field.get("externalId") and field.get("unique")):
        return problem(SYSTEM, subject, "not marked External ID and Unique; upserts by it would duplicate or fail",
                       f"mark it External ID and Unique (Object Manager > {want.object_name} > Fields)")  # fmt: skip
    if not (field.get("updateable") and field.get("createable")):
        return problem(SYSTEM, subject, "the integration user cannot edit it (field-level security)",
                       f"{RUN_PROVISION} ({GRANT}), or give the user's profile edit access")  # fmt: skip
    if field["type"] == "picklist" and want.options:
        values = [p["value"] for p in field.get("picklistValues") or [] if p.get("active", True)]
        missing = option_finding(SYSTEM, config, want, subject, values, "picklist values")
        if missing is not None and want.standard and missing.fix.startswith(RUN_PROVISION):
            # A standard picklist's values are not custom field metadata provision can add.
            fix = (f"add them in Setup > Object Manager > {want.object_name} > Fields > {want.field}, "
                   f"or name values it has at {where(config, want.key_path[:-1])}")  # fmt: skip
            missing = problem(SYSTEM, subject, missing.detail, fix)
        if missing is not None and not field.get("restrictedPicklist"):
            return warning(SYSTEM, subject, missing.detail + " (unrestricted: writes land, reports will not group them)", missing.fix)  # fmt: skip
        if missing is not None:
            return missing
    length = field.get("length") or 0
    if want.kind in ("text", "name") and want.max_length and length and want.max_length > length:
        return problem(SYSTEM, subject, f"holds {length} characters; we cut text to {want.max_length}",
                       f"set max_length: {length} at {where(config, want.key_path)}")  # fmt: skip
    if (
        want.kind in ("text", "name")
        and not want.max_length
        and field["type"] == "string"
        and length < 255
    ):
        return warning(SYSTEM, subject, f"holds {length} characters; longer text is rejected",
                       f"set max_length: {length} at {where(config, want.key_path)}")  # fmt: skip
    return ok(
        SYSTEM, subject, f"{field['type']}" + (f"({length})" if field["type"] == "string" else "")
    )


def check_translated(
    config: Config, account: dict[str, Any] | None, sources: list[TranslatedSource]
) -> list[Finding]:
    findings = []
    fields = {f["name"]: f for f in (account or {}).get("fields") or []}
    for source in sources:
        field = fields.get(source.field)
        subject = f"field Account.{source.field} read as {source.attribute}"
        if field is None:
            findings.append(problem(SYSTEM, subject, "no such field", f"name an existing field at {where(config, source.key_path[:-1])}"))  # fmt: skip
            continue
        if field["type"] != "picklist":
            continue
        present = {p["value"].casefold() for p in field.get("picklistValues") or []}
        unknown = [v for v in source.values if v.casefold() not in present]
        if unknown:
            findings.append(warning(SYSTEM, subject, f"translate names values that are not picklist values: {', '.join(unknown)}",
                                    f"use the picklist values at {where(config, source.key_path)}"))  # fmt: skip
        else:
            findings.append(ok(SYSTEM, subject, "every translated value is a picklist value"))
    return findings


def check_allowance(daily: dict[str, Any]) -> list[Finding]:
    """The daily allowance (GET limits' DailyApiRequests): used, left, a warning when low."""
    most, left = int(daily.get("Max") or 0), int(daily.get("Remaining") or 0)
    detail = f"daily API requests: {most - left} used, {left} left of {most}"
    if most and left < most * ALLOWANCE_WARNING_SHARE:
        return [warning(SYSTEM, "API allowance", detail, "a first run (one request per 200 records written) may not fit; run it after the window rolls")]  # fmt: skip
    return [ok(SYSTEM, "API allowance", detail)]


def check_salesforce(
    config: Config,
    setup: SalesforceSetup,
    wanted: list[WantedField],
    sources: list[TranslatedSource],
) -> list[Finding]:
    scopes = check_scopes(setup)
    if any(f.status == "problem" for f in scopes):
        return scopes  # every REST call would be refused: its lines would only repeat that
    described = _described(setup, [*wanted, *[WantedField("salesforce", "-", "-", "text", (), object_name="Account")]])  # fmt: skip
    findings = scopes + check_objects(config, described, wanted)
    findings += check_fields(config, described, wanted)
    findings += check_translated(config, described.get("Account"), sources)
    daily = setup.limits().get("DailyApiRequests") or {}
    findings += check_allowance(daily)
    remaining = int(daily["Remaining"]) if daily.get("Remaining") is not None else None
    return findings + salesforce_first_run(config, setup, remaining)
