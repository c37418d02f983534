"""Zendesk's answer shapes: JSON bodies serialised while the state lock is held, error bodies."""

from __future__ import annotations

import json
from typing import Any

from sandbox.http import Request, Response

JSON_TYPE = "application/json; charset=utf-8"


def ok(body: Any, status: int = 200) -> Response:
    # Serialised here, under the app's state lock: the body holds live store records.
    return Response(status, json.dumps(body).encode("utf-8"), {"Content-Type": JSON_TYPE})


def error(status: int, code: str, description: str, **extra: Any) -> Response:
    return ok({"error": code, "description": description, **extra}, status)


def not_found() -> Response:
    return error(404, "RecordNotFound", "Not found")


def invalid(details: dict[str, str]) -> Response:
    """422 RecordInvalid with Zendesk's `details` map: field -> [{description, error}]."""
    shaped = {
        name: [{"description": text, "error": "InvalidValue"}] for name, text in details.items()
    }
    return ok(
        {"error": "RecordInvalid", "description": "Record validation errors", "details": shaped},
        422,
    )


def body_of(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object, or the 400 Zendesk answers for a body it cannot parse."""
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError):
        return error(400, "InvalidJSON", "The request body is not valid JSON")
    if not isinstance(body, dict):
        return error(400, "InvalidJSON", "The request body must be a JSON object")
    return body


def id_list(request: Request, name: str = "ids") -> list[int] | None:
    """Comma-separated ids of a show_many call; None when one is not a number."""
    raw = ",".join(request.query.get(name, []))
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        return None


def int_arg(request: Request, name: str, default: int | None = None) -> int | None:
    value = request.arg(name)
    if value in (None, ""):
        return default
    try:
        return int(float(value))
    except ValueError:
        return None


def includes(request: Request) -> list[str]:
    return [
        part.strip()
        for value in request.query.get("include", [])
        for part in value.split(",")
        if part.strip()
    ]
