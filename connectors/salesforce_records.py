"""Records of any sObject (the account matrix's Tasks): find, create and update them in batches.

- find: `GET /query` `SELECT <fields> FROM <Object> WHERE <key> IN (...) [AND <condition>]`,
  300 values an IN list, following nextRecordsUrl.
- create: `POST /composite/sobjects` (sObject Collections), 200 records a request, allOrNone
  false; records name no Id; one SaveResult per record, in order, with the new Id.
- update: `PATCH /composite/sobjects` by Id, the same way.
The writes are `FieldWrite`s: `record_id` is the record's Id for an update, and whatever the
caller keys it by for a create (the new Id comes back in `SaveOutcome.record_id`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from connectors.base import FieldWrite, WriteResult, WriteStatus
from connectors.errors import RateLimited, SystemUnavailable
from connectors.salesforce import (
    COLLECTION_SIZE,
    IN_LIST_SIZE,
    SalesforceConnector,
    _checked_name,
    _jsonable,
    _record,
    _words,
    field_list,
    result_for,
    soql_quote,
)
from connectors.transport import WriteOutcomeUnknown, batched
from mapping.records import SourceRecord


@dataclass(frozen=True)
class SaveOutcome:
    """What became of one write: its result, and the record's Id (a created one's new Id)."""

    result: WriteResult
    record_id: str | None


def find_records(
    connector: SalesforceConnector,
    object_name: str,
    fields: Sequence[str],
    key_field: str,
    values: Sequence[str],
    condition: str | None = None,
) -> list[SourceRecord]:
    """Records whose `key_field` is one of `values`, and `condition` (SOQL the caller built
    from config and soql_quote'd literals, never from record data unquoted)."""
    names = field_list(fields, ("Id",))
    found: list[SourceRecord] = []
    for chunk in batched(sorted(set(values)), IN_LIST_SIZE):
        soql = (
            f"SELECT {', '.join(names)} FROM {_checked_name(object_name)} WHERE "
            f"{_checked_name(key_field)} IN ({', '.join(soql_quote(v) for v in chunk)})"
        )
        if condition:
            soql += f" AND ({condition})"
        for records, _ in connector._query_batches(soql):
            found += [_record(object_name.lower(), row) for row in records]
    return found


def save_records(
    connector: SalesforceConnector, object_name: str, writes: Sequence[FieldWrite], create: bool
) -> list[SaveOutcome]:
    """Create (or update by Id) one record per write; one outcome each, in order.

    When the org stops answering or its allowance is spent, the writes not sent are RETRY.
    """
    outcomes: list[SaveOutcome] = []
    stop_reason: str | None = None
    for batch in batched(list(writes), min(connector.write_batch_size, COLLECTION_SIZE)):
        if stop_reason is None:
            sent = _send(connector, object_name, batch, create)
            if isinstance(sent, str):
                stop_reason = sent
            else:
                outcomes += sent
                continue
        outcomes += [
            SaveOutcome(WriteResult(w, WriteStatus.RETRY, stop_reason), None) for w in batch
        ]
    return outcomes


def _send(
    connector: SalesforceConnector, object_name: str, batch: list[FieldWrite], create: bool
) -> list[SaveOutcome] | str:
    records = []
    for write in batch:
        record: dict[str, Any] = {**_jsonable(write.fields), "attributes": {"type": object_name}}
        if not create:
            record["id"] = write.record_id
        records.append(record)
    body = {"allOrNone": False, "records": records}
    method = "POST" if create else "PATCH"
    what = f"{method} composite/sobjects"
    try:
        answer = connector._call(
            what,
            lambda sf: sf.restful(
                "composite/sobjects", method=method, json=body, timeout=connector.timeout
            ),
        )
    except WriteOutcomeUnknown as error:
        return [SaveOutcome(WriteResult(w, WriteStatus.RETRY, str(error)), None) for w in batch]
    except (RateLimited, SystemUnavailable) as error:
        return str(error)
    except (SalesforceMalformedRequest, SalesforceResourceNotFound) as error:
        return [
            SaveOutcome(WriteResult(w, WriteStatus.REJECTED, _words(error)), None) for w in batch
        ]
    if not isinstance(answer, list) or len(answer) != len(batch):
        reason = f"{what} answered no result per record; outcome unknown"
        return [SaveOutcome(WriteResult(w, WriteStatus.RETRY, reason), None) for w in batch]
    return [
        SaveOutcome(result_for(write, item), str(item.get("id") or "") or None)
        for write, item in zip(batch, answer, strict=True)
    ]
