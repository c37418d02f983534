"""Single-record and metadata resources: versions, limits, describe, sObject get/create/update."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sandbox import catalogue
from sandbox.http import Request, Response
from sandbox.salesforce import ids
from sandbox.salesforce.responses import not_found, rest_error
from sandbox.salesforce.schema import ObjectInfo
from sandbox.salesforce.soql_engine import attributes
from sandbox.salesforce.store import BodyError, check_fields
from sandbox.salesforce.tooling_api import PERMISSION_OBJECTS

if TYPE_CHECKING:
    from sandbox.salesforce.app import SalesforceApp

OLDEST_VERSION = 31


def available_versions() -> list[dict[str, str]]:
    newest = int(float(catalogue.SALESFORCE_API_VERSION))
    return [
        {"label": f"API {major}.0", "url": f"/services/data/v{major}.0", "version": f"{major}.0"}
        for major in range(OLDEST_VERSION, newest + 1)
    ]


class RecordsApi:
    def __init__(self, app: SalesforceApp):
        self.app = app

    def versions(self, request: Request) -> Response:
        return Response(200, available_versions())

    def resources(self, request: Request) -> Response:
        base = f"/services/data/v{request.params['version']}"
        names = ("sobjects", "query", "queryAll", "composite", "limits")
        return Response(200, {name: f"{base}/{name}" for name in names})

    def limits(self, request: Request) -> Response:
        used, limit = self.app.allowance.usage()
        return Response(
            200, {"DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - used)}}
        )

    def global_describe(self, request: Request) -> Response:
        version = request.params["version"]
        return Response(
            200,
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [
                    obj.summary(version) for obj in self.app.store.schema.objects.values()
                ],
            },
        )

    def sobject_info(self, request: Request) -> Response:
        obj = self.app.store.object_info(request.params["object"])
        if obj is None:
            return not_found()
        return Response(
            200, {"objectDescribe": obj.summary(request.params["version"]), "recentItems": []}
        )

    def describe(self, request: Request) -> Response:
        obj = self.app.store.object_info(request.params["object"])
        if obj is None:
            return not_found()
        return Response(200, obj.describe(request.params["version"]))

    def get(self, request: Request) -> Response:
        obj = self.app.store.object_info(request.params["object"])
        record = self.app.store.get(obj.name, request.params["id"]) if obj else None
        if obj is None or record is None:
            return not_found()
        wanted = request.arg("fields")
        names = list(obj.fields)
        if wanted:
            names = []
            for name in wanted.split(","):
                info = obj.field(name.strip())
                if info is None:
                    return rest_error(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{name.strip()}' on sobject of type {obj.name}",
                    )
                names.append(info.name)
        version = request.params["version"]
        body: dict[str, Any] = {"attributes": attributes(obj.name, record["Id"], version)}
        body.update({name: record.get(name) for name in names})
        return Response(200, body)

    def update(self, request: Request) -> Response:
        obj = self.app.store.object_info(request.params["object"])
        record_id = ids.normalise(request.params["id"])
        if obj is None or record_id is None or self.app.store.get(obj.name, record_id) is None:
            return not_found()
        changes, failure = self._checked(obj, request, creating=False)
        if failure is not None:
            return failure
        self.app.store.update(obj, record_id, changes)
        return Response(204)

    # DELETE /sobjects/{object}/{external id field}/{value}: 204, or 404 when no record has it
    def delete_by_external_id(self, request: Request) -> Response:
        obj = self.app.store.object_info(request.params["object"])
        info = obj.field(request.params["field"]) if obj else None
        if obj is None or info is None or not info.external_id:
            return not_found()
        found = self.app.store.find_external(obj.name, info.name, unquote(request.params["value"]))
        if not found:
            return not_found()
        for record_id in found:
            self.app.store.delete(obj.name, record_id)
        return Response(204)

    def create(self, request: Request) -> Response:
        obj = self.app.store.object_info(request.params["object"])
        if obj is None:
            return not_found()
        changes, failure = self._checked(obj, request, creating=True)
        if failure is not None:
            return failure
        record_id = self.app.store.insert(obj, changes)
        if obj.name in PERMISSION_OBJECTS:
            self.app.tooling.apply_permissions()
        return Response(201, {"id": record_id, "success": True, "errors": []})

    def _checked(
        self, obj: ObjectInfo, request: Request, creating: bool
    ) -> tuple[dict[str, Any], Response | None]:
        try:
            body = request.json()
            if not isinstance(body, dict):
                raise BodyError("JSON_PARSER_ERROR", "The request body must be a JSON object")
            changes, errors = check_fields(obj, body, self.app.store, creating)
        except BodyError as error:
            return {}, rest_error(400, error.code, error.message)
        except ValueError as error:
            return {}, rest_error(
                400, "JSON_PARSER_ERROR", f"Unexpected character in the request body: {error}"
            )
        if errors:
            first = errors[0]
            return {}, rest_error(400, first.status_code, first.message, list(first.fields))
        return changes, None
