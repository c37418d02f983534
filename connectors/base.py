"""The connector contract: what `sync/` may ask of a vendor, and the values that cross it.

A connector knows its vendor and nothing about escalation. Every connector satisfies
`Connector`:

- `read_changes(stream, cursor, start)`: the records of one stream changed since `cursor`, in
  `Page`s; each page carries the cursor to store with it (in the same transaction), so a crash
  re-reads a page instead of skipping it. `start` is where a stream read without a cursor
  begins (None: the vendor's own first read). `streams` names what it can read. An account
  deleted in the CRM comes as kind "account_removed", data {"merged_into": the surviving
  account's id, or None}.
- `read_by_id(kind, ids)`: the current state of records of one kind, ids it does not know left
  out (re-reads after an unknown outcome or a conflict).
- `apply(writes)`: send `FieldWrite`s in the vendor's batches; exactly one `WriteResult` per
  write, in order. Failures are results (OK / CONFLICT / REJECTED / RETRY, connectors/outcomes.py);
  only a system that cannot be used at all raises (connectors/errors.py).
- `stats()`: what the transport absorbed this run (requests, retries, 429s, waits, logins).
- `close()`: end the connections; a connector lives for one run.

Where vendors really differ, a connector also satisfies a small capability protocol, and
`sync/` asks with `isinstance`: `LaggingStream` (an incremental read that leaves out the newest
changes: Zendesk), `NoteReader` (a ticket's comments, where our private notes are: Zendesk)
and `UpsertReader` (records we upsert by an external id and never pull:
Salesforce escalation records), `DailyAllowance` (a request allowance shared with the org's
other integrations: Salesforce). Values cross the contract in the vendor's own field ids; a
choice among a field's options is an `Option`, which each connector sends in its own shape.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

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
    record_id: str  # vendor id (Zendesk ticket, Jira issue, Salesforce Id or external id value)
    fields: dict[str, Any] = field(default_factory=dict)  # vendor field id/name -> value
    tags_add: tuple[str, ...] = ()  # Zendesk tags / Jira labels to add
    tags_remove: tuple[str, ...] = ()
    note: str | None = None  # Zendesk private comment to add with this update
    # Zendesk safe_update: the updated_at we planned against; a newer one on the server -> 409.
    expected_updated_at: str | None = None
    object_name: str | None = None  # Salesforce sObject for upserts, e.g. "Escalation__c"
    external_id_field: str | None = None  # Salesforce upsert key field
    # Remove the record (found by `external_id_field`) instead of writing fields: an
    # escalation record whose ticket was deleted, when the config says so.
    delete: bool = False

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


class Option(str):
    """A value chosen among a field's options (a dropdown, select list or picklist): the
    option's own text. Jira takes it as `{"value": ...}`; Zendesk and Salesforce as the text."""


@dataclass(frozen=True)
class ConnectorStats:
    """What a connector's transport did this run: what it absorbed, so a run that recovered
    from faults still says it met them."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0  # answers of 429
    waited_seconds: float = 0.0
    logins: int | None = None  # Salesforce logs in; the others send credentials each request
    # What the run's waiting budget ran out on, if it did: writes the connector then reports
    # as RETRY were cut short by the quota, not lost in flight.
    wait_budget_spent: str | None = None

    def summary(self) -> dict[str, int | float]:
        """The counts as the run summary stores them (logins only where there are any)."""
        counts: dict[str, int | float] = {
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
            "waited_seconds": round(self.waited_seconds, 3),
        }
        if self.logins is not None:
            counts["logins"] = self.logins
        return counts


@runtime_checkable
class Connector(Protocol):
    """One vendor system, as `sync/` sees it (see the module docstring)."""

    system: str
    streams: tuple[str, ...]

    def read_changes(
        self, stream: str, cursor: str | None, start: datetime | None = None
    ) -> Iterator[Page]:
        """The records of `stream` changed since `cursor` (from `start` without one)."""
        ...

    def read_by_id(self, kind: str, ids: Sequence[str]) -> list[SourceRecord]:
        """The current state of these records of `kind`; ids the system does not know left out."""
        ...

    def apply(self, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        """Send the writes; one result per write, in order."""
        ...

    def stats(self) -> ConnectorStats:
        """What the transport did so far this run."""
        ...

    def close(self) -> None:
        """End the connections."""
        ...


@runtime_checkable
class LaggingStream(Protocol):
    """A system whose incremental read leaves out the newest changes (Zendesk's export: the
    last minute): a record whose last write has an unknown outcome is read by id, as
    `reread_kind`, before it is planned again."""

    reread_kind: str


@runtime_checkable
class NoteReader(Protocol):
    """A system whose tickets carry comments, among them our private notes (Zendesk)."""

    def read_note_texts(self, record_id: str) -> list[str]:
        """The texts of the record's comments, oldest first."""
        ...


@runtime_checkable
class UpsertReader(Protocol):
    """A system where we upsert records by an external id and never pull them (Salesforce)."""

    def read_upserted(
        self, object_name: str, key_field: str, fields: Sequence[str], keys: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """External id -> the `fields` its record holds now; keys without a record left out."""
        ...


@dataclass(frozen=True)
class ApiUsage:
    """A request allowance as the vendor reports it: `used` of `limit` in its window."""

    used: int
    limit: int


@runtime_checkable
class DailyAllowance(Protocol):
    """A system whose daily request allowance is the org's, shared with its other integrations
    (Salesforce: Sforce-Limit-Info on every answer, `GET limits`)."""

    def api_usage(self, refresh: bool = False) -> ApiUsage | None:
        """The allowance as last reported (None: not known yet); `refresh` asks the vendor."""
        ...
