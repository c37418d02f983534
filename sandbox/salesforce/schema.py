"""The emulated org's metadata: objects, fields, picklists and relationships.

Field names and types come from `sandbox.catalogue.SALESFORCE_OBJECTS`; this module adds what a
describe call reports besides them (labels, lengths, picklist values, which fields are
updateable, relationship names) and what the write path validates against.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sandbox import catalogue
from sandbox.generate_values import SALESFORCE_KEY_PREFIXES

# Fields Salesforce maintains itself: readable, never writable through the API.
SYSTEM_FIELDS = frozenset(
    {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "IsDeleted", "MasterRecordId"}
)
KEY_PREFIXES = {
    **SALESFORCE_KEY_PREFIXES,
    "PermissionSet": "0PS",
    "PermissionSetAssignment": "0Pa",
    "FieldPermissions": "01k",
    "ObjectPermissions": "110",
    "CustomField": "00N",
    "CustomObject": "01I",
    "Task": "00T",
}
TEXT_LENGTHS = {
    "string": 255,
    "email": 80,
    "url": 255,
    "textarea": 32768,
    "id": 18,
    "reference": 18,
}
# Which picklists reject values outside their list. Tier, region and health hold legacy values
# in real orgs (the generator writes some), so only the fields escalation-sync manages are
# restricted.
PICKLISTS: dict[tuple[str, str], tuple[tuple[str, ...], bool]] = {
    ("Account", "Tier__c"): (catalogue.TIERS, False),
    ("Account", "Region__c"): (("AMER", "EMEA", "APAC"), False),
    ("Account", "Health__c"): (("Green", "Yellow", "Red"), False),
    ("Account", "Highest_Escalation_Level__c"): (catalogue.LEVELS, True),
    ("Escalation__c", "Level__c"): (catalogue.LEVELS, True),
    ("Account", "Account_Escalation_Level__c"): (catalogue.ACCOUNT_LEVELS, True),
    ("Task", "Status"): (catalogue.TASK_STATUSES, True),
    ("Task", "Priority"): (catalogue.TASK_PRIORITIES, True),
}
# reference field -> (relationship name used in SOQL paths, target object)
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("Account", "OwnerId"): ("Owner", "User"),
    ("Escalation__c", "Account__c"): ("Account__r", "Account"),
    ("Task", "WhatId"): ("What", "Account"),
    ("Task", "OwnerId"): ("Owner", "User"),
}
# External ids also marked Unique (Account's org id may hold duplicates in dirty data).
UNIQUE_FIELDS = frozenset({("Escalation__c", "Ticket_Ref__c")})
REQUIRED_FIELDS = {"Account": ("Name",), "User": ("Name",)}
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "datetime": "xsd:dateTime",
    "date": "xsd:date",
    "currency": "xsd:double",
    "double": "xsd:double",
    "boolean": "xsd:boolean",
}


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str  # the describe type: string, picklist, datetime, reference...
    object_name: str
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    relationship: str | None = None  # e.g. "Owner" for OwnerId
    reference_to: str | None = None
    external_id: bool = False
    unique: bool = False
    text_length: int | None = None  # a created text field's own length
    # Field-level security of the integration user: False for a field created without edit
    # access granted (FieldPermissions) or one a test took the access away from.
    editable: bool = True
    label: str | None = None

    @property
    def updateable(self) -> bool:
        return self.name not in SYSTEM_FIELDS and self.editable

    @property
    def length(self) -> int:
        if self.text_length is not None:
            return self.text_length
        return TEXT_LENGTHS.get(self.type, 255 if self.type == "picklist" else 0)

    def describe(self) -> dict[str, Any]:
        custom = self.name.endswith("__c")
        return {
            "name": self.name,
            "label": self.label or _label(self.name),
            "type": self.type,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
            "length": self.length,
            "custom": custom,
            "createable": self.updateable,
            "updateable": self.updateable,
            "nillable": self.name not in SYSTEM_FIELDS
            and self.name not in REQUIRED_FIELDS.get(self.object_name, ()),
            "externalId": self.external_id,
            "idLookup": self.external_id or self.name == "Id",
            "unique": self.unique,
            "filterable": True,
            "sortable": self.type != "textarea",
            "picklistValues": [
                {
                    "active": True,
                    "defaultValue": False,
                    "label": value,
                    "validFor": None,
                    "value": value,
                }
                for value in self.picklist
            ],
            "restrictedPicklist": self.restricted,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship,
        }


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    fields: dict[str, FieldInfo]  # by exact API name
    # Object permissions of the integration user (create, edit): False for an object created
    # without them granted (ObjectPermissions).
    editable: bool = True
    label: str | None = None
    _by_lower: dict[str, FieldInfo] = field(default_factory=dict, repr=False)
    _relationships: dict[str, FieldInfo] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for info in self.fields.values():
            self._by_lower[info.name.lower()] = info
            if info.relationship:
                self._relationships[info.relationship.lower()] = info

    def field(self, name: str) -> FieldInfo | None:
        """Field names are case-insensitive in SOQL and in JSON bodies, as in Salesforce."""
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldInfo | None:
        return self._relationships.get(name.lower())

    @property
    def key_prefix(self) -> str:
        return KEY_PREFIXES.get(self.name, "a0Z")

    def describe(self, version: str) -> dict[str, Any]:
        custom = self.name.endswith("__c")
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "name": self.name,
            "label": self.label or _label(self.name),
            "labelPlural": (self.label or _label(self.name)) + "s",
            "keyPrefix": self.key_prefix,
            "custom": custom,
            "createable": self.editable,
            "updateable": self.editable,
            "queryable": True,
            "fields": [info.describe() for info in self.fields.values()],
            "urls": {
                "sobject": base,
                "describe": f"{base}/describe",
                "rowTemplate": f"{base}/{{ID}}",
            },
        }

    def summary(self, version: str) -> dict[str, Any]:
        full = self.describe(version)
        return {key: value for key, value in full.items() if key != "fields"}


def _label(api_name: str) -> str:
    return api_name.removesuffix("__c").replace("_", " ")


def _build() -> dict[str, ObjectInfo]:
    objects: dict[str, ObjectInfo] = {}
    for object_name, field_types in catalogue.SALESFORCE_OBJECTS.items():
        external = catalogue.SALESFORCE_EXTERNAL_ID_FIELDS.get(object_name, ())
        fields: dict[str, FieldInfo] = {}
        for name, field_type in field_types.items():
            picklist, restricted = PICKLISTS.get((object_name, name), ((), False))
            relationship, target = REFERENCES.get((object_name, name), (None, None))
            fields[name] = FieldInfo(
                name,
                field_type,
                object_name,
                picklist,
                restricted,
                relationship,
                target,
                name in external,
                unique=(object_name, name) in UNIQUE_FIELDS,
            )
        objects[object_name] = ObjectInfo(object_name, fields)
    return objects


# Setup objects the provisioning path writes through the ordinary sObject API (field-level
# security is granted with FieldPermissions rows of a permission set assigned to the user).
SETUP_OBJECTS: dict[str, dict[str, str]] = {
    "PermissionSet": {
        "Id": "id",
        "Name": "string",
        "Label": "string",
        "SystemModstamp": "datetime",
    },
    "PermissionSetAssignment": {
        "Id": "id",
        "AssigneeId": "string",
        "PermissionSetId": "string",
        "SystemModstamp": "datetime",
    },
    "FieldPermissions": {
        "Id": "id",
        "ParentId": "string",
        "SobjectType": "string",
        "Field": "string",
        "PermissionsRead": "boolean",
        "PermissionsEdit": "boolean",
        "SystemModstamp": "datetime",
    },
    "ObjectPermissions": {
        "Id": "id",
        "ParentId": "string",
        "SobjectType": "string",
        "PermissionsRead": "boolean",
        "PermissionsCreate": "boolean",
        "PermissionsEdit": "boolean",
        "SystemModstamp": "datetime",
    },
}


def _setup_objects() -> dict[str, ObjectInfo]:
    return {
        name: ObjectInfo(name, {f: FieldInfo(f, kind, name) for f, kind in fields.items()})
        for name, fields in SETUP_OBJECTS.items()
    }


OBJECTS: dict[str, ObjectInfo] = _build()
_OBJECTS_BY_LOWER = {name.lower(): info for name, info in OBJECTS.items()}


def object_info(name: str) -> ObjectInfo | None:
    """sObject names are case-insensitive, as in Salesforce (the catalogue's full org)."""
    return _OBJECTS_BY_LOWER.get(name.lower())


class Schema:
    """One emulated org's metadata: the catalogue's objects, changed by the Tooling API.

    Each app holds its own, so a bare org and a full org can run in one process.
    """

    def __init__(self, objects: dict[str, ObjectInfo] | None = None):
        self.objects: dict[str, ObjectInfo] = dict(objects if objects is not None else OBJECTS)
        for name, info in _setup_objects().items():
            self.objects.setdefault(name, info)

    def object_info(self, name: str) -> ObjectInfo | None:
        """sObject names are case-insensitive, as in Salesforce."""
        return next((o for n, o in self.objects.items() if n.lower() == name.lower()), None)

    def put_field(self, object_name: str, info: FieldInfo) -> None:
        obj = self.objects[object_name]
        fields = {**obj.fields, info.name: info}
        self.objects[object_name] = ObjectInfo(obj.name, fields, obj.editable, obj.label)

    def put_object(self, name: str, label: str, name_field_label: str) -> ObjectInfo:
        """A new custom object with the fields Salesforce gives every object."""
        fields = {
            "Id": FieldInfo("Id", "id", name),
            "Name": FieldInfo("Name", "string", name, text_length=80, label=name_field_label),
            "CreatedDate": FieldInfo("CreatedDate", "datetime", name),
            "LastModifiedDate": FieldInfo("LastModifiedDate", "datetime", name),
            "SystemModstamp": FieldInfo("SystemModstamp", "datetime", name),
        }
        self.objects[name] = ObjectInfo(name, fields, editable=False, label=label)
        return self.objects[name]

    def set_object_editable(self, name: str, editable: bool) -> None:
        obj = self.objects[name]
        self.objects[name] = ObjectInfo(obj.name, obj.fields, editable, obj.label)

    def set_field_editable(self, object_name: str, field_name: str, editable: bool) -> None:
        info = self.objects[object_name].fields[field_name]
        self.put_field(object_name, replace(info, editable=editable))

    def without(self, removed: dict[str, tuple[str, ...] | None]) -> Schema:
        """A copy without some fields (object -> field names) or whole objects (-> None)."""
        objects: dict[str, ObjectInfo] = {}
        for name, obj in self.objects.items():
            if name in removed and removed[name] is None:
                continue
            gone = removed.get(name) or ()
            fields = {k: v for k, v in obj.fields.items() if k not in gone}
            objects[name] = ObjectInfo(name, fields, obj.editable, obj.label)
        return Schema(objects)

    # -- persistence (salesforce.json "schema", absent: the catalogue's org) ----------------
    def dump(self) -> dict[str, Any]:
        return {
            name: {
                "editable": obj.editable,
                "label": obj.label,
                "fields": [_field_state(info) for info in obj.fields.values()],
            }
            for name, obj in self.objects.items()
            if name not in SETUP_OBJECTS
        }

    @classmethod
    def load(cls, state: dict[str, Any] | None) -> Schema:
        if not state:
            return cls()
        objects = {
            name: ObjectInfo(
                name,
                {f["name"]: _field_from_state(name, f) for f in spec["fields"]},
                bool(spec.get("editable", True)),
                spec.get("label"),
            )
            for name, spec in state.items()
        }
        return cls(objects)


def _field_state(info: FieldInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "type": info.type,
        "picklist": list(info.picklist),
        "restricted": info.restricted,
        "relationship": info.relationship,
        "reference_to": info.reference_to,
        "external_id": info.external_id,
        "unique": info.unique,
        "text_length": info.text_length,
        "editable": info.editable,
        "label": info.label,
    }


def _field_from_state(object_name: str, state: dict[str, Any]) -> FieldInfo:
    values = {k: v for k, v in state.items() if k != "picklist"}
    return FieldInfo(object_name=object_name, picklist=tuple(state.get("picklist") or ()), **values)
