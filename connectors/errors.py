"""Errors a connector raises; the CLI maps them to exit codes and plain messages."""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of all connector errors. Messages never contain secrets."""


class AuthError(ConnectorError):
    """The system refused our credentials (exit code 3)."""


class SystemUnavailable(ConnectorError):
    """The system could not be reached or kept failing after retries (exit code 3)."""


class RateLimited(ConnectorError):
    """The system asked us to wait longer than the run may wait."""

    def __init__(self, message: str, retry_after_seconds: float | None = None):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
