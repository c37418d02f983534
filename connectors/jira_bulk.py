"""Jira Cloud bulk edit for the Jira connector: POST /rest/api/3/bulk/issues/fields, then poll
GET /rest/api/3/bulk/queue/{taskId}.

A bulk edit gives every selected issue the same values, so writes are grouped by their exact
change; a group of two or more goes as one task (up to 1000 issues), a single write stays a
PUT edit (one request instead of a submit and polls). Only changes the bulk API can express
are grouped: select options (by option id, looked up once per field through the field's
context), numbers, dates, date-times, single-line text, and label additions or removals.
The answer names issues by id, so keys are resolved to ids first (from reads, else by a
`key in (...)` search). Per issue: processedAccessibleIssues -> OK, failedAccessibleIssues
-> REJECTED with Jira's messages, neither -> REJECTED as not found. A task that does not
finish within the polls is RETRY; a submission Jira refuses falls back to PUT edits, so each
issue gets its own verdict.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from jira import JIRAError

from connectors.base import FieldWrite, WriteResult, WriteStatus
from connectors.paginators import PageBean, PageRequest, pages
from connectors.transport import WriteOutcomeUnknown, batched

if TYPE_CHECKING:
    from connectors.jira import JiraConnector

log = logging.getLogger("escalation_sync.jira")

MAX_ISSUES = 1000
POLL_SECONDS = 1.0
MAX_POLLS = 120
FINISHED = frozenset({"COMPLETE", "FAILED", "CANCELLED", "DEAD"})
NOT_FOUND = "Issue does not exist or you do not have permission to see it."
MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)  # not locale's


class _NotBulk(Exception):
    """This write cannot be expressed as a bulk edit; it goes as a PUT edit."""


class BulkEditor:
    def __init__(self, connector: JiraConnector):
        self.connector = connector
        self.client = connector.client
        self._schemas: dict[str, dict[str, Any]] | None = None
        self._options: dict[str, dict[str, str]] = {}  # field id -> option value -> option id

    def apply(self, numbered: list[tuple[int, FieldWrite]]) -> dict[int, WriteResult]:
        """Results for the writes sent in bulk; the others are left to the caller."""
        groups: dict[str, list[tuple[int, FieldWrite]]] = {}
        inputs: dict[str, tuple[list[str], dict[str, Any]]] = {}
        for index, write in numbered:
            try:
                actions, edited = self.edited_fields_input(write)
            except _NotBulk:
                continue
            signature = json.dumps([actions, edited], sort_keys=True)
            groups.setdefault(signature, []).append((index, write))
            inputs[signature] = (actions, edited)
        results: dict[int, WriteResult] = {}
        for signature, members in groups.items():
            if len(members) < 2:
                continue
            for chunk in batched(members, MAX_ISSUES):
                results.update(self._run(chunk, *inputs[signature]))
        return results

    # -- payload ---------------------------------------------------------------------------
    def edited_fields_input(self, write: FieldWrite) -> tuple[list[str], dict[str, Any]]:
        if write.tags_add and write.tags_remove:
            raise _NotBulk  # one labels entry per request: ADD or REMOVE
        edited: dict[str, list[dict[str, Any]]] = {}
        for field_id, value in write.fields.items():
            kind, entry = self._entry(field_id, value)
            edited.setdefault(kind, []).append({"fieldId": field_id, **entry})
        if write.tags_add or write.tags_remove:
            option = "ADD" if write.tags_add else "REMOVE"
            names = [{"name": label} for label in (write.tags_add or write.tags_remove)]
            edited["labelsFields"] = [
                {"fieldId": "labels", "bulkEditMultiSelectFieldOption": option, "labels": names}
            ]
        actions = [*write.fields, *(["labels"] if "labelsFields" in edited else [])]
        if not actions:
            raise _NotBulk
        return actions, edited

    def _entry(self, field_id: str, value: Any) -> tuple[str, dict[str, Any]]:
        schema = self._field_schemas().get(field_id)
        if schema is None:
            raise _NotBulk
        kind, custom = schema.get("type"), str(schema.get("custom", ""))
        if kind == "option":
            return "singleSelectFields", {"option": {"optionId": self._option_id(field_id, value)}}
        if kind == "number" and (value is None or isinstance(value, int | float)):
            return "clearableNumberFields", {"value": value}
        if kind == "date" and (value is None or isinstance(value, str)):
            return "datePickerFields", {
                "date": {"formattedDate": _bulk_date(value) if value else ""}
            }
        if kind == "datetime" and (value is None or isinstance(value, str)):
            return "dateTimePickerFields", {"dateTime": {"formattedDateTime": value or ""}}
        if (
            kind == "string"
            and custom.endswith(":textfield")
            and (value is None or isinstance(value, str))
        ):
            return "singleLineTextFields", {"text": value or ""}
        raise _NotBulk

    def _field_schemas(self) -> dict[str, dict[str, Any]]:
        if self._schemas is None:
            fields = self.connector._call("GET field", self.client.fields)
            self._schemas = {f["id"]: f.get("schema") or {} for f in fields}
        return self._schemas

    def _option_id(self, field_id: str, value: Any) -> str:
        if value is None:
            return "-1"  # clears the field
        if not isinstance(value, dict):
            raise _NotBulk
        if "id" in value:
            return str(value["id"])
        if field_id not in self._options:
            self._options[field_id] = self._load_options(field_id)
        name = value.get("value")
        option_id = self._options[field_id].get(name) if isinstance(name, str) else None
        if option_id is None:
            raise _NotBulk  # the PUT edit will get Jira's own message for the bad option
        return option_id

    def _load_options(self, field_id: str) -> dict[str, str]:
        """GET /field/{id}/context, then GET .../context/{contextId}/option, every page of both."""
        options: dict[str, str] = {}
        for context in self._paged_values("GET field context", f"field/{field_id}/context"):
            path = f"field/{field_id}/context/{context['id']}/option"
            for option in self._paged_values("GET field options", path):
                if not option.get("disabled"):
                    options.setdefault(option["value"], str(option["id"]))
        return options

    def _paged_values(self, what: str, path: str) -> Iterator[dict[str, Any]]:
        """The `values` of every page of one of Jira's PageBean lists."""

        def fetch(request: PageRequest) -> Mapping[str, Any]:
            params = dict(request.params)
            return self.connector._call(what, self.client._get_json, path, params=params)

        for body, _last in pages(PageBean(PageRequest.of(startAt=0)), fetch):
            yield from body.get("values") or []

    # -- submit and poll -------------------------------------------------------------------
    def _run(
        self, members: list[tuple[int, FieldWrite]], actions: list[str], edited: dict[str, Any]
    ) -> dict[int, WriteResult]:
        results: dict[int, WriteResult] = {}
        ids = self._issue_ids([write.record_id for _, write in members])
        present = []
        for index, write in members:
            if write.record_id in ids:
                present.append((index, write))
            else:
                results[index] = WriteResult(write, WriteStatus.REJECTED, NOT_FOUND)
        if not present:
            return results
        payload = {
            "selectedIssueIdsOrKeys": [write.record_id for _, write in present],
            "selectedActions": actions,
            "editedFieldsInput": edited,
            "sendBulkNotification": bool(self.connector.notify_users),
        }
        try:
            answer = self.client._session.post(
                self.client._get_url("bulk/issues/fields"), data=json.dumps(payload)
            )
            task_id = answer.json()["taskId"]
        except JIRAError as error:
            log.warning("jira: bulk edit refused (HTTP %s); editing one by one", error.status_code)
            return results  # the caller edits the rest one by one and gets Jira's verdict per issue
        except WriteOutcomeUnknown as error:
            return {
                **results,
                **{i: WriteResult(w, WriteStatus.RETRY, str(error)) for i, w in present},
            }
        progress = self._await(task_id)
        for index, write in present:
            results[index] = self._verdict(write, ids[write.record_id], progress, task_id)
        return results

    def _await(self, task_id: str) -> dict[str, Any] | None:
        for attempt in range(MAX_POLLS):
            progress = self.connector._call(
                "GET bulk queue", self.client._get_json, f"bulk/queue/{task_id}"
            )
            if progress.get("status") in FINISHED:
                return progress
            self.connector.policy.sleep(POLL_SECONDS if attempt else POLL_SECONDS / 2)
        return None

    def _verdict(
        self, write: FieldWrite, issue_id: str, progress: dict[str, Any] | None, task_id: str
    ) -> WriteResult:
        if progress is None:
            return WriteResult(
                write, WriteStatus.RETRY, f"jira: bulk edit task {task_id} did not finish in time"
            )
        if int(issue_id) in {int(i) for i in progress.get("processedAccessibleIssues") or []}:
            return WriteResult(write, WriteStatus.OK)
        failed = (progress.get("failedAccessibleIssues") or {}).get(str(issue_id))
        if failed:
            return WriteResult(write, WriteStatus.REJECTED, "; ".join(str(m) for m in failed))
        if progress.get("status") != "COMPLETE":
            return WriteResult(
                write,
                WriteStatus.RETRY,
                f"jira: bulk edit task {task_id} ended {progress.get('status')}",
            )
        return WriteResult(write, WriteStatus.REJECTED, NOT_FOUND)

    def _issue_ids(self, keys: list[str]) -> dict[str, str]:
        """Key or id -> the issue's id (an id is its own: the task's verdict says if it exists)."""
        known = {**self.connector._ids, **{key: key for key in keys if key.isdigit()}}
        unknown = [key for key in keys if key not in known]
        if unknown:
            self.connector.read_issues(unknown, fields=["key"])
            known.update(self.connector._ids)
        return {key: known[key] for key in keys if key in known}


def _bulk_date(value: str) -> str:
    """yyyy-MM-dd as the bulk API's d/MMM/yy ('1/Mar/27'); other text is passed as is."""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day}/{MONTHS[day.month - 1]}/{day.year % 100:02d}"
