"""One table from a vendor's answer about one record to our write outcome.

Each vendor says in its own words how a write of one record ended: a Zendesk job result's
`error`, the `statusCode`s of a Salesforce SaveResult, the HTTP status of a Jira edit. This
module maps every code we know to an outcome, and names, per vendor, what an unknown code
means, so a reader finds in one place why a record is retried, re-planned or reported.

Outcomes (`connectors.base.WriteStatus`):
- ok: the record holds what we wrote.
- conflict: someone changed the record meanwhile; the sync re-reads and re-plans it.
- rejected: the vendor refused these values for good; reported, not sent again unchanged.
- retry: transient; the sync re-reads the record and sends it again next run.
- unknown: the write may or may not have landed (no answer). It is reported as retry, because
  the sync's answer is the same: re-read before sending again (see `UNKNOWN`).

The defaults differ on purpose, and each says why next to its table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from connectors.base import WriteStatus

# A write whose outcome we could not learn is retried after a re-read, never resent blindly.
UNKNOWN = WriteStatus.RETRY

# When one record carries several codes, the most telling wins: a conflict is re-planned
# whatever else was said; one permanent refusal makes sending the same values again pointless.
_PRECEDENCE = (WriteStatus.CONFLICT, WriteStatus.REJECTED, WriteStatus.RETRY, WriteStatus.OK)


@dataclass(frozen=True)
class OutcomeTable:
    """One vendor's codes -> outcomes: exact codes first, then patterns, then `default`."""

    vendor: str
    codes: Mapping[str, WriteStatus]
    default: WriteStatus
    default_why: str  # why an unknown code gets `default`
    patterns: tuple[tuple[re.Pattern[str], WriteStatus], ...] = field(default=())

    def outcome(self, code: str) -> WriteStatus:
        """The outcome of one code."""
        if code in self.codes:
            return self.codes[code]
        for pattern, status in self.patterns:
            if pattern.fullmatch(code):
                return status
        return self.default

    def outcome_of_all(self, codes: Iterable[str]) -> WriteStatus:
        """The outcome of a record reported with several codes (the most telling one)."""
        found = {self.outcome(code) for code in codes}
        return next((status for status in _PRECEDENCE if status in found), self.default)


# -- Zendesk: the `error` of a failed item in an update_many job's results ------------------------
# A failed item looks like {"index": 0, "error": "TicketUpdateFailed", "id": 123, "details":
# "Status: closed prevents ticket update"}: "<Resource>UpdateFailed" is how a job reports the
# record's validation errors (the details say which), so sending the same values again fails
# the same way every run.
ZENDESK_JOB_ITEM = OutcomeTable(
    vendor="zendesk",
    codes={
        "UpdateConflict": WriteStatus.CONFLICT,  # safe_update: the ticket moved on meanwhile
        "RecordInvalid": WriteStatus.REJECTED,
        "RecordNotFound": WriteStatus.REJECTED,
        "PermissionDenied": WriteStatus.REJECTED,
        "Forbidden": WriteStatus.REJECTED,
        "InvalidValue": WriteStatus.REJECTED,
        "TooManyValues": WriteStatus.REJECTED,
    },
    patterns=((re.compile(r"[A-Z][A-Za-z]*UpdateFailed"), WriteStatus.REJECTED),),
    default=WriteStatus.RETRY,
    default_why=(
        "Zendesk documents no list of job errors; an item that failed for a reason we do not "
        "know is re-read and sent again next run rather than given up on"
    ),
)

# -- Salesforce: the statusCodes of a SaveResult / UpsertResult in an sObject Collection ----------
SALESFORCE_RECORD = OutcomeTable(
    vendor="salesforce",
    codes={
        "ENTITY_FAILED_IFLASTMODIFIED_ON_UPDATE": WriteStatus.CONFLICT,
        "UNABLE_TO_LOCK_ROW": WriteStatus.RETRY,
        "ALL_OR_NONE_OPERATION_ROLLED_BACK": WriteStatus.RETRY,
        "REQUEST_RUNNING_TOO_LONG": WriteStatus.RETRY,
        "SERVER_UNAVAILABLE": WriteStatus.RETRY,
        "UNKNOWN_EXCEPTION": WriteStatus.RETRY,
    },
    default=WriteStatus.REJECTED,
    default_why=(
        "Salesforce documents its StatusCode values and nearly all of them are the org "
        "refusing the values (validation rules, field access, picklists); the few transient "
        "ones are listed, so an unknown code is a refusal"
    ),
)
# A failed result without any error code says nothing about why: like an unknown outcome.
SALESFORCE_NO_CODE = UNKNOWN

# -- Jira: the HTTP status of PUT /rest/api/{v}/issue/{key} ---------------------------------------
# 401 is not an outcome: the connector raises AuthError for it before asking this table.
JIRA_EDIT = OutcomeTable(
    vendor="jira",
    codes={"429": WriteStatus.RETRY},  # the transport's waiting budget ran out: later
    patterns=((re.compile(r"4\d\d"), WriteStatus.REJECTED),),  # Jira's ErrorCollection says why
    default=WriteStatus.RETRY,
    default_why=(
        "anything else (a 5xx, no status at all) means Jira did not say the values were "
        "wrong: re-read and send again next run"
    ),
)

TABLES: tuple[OutcomeTable, ...] = (ZENDESK_JOB_ITEM, SALESFORCE_RECORD, JIRA_EDIT)
