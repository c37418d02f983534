"""Bulk edit (Jira Cloud): POST /rest/api/3/bulk/issues/fields, GET /rest/api/3/bulk/queue/{taskId}.

The submit answers 201 {"taskId"}; the task runs asynchronously. Here a task stays ENQUEUED,
then RUNNING, for `polls_before_done` progress reads and completes on the next one, so
clients must poll as they would against Jira. Each issue is edited as PUT issue would edit it
(same validation, same `updated` bump); per-issue failures land in failedAccessibleIssues
keyed by issue id, unknown keys count in invalidOrInaccessibleIssueCount.

Only the editedFieldsInput kinds the connector writes are emulated: singleSelectFields,
clearableNumberFields, datePickerFields, dateTimePickerFields, singleLineTextFields and
labelsFields; any other kind is a 400 naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.jira.edits import EditRejected, apply_edit
from sandbox.jira.store import JiraStore

MAX_ISSUES = 1000
MAX_FIELDS = 200
SUPPORTED_INPUTS = (
    "singleSelectFields",
    "clearableNumberFields",
    "datePickerFields",
    "dateTimePickerFields",
    "singleLineTextFields",
    "labelsFields",
)
DATE_INPUT_FORMATS = ("%d/%b/%y", "%Y-%m-%d", "%d-%m-%Y")


class BulkRejected(ValueError):
    """The submission is refused as a whole (400)."""


@dataclass
class BulkTask:
    task_id: str
    issue_refs: list[str]
    body: dict[str, Any]  # the edit as PUT issue takes it
    created_ms: int
    account_id: str
    polls: int = 0
    status: str = "ENQUEUED"
    started_ms: int | None = None
    updated_ms: int | None = None
    processed: list[int] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)
    invalid: int = 0

    def progress(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "taskId": self.task_id,
            "status": self.status,
            "progressPercent": 100 if self.status == "COMPLETE" else 0,
            "submittedBy": {"accountId": self.account_id},
            "created": self.created_ms,
            "totalIssueCount": len(self.issue_refs),
        }
        if self.started_ms is not None:
            report["started"] = self.started_ms
            report["updated"] = self.updated_ms
        if self.status == "COMPLETE":
            report["processedAccessibleIssues"] = self.processed
            report["failedAccessibleIssues"] = self.failed
            report["invalidOrInaccessibleIssueCount"] = self.invalid
        return report


def edit_from_bulk_input(payload: Any) -> tuple[list[str], dict[str, Any]]:
    """The issue refs and the equivalent PUT-issue body of a bulk edit payload; BulkRejected if malformed."""
    if not isinstance(payload, dict):
        raise BulkRejected("The request body must be a JSON object.")
    refs = payload.get("selectedIssueIdsOrKeys")
    actions = payload.get("selectedActions")
    edited = payload.get("editedFieldsInput") or {}
    if not isinstance(refs, list) or not refs or not all(isinstance(ref, str) for ref in refs):
        raise BulkRejected("selectedIssueIdsOrKeys must list at least one issue id or key.")
    if len(refs) > MAX_ISSUES:
        raise BulkRejected(f"A bulk edit accepts at most {MAX_ISSUES} issues.")
    if not isinstance(actions, list) or not actions:
        raise BulkRejected("selectedActions must list at least one field id.")
    if len(actions) > MAX_FIELDS:
        raise BulkRejected(f"A bulk edit accepts at most {MAX_FIELDS} fields.")
    if not isinstance(edited, dict):
        raise BulkRejected("editedFieldsInput must be an object.")
    fields: dict[str, Any] = {}
    update: dict[str, Any] = {}
    for kind, entries in edited.items():
        if kind not in SUPPORTED_INPUTS:
            raise BulkRejected(f"The sandbox does not emulate editedFieldsInput.{kind}.")
        for entry in entries or []:
            field_id = entry.get("fieldId") if isinstance(entry, dict) else None
            if not field_id:
                raise BulkRejected(f"Every {kind} entry needs a fieldId.")
            if field_id not in actions:
                raise BulkRejected(f"Field '{field_id}' is edited but not in selectedActions.")
            _translate(kind, entry, fields, update)
    missing = [action for action in actions if action not in fields and action not in update]
    if missing:
        raise BulkRejected(f"No value given in editedFieldsInput for: {', '.join(missing)}.")
    return refs, {"fields": fields, "update": update}


def _translate(
    kind: str, entry: dict[str, Any], fields: dict[str, Any], update: dict[str, Any]
) -> None:
    field_id = entry["fieldId"]
    if kind == "singleSelectFields":
        option_id = str((entry.get("option") or {}).get("optionId", ""))
        fields[field_id] = None if option_id == "-1" else {"id": option_id}
    elif kind == "clearableNumberFields":
        fields[field_id] = entry.get("value")
    elif kind == "datePickerFields":
        fields[field_id] = _bulk_date((entry.get("date") or {}).get("formattedDate", ""))
    elif kind == "dateTimePickerFields":
        fields[field_id] = (entry.get("dateTime") or {}).get("formattedDateTime") or None
    elif kind == "singleLineTextFields":
        fields[field_id] = entry.get("text")
    else:  # labelsFields
        names = [
            label.get("name") for label in entry.get("labels") or [] if isinstance(label, dict)
        ]
        option = str(entry.get("bulkEditMultiSelectFieldOption", "")).upper()
        if option == "ADD":
            update[field_id] = [{"add": name} for name in names]
        elif option == "REMOVE":
            update[field_id] = [{"remove": name} for name in names]
        elif option == "REPLACE":
            update[field_id] = [{"set": names}]
        elif option == "REMOVE_ALL":
            update[field_id] = [{"set": []}]
        else:
            raise BulkRejected(f"Unknown bulkEditMultiSelectFieldOption '{option}'.")


def _bulk_date(text: str) -> str | None:
    if not text:
        return None
    for pattern in DATE_INPUT_FORMATS:
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return text  # left for the edit's own validation to reject


class BulkEdits:
    """Submitted bulk edit tasks and their progress."""

    def __init__(self, store: JiraStore, rejected_for: Callable[[str], dict[str, Any] | None]):
        self.store = store
        self.tasks: dict[str, BulkTask] = {}
        self.polls_before_done = 1
        self._rejected_for = rejected_for  # scripted per-issue faults: key -> error body
        self._next_id = 10000

    def submit(self, payload: Any, account_id: str) -> BulkTask:
        refs, body = edit_from_bulk_input(payload)
        task = BulkTask(str(self._next_id), refs, body, self.store.clock.now_ms(), account_id)
        self._next_id += 1
        self.tasks[task.task_id] = task
        return task

    def poll(self, task_id: str) -> BulkTask | None:
        task = self.tasks.get(task_id)
        if task is None or task.status == "COMPLETE":
            return task
        task.polls += 1
        if task.started_ms is None:
            task.started_ms = task.updated_ms = self.store.clock.now_ms()
            task.status = "RUNNING"
        if task.polls > self.polls_before_done:
            self.run(task)
        return task

    def run(self, task: BulkTask) -> None:
        for ref in task.issue_refs:
            issue = self.store.find(ref)
            if issue is None:
                task.invalid += 1
                continue
            fault = self._rejected_for(issue["key"])
            if fault is not None:
                task.failed[str(issue["id"])] = [
                    *fault.get("errorMessages", []),
                    *fault.get("errors", {}).values(),
                ]
                continue
            try:
                apply_edit(self.store, issue, task.body, "3")
            except EditRejected as rejected:
                task.failed[str(issue["id"])] = [*rejected.messages, *rejected.errors.values()]
                continue
            task.processed.append(int(issue["id"]))
        task.status = "COMPLETE"
        task.updated_ms = self.store.clock.now_ms()

    def run_all(self) -> None:
        for task in self.tasks.values():
            if task.status != "COMPLETE":
                self.run(task)
