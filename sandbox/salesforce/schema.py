"""The emulated org's metadata: objects, fields, picklists and relationships.

Field names and types come from `sandbox.catalogue.SALESFORCE_OBJECTS`; this module adds what a
describe call reports besides them (labels, lengths, picklist values, which fields are
updateable, relationship names) and what the write path validates against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox import catalogue
from sandbox.generate_values import SALESFORCE_KEY_PREFIXES

# Fields Salesforce maintains itself: readable, never writable through the API.
SYSTEM_FIELDS = frozenset({"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"})
KEY_PREFIXES = SALESFORCE_KEY_PREFIXES
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
}
# reference field -> (relationship name used in SOQL paths, target object)
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("Account", "OwnerId"): ("Owner", "User"),
    ("Escalation__c", "Account__c"): ("Account__r", "Account"),
}
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

    @property
    def updateable(self) -> bool:
        return self.name not in SYSTEM_FIELDS

    @property
    def length(self) -> int:
        return TEXT_LENGTHS.get(self.type, 255 if self.type == "picklist" else 0)

    def describe(self) -> dict[str, Any]:
        custom = self.name.endswith("__c")
        return {
            "name": self.name,
            "label": _label(self.name),
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
            "unique": False,
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
            "label": _label(self.name),
            "labelPlural": _label(self.name) + "s",
            "keyPrefix": self.key_prefix,
            "custom": custom,
            "createable": True,
            "updateable": True,
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
            )
        objects[object_name] = ObjectInfo(object_name, fields)
    return objects


OBJECTS: dict[str, ObjectInfo] = _build()
_OBJECTS_BY_LOWER = {name.lower(): info for name, info in OBJECTS.items()}


def object_info(name: str) -> ObjectInfo | None:
    """sObject names are case-insensitive, as in Salesforce."""
    return _OBJECTS_BY_LOWER.get(name.lower())
