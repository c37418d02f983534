"""The vocabulary between connectors and the sync: pages read, field writes, write results.

A connector knows its vendor and nothing about escalation: it reads `SourceRecord`s in pages
with a cursor to store, and applies `FieldWrite`s in the vendor's batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mapping.records import SourceRecord


@dataclass(frozen=True)
class Page:
    """One page of an incremental read.

    `cursor` is the value to persist once `records` are stored (never before), so a crash
    re-reads the page instead of skipping it. `done` is true on the last page.
    """

    records: list[SourceRecord]
    cursor: str | None
    done: bool


@dataclass(frozen=True)
class FieldWrite:
    """The changes to one record in one system, in the vendor's own field ids and shapes."""

    system: str  # "zendesk" | "jira" | "salesforce"
    kind: str  # "ticket" | "issue" | "account" | "escalation_record"
    record_id: str  # vendor id (Zendesk ticket id, Jira key, Salesforce Id or external id value)
    fields: dict[str, Any] = field(default_factory=dict)  # vendor field id/name -> value
    tags_add: tuple[str, ...] = ()  # Zendesk tags / Jira labels to add
    tags_remove: tuple[str, ...] = ()
    note: str | None = None  # Zendesk private comment to add with this update
    # Zendesk safe_update: the updated_at we planned against; a newer one on the server -> 409.
    expected_updated_at: str | None = None
    object_name: str | None = None  # Salesforce sObject for upserts, e.g. "Escalation__c"
    external_id_field: str | None = None  # Salesforce upsert key field

    @property
    def ref(self) -> str:
        return f"{self.system}:{self.record_id}"


class WriteStatus(StrEnum):
    OK = "ok"
    CONFLICT = "conflict"  # someone changed the record meanwhile: re-read and re-plan
    REJECTED = "rejected"  # the vendor refused this record for good: report, do not retry
    RETRY = "retry"  # transient or unknown outcome: re-read and retry next run


@dataclass(frozen=True)
class WriteResult:
    write: FieldWrite
    status: WriteStatus
    reason: str | None = None  # the vendor's words for a failure
