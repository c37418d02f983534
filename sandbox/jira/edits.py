"""Edit an issue the way PUT /rest/api/{2,3}/issue/{key} does: validate every field, then apply.

The body is {"fields": {id: value}, "update": {id: [{"set"|"add"|"remove": value}]}}. Any
invalid field rejects the whole edit with Jira's ErrorCollection: `errors` keyed by field id.
An edit that changes nothing leaves `updated` alone (an assumption: Jira records no change).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sandbox.jira.store import RICH_TEXT_SYSTEM_FIELDS, JiraStore, adf, parse_jira_time

TEXT_LIMIT = 255
SETTABLE_SYSTEM_FIELDS = frozenset({"summary", "labels"}) | RICH_TEXT_SYSTEM_FIELDS
NOT_SETTABLE = "Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."
BAD_OPTION_OBJECT = "Could not find valid 'id' or 'value' in the Parent Option object."


class EditRejected(Exception):
    """The edit is refused as a whole: Jira's errorMessages and errors-by-field."""

    def __init__(self, errors: dict[str, str], messages: list[str] | None = None):
        super().__init__(str(errors or messages))
        self.errors = errors
        self.messages = messages or []

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.messages, "errors": self.errors}


def _kind(store: JiraStore, field_id: str) -> str | None:
    """How a field's value is written: option, number, date, datetime, text, rich, labels."""
    if field_id == "summary":
        return "text"
    if field_id in RICH_TEXT_SYSTEM_FIELDS:
        return "rich"
    if field_id == "labels":
        return "labels"
    field = store.field(field_id)
    if field is None or not field.get("custom"):
        return None
    schema = field.get("schema") or {}
    custom = schema.get("custom", "")
    if schema.get("type") == "string":
        return "rich" if custom.endswith(":textarea") else "text"
    if schema.get("type") == "array" and schema.get("items") == "string":
        return "labels"
    return {"option": "option", "number": "number", "date": "date", "datetime": "datetime"}.get(
        schema.get("type", "")
    )


def _normalise(store: JiraStore, field_id: str, kind: str, value: Any, api_version: str) -> Any:
    """The value to store, or raises ValueError with Jira's message for the field."""
    if value is None:
        if field_id == "summary":
            raise ValueError("You must specify a summary of the issue.")
        return [] if kind == "labels" else None
    if kind == "option":
        if not isinstance(value, dict) or not ({"id", "value"} & value.keys()):
            raise ValueError(BAD_OPTION_OBJECT)
        if "id" in value:
            option = store.option_by(field_id, option_id=str(value["id"]))
            if option is None:
                raise ValueError(f"Option id '{value['id']}' is not valid")
        else:
            option = store.option_by(field_id, value=value["value"])
            if option is None:
                raise ValueError(f"Option value '{value['value']}' is not valid")
        return {"value": option["value"], "id": str(option["id"])}
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("Operation value must be a number")
        return value
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except (TypeError, ValueError):
            raise ValueError(f"Error parsing date string: {value}") from None
    if kind == "datetime":
        try:
            epoch_ms = parse_jira_time(value)
        except (AttributeError, ValueError):
            raise ValueError(f"Error parsing date string: {value}") from None
        moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}+0000"
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError("Operation value must be a string")
        if len(value) > TEXT_LIMIT:
            raise ValueError(
                f"The entered text is too long. It exceeds the allowed limit of {TEXT_LIMIT} characters."
            )
        if field_id == "summary" and not value.strip():
            raise ValueError("You must specify a summary of the issue.")
        return value
    if kind == "rich":
        if api_version == "3":
            if not (isinstance(value, dict) and value.get("type") == "doc"):
                raise ValueError(
                    "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                )
            return value
        if not isinstance(value, str):
            raise ValueError("Operation value must be a string")
        return adf(value)
    if kind == "labels":
        if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
            raise ValueError("Operation value must be an array of strings")
        return [_label(label) for label in value]
    raise ValueError(NOT_SETTABLE.format(field=field_id))


def _label(label: str) -> str:
    if " " in label:
        raise ValueError(f"The label '{label}' contains spaces which is invalid.")
    if not label or len(label) > TEXT_LIMIT:
        raise ValueError(f"The label '{label}' is invalid.")
    return label


def _apply_operations(
    store: JiraStore, field_id: str, kind: str, current: Any, operations: Any, api_version: str
) -> Any:
    if not isinstance(operations, list):
        raise ValueError("Operations must be a list")
    value = list(current or []) if kind == "labels" else current
    for operation in operations:
        if not isinstance(operation, dict) or len(operation) != 1:
            raise ValueError("Each operation must name one of set, add, remove")
        ((verb, argument),) = operation.items()
        if verb == "set":
            value = _normalise(store, field_id, kind, argument, api_version)
        elif verb in ("add", "remove") and kind == "labels":
            if not isinstance(argument, str):
                raise ValueError("Operation value must be a string")
            label = _label(argument)
            if verb == "add" and label not in value:
                value.append(label)
            elif verb == "remove" and label in value:
                value.remove(label)
        else:
            raise ValueError(f"Field '{field_id}' does not support operation '{verb}'")
    return value


def planned_values(
    store: JiraStore, issue: dict[str, Any], body: Any, api_version: str
) -> dict[str, Any]:
    """The fields' new values, or raises `EditRejected` naming every invalid field."""
    if not isinstance(body, dict):
        raise EditRejected(
            {},
            [
                "Can not deserialize the request body: an object with 'fields' or 'update' is expected."
            ],
        )
    fields = body.get("fields") or {}
    update = body.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise EditRejected({}, ["'fields' and 'update' must be objects."])
    errors: dict[str, str] = {}
    planned: dict[str, Any] = {}
    current = issue.get("fields", {})
    for field_id in [*fields, *update]:
        kind = _kind(store, field_id)
        if kind is None:
            errors[field_id] = NOT_SETTABLE.format(field=field_id)
            continue
        try:
            if field_id in fields and field_id in update:
                raise ValueError(
                    f"Field '{field_id}' cannot be both set and updated in one request."
                )
            if field_id in fields:
                planned[field_id] = _normalise(store, field_id, kind, fields[field_id], api_version)
            else:
                planned[field_id] = _apply_operations(
                    store, field_id, kind, current.get(field_id), update[field_id], api_version
                )
        except ValueError as problem:
            errors[field_id] = str(problem)
    if errors:
        raise EditRejected(errors)
    return planned


def apply_edit(store: JiraStore, issue: dict[str, Any], body: Any, api_version: str) -> bool:
    """Validate and apply an edit; True when a value changed (then `updated` moved)."""
    planned = planned_values(store, issue, body, api_version)
    current = issue["fields"]
    changed = {
        field_id: value
        for field_id, value in planned.items()
        if not _same(current.get(field_id), value)
    }
    if not changed:
        return False
    current.update(changed)
    store.touch(issue["key"])
    return True


def _same(old: Any, new: Any) -> bool:
    # A stored option carries its `self` link; the value written names only id and value.
    if isinstance(old, dict) and isinstance(new, dict):
        return {k: v for k, v in old.items() if k != "self"} == new
    return old == new
