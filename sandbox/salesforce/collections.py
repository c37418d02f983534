"""sObject Collections: create (POST /composite/sobjects), update (PATCH /composite/sobjects)
and upsert by external id (PATCH /composite/sobjects/{Object}/{ExternalIdField}).

A create names no id (one that does fails: INVALID_FIELD_FOR_INSERT_UPDATE, "cannot specify
Id in an insert call"); its SaveResult carries the new record's id.

At most 200 records (more: 400 EXCEEDED_ID_LIMIT). Results come back in request order, one per
record: {"id", "success", "errors": [{"statusCode", "message", "fields"}]} (+ "created" for
upserts). With allOrNone true one failure rolls every record back and the others report
ALL_OR_NONE_OPERATION_ROLLED_BACK. A request's records share one SystemModstamp, as they share
one transaction in Salesforce.

Vendor fault "record_error" (detail: ids, statusCode, message, fields) fails the chosen records
(ids, or external id values for upserts, or for creates an id the new record refers to, such
as a Task's WhatId) with that error, e.g. UNABLE_TO_LOCK_ROW.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.faults import Fault
from sandbox.http import Request, Response
from sandbox.salesforce import ids
from sandbox.salesforce.responses import not_found, rest_error
from sandbox.salesforce.schema import Schema
from sandbox.salesforce.store import BodyError, RecordError, check_fields, format_datetime

if TYPE_CHECKING:
    from sandbox.salesforce.app import SalesforceApp

MAX_RECORDS = 200
ROLLED_BACK = RecordError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)
DEFAULT_FAULT_MESSAGES = {
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record or 1 records: {key}",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "Escalation fields are locked while the account is under review",
}


@dataclass
class _Planned:
    """One record's outcome before anything is applied."""

    record_id: str | None
    errors: list[RecordError]
    apply: Callable[[str], tuple[str, bool]] | None = None  # stamp -> (id, created)
    fault_keys: tuple[str, ...] = ()


class Collections:
    def __init__(self, app: SalesforceApp):
        self.app = app

    def update(self, request: Request) -> Response:
        return self._run(request, "composite_update", self._plan_update, upsert=False)

    def create(self, request: Request) -> Response:
        return self._run(request, "composite_create", self._plan_create, upsert=False)

    def upsert(self, request: Request) -> Response:
        obj = self.app.store.object_info(request.params["object"])
        if obj is None:
            return not_found()
        key_field = obj.field(request.params["field"])
        if key_field is None or not key_field.external_id:
            return rest_error(
                400,
                "INVALID_FIELD",
                f"Field name provided, {request.params['field']} is not an External ID or indexed "
                f"field for {obj.name}",
            )

        def plan(record: dict[str, Any]) -> _Planned:
            return self._plan_upsert(obj.name, key_field.name, record)

        return self._run(request, "composite_upsert", plan, upsert=True, key_field=key_field.name)

    # -- the shared flow ---------------------------------------------------------------------
    def _run(
        self,
        request: Request,
        endpoint: str,
        plan: Callable[[dict[str, Any]], _Planned],
        upsert: bool,
        key_field: str | None = None,
    ) -> Response:
        try:
            records, all_or_none = _parse_body(request)
            if len(records) > MAX_RECORDS:
                return rest_error(
                    400,
                    "EXCEEDED_ID_LIMIT",
                    f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
                )
            planned = [plan(record) for record in records]
        except BodyError as error:
            return rest_error(400, error.code, error.message)
        if key_field is not None:
            _fail_duplicate_keys(records, planned, key_field)
        self._inject_faults(endpoint, planned)
        failed = any(item.errors for item in planned)
        results: list[dict[str, Any]] = []
        stamp = format_datetime(self.app.store.clock.now())
        for item in planned:
            if item.errors:
                results.append(_failure(item.record_id, item.errors, upsert))
            elif all_or_none and failed:
                results.append(_failure(item.record_id, [ROLLED_BACK], upsert))
            else:
                assert item.apply is not None
                record_id, created = item.apply(stamp)
                result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
                if upsert:
                    result["created"] = created
                results.append(result)
        return Response(200, results)

    def _inject_faults(self, endpoint: str, planned: list[_Planned]) -> None:
        """Each pending record_error fault naming a record of this request hits it once."""
        keys = {key for item in planned for key in item.fault_keys}
        taken: list[Fault] = []

        def selects(fault: Fault) -> bool:
            return all(fault is not other for other in taken) and bool(keys & _fault_ids(fault))

        while (
            fault := self.app.faults.take_vendor(endpoint, "record_error", where=selects)
        ) is not None:
            taken.append(fault)
            chosen = _fault_ids(fault)
            code = str(fault.detail.get("statusCode", "UNABLE_TO_LOCK_ROW"))
            template = fault.detail.get("message") or DEFAULT_FAULT_MESSAGES.get(code, code)
            fields = tuple(fault.detail.get("fields", ()))
            for item in planned:
                hit = next((key for key in item.fault_keys if key in chosen), None)
                if hit is not None:
                    item.errors = [RecordError(code, str(template).replace("{key}", hit), fields)]

    # -- one record ----------------------------------------------------------------------------
    def _plan_update(self, record: dict[str, Any]) -> _Planned:
        obj = _record_type(record, self.app.store.schema)
        raw_id = record.get("id", record.get("Id"))
        if not raw_id:
            return _Planned(
                None, [RecordError("MISSING_ARGUMENT", "Id not specified in an update call")]
            )
        raw_id = str(raw_id)
        record_id = ids.normalise(raw_id)
        keys = (raw_id,) if record_id is None else (raw_id, record_id)
        changes, errors = check_fields(obj, record, self.app.store, creating=False, skip=("id",))
        if record_id is None or not record_id.startswith(obj.key_prefix):
            error = RecordError(
                "MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {raw_id}", ("Id",)
            )
            return _Planned(None, [error], fault_keys=keys)
        if self.app.store.get(obj.name, record_id) is None:
            error = RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            return _Planned(None, [error], fault_keys=keys)
        if errors:
            return _Planned(record_id, errors, fault_keys=keys)

        def apply(stamp: str) -> tuple[str, bool]:
            self.app.store.update(obj, record_id, changes, stamp)
            return record_id, False

        return _Planned(record_id, [], apply, keys)

    def _plan_create(self, record: dict[str, Any]) -> _Planned:
        obj = _record_type(record, self.app.store.schema)
        if any(key.lower() == "id" for key in record):
            error = RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ("Id",)
            )
            return _Planned(None, [error])
        if not obj.editable:
            error = RecordError(
                "INSUFFICIENT_ACCESS_OR_READONLY",
                f"insufficient access rights on object {obj.name}",
            )
            return _Planned(None, [error])
        changes, errors = check_fields(obj, record, self.app.store, creating=True)
        if errors:
            return _Planned(None, errors)

        def apply(stamp: str) -> tuple[str, bool]:
            return self.app.store.insert(obj, changes, stamp), True

        # A new record has no id yet: a record_error fault names the record it refers to
        # (a Task's WhatId), as a validation rule on the related record would refuse it.
        refers_to = tuple(
            str(value)
            for key, value in record.items()
            if key != "attributes" and isinstance(value, str) and ids.normalise(value)
        )
        return _Planned(None, [], apply, refers_to)

    def _plan_upsert(self, object_name: str, key_field: str, record: dict[str, Any]) -> _Planned:
        obj = _record_type(record, self.app.store.schema)
        if obj.name != object_name:
            error = RecordError(
                "INVALID_TYPE", f"Record type {obj.name} does not match {object_name}"
            )
            return _Planned(None, [error])
        key_value = next(
            (value for key, value in record.items() if key.lower() == key_field.lower()), None
        )
        if key_value in (None, ""):
            error = RecordError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{key_field}]",
                (key_field,),
            )
            return _Planned(None, [error])
        if any(key.lower() == "id" for key in record):
            error = RecordError(
                "INVALID_FIELD", "Only external ids are supported in an upsert collection", ("Id",)
            )
            return _Planned(None, [error], fault_keys=(str(key_value),))
        matches = self.app.store.find_external(obj.name, key_field, key_value)
        existing = matches[0] if len(matches) == 1 else None
        keys = (str(key_value),) + ((existing,) if existing else ())
        if len(matches) > 1:
            error = RecordError(
                "DUPLICATE_EXTERNAL_ID",
                f"{key_field}: more than one record found for external id field: [{', '.join(matches)}]",
                (key_field,),
            )
            return _Planned(None, [error], fault_keys=keys)
        changes, errors = check_fields(obj, record, self.app.store, creating=existing is None)
        if errors:
            return _Planned(existing, errors, fault_keys=keys)

        def apply(stamp: str) -> tuple[str, bool]:
            if existing is not None:
                self.app.store.update(obj, existing, changes, stamp)
                return existing, False
            return self.app.store.insert(obj, changes, stamp), True

        return _Planned(existing, [], apply, keys)


def _parse_body(request: Request) -> tuple[list[dict[str, Any]], bool]:
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError) as error:
        raise BodyError(
            "JSON_PARSER_ERROR", f"Unexpected character in the request body: {error}"
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise BodyError(
            "JSON_PARSER_ERROR", "The request body must be an object with a 'records' list"
        )
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise BodyError("JSON_PARSER_ERROR", "allOrNone must be true or false")
    for record in body["records"]:
        if not isinstance(record, dict):
            raise BodyError(
                "JSON_PARSER_ERROR", f"Each record must be a JSON object, got {json.dumps(record)}"
            )
    return body["records"], all_or_none


def _record_type(record: dict[str, Any], schema: Schema):
    attributes = record.get("attributes")
    type_name = attributes.get("type") if isinstance(attributes, dict) else None
    if not type_name:
        raise BodyError("INVALID_TYPE", "Must send a concrete entity type.")
    obj = schema.object_info(str(type_name))
    if obj is None:
        raise BodyError("INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
    return obj


def _fail_duplicate_keys(
    records: list[dict[str, Any]], planned: list[_Planned], key_field: str
) -> None:
    values = [
        next((value for key, value in record.items() if key.lower() == key_field.lower()), None)
        for record in records
    ]
    counts = Counter(value for value in values if value not in (None, ""))
    for value, item in zip(values, planned, strict=True):
        if value is not None and counts[value] > 1 and not item.errors:
            item.errors = [
                RecordError(
                    "DUPLICATE_VALUE", f"Duplicate external id specified: {value}", (key_field,)
                )
            ]


def _fault_ids(fault: Fault) -> set[str]:
    return {str(value) for value in fault.detail.get("ids", ())}


def _failure(record_id: str | None, errors: list[RecordError], upsert: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"success": False, "errors": [error.body() for error in errors]}
    if record_id is not None:
        result = {"id": record_id, **result}
    if upsert:
        result["created"] = False
    return result
