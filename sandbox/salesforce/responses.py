"""Salesforce REST error bodies: a JSON list of {"message", "errorCode"[, "fields"]}."""

from __future__ import annotations

from typing import Any

from sandbox.http import Response

SESSION_EXPIRED = "Session expired or invalid"
NOT_FOR_REST = "This session is not valid for use with the REST API"  # a token without `api`
LIMIT_EXCEEDED = "TotalRequests Limit exceeded."
NOT_FOUND = "The requested resource does not exist"


def error_list(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = fields
    return [item]


def rest_error(status: int, code: str, message: str, fields: list[str] | None = None) -> Response:
    return Response(status, error_list(code, message, fields))


def invalid_session() -> Response:
    return rest_error(401, "INVALID_SESSION_ID", SESSION_EXPIRED)


def not_found() -> Response:
    return rest_error(404, "NOT_FOUND", NOT_FOUND)


def body_for_status(status: int) -> list[dict[str, Any]]:
    """What a scripted transport fault answers with, by status."""
    if status == 401:
        return error_list("INVALID_SESSION_ID", SESSION_EXPIRED)
    if status in (403, 429):
        return error_list("REQUEST_LIMIT_EXCEEDED", LIMIT_EXCEEDED)
    if status == 404:
        return error_list("NOT_FOUND", NOT_FOUND)
    if status == 503:
        return error_list("SERVER_UNAVAILABLE", "Server temporarily unavailable, please try again.")
    return error_list(
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1915053214-27315 (-1585357297)",
    )
