"""The org's records in memory, the record clock, and field validation for writes.

Records are stored as the REST API returns them minus "attributes": field name -> JSON value,
dateTimes as '2026-11-20T10:15:30.000+0000'. Every write bumps SystemModstamp and, where the
object has it, LastModifiedDate, with the record clock (real time plus an offset tests move).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sandbox.clock import Clock
from sandbox.salesforce import ids
from sandbox.salesforce.schema import REQUIRED_FIELDS, FieldInfo, ObjectInfo, Schema
from sandbox.salesforce.soql_engine import NUMBER_TYPES

Record = dict[str, Any]


class BodyError(Exception):
    """The whole request body is unusable (Salesforce answers 400 for the request)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RecordError:
    """One record's failure, in the SaveResult error shape."""

    status_code: str
    message: str
    fields: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        return {
            "statusCode": self.status_code,
            "message": self.message,
            "fields": list(self.fields),
        }


def format_datetime(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@dataclass
class RecordStore:
    clock: Clock = field(default_factory=Clock)
    schema: Schema = field(default_factory=Schema)
    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    # Deleted records (IsDeleted true): only queryAll sees them, as in Salesforce.
    recycle_bin: dict[str, dict[str, Record]] = field(default_factory=dict)
    _serial: int = 0
    # (object, external id field) -> value -> ids holding it; dirty data may hold duplicates
    _external: dict[tuple[str, str], dict[Any, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )

    # -- reading -----------------------------------------------------------------------------
    def __post_init__(self) -> None:
        for name in self.schema.objects:
            self.records.setdefault(name, {})

    def object_info(self, name: str) -> ObjectInfo | None:
        """This org's object (names are case-insensitive)."""
        return self.schema.object_info(name)

    def get(self, object_name: str, record_id: str) -> Record | None:
        normalised = ids.normalise(record_id)
        return self.records.get(object_name, {}).get(normalised) if normalised else None

    def all(self, object_name: str, include_deleted: bool = False) -> list[Record]:
        live = list(self.records.get(object_name, {}).values())
        if not include_deleted:
            return live
        return live + list(self.recycle_bin.get(object_name, {}).values())

    def find_external(self, object_name: str, field_name: str, value: Any) -> list[str]:
        return sorted(self._external[(object_name, field_name)].get(value, ()))

    # -- writing -----------------------------------------------------------------------------
    def insert(self, obj: ObjectInfo, values: Record, stamp: str | None = None) -> str:
        """Add a record (values already validated); returns its new id."""
        self._serial += 1
        record_id = ids.new_id(obj.key_prefix, self._serial)
        stamp = stamp or format_datetime(self.clock.now())
        record: Record = {name: None for name in obj.fields}
        record.update(values)
        record["Id"] = record_id
        for audit in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            if audit in obj.fields:
                record[audit] = stamp
        self.records.setdefault(obj.name, {})[record_id] = record
        self._index(obj, record, None)
        return record_id

    def update(
        self, obj: ObjectInfo, record_id: str, changes: Record, stamp: str | None = None
    ) -> None:
        record = self.records[obj.name][record_id]
        before = dict(record)
        record.update(changes)
        stamp = stamp or format_datetime(self.clock.now())
        for audit in ("LastModifiedDate", "SystemModstamp"):
            if audit in obj.fields:
                record[audit] = stamp
        self._index(obj, record, before)

    def delete(self, object_name: str, record_id: str, master_id: str | None = None) -> bool:
        """Move a record to the Recycle Bin (a DELETE, a person in the UI, or the loser of a
        merge into `master_id`); False when there is none."""
        record = self.records.get(object_name, {}).pop(record_id, None)
        if record is None:
            return False
        fields = self.schema.objects[object_name].fields
        for info in fields.values():
            if info.external_id and record.get(info.name) is not None:
                self._external[(object_name, info.name)][record[info.name]].discard(record_id)
        if "IsDeleted" in fields:
            record["IsDeleted"] = True
        if master_id is not None and "MasterRecordId" in fields:
            record["MasterRecordId"] = master_id
        record["SystemModstamp"] = format_datetime(self.clock.now())
        self.recycle_bin.setdefault(object_name, {})[record_id] = record
        return True

    def merge(self, object_name: str, master_id: str, loser_id: str) -> None:
        """Merge `loser_id` into `master_id`: records looking up the loser now look up the
        master (Salesforce reparents them), the loser goes to the Recycle Bin."""
        obj = self.schema.objects[object_name]
        for child_name, child in self.schema.objects.items():
            for info in child.fields.values():
                if info.type != "reference":
                    continue
                for record in self.records.get(child_name, {}).values():
                    if record.get(info.name) == loser_id:
                        self.update(child, record["Id"], {info.name: master_id})
        self.delete(object_name, loser_id, master_id)
        self.update(obj, master_id, {})

    def put_raw(self, object_name: str, record: Record) -> str:
        """Load a record as given (data files, admin API); keeps its id and stamps."""
        obj = self.schema.objects[object_name]
        values = {key: value for key, value in record.items() if key != "attributes"}
        record_id = ids.normalise(str(values.get("Id") or "")) if values.get("Id") else None
        if record_id is None:
            self._serial += 1
            record_id = ids.new_id(obj.key_prefix, self._serial)
        values["Id"] = record_id
        before = self.records[object_name].get(record_id)
        self.records[object_name][record_id] = values
        self._index(obj, values, before)
        return record_id

    def _index(self, obj: ObjectInfo, record: Record, before: Record | None) -> None:
        for info in obj.fields.values():
            if not info.external_id:
                continue
            index = self._external[(obj.name, info.name)]
            if before is not None and before.get(info.name) is not None:
                index[before[info.name]].discard(record["Id"])
            if record.get(info.name) is not None:
                index[record[info.name]].add(record["Id"])

    # -- persistence -------------------------------------------------------------------------
    def dump(self, version: str) -> dict[str, Any]:
        sobjects: dict[str, list[Record]] = {}
        for object_name, by_id in self.records.items():
            sobjects[object_name] = [
                {
                    "attributes": _attributes(object_name, record_id, version),
                    **copy.deepcopy(record),
                }
                for record_id, record in by_id.items()
            ]
        return {"sobjects": sobjects, "schema": self.schema.dump()}

    def load(self, state: dict[str, Any]) -> None:
        self.schema = Schema.load(state.get("schema"))
        self.records = {name: {} for name in self.schema.objects}
        self._external.clear()
        for object_name, records in (state.get("sobjects") or {}).items():
            if object_name not in self.schema.objects:
                continue
            for record in records:
                self.put_raw(object_name, record)


def _attributes(object_name: str, record_id: str, version: str) -> dict[str, str]:
    return {
        "type": object_name,
        "url": f"/services/data/v{version}/sobjects/{object_name}/{record_id}",
    }


# -- validation -----------------------------------------------------------------------------------
def check_fields(
    obj: ObjectInfo, body: Record, store: RecordStore, creating: bool, skip: tuple[str, ...] = ()
) -> tuple[Record, list[RecordError]]:
    """Body fields -> (changes by API name, this record's errors).

    Raises BodyError for what Salesforce refuses for the whole request: an unknown field
    (INVALID_FIELD) or a value that does not deserialize into the field's type.
    """
    changes: Record = {}
    errors: list[RecordError] = []
    for key, value in body.items():
        if key == "attributes" or key.lower() in skip:
            continue
        info = obj.field(key)
        if info is None:
            raise BodyError(
                "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
            )
        coerced = _coerce(info, value)
        error = _check_value(info, coerced, store)
        if error is not None:
            errors.append(error)
        else:
            changes[info.name] = coerced
    required = [
        name
        for name in REQUIRED_FIELDS.get(obj.name, ())
        if (name in changes and changes[name] in (None, "")) or (creating and not changes.get(name))
    ]
    if required:
        errors.append(
            RecordError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(required)}]",
                tuple(required),
            )
        )
    return changes, errors


def _coerce(info: FieldInfo, value: Any) -> Any:
    if value is None:
        return None
    kind = info.type
    try:
        if kind == "datetime":
            if not isinstance(value, str):
                raise ValueError
            moment = datetime.fromisoformat(value)
            return format_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        if kind == "date":
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return date.fromisoformat(value).isoformat()
        if kind in NUMBER_TYPES:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError
        if isinstance(value, dict | list):
            raise ValueError
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    except ValueError:
        raise BodyError(
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {kind} from VALUE_STRING value {value} or request may "
            "be missing a required field",
        ) from None


def _check_value(info: FieldInfo, value: Any, store: RecordStore) -> RecordError | None:
    name = info.name
    if not info.updateable:
        return RecordError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {name}. Please check the security settings of this "
            "field and verify that it is read/write for your profile or permission set.",
            (name,),
        )
    if value is None:
        return None
    if info.restricted and value not in info.picklist:
        return RecordError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"bad value for restricted picklist field: {value}",
            (name,),
        )
    if isinstance(value, str) and info.length and len(value) > info.length:
        return RecordError(
            "STRING_TOO_LONG",
            f"{info.name.removesuffix('__c')}: data value too large: {value[:40]}... (max length={info.length})",
            (name,),
        )
    if info.type == "email" and value and ("@" not in value or " " in value.strip()):
        return RecordError(
            "INVALID_EMAIL_ADDRESS", f"{name}: invalid email address: {value}", (name,)
        )
    if info.type == "reference":
        target = info.reference_to or ""
        if ids.normalise(value) is None:
            return RecordError(
                "MALFORMED_ID", f"{name}: id value of incorrect type: {value}", (name,)
            )
        if store.get(target, value) is None:
            return RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", (name,))
    return None
