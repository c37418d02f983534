"""Errors a connector raises, each with its exit code (errors.py); messages never hold secrets.

A system that cannot be used this run (unreachable, refusing our credentials, out of budget) is
reported by the sync and the other systems go on; a query the configuration built and the
system refused (ConfigRefused) is the configuration's to fix, and stops the run.
"""

from __future__ import annotations

from errors import EscalationSyncError, ExitCode


class ConnectorError(EscalationSyncError):
    """Base of all connector errors. Messages never contain secrets."""

    exit_code = ExitCode.UNREACHABLE


class AuthError(ConnectorError):
    """The system refused our credentials."""

    exit_code = ExitCode.CREDENTIALS_REFUSED


class SystemUnavailable(ConnectorError):
    """The system could not be reached or kept failing after retries."""


class RateLimited(ConnectorError):
    """The system asked us to wait longer than the run may wait."""

    def __init__(self, message: str, retry_after_seconds: float | None = None):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ConfigRefused(ConnectorError):
    """The system refused a query built from the configuration (say, a `jql` Jira cannot
    parse): the message names the config key and gives the system's words."""

    exit_code = ExitCode.CONFIG_ERROR
