"""What provision creates in Salesforce: the ticket record object, our custom fields (Tooling
API CustomField), missing picklist values, and edit access for the integration user through a
permission set (`Escalation_Sync`: FieldPermissions, ObjectPermissions, an assignment).

Field names are the mapping's own API names, so nothing is written back to the mapping."""

from __future__ import annotations

from typing import Any

from config.schema import Config
from connectors.salesforce_setup import SalesforceSetup
from provision.actions import Plan, Step
from provision.expected import WantedField

SYSTEM = "salesforce"
PERMISSION_SET = "Escalation_Sync"
TEXT_LENGTH = 255


def _metadata(want: WantedField) -> dict[str, Any]:
    """The Metadata API description of a field of our kind."""
    label = want.title
    if want.kind == "dropdown":
        values = want.options
        return {"label": label, "type": "Picklist", "valueSet": {"restricted": True, "valueSetDefinition": {
            "sorted": False, "value": [{"fullName": v, "label": v, "default": False} for v in values]}}}  # fmt: skip
    if want.kind == "long_text":
        return {"label": label, "type": "LongTextArea", "length": 32768, "visibleLines": 5}
    if want.kind == "number":
        return {"label": label, "type": "Number", "precision": 18, "scale": 2}
    if want.kind == "reference":
        return {"label": label, "type": "Lookup", "referenceTo": want.reference_to, "relationshipName": want.field.removesuffix("__c"),
                "deleteConstraint": "SetNull"}  # fmt: skip
    if want.kind == "external_id":
        return {"label": label, "type": "Text", "length": TEXT_LENGTH, "externalId": True, "unique": True, "caseSensitive": False}  # fmt: skip
    kinds = {"datetime": "DateTime", "date": "Date"}
    if want.kind in kinds:
        return {"label": label, "type": kinds[want.kind]}
    return {"label": label, "type": "Text", "length": want.max_length or TEXT_LENGTH}


def plan_salesforce(
    config: Config, setup: SalesforceSetup, wanted: list[WantedField], plan: Plan
) -> None:
    objects = dict.fromkeys(w.object_name for w in wanted if w.object_name)
    described = {name: setup.describe(name) for name in objects if name}
    grant_fields: list[str] = []
    grant_objects: list[str] = []
    for name, describe in described.items():
        if describe is None and not name.endswith("__c"):
            continue  # a standard object (Task) cannot be made; doctor names what is wrong
        if describe is None:
            metadata = {"label": name.removesuffix("__c").replace("_", " "), "pluralLabel": name.removesuffix("__c").replace("_", " ") + "s",
                        "nameField": {"label": "Name", "type": "Text"}, "deploymentStatus": "Deployed", "sharingModel": "ReadWrite"}  # fmt: skip
            plan.add(Step(SYSTEM, f"create object {name}", lambda name=name, m=metadata: setup.create_custom_object(name, m) and None))  # fmt: skip
            grant_objects.append(name)
        elif name != "Account" and not describe.get("createable"):
            grant_objects.append(name)
    for want in wanted:
        if want.kind == "name":
            continue  # the object's Name comes with it
        if want.standard:
            # A standard field (Task.Subject, Status, OwnerId) comes with its object; a
            # missing one or a missing standard picklist value is for doctor to name.
            field = _field(described.get(want.object_name or ""), want)
            if field is not None and not (field.get("updateable") and field.get("createable")):
                grant_fields.append(f"{want.object_name}.{want.field}")
            continue
        describe = described.get(want.object_name or "")
        fields = {f["name"].casefold(): f for f in (describe or {}).get("fields") or []}
        field = fields.get(want.field.casefold())
        full_name = f"{want.object_name}.{want.field}"
        if field is None:
            metadata = _metadata(want)
            plan.add(Step(SYSTEM, f"create field {full_name} ({metadata['type']})",
                          lambda f=full_name, m=metadata: setup.create_custom_field(f, m) and None))  # fmt: skip
            grant_fields.append(full_name)  # the external id too: upserts write it
            continue
        if not (field.get("updateable") and field.get("createable")):
            grant_fields.append(full_name)
        if field["type"] == "picklist" and want.options:
            _picklist(setup, want, field, plan)
    if grant_fields or grant_objects:
        what = ", ".join([*grant_objects, *grant_fields])
        plan.add(Step(SYSTEM, f"grant the integration user edit access through permission set {PERMISSION_SET}: {what}",
                      lambda: _grant(setup, grant_objects, grant_fields)))  # fmt: skip


def _field(describe: dict[str, Any] | None, want: WantedField) -> dict[str, Any] | None:
    fields = (describe or {}).get("fields") or []
    return next((f for f in fields if f["name"].casefold() == want.field.casefold()), None)


def _picklist(setup: SalesforceSetup, want: WantedField, field: dict[str, Any], plan: Plan) -> None:
    present = [p["value"] for p in field.get("picklistValues") or []]
    missing = [v for v in want.options if v not in present]
    if missing:
        values = [*present, *missing]

        def extend() -> None:
            developer_name = want.field.removesuffix("__c")
            rows = setup.tooling_query(f"SELECT Id FROM CustomField WHERE TableEnumOrId = '{want.object_name}' AND DeveloperName = '{developer_name}'")  # fmt: skip
            metadata = {"label": field.get("label") or want.title, "type": "Picklist", "valueSet": {
                "restricted": bool(field.get("restrictedPicklist")),
                "valueSetDefinition": {"sorted": False, "value": [{"fullName": v, "label": v, "default": False} for v in values]}}}  # fmt: skip
            setup.update_custom_field(rows[0]["Id"], metadata)

        plan.add(Step(SYSTEM, f"add picklist values {', '.join(missing)} to {want.object_name}.{want.field}", extend))  # fmt: skip
    extra = [v for v in present if v not in want.options]
    if extra:
        plan.obsolete.append(f"salesforce: picklist values of {want.object_name}.{want.field} the mapping no longer names: {', '.join(extra)}")  # fmt: skip


def _grant(setup: SalesforceSetup, objects: list[str], fields: list[str]) -> None:
    """Permission set (made once), assigned to the integration user, with edit on each field."""
    found = setup.query(f"SELECT Id FROM PermissionSet WHERE Name = '{PERMISSION_SET}'")
    permission_set = found[0]["Id"] if found else setup.create_record("PermissionSet", {"Name": PERMISSION_SET, "Label": "Escalation Sync"})  # fmt: skip
    user = setup.user_id()
    assigned = setup.query(f"SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '{user}' AND PermissionSetId = '{permission_set}'")  # fmt: skip
    if not assigned:
        setup.create_record("PermissionSetAssignment", {"AssigneeId": user, "PermissionSetId": permission_set})  # fmt: skip
    for name in objects:
        setup.create_record("ObjectPermissions", {"ParentId": permission_set, "SobjectType": name, "PermissionsRead": True,
                                                  "PermissionsCreate": True, "PermissionsEdit": True})  # fmt: skip
    for full_name in fields:
        setup.create_record("FieldPermissions", {"ParentId": permission_set, "SobjectType": full_name.split(".")[0],
                                                 "Field": full_name, "PermissionsRead": True, "PermissionsEdit": True})  # fmt: skip
