"""How our values are written in each field format, and how a value read back compares.

Vendors hand a written value back in their own shape (Jira returns a date-time in the user's
offset, Salesforce adds milliseconds, Zendesk text is text): `comparable` turns both sides into
one canonical form so an unchanged value is never mistaken for a change or an override.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from config.write_mapping import WriteField
from connectors.base import Option

_TEXT_DATETIME = "%Y-%m-%d %H:%M UTC"


def _parse_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return datetime.strptime(text, _TEXT_DATETIME).replace(tzinfo=UTC)
    except ValueError:
        pass
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # +0000 -> +00:00
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def render(write: WriteField, value: Any) -> Any:
    """Our canonical value (level name, datetime, number, text) in the field's format."""
    if value is None:
        return None
    if write.format == "dropdown":
        return (write.options or {}).get(str(value))
    if write.format in ("datetime", "datetime_text"):
        moment = _parse_datetime(value)
        if moment is None:
            return None
        moment = moment.replace(second=0, microsecond=0)
        if write.format == "datetime_text":
            return moment.strftime(_TEXT_DATETIME)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if write.format == "date":
        if isinstance(value, datetime):
            return value.astimezone(UTC).date().isoformat()
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    if write.format == "number":
        return float(value) if not isinstance(value, int) else value
    text = str(value)
    if write.max_length is not None and len(text) > write.max_length:
        text = text[: write.max_length - 1] + "…"
    return text


def renderer(write: WriteField) -> Callable[[Any], Any]:
    """render(write, value) as one function of the value, for a field rendered many times a
    run (20k accounts' fields): text without a length limit, the usual case, is a str()."""
    if write.format == "text" and write.max_length is None:
        return lambda value: None if value is None else str(value)
    return lambda value: render(write, value)


def comparable(write: WriteField, value: Any) -> Any:
    """A value as read from (or written to) the system, in a form equal values share."""
    if value is None or value == "" or value == []:
        return None
    if write.format in ("datetime", "datetime_text"):
        moment = _parse_datetime(value)
        return moment.replace(second=0, microsecond=0).isoformat() if moment else str(value)
    if write.format == "date":
        return str(value)[:10]
    if write.format == "number":
        try:
            return float(value)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, dict):  # a select option read back as an object ({"value": ...})
        return value.get("value", value.get("name"))
    if isinstance(value, str):
        return value.strip()
    return value


def write_value(write: WriteField, rendered: Any) -> Any:
    """The rendered value as a FieldWrite carries it: a dropdown's option as an `Option`, which
    each connector sends in its vendor's shape."""
    if write.format == "dropdown" and rendered is not None:
        return Option(rendered)
    return rendered
