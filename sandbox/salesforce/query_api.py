"""GET /query?q= (and /queryAll), and GET /query/{locator}-{offset} for the next batches.

Batches hold up to 2000 records; `Sforce-Query-Options: batchSize=N` asks for N (200..2000).
A query locator is a snapshot of the result taken when the query ran, as Salesforce's server
side cursor is: later writes do not move records between batches. Locators expire after 15
minutes unused, and a user holds at most 50 of them (the oldest is dropped first).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.http import Request, Response
from sandbox.salesforce import ids, soql_engine
from sandbox.salesforce.responses import rest_error
from sandbox.salesforce.soql_lexer import SoqlError
from sandbox.salesforce.soql_parser import parse

if TYPE_CHECKING:
    from sandbox.salesforce.app import SalesforceApp

MAX_BATCH = 2000
MIN_BATCH = 200
LOCATOR_IDLE_SECONDS = 15 * 60
MAX_OPEN_LOCATORS = 50
_LOCATOR = re.compile(r"^(?P<locator>01g[A-Za-z0-9]{15})-(?P<offset>\d+)$")


@dataclass
class _Cursor:
    rows: list[dict[str, Any]]
    batch_size: int
    version: str
    last_used: float
    resource: str = "query"  # "queryAll": its next batches are read under /queryAll too


class QueryApi:
    def __init__(self, app: SalesforceApp):
        self.app = app
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._serial = 0

    def query_all(self, request: Request) -> Response:
        """GET /queryAll: the query over the Recycle Bin too (IsDeleted, merged records)."""
        return self.query(request, include_deleted=True)

    def query(self, request: Request, include_deleted: bool = False) -> Response:
        text = request.arg("q")
        if not text:
            return rest_error(400, "MALFORMED_QUERY", "A query string has to be specified")
        version = request.params["version"]
        store = self.app.store
        try:
            compiled = soql_engine.compile_query(parse(text), store.schema)
        except SoqlError as error:
            return rest_error(400, error.code, soql_engine.format_error(text, error))
        matched = soql_engine.run(
            compiled, store.all(compiled.obj.name, include_deleted), store.get
        )
        if compiled.query.count_only:
            return Response(200, {"totalSize": len(matched), "done": True, "records": []})
        rows = [soql_engine.project(compiled, record, store.get, version) for record in matched]
        cursor = _Cursor(
            rows,
            _batch_size(request),
            version,
            time.monotonic(),
            "queryAll" if include_deleted else "query",
        )
        return Response(200, self._batch(cursor, None, 0))

    def query_more(self, request: Request) -> Response:
        found = _LOCATOR.match(request.params["locator"])
        cursor = self._cursors.get(found["locator"]) if found else None
        if (
            found is None
            or cursor is None
            or time.monotonic() - cursor.last_used > LOCATOR_IDLE_SECONDS
        ):
            return rest_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(found["offset"])
        if offset >= len(cursor.rows):
            return rest_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        cursor.last_used = time.monotonic()
        return Response(200, self._batch(cursor, found["locator"], offset))

    def open_locators(self) -> int:
        return len(self._cursors)

    def _batch(self, cursor: _Cursor, locator: str | None, offset: int) -> dict[str, Any]:
        end = offset + cursor.batch_size
        body: dict[str, Any] = {"totalSize": len(cursor.rows), "done": end >= len(cursor.rows)}
        if not body["done"]:
            locator = locator or self._register(cursor)
            body["nextRecordsUrl"] = (
                f"/services/data/v{cursor.version}/{cursor.resource}/{locator}-{end}"
            )
        elif locator is not None:
            self._cursors.pop(locator, None)  # the last batch closes the cursor
        body["records"] = cursor.rows[offset:end]
        return body

    def _register(self, cursor: _Cursor) -> str:
        self._serial += 1
        locator = ids.new_id("01g", self._serial)
        self._cursors[locator] = cursor
        while len(self._cursors) > MAX_OPEN_LOCATORS:
            self._cursors.popitem(last=False)
        return locator


def _batch_size(request: Request) -> int:
    """Sforce-Query-Options: batchSize=N, kept within Salesforce's 200..2000."""
    options = request.headers.get("sforce-query-options", "")
    found = re.search(r"batchSize\s*=\s*(\d+)", options)
    if not found:
        return MAX_BATCH
    return max(MIN_BATCH, min(MAX_BATCH, int(found.group(1))))
