"""Every row of the vendor code -> write outcome table, and each vendor's default."""

from __future__ import annotations

import pytest

from connectors.base import FieldWrite, WriteStatus
from connectors.outcomes import (
    JIRA_EDIT,
    SALESFORCE_NO_CODE,
    SALESFORCE_RECORD,
    TABLES,
    UNKNOWN,
    ZENDESK_JOB_ITEM,
    OutcomeTable,
)
from connectors.salesforce import result_for as salesforce_result
from connectors.zendesk import result_for as zendesk_result

OK, CONFLICT, REJECTED, RETRY = (
    WriteStatus.OK,
    WriteStatus.CONFLICT,
    WriteStatus.REJECTED,
    WriteStatus.RETRY,
)

ROWS = [
    # Zendesk job result items
    (ZENDESK_JOB_ITEM, "UpdateConflict", CONFLICT),
    (ZENDESK_JOB_ITEM, "RecordInvalid", REJECTED),
    (ZENDESK_JOB_ITEM, "RecordNotFound", REJECTED),
    (ZENDESK_JOB_ITEM, "PermissionDenied", REJECTED),
    (ZENDESK_JOB_ITEM, "Forbidden", REJECTED),
    (ZENDESK_JOB_ITEM, "InvalidValue", REJECTED),
    (ZENDESK_JOB_ITEM, "TooManyValues", REJECTED),
    (ZENDESK_JOB_ITEM, "TicketUpdateFailed", REJECTED),  # "<Resource>UpdateFailed": validation
    (ZENDESK_JOB_ITEM, "OrganizationUpdateFailed", REJECTED),
    (ZENDESK_JOB_ITEM, "SomethingNobodyDocumented", RETRY),  # the default
    # Salesforce SaveResult statusCodes
    (SALESFORCE_RECORD, "ENTITY_FAILED_IFLASTMODIFIED_ON_UPDATE", CONFLICT),
    (SALESFORCE_RECORD, "UNABLE_TO_LOCK_ROW", RETRY),
    (SALESFORCE_RECORD, "ALL_OR_NONE_OPERATION_ROLLED_BACK", RETRY),
    (SALESFORCE_RECORD, "REQUEST_RUNNING_TOO_LONG", RETRY),
    (SALESFORCE_RECORD, "SERVER_UNAVAILABLE", RETRY),
    (SALESFORCE_RECORD, "UNKNOWN_EXCEPTION", RETRY),
    (SALESFORCE_RECORD, "FIELD_CUSTOM_VALIDATION_EXCEPTION", REJECTED),  # the default
    # Jira edit HTTP statuses
    (JIRA_EDIT, "400", REJECTED),
    (JIRA_EDIT, "403", REJECTED),
    (JIRA_EDIT, "404", REJECTED),
    (JIRA_EDIT, "429", RETRY),
    (JIRA_EDIT, "500", RETRY),  # the default
    (JIRA_EDIT, "None", RETRY),  # no answer at all: the default
]


@pytest.mark.parametrize(
    ("table", "code", "expected"),
    ROWS,
    ids=[f"{table.vendor}-{code}" for table, code, _ in ROWS],
)
def test_each_vendor_code_has_its_outcome(table: OutcomeTable, code: str, expected: WriteStatus):
    assert table.outcome(code) is expected


def test_every_listed_code_is_tested():
    tested = {(table.vendor, code) for table, code, _ in ROWS}
    assert {(t.vendor, code) for t in TABLES for code in t.codes} <= tested


@pytest.mark.parametrize("table", TABLES, ids=[t.vendor for t in TABLES])
def test_every_vendor_documents_why_its_default_is_what_it_is(table: OutcomeTable):
    assert table.default in (RETRY, REJECTED) and len(table.default_why) > 40


def test_defaults_differ_per_vendor_on_purpose():
    assert (ZENDESK_JOB_ITEM.default, SALESFORCE_RECORD.default, JIRA_EDIT.default) == (
        RETRY,
        REJECTED,
        RETRY,
    )


def test_an_unknown_outcome_is_retried_after_a_re_read():
    assert UNKNOWN is RETRY and SALESFORCE_NO_CODE is UNKNOWN


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"], RETRY),
        (["UNABLE_TO_LOCK_ROW", "FIELD_CUSTOM_VALIDATION_EXCEPTION"], REJECTED),
        (["FIELD_CUSTOM_VALIDATION_EXCEPTION", "ENTITY_FAILED_IFLASTMODIFIED_ON_UPDATE"], CONFLICT),
    ],
)
def test_a_record_with_several_codes_gets_the_most_telling_outcome(codes, expected):
    assert SALESFORCE_RECORD.outcome_of_all(codes) is expected


WRITE = FieldWrite("zendesk", "ticket", "123", {"1": "x"})


def test_a_zendesk_validation_failure_in_the_real_item_shape_is_rejected_with_its_details():
    # What Zendesk really sends for a failed item: no "success", no "action".
    item = {
        "index": 0,
        "error": "TicketUpdateFailed",
        "id": 123,
        "details": "Escalation level: is invalid",
    }
    result = zendesk_result(WRITE, item)
    assert result.status is REJECTED
    assert result.reason == "TicketUpdateFailed: Escalation level: is invalid"


def test_a_zendesk_success_item_is_ok():
    item = {"id": 123, "action": "update", "status": "Updated", "success": True}
    assert zendesk_result(WRITE, item).status is OK


def test_a_salesforce_failure_without_any_code_is_retried():
    write = FieldWrite("salesforce", "account", "001000000000001AAA", {"Name": "x"})
    result = salesforce_result(write, {"id": None, "success": False, "errors": []})
    assert result.status is RETRY and result.reason == "failed without an error"
