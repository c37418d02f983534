"""The Tooling API's CustomField and CustomObject, and field-level security through sObjects.

`POST /services/data/vNN.N/tooling/sobjects/CustomField/` with `{"FullName": "Account.X__c",
"Metadata": {...}}` adds a field to the org's schema (describe shows it at once);
`CustomObject` with `{"FullName": "Escalation__c", "Metadata": {label, pluralLabel,
nameField}}` adds an object with Id, Name and the audit fields. `GET tooling/query?q=` runs
SOQL over the CustomField / CustomObject rows (Id, DeveloperName, TableEnumOrId, FullName);
`PATCH tooling/sobjects/CustomField/{id}` with new `Metadata` replaces a picklist's values.

A field or object created here is not editable by the integration user (describe:
`updateable`/`createable` false) until a `FieldPermissions` / `ObjectPermissions` row granting
edit belongs to a permission set assigned to that user (`PermissionSetAssignment`), as with a
field deployed without field-level security. Sandbox guesses: error wordings of duplicates and
unknown types; that no propagation delay exists between create and describe.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sandbox.http import Request, Response
from sandbox.salesforce import soql_engine
from sandbox.salesforce.auth import INTEGRATION_USER_ID
from sandbox.salesforce.responses import not_found, rest_error
from sandbox.salesforce.schema import FieldInfo, ObjectInfo, Schema
from sandbox.salesforce.soql_parser import SoqlError, parse
from sandbox.salesforce.store import RecordStore

if TYPE_CHECKING:
    from sandbox.salesforce.app import SalesforceApp

# Metadata API field type -> describe type
FIELD_TYPES = {
    "Text": "string",
    "LongTextArea": "textarea",
    "TextArea": "textarea",
    "Number": "double",
    "Currency": "currency",
    "DateTime": "datetime",
    "Date": "date",
    "Picklist": "picklist",
    "Lookup": "reference",
    "Checkbox": "boolean",
    "Email": "email",
}
TOOLING_OBJECTS = {
    "CustomField": {
        "Id": "id",
        "DeveloperName": "string",
        "TableEnumOrId": "string",
        "FullName": "string",
        "SystemModstamp": "datetime",
    },
    "CustomObject": {
        "Id": "id",
        "DeveloperName": "string",
        "FullName": "string",
        "SystemModstamp": "datetime",
    },
}
PERMISSION_OBJECTS = frozenset({"FieldPermissions", "ObjectPermissions", "PermissionSetAssignment"})


def _tooling_schema() -> Schema:
    objects = {
        name: ObjectInfo(name, {f: FieldInfo(f, kind, name) for f, kind in fields.items()})
        for name, fields in TOOLING_OBJECTS.items()
    }
    return Schema(objects)


class ToolingApi:
    def __init__(self, app: SalesforceApp):
        self.app = app
        self.rows = RecordStore(schema=_tooling_schema())

    @property
    def schema(self) -> Schema:
        return self.app.store.schema

    # POST tooling/sobjects/{CustomField|CustomObject}/
    def create(self, request: Request) -> Response:
        kind = request.params["object"]
        try:
            body = request.json()
        except ValueError:
            return rest_error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("Metadata"), dict):
            return rest_error(
                400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Metadata]"
            )
        full_name = str(body.get("FullName") or "")
        if kind == "CustomField":
            problem = self._add_field(full_name, body["Metadata"])
            table, _, name = full_name.partition(".")
        elif kind == "CustomObject":
            problem = self._add_object(full_name, body["Metadata"])
            table, name = "", full_name
        else:
            return not_found()
        if problem is not None:
            return problem
        row = {"DeveloperName": name.removesuffix("__c"), "FullName": full_name}
        if kind == "CustomField":
            row["TableEnumOrId"] = table
        tooling_object = self.rows.object_info(kind)
        assert tooling_object is not None
        row_id = self.rows.insert(tooling_object, row)
        return Response(
            201, {"id": row_id, "success": True, "errors": [], "warnings": [], "infos": []}
        )

    # PATCH tooling/sobjects/CustomField/{id}: a picklist's values replaced by the new Metadata
    def update(self, request: Request) -> Response:
        if request.params["object"] != "CustomField":
            return not_found()
        row = self.rows.get("CustomField", request.params["id"])
        if row is None:
            return not_found()
        body = request.json()
        metadata = body.get("Metadata") if isinstance(body, dict) else None
        if not isinstance(metadata, dict):
            return rest_error(
                400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Metadata]"
            )
        table, _, name = row["FullName"].partition(".")
        info = self.schema.objects[table].fields[name]
        values, restricted = _picklist(metadata)
        self.schema.put_field(table, replace(info, picklist=values, restricted=restricted))
        return Response(204)

    # GET tooling/query?q=
    def query(self, request: Request) -> Response:
        text = request.arg("q") or ""
        try:
            compiled = soql_engine.compile_query(parse(text), self.rows.schema)
        except SoqlError as error:
            return rest_error(400, error.code, soql_engine.format_error(text, error))
        matched = soql_engine.run(compiled, self.rows.all(compiled.obj.name), self.rows.get)
        version = request.params["version"]
        rows = [soql_engine.project(compiled, r, self.rows.get, version) for r in matched]
        return Response(200, {"size": len(rows), "totalSize": len(rows), "done": True,
                              "records": rows, "entityTypeName": compiled.obj.name})  # fmt: skip

    # -- schema changes ----------------------------------------------------------------------
    def _add_field(self, full_name: str, metadata: dict[str, Any]) -> Response | None:
        table, _, name = full_name.partition(".")
        obj = self.schema.objects.get(table)
        if obj is None:
            return rest_error(400, "INVALID_TYPE", f"Cannot find entity: {table}")
        if not name.endswith("__c"):
            return rest_error(400, "INVALID_FIELD", f"Custom field names must end with __c: {name}")
        if name in obj.fields:
            return rest_error(400, "DUPLICATE_DEVELOPER_NAME", f"There is already a field named {name} on {table}.")  # fmt: skip
        field_type = FIELD_TYPES.get(str(metadata.get("type")))
        if field_type is None:
            return rest_error(400, "FIELD_INTEGRITY_EXCEPTION", f"Invalid field type: {metadata.get('type')}")  # fmt: skip
        values, restricted = _picklist(metadata)
        if field_type == "picklist" and not values:
            return rest_error(400, "FIELD_INTEGRITY_EXCEPTION", "Picklist must have at least one value")  # fmt: skip
        reference_to = metadata.get("referenceTo") if field_type == "reference" else None
        if reference_to is not None and reference_to not in self.schema.objects:
            return rest_error(400, "FIELD_INTEGRITY_EXCEPTION", f"referenceTo: no such object {reference_to}")  # fmt: skip
        length = metadata.get("length") if field_type in ("string", "textarea") else None
        self.schema.put_field(
            table,
            FieldInfo(
                name,
                field_type,
                table,
                values,
                restricted,
                relationship=metadata.get("relationshipName")
                and f"{metadata['relationshipName']}__r",
                reference_to=reference_to,
                external_id=bool(metadata.get("externalId")),
                unique=bool(metadata.get("unique")),
                text_length=int(length) if length else None,
                editable=False,
                label=metadata.get("label"),
            ),
        )
        self.app.store.records.setdefault(table, {})
        return None

    def _add_object(self, full_name: str, metadata: dict[str, Any]) -> Response | None:
        if not full_name.endswith("__c"):
            return rest_error(400, "INVALID_FIELD", f"Custom object names must end with __c: {full_name}")  # fmt: skip
        if full_name in self.schema.objects:
            return rest_error(400, "DUPLICATE_DEVELOPER_NAME", f"There is already an object named {full_name}.")  # fmt: skip
        name_field = metadata.get("nameField") or {}
        self.schema.put_object(
            full_name,
            str(metadata.get("label") or full_name),
            str(name_field.get("label") or "Name"),
        )
        self.app.store.records.setdefault(full_name, {})
        return None

    # -- field-level security ---------------------------------------------------------------
    def apply_permissions(self) -> None:
        """Grant the integration user edit on what its permission sets' rows allow."""
        store = self.app.store
        assigned = {
            row.get("PermissionSetId")
            for row in store.all("PermissionSetAssignment")
            if row.get("AssigneeId") == INTEGRATION_USER_ID
        }
        for row in store.all("FieldPermissions"):
            table, _, name = str(row.get("Field") or "").partition(".")
            obj = self.schema.objects.get(table)
            if row.get("ParentId") in assigned and row.get("PermissionsEdit") and obj and name in obj.fields:  # fmt: skip
                self.schema.set_field_editable(table, name, True)
        for row in store.all("ObjectPermissions"):
            table = str(row.get("SobjectType") or "")
            granted = row.get("PermissionsCreate") and row.get("PermissionsEdit")
            if row.get("ParentId") in assigned and granted and table in self.schema.objects:
                self.schema.set_object_editable(table, True)


def _picklist(metadata: dict[str, Any]) -> tuple[tuple[str, ...], bool]:
    value_set = metadata.get("valueSet") or {}
    definition = value_set.get("valueSetDefinition") or {}
    values = tuple(str(v.get("fullName")) for v in definition.get("value") or [])
    return values, bool(value_set.get("restricted"))
